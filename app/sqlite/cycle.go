package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"portal/app"
)

// CycleService implements app.CycleService.
type CycleService struct{ db *DB }

// NewCycleService returns the cycle store.
func NewCycleService(db *DB) *CycleService { return &CycleService{db: db} }

const cycleColumns = `id, year, name, policy_version_id, opens_on, due_on, new_hire_days, open, created_at`

func scanCycle(row interface{ Scan(...any) error }) (*app.Cycle, error) {
	var c app.Cycle
	var created string
	if err := row.Scan(&c.ID, &c.Year, &c.Name, &c.PolicyVersionID, &c.OpensOn, &c.DueOn, &c.NewHireDays, &c.Open, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = parseTime(created)
	return &c, nil
}

// CurrentCycle returns the most recent open cycle that has opened by today.
func (s *CycleService) CurrentCycle(ctx context.Context) (*app.Cycle, error) {
	today := s.db.Now().UTC().Format(app.DateLayout)
	c, err := scanCycle(s.db.read.QueryRowContext(ctx, `SELECT `+cycleColumns+` FROM cycles
		WHERE open = 1 AND opens_on <= ? ORDER BY opens_on DESC, id DESC LIMIT 1`, today))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "No acknowledgment cycle is open.")
	}
	if err != nil {
		return nil, fmt.Errorf("find current cycle: %w", err)
	}
	return c, nil
}

// FindCycleByID returns a cycle.
func (s *CycleService) FindCycleByID(ctx context.Context, id int64) (*app.Cycle, error) {
	c, err := scanCycle(s.db.read.QueryRowContext(ctx, `SELECT `+cycleColumns+` FROM cycles WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Cycle not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find cycle: %w", err)
	}
	return c, nil
}

// CreateCycle stores a new cycle; at most one cycle per year may be open.
func (s *CycleService) CreateCycle(ctx context.Context, c *app.Cycle) error {
	if err := c.Validate(); err != nil {
		return err
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.db.Now().UTC()
	res, err := tx.ExecContext(ctx, `INSERT INTO cycles (year, name, policy_version_id, opens_on, due_on, new_hire_days, open, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.Year, c.Name, c.PolicyVersionID, c.OpensOn, c.DueOn, c.NewHireDays, boolInt(c.Open), formatTime(now))
	if isUniqueViolation(err) {
		return app.Errorf(app.ECONFLICT, "A cycle for %d is already open.", c.Year)
	}
	if err != nil {
		return fmt.Errorf("insert cycle: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	c.CreatedAt = now
	if err := syncAssignments(ctx, tx, "c.id = ?", "1 = 1", c.ID); err != nil {
		return err
	}
	if err := appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: c.OpenedBy, Action: "cycle.opened", SubjectType: "cycle",
		SubjectID: c.ID, Detail: fmt.Sprintf("%s: %s to %s", c.Name, c.OpensOn, c.DueOn)}); err != nil {
		return err
	}
	return tx.Commit()
}

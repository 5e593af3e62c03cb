package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"portal/app"
	"portal/app/evidence"
)

// CycleService implements app.CycleService.
type CycleService struct{ db *DB }

// NewCycleService returns the cycle store.
func NewCycleService(db *DB) *CycleService { return &CycleService{db: db} }

const cycleColumns = `id, year, name, policy_version_id, opens_on, due_on, new_hire_days, open, created_at, kind`

func scanCycle(row interface{ Scan(...any) error }) (*app.Cycle, error) {
	var c app.Cycle
	var created string
	if err := row.Scan(&c.ID, &c.Year, &c.Name, &c.PolicyVersionID, &c.OpensOn, &c.DueOn, &c.NewHireDays, &c.Open, &created, &c.Kind); err != nil {
		return nil, err
	}
	c.CreatedAt = parseTime(created)
	return &c, nil
}

// cycleCache keeps the current cycle, which every employee page needs.
// Cycles change only through CycleService, whose writes clear it; the day is
// part of the key, and an entry lives a few seconds at most so that a write
// by another process is seen soon too.
type cycleCache struct {
	mu    sync.Mutex
	gen   uint64 // bumped by every cycle write
	day   string
	until time.Time
	cycle app.Cycle
}

// cycleCacheLife bounds how long a cached current cycle is used.
const cycleCacheLife = 2 * time.Second

func (cc *cycleCache) get(day string, now time.Time) (*app.Cycle, uint64, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.day == day && now.Before(cc.until) {
		c := cc.cycle
		return &c, cc.gen, true
	}
	return nil, cc.gen, false
}

// put keeps c unless a cycle was written since gen was read.
func (cc *cycleCache) put(gen uint64, day string, now time.Time, c *app.Cycle) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if gen == cc.gen {
		cc.day, cc.until, cc.cycle = day, now.Add(cycleCacheLife), *c
	}
}

func (cc *cycleCache) clear() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.gen++
	cc.day = ""
}

// CurrentCycle returns the most recent open cycle that has opened by today.
func (s *CycleService) CurrentCycle(ctx context.Context) (*app.Cycle, error) {
	today := s.db.Today()
	now := time.Now() // the entry's life is real time, whatever the clock of the day says
	cached, gen, ok := s.db.cycles.get(today, now)
	if ok {
		return cached, nil
	}
	c, err := s.currentCycle(ctx, today)
	if err == nil {
		s.db.cycles.put(gen, today, now, c)
	}
	return c, err
}

// currentCycle is the annual acknowledgment's open cycle: of a kind HR
// opens cycles of (assign 'cycle'), the first such kind by position. The
// cycles the portal keeps for the agency-use acknowledgment (assign
// 'authorization') are never "the" cycle of the dashboard, lists, exports,
// reminders' person actions or the team page.
func (s *CycleService) currentCycle(ctx context.Context, today string) (*app.Cycle, error) {
	c, err := scanCycle(s.db.read.QueryRowContext(ctx, `SELECT `+cycleColumns+` FROM cycles
		WHERE open = 1 AND opens_on <= ? AND kind = (SELECT code FROM acknowledgment_kinds WHERE assign = 'cycle' ORDER BY position LIMIT 1)
		ORDER BY opens_on DESC, id DESC LIMIT 1`, today))
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
	defer s.db.cycles.clear()
	if err := c.Validate(); err != nil {
		return err
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.db.Now().UTC()
	if c.Kind == "" {
		if err := tx.QueryRowContext(ctx, `SELECT code FROM acknowledgment_kinds WHERE assign = 'cycle' ORDER BY position LIMIT 1`).Scan(&c.Kind); err != nil {
			return fmt.Errorf("find the annual kind: %w", err)
		}
	}
	var assign string
	err = tx.QueryRowContext(ctx, `SELECT assign FROM acknowledgment_kinds WHERE code = ?`, c.Kind).Scan(&assign)
	if errors.Is(err, sql.ErrNoRows) {
		return app.Invalid("kind", "Choose an acknowledgment from the list.")
	}
	if err != nil {
		return fmt.Errorf("find kind: %w", err)
	}
	if assign != app.AssignCycle {
		// The portal keeps these cycles itself, from the authorizations.
		return app.Invalid("kind", "That acknowledgment is assigned by authorization: the portal opens its cycles itself.")
	}
	res, err := insert(ctx, tx, `INSERT INTO cycles (year, name, policy_version_id, opens_on, due_on, new_hire_days, open, created_at, kind)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Year, c.Name, c.PolicyVersionID, c.OpensOn, c.DueOn, c.NewHireDays, boolInt(c.Open), formatTime(now), c.Kind)
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
	if err := s.db.syncAssignments(ctx, tx, "c.id = ?", "1 = 1", c.ID); err != nil {
		return err
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: c.OpenedBy, Action: "cycle.opened", SubjectType: "cycle",
		SubjectID: c.ID, Detail: fmt.Sprintf("%s: %s to %s", c.Name, c.OpensOn, c.DueOn)}); err != nil {
		return err
	}
	return tx.Commit()
}

// FindCycles returns every cycle, newest first.
func (s *CycleService) FindCycles(ctx context.Context) ([]*app.Cycle, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+cycleColumns+` FROM cycles ORDER BY opens_on DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("find cycles: %w", err)
	}
	defer rows.Close()
	var out []*app.Cycle
	for rows.Next() {
		c, err := scanCycle(rows)
		if err != nil {
			return nil, fmt.Errorf("scan cycle: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CloseCycle closes a cycle: nobody is asked to sign in it any more; what
// was signed stays.
func (s *CycleService) CloseCycle(ctx context.Context, id int64, actor *int64) error {
	defer s.db.cycles.clear()
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := refuseKept(ctx, tx, id); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE cycles SET open = 0 WHERE id = ? AND open = 1`, id)
	if err != nil {
		return fmt.Errorf("close cycle: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return app.Errorf(app.ECONFLICT, "That cycle is not open.")
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: s.db.Now().UTC(), ActorID: actor, Action: "cycle.closed",
		SubjectType: "cycle", SubjectID: id}); err != nil {
		return err
	}
	return tx.Commit()
}

// SetCycleVersion makes a newer published version the one a cycle asks
// for. When the new version is material, everyone must sign again: every
// assignment of the cycle loses its acknowledgment (which stays on record,
// now superseded). A minor version keeps existing signatures.
func (s *CycleService) SetCycleVersion(ctx context.Context, cycleID, versionID int64, actor *int64) error {
	defer s.db.cycles.clear()
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	mv, err := findVersionMove(ctx, tx, cycleID, versionID)
	if err != nil {
		return err
	}
	current, code, kind := mv.from, mv.code, mv.kind
	if _, err := tx.ExecContext(ctx, `UPDATE cycles SET policy_version_id = ? WHERE id = ?`, versionID, cycleID); err != nil {
		return fmt.Errorf("set cycle version: %w", err)
	}
	// The evidence record that decides which signatures of the cycle still stand.
	change := &app.CycleVersionChange{CycleID: cycleID, FromVersionID: current, ToVersionID: versionID,
		Material: kind == app.KindMaterial, At: s.db.Now(), ActorID: actor}
	if err := insertCycleVersion(ctx, tx, change); err != nil {
		return err
	}
	if _, err := s.db.appendLeaf(ctx, tx, evidence.CycleVersionLeaf(change)); err != nil {
		return err
	}
	if kind == app.KindMaterial {
		if _, err := tx.ExecContext(ctx, `UPDATE assignments SET signed_at = NULL, ack_id = NULL, paper = 0 WHERE `+resignCond, cycleID); err != nil {
			return fmt.Errorf("reopen assignments: %w", err)
		}
		// Reading progress is not evidence: the new text is read again before signing again.
		if _, err := tx.ExecContext(ctx, `DELETE FROM module_progress WHERE `+restartCond, cycleID); err != nil {
			return fmt.Errorf("reset reading progress: %w", err)
		}
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: s.db.Now().UTC(), ActorID: actor, Action: "cycle.version_changed",
		SubjectType: "cycle", SubjectID: cycleID, Detail: fmt.Sprintf("now %s (%s)", code, kind)}); err != nil {
		return err
	}
	return tx.Commit()
}

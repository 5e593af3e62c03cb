package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"portal/app"
)

// KindService implements app.KindService: the acknowledgment kinds
// (migration 019's acknowledgment_kinds) and the cycles the portal keeps
// for the kinds it assigns by authorization.
type KindService struct{ db *DB }

// NewKindService returns the kinds store.
func NewKindService(db *DB) *KindService { return &KindService{db: db} }

const kindColumns = `code, title, policy_name, part, assign, COALESCE(pass_mark, 0), due_days, intent, position`

func scanKind(row interface{ Scan(...any) error }) (*app.AcknowledgmentKind, error) {
	var k app.AcknowledgmentKind
	err := row.Scan(&k.Code, &k.Title, &k.PolicyName, &k.Part, &k.Assign, &k.PassMark, &k.DueDays, &k.Intent, &k.Position)
	return &k, err
}

// FindKinds lists every kind in position order.
func (s *KindService) FindKinds(ctx context.Context) ([]*app.AcknowledgmentKind, error) {
	return findKinds(ctx, s.db.read, `1 = 1`)
}

// findKinds lists the kinds that meet cond (constant SQL with args), in
// position order.
func findKinds(ctx context.Context, q querier, cond string, args ...any) ([]*app.AcknowledgmentKind, error) {
	// #nosec G202 -- cond is a constant SQL fragment; every value is a bound parameter
	rows, err := q.QueryContext(ctx, `SELECT `+kindColumns+` FROM acknowledgment_kinds WHERE `+cond+` ORDER BY position`, args...)
	if err != nil {
		return nil, fmt.Errorf("find kinds: %w", err)
	}
	defer rows.Close()
	var out []*app.AcknowledgmentKind
	for rows.Next() {
		k, err := scanKind(rows)
		if err != nil {
			return nil, fmt.Errorf("scan kind: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// FindKind returns one kind, or ENOTFOUND.
func (s *KindService) FindKind(ctx context.Context, code string) (*app.AcknowledgmentKind, error) {
	k, err := scanKind(s.db.read.QueryRowContext(ctx, `SELECT `+kindColumns+` FROM acknowledgment_kinds WHERE code = ?`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "There is no such acknowledgment.")
	}
	if err != nil {
		return nil, fmt.Errorf("find kind: %w", err)
	}
	return k, nil
}

// OpenCycleOf returns the newest open cycle of the kind in which the person
// has an active assignment.
func (s *KindService) OpenCycleOf(ctx context.Context, kind string, employeeID int64) (*app.Cycle, error) {
	c, err := scanCycle(s.db.read.QueryRowContext(ctx, `SELECT `+cycleColumns+` FROM cycles WHERE id = (
		SELECT c.id FROM cycles c JOIN assignments a ON a.cycle_id = c.id AND a.employee_id = ? AND a.active = 1
		WHERE c.kind = ? AND c.open = 1 AND c.opens_on <= ? ORDER BY c.year DESC, c.id DESC LIMIT 1)`,
		employeeID, kind, s.db.Today()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "You are not asked to sign this acknowledgment.")
	}
	if err != nil {
		return nil, fmt.Errorf("find open cycle of kind: %w", err)
	}
	return c, nil
}

// holdsAuthorization is true for a person (e) holding an authorization in
// force on :today: started, not past its end date, not ended early.
const holdsAuthorization = `EXISTS (SELECT 1 FROM poster_authorizations p WHERE p.employee_id = e.id
	AND p.starts_on <= :today AND (p.ends_on = '' OR p.ends_on >= :today)
	AND NOT EXISTS (SELECT 1 FROM authorization_ends z WHERE z.authorization_id = p.id))`

// SyncAuthorizationKinds keeps the person's assignments in the cycles of
// the kinds assigned by authorization.
func (s *KindService) SyncAuthorizationKinds(ctx context.Context, employeeID int64) error {
	// The home page calls this on every visit: someone never authorized,
	// with no assignment of such a kind, needs no write.
	var concerned bool
	if err := s.db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM poster_authorizations WHERE employee_id = ?)
		OR EXISTS (SELECT 1 FROM assignments a JOIN cycles c ON c.id = a.cycle_id
			JOIN acknowledgment_kinds k ON k.code = c.kind AND k.assign = 'authorization' WHERE a.employee_id = ?)`,
		employeeID, employeeID).Scan(&concerned); err != nil {
		return fmt.Errorf("check authorizations: %w", err)
	}
	if !concerned {
		return nil
	}
	return s.sync(ctx, "e.id = :emp", sql.Named("emp", employeeID))
}

// SyncAllAuthorizationKinds does it for everyone: everyone who has ever
// been authorized, or has an assignment in an open cycle of such a kind,
// read through their indexes; nobody else can owe it, and the hourly pass
// then holds the write lock for the posters, not for a scan of the roster.
func (s *KindService) SyncAllAuthorizationKinds(ctx context.Context) error {
	return s.sync(ctx, `(e.id IN (SELECT employee_id FROM poster_authorizations)
		OR e.id IN (SELECT a.employee_id FROM assignments a JOIN cycles c ON c.id = a.cycle_id AND c.open = 1
			JOIN acknowledgment_kinds k ON k.code = c.kind AND k.assign = 'authorization'))`)
}

// sync keeps, in one transaction, one open cycle a year of each kind
// assigned by authorization (opened by the portal, actor NULL, when someone
// first owes it; last year's is closed then, what was signed in it stays)
// and the assignments in it of the people selected by empCond.
func (s *KindService) sync(ctx context.Context, empCond string, args ...any) error {
	today := s.db.Today()
	year := today[:4]
	args = append(args, sql.Named("today", today))
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	kinds, err := kindsAssignedByAuthorization(ctx, tx)
	if err != nil {
		return err
	}
	changed := false
	for _, k := range kinds {
		var owing int
		// #nosec G202 -- constant SQL fragments; every value is a bound parameter
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM employees e WHERE `+empCond+` AND e.active = 1 AND `+holdsAuthorization,
			args...).Scan(&owing); err != nil {
			return fmt.Errorf("count people authorized: %w", err)
		}
		cycleID, opened, err := s.yearCycle(ctx, tx, k, year, owing > 0)
		if err != nil {
			return err
		}
		if cycleID == 0 {
			continue
		}
		changed = changed || opened
		if err := s.db.syncAuthorizationAssignments(ctx, tx, cycleID, empCond, args...); err != nil {
			return err
		}
	}
	if changed {
		defer s.db.cycles.clear()
	}
	return tx.Commit()
}

func kindsAssignedByAuthorization(ctx context.Context, tx *sql.Tx) ([]*app.AcknowledgmentKind, error) {
	return findKinds(ctx, tx, `assign = ?`, app.AssignAuthorization)
}

// yearCycle returns this year's open cycle of k, opening it when someone
// owes it (open) and none is; 0 when there is none to keep.
func (s *KindService) yearCycle(ctx context.Context, tx *sql.Tx, k *app.AcknowledgmentKind, year string, open bool) (int64, bool, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM cycles WHERE kind = ? AND year = ? AND open = 1`, k.Code, year).Scan(&id)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		if err != nil {
			return 0, false, fmt.Errorf("find cycle of kind: %w", err)
		}
		return id, false, nil
	}
	if !open {
		return 0, false, nil
	}
	// The version people sign: the annual cycle's, or else the newest published.
	var version int64
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(
		(SELECT c.policy_version_id FROM cycles c JOIN acknowledgment_kinds k ON k.code = c.kind AND k.assign = 'cycle'
			WHERE c.open = 1 ORDER BY k.position, c.opens_on DESC, c.id DESC LIMIT 1),
		(SELECT MAX(id) FROM policy_versions), 0)`).Scan(&version)
	if err != nil {
		return 0, false, fmt.Errorf("find version to sign: %w", err)
	}
	if version == 0 {
		return 0, false, nil // nothing published: nothing to sign yet
	}
	now := s.db.Now().UTC()
	// Last year's cycle closes: nobody is asked to sign in it any more.
	rows, err := tx.QueryContext(ctx, `UPDATE cycles SET open = 0 WHERE kind = ? AND open = 1 AND year < ? RETURNING id`, k.Code, year)
	if err != nil {
		return 0, false, fmt.Errorf("close last year's cycle: %w", err)
	}
	var closed []int64
	for rows.Next() {
		var c int64
		if err := rows.Scan(&c); err != nil {
			_ = rows.Close() // the scan's error is the one to report
			return 0, false, err
		}
		closed = append(closed, c)
	}
	if err := rows.Err(); err != nil {
		_ = rows.Close() // the iteration's error is the one to report
		return 0, false, fmt.Errorf("close last year's cycle: %w", err)
	}
	if err := rows.Close(); err != nil {
		return 0, false, fmt.Errorf("close last year's cycle: %w", err)
	}
	for _, c := range closed {
		if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, Action: "cycle.closed", SubjectType: "cycle", SubjectID: c,
			Detail: "a new year's cycle of " + k.Title + " opened"}); err != nil {
			return 0, false, err
		}
	}
	name := k.Title + " " + year
	res, err := insert(ctx, tx, `INSERT INTO cycles (year, name, policy_version_id, opens_on, due_on, new_hire_days, open, created_at, kind)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`, year, name, version, year+"-01-01", year+"-12-31", k.DueDays, formatTime(now), k.Code)
	if err != nil {
		return 0, false, fmt.Errorf("open cycle of kind: %w", err)
	}
	if id, err = res.LastInsertId(); err != nil {
		return 0, false, err
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, Action: "cycle.opened", SubjectType: "cycle", SubjectID: id,
		Detail: name + ": opened by the portal for the people authorized to post"}); err != nil {
		return 0, false, err
	}
	return id, true, nil
}

// syncAuthorizationAssignments makes the assignments of cycle match who
// owes its kind: a person with an active authorization is due the kind's
// due_days after the earliest start of their authorizations in force, or a
// year after their last signature of the kind in an earlier cycle if that
// is later, and never before a later date HR gave them (due_extensions);
// a person whose authorizations all ended and who has not signed
// in the cycle drops out (inactive), as the roster drops people. Rows that
// already match are not touched, so the counting triggers fire only for
// real changes.
func (db *DB) syncAuthorizationAssignments(ctx context.Context, tx *sql.Tx, cycleID int64, empCond string, args ...any) error {
	args = append(args, sql.Named("cycle", cycleID))
	// #nosec G202 -- constant SQL fragments; every value is a bound parameter
	_, err := tx.ExecContext(ctx, `INSERT INTO assignments (cycle_id, employee_id, agency, department, due_on, active)
		SELECT c.id, e.id, e.agency, e.department,
			`+db.greatest(`COALESCE(`+db.greatest(db.addDays(`f.first_on`, `k.due_days`), `COALESCE((SELECT `+db.addYear(`substr(MAX(a.signed_at), 1, 10)`)+`
				FROM acknowledgments a JOIN cycles y ON y.id = a.cycle_id
				WHERE y.kind = c.kind AND y.id <> c.id AND a.employee_id = e.id), '')`)+`, x.due_on, `+db.addDays(`:today`, `k.due_days`)+`)`,
		`COALESCE((SELECT MAX(d.new_due_on) FROM due_extensions d WHERE d.cycle_id = c.id AND d.employee_id = e.id), '')`)+`,
			CASE WHEN e.active = 1 AND f.first_on IS NOT NULL THEN 1 WHEN x.signed_at IS NOT NULL THEN 1 ELSE 0 END
		FROM cycles c JOIN acknowledgment_kinds k ON k.code = c.kind
		JOIN employees e ON `+empCond+`
		LEFT JOIN (SELECT p.employee_id, MIN(p.starts_on) AS first_on FROM poster_authorizations p
			WHERE p.starts_on <= :today AND (p.ends_on = '' OR p.ends_on >= :today)
				AND NOT EXISTS (SELECT 1 FROM authorization_ends z WHERE z.authorization_id = p.id)
			GROUP BY p.employee_id) f ON f.employee_id = e.id
		LEFT JOIN assignments x ON x.cycle_id = c.id AND x.employee_id = e.id
		WHERE c.id = :cycle AND ((e.active = 1 AND f.first_on IS NOT NULL) OR x.employee_id IS NOT NULL)
		ON CONFLICT (cycle_id, employee_id) DO UPDATE SET agency = excluded.agency, department = excluded.department,
			due_on = excluded.due_on, active = excluded.active
		WHERE assignments.agency IS DISTINCT FROM excluded.agency OR assignments.department IS DISTINCT FROM excluded.department
			OR assignments.due_on IS DISTINCT FROM excluded.due_on OR assignments.active IS DISTINCT FROM excluded.active`, args...)
	if err != nil {
		return fmt.Errorf("sync authorization assignments: %w", err)
	}
	return nil
}

// PosterContext reads what an agency-use acknowledgment names as at
// signing: the accounts of the person's authorizations in force and the
// Terms of Comment version in force for their agency.
func (s *KindService) PosterContext(ctx context.Context, employeeID int64) (*app.PosterContext, error) {
	today := s.db.Today()
	rows, err := s.db.read.QueryContext(ctx, `SELECT DISTINCT s.platform || ' ' || s.handle FROM poster_authorizations p
		JOIN social_accounts s ON s.id = p.account_id
		WHERE p.employee_id = ? AND p.starts_on <= ? AND (p.ends_on = '' OR p.ends_on >= ?)
			AND NOT EXISTS (SELECT 1 FROM authorization_ends z WHERE z.authorization_id = p.id)
		ORDER BY 1`, employeeID, today, today)
	if err != nil {
		return nil, fmt.Errorf("find authorized accounts: %w", err)
	}
	defer rows.Close()
	pc := &app.PosterContext{}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("scan authorized account: %w", err)
		}
		pc.Accounts = append(pc.Accounts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var id int64
	err = s.db.read.QueryRowContext(ctx, `SELECT t.id, t.agency, t.version FROM terms_of_comment t
		WHERE t.agency = (SELECT agency FROM employees WHERE id = ?) ORDER BY t.version DESC LIMIT 1`, employeeID).
		Scan(&id, &pc.TermsAgency, &pc.TermsVersion)
	switch {
	case err == nil:
		pc.TermsID = &id
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("find Terms of Comment in force: %w", err)
	}
	return pc, nil
}

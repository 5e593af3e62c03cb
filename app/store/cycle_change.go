package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"portal/app"
)

// The conditions of a move to a material version, shared by the change
// (SetCycleVersion) and the count shown before it (VersionImpact), so that
// the page asking HR to confirm says what the change will do.
const (
	// resignCond: the assignments whose acknowledgment stops counting.
	resignCond = `cycle_id = ? AND ack_id IS NOT NULL`
	// restartCond: the reading progress that is cleared.
	restartCond = `cycle_id = ?`
)

// refuseKept refuses a change by HR to a cycle the portal keeps itself
// (one of a kind assigned by authorization): the portal opens it each
// year, closes last year's and gives each person their due date from their
// authorizations, so a close, a version move or a new due date from HR
// would be undone or would strand the people it is keeping.
func refuseKept(ctx context.Context, q querier, cycleID int64) error {
	var k app.AcknowledgmentKind
	err := q.QueryRowContext(ctx, `SELECT k.assign, k.title FROM cycles c JOIN acknowledgment_kinds k ON k.code = c.kind WHERE c.id = ?`,
		cycleID).Scan(&k.Assign, &k.Title)
	if errors.Is(err, sql.ErrNoRows) {
		return app.Errorf(app.ENOTFOUND, "Cycle not found.")
	}
	if err != nil {
		return fmt.Errorf("read cycle kind: %w", err)
	}
	if k.ByAuthorization() {
		return app.KeptCycleError(&k)
	}
	return nil
}

// versionMove is a checked move of a cycle to a newer version.
type versionMove struct {
	from int64
	code string
	kind string
}

// findVersionMove checks that the cycle is open and versionID newer than
// its version, and works out whether the move is material: signatures
// stand only if every version since the current one is minor.
func findVersionMove(ctx context.Context, q querier, cycleID, versionID int64) (*versionMove, error) {
	if err := refuseKept(ctx, q, cycleID); err != nil {
		return nil, err
	}
	var mv versionMove
	var open bool
	err := q.QueryRowContext(ctx, `SELECT policy_version_id, open FROM cycles WHERE id = ?`, cycleID).Scan(&mv.from, &open)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Cycle not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("read cycle: %w", err)
	}
	if !open {
		return nil, app.Errorf(app.ECONFLICT, "That cycle is closed.")
	}
	if versionID <= mv.from { // ids follow publication order
		return nil, app.Errorf(app.EINVALID, "Choose a version published after the one the cycle uses now.")
	}
	var code sql.NullString
	var materials int
	err = q.QueryRowContext(ctx, `SELECT (SELECT code FROM policy_versions WHERE id = ?),
		(SELECT COUNT(*) FROM policy_versions WHERE id > ? AND id <= ? AND kind = 'material')`,
		versionID, mv.from, versionID).Scan(&code, &materials)
	if err != nil {
		return nil, fmt.Errorf("read versions: %w", err)
	}
	if !code.Valid {
		return nil, app.Errorf(app.ENOTFOUND, "Policy version not found.")
	}
	mv.code, mv.kind = code.String, app.KindMinor
	if materials > 0 {
		mv.kind = app.KindMaterial
	}
	return &mv, nil
}

// VersionImpact counts what moving the cycle to versionID would do. Only
// people still on the roster are counted: the change clears the signature
// of someone who has left too, but nobody asks them to sign again.
func (s *CycleService) VersionImpact(ctx context.Context, cycleID, versionID int64) (*app.CycleImpact, error) {
	mv, err := findVersionMove(ctx, s.db.read, cycleID, versionID)
	if err != nil {
		return nil, err
	}
	out := &app.CycleImpact{VersionCode: mv.code, Material: mv.kind == app.KindMaterial}
	if !out.Material {
		return out, nil
	}
	err = s.db.read.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM assignments WHERE active = 1 AND `+resignCond+`),
		(SELECT COUNT(*) FROM assignments a WHERE a.cycle_id = ? AND a.active = 1 AND a.signed_at IS NULL
			AND a.employee_id IN (SELECT employee_id FROM module_progress WHERE `+restartCond+`))`,
		cycleID, cycleID, cycleID).Scan(&out.Resign, &out.Restart)
	if err != nil {
		return nil, fmt.Errorf("count version move: %w", err)
	}
	return out, nil
}

// CloseImpact counts what closing the cycle does: the people still to sign,
// who are reminded no more, and the signatures that stay.
func (s *CycleService) CloseImpact(ctx context.Context, cycleID int64) (*app.CycleImpact, error) {
	if err := refuseKept(ctx, s.db.read, cycleID); err != nil {
		return nil, err
	}
	var open bool
	err := s.db.read.QueryRowContext(ctx, `SELECT open FROM cycles WHERE id = ?`, cycleID).Scan(&open)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Cycle not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("read cycle: %w", err)
	}
	if !open {
		return nil, app.Errorf(app.ECONFLICT, "That cycle is closed already.")
	}
	out := &app.CycleImpact{}
	err = s.db.read.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND active = 1 AND signed_at IS NULL),
		(SELECT COUNT(*) FROM acknowledgments WHERE cycle_id = ?)`, cycleID, cycleID).Scan(&out.Unsigned, &out.Signatures)
	if err != nil {
		return nil, fmt.Errorf("count cycle close: %w", err)
	}
	return out, nil
}

// SetCycleDueDate moves an open cycle's due date. Each assignment gets the
// due date the one rule (dueExpr) gives with the new date, except that a
// date later than that which is not the old cycle date — a date given to
// the person on their own — stays.
func (s *CycleService) SetCycleDueDate(ctx context.Context, cycleID int64, dueOn, reason string, actor *int64) (int, error) {
	defer s.db.cycles.clear()
	reason = strings.TrimSpace(reason)
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if err := refuseKept(ctx, tx, cycleID); err != nil {
		return 0, err
	}
	c, err := scanCycle(tx.QueryRowContext(ctx, `SELECT `+cycleColumns+` FROM cycles WHERE id = ?`, cycleID))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, app.Errorf(app.ENOTFOUND, "Cycle not found.")
	}
	if err != nil {
		return 0, fmt.Errorf("read cycle: %w", err)
	}
	if !c.Open {
		return 0, app.Errorf(app.ECONFLICT, "That cycle is closed: its due date can no longer change.")
	}
	if err := checkNewDue(c, dueOn, reason); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE cycles SET due_on = ? WHERE id = ?`, dueOn, cycleID); err != nil {
		return 0, fmt.Errorf("set due date: %w", err)
	}
	// dueExpr reads the cycle's new date (c) and the person's hire date (e).
	// #nosec G202 -- constant SQL fragments (dialect.go); every value is a bound parameter
	res, err := tx.ExecContext(ctx, `UPDATE assignments SET due_on = n.due FROM (
			SELECT a.employee_id AS eid, CASE WHEN a.due_on = ? THEN `+s.db.dueExpr()+` ELSE `+s.db.greatest(`a.due_on`, s.db.dueExpr())+` END AS due
			FROM assignments a JOIN employees e ON e.id = a.employee_id JOIN cycles c ON c.id = a.cycle_id
			WHERE a.cycle_id = ?) n
		WHERE assignments.cycle_id = ? AND assignments.employee_id = n.eid AND assignments.due_on <> n.due`,
		c.DueOn, cycleID, cycleID)
	if err != nil {
		return 0, fmt.Errorf("move due dates: %w", err)
	}
	moved, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: s.db.Now().UTC(), ActorID: actor, Action: "cycle.due_changed",
		SubjectType: "cycle", SubjectID: cycleID,
		Detail: fmt.Sprintf("%s → %s; %d people's due dates moved; reason: %s", c.DueOn, dueOn, moved, reason)}); err != nil {
		return 0, err
	}
	return int(moved), tx.Commit()
}

// checkNewDue checks a new due date and its reason, reporting both
// problems at once.
func checkNewDue(c *app.Cycle, dueOn, reason string) error {
	var errs []error
	due, err := time.Parse(app.DateLayout, dueOn)
	switch {
	case dueOn == "":
		errs = append(errs, app.Invalid("due_on", "Enter the new due date."))
	case err != nil:
		errs = append(errs, app.Invalid("due_on", "Enter the new due date as a real date, year-month-day, for example 2026-04-30."))
	case due.Format(app.DateLayout) <= c.OpensOn:
		errs = append(errs, app.Invalid("due_on", "The due date must come after the day the cycle opens, %s.", longDate(c.OpensOn)))
	case dueOn == c.DueOn:
		errs = append(errs, app.Invalid("due_on", "That is the cycle's due date already. Choose another date, or go back."))
	}
	switch {
	case reason == "":
		errs = append(errs, app.Invalid("reason", "Say why the due date changes: the reason is kept in the audit log."))
	case len(reason) > app.MaxReasonLength:
		errs = append(errs, app.Invalid("reason", "The reason must be %d characters or fewer.", app.MaxReasonLength))
	}
	return errors.Join(errs...)
}

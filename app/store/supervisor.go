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

// SupervisorService implements app.SupervisorService.
type SupervisorService struct{ db *DB }

// NewSupervisorService returns the Social Media Supervisor designations.
func NewSupervisorService(db *DB) *SupervisorService { return &SupervisorService{db: db} }

// Supervisors lists the agencies of active employees (and any agency that
// still has a supervisor) with their supervisor.
func (s *SupervisorService) Supervisors(ctx context.Context) ([]*app.AgencySupervisor, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT g.agency, COALESCE(e.id, 0), COALESCE(e.employee_number, ''),
		COALESCE(e.full_name, ''), COALESCE(e.email, ''), COALESCE(s.since, '')
		FROM (SELECT DISTINCT agency FROM employees WHERE active = 1 UNION SELECT agency FROM agency_supervisors) g
		LEFT JOIN agency_supervisors s ON s.agency = g.agency
		LEFT JOIN employees e ON e.id = s.employee_id
		ORDER BY g.agency`)
	if err != nil {
		return nil, fmt.Errorf("find supervisors: %w", err)
	}
	defer rows.Close()
	var out []*app.AgencySupervisor
	for rows.Next() {
		var a app.AgencySupervisor
		var since string
		if err := rows.Scan(&a.Agency, &a.EmployeeID, &a.EmployeeNumber, &a.FullName, &a.Email, &since); err != nil {
			return nil, err
		}
		if since != "" {
			a.Since = parseTime(since)
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// checkReason refuses an empty or overlong reason.
func checkReason(reason string) error {
	switch {
	case strings.TrimSpace(reason) == "":
		return app.Invalid("reason", "Give the reason, for example the agency head's letter naming the supervisor.")
	case len(reason) > 500:
		return app.Invalid("reason", "Keep the reason to 500 characters.")
	}
	return nil
}

// Designate makes the person the agency's supervisor: an end row for the
// previous one, a designation row, the agency's current supervisor and an
// audit event for each step, in one transaction.
func (s *SupervisorService) Designate(ctx context.Context, agency, number, reason string, actorID int64) (*app.AgencySupervisor, error) {
	reason = strings.TrimSpace(reason)
	if strings.TrimSpace(number) == "" {
		return nil, app.Invalid("employee_number", "Enter the employee number of the person to designate.")
	}
	if err := checkReason(reason); err != nil {
		return nil, err
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var known bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM employees WHERE agency = ? AND active = 1)`, agency).Scan(&known); err != nil {
		return nil, fmt.Errorf("find agency: %w", err)
	}
	if !known {
		return nil, app.Invalid("agency", "Choose an agency from the list.")
	}
	var who app.AgencySupervisor
	var active bool
	var home string
	err = tx.QueryRowContext(ctx, `SELECT id, employee_number, full_name, email, active, agency FROM employees WHERE employee_number = ?`,
		number).Scan(&who.EmployeeID, &who.EmployeeNumber, &who.FullName, &who.Email, &active, &home)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, app.Invalid("employee_number", "Nobody on the roster has employee number %s.", number)
	case err != nil:
		return nil, fmt.Errorf("find employee: %w", err)
	case !active:
		return nil, app.Invalid("employee_number", "%s (%s) is no longer active on the roster: a supervisor must be an active employee.", who.FullName, number)
	case home != agency:
		return nil, app.Invalid("employee_number", "%s (%s) works for %s, not %s: a supervisor must be in the agency they supervise.", who.FullName, number, home, agency)
	case who.EmployeeID == actorID:
		// As with the hr and admin roles: nobody gives themselves the power
		// to decide who speaks for an agency.
		return nil, app.Invalid("employee_number", "You cannot designate yourself: ask another administrator to.")
	}
	now := s.db.Now().UTC()
	var current int64
	err = tx.QueryRowContext(ctx, `SELECT employee_id FROM agency_supervisors WHERE agency = ?`, agency).Scan(&current)
	switch {
	case err == nil && current == who.EmployeeID:
		return nil, app.Invalid("employee_number", "%s is already the Social Media Supervisor of %s.", who.FullName, agency)
	case err == nil:
		if err := s.db.endDesignation(ctx, tx, agency, current, "Replaced by "+who.FullName+": "+reason, &actorID, now); err != nil {
			return nil, err
		}
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("find supervisor: %w", err)
	}
	res, err := insert(ctx, tx, `INSERT INTO supervisor_designations (agency, employee_id, action, reason, actor_id, at)
		VALUES (?, ?, 'designate', ?, ?, ?)`, agency, who.EmployeeID, reason, actorID, formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("insert designation: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO agency_supervisors (agency, employee_id, designation_id, since) VALUES (?, ?, ?, ?)`,
		agency, who.EmployeeID, id, formatTime(now)); err != nil {
		return nil, fmt.Errorf("set supervisor: %w", err)
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: &actorID, Action: "supervisor.designated",
		SubjectType: "employee", SubjectID: who.EmployeeID, Detail: agency + ": " + reason}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit designation: %w", err)
	}
	who.Agency, who.Since = agency, now
	return &who, nil
}

// EndDesignation ends the agency's designation, leaving it without a
// supervisor until the next one.
func (s *SupervisorService) EndDesignation(ctx context.Context, agency, reason string, actorID int64) error {
	reason = strings.TrimSpace(reason)
	if err := checkReason(reason); err != nil {
		return err
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var current int64
	err = tx.QueryRowContext(ctx, `SELECT employee_id FROM agency_supervisors WHERE agency = ?`, agency).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) {
		return app.Invalid("agency", "%s has no Social Media Supervisor to end.", agency)
	}
	if err != nil {
		return fmt.Errorf("find supervisor: %w", err)
	}
	if err := s.db.endDesignation(ctx, tx, agency, current, reason, &actorID, s.db.Now().UTC()); err != nil {
		return err
	}
	return tx.Commit()
}

// endDesignation writes the end row, clears the agency's supervisor and
// appends the audit event, in the caller's transaction. actor nil: the
// portal itself, after a roster change (an event of its own kind).
func (db *DB) endDesignation(ctx context.Context, tx *sql.Tx, agency string, employeeID int64, reason string, actor *int64, at time.Time) error {
	action := "supervisor.ended"
	if actor == nil {
		action = "supervisor.ended_by_roster"
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO supervisor_designations (agency, employee_id, action, reason, actor_id, at)
		VALUES (?, ?, 'end', ?, ?, ?)`, agency, employeeID, reason, actor, formatTime(at)); err != nil {
		return fmt.Errorf("insert designation end: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM agency_supervisors WHERE agency = ?`, agency); err != nil {
		return fmt.Errorf("clear supervisor: %w", err)
	}
	return db.appendAudit(ctx, tx, &app.AuditEvent{At: at, ActorID: actor, Action: action,
		SubjectType: "employee", SubjectID: employeeID, Detail: agency + ": " + reason})
}

// endDesignationsAfterRoster ends, in the roster write's transaction, the
// designation of any of the people it touched who is now inactive or in
// another agency: a supervisor is an active employee of their agency.
func (db *DB) endDesignationsAfterRoster(ctx context.Context, tx *sql.Tx, touched []any, at time.Time) error {
	if len(touched) == 0 {
		return nil
	}
	type gone struct {
		agency, home string
		id           int64
		active       bool
	}
	var all []gone
	err := func() error {
		// #nosec G202 -- placeholders only; every value is a bound parameter
		rows, err := tx.QueryContext(ctx, `SELECT s.agency, e.agency, e.id, e.active FROM agency_supervisors s
			JOIN employees e ON e.id = s.employee_id
			WHERE s.employee_id IN (`+placeholders(len(touched))+`) AND (e.active = 0 OR e.agency <> s.agency)`, touched...)
		if err != nil {
			return fmt.Errorf("find supervisors the roster moved: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var g gone
			if err := rows.Scan(&g.agency, &g.home, &g.id, &g.active); err != nil {
				return err
			}
			all = append(all, g)
		}
		return rows.Err()
	}()
	if err != nil {
		return err
	}
	for _, g := range all {
		reason := "The roster deactivated them."
		if g.active {
			reason = "The roster moved them to " + g.home + "."
		}
		if err := db.endDesignation(ctx, tx, g.agency, g.id, reason, nil, at); err != nil {
			return err
		}
	}
	return nil
}

// Designations is an agency's history, newest first ("" for every agency,
// the newest 200).
func (s *SupervisorService) Designations(ctx context.Context, agency string) ([]*app.SupervisorDesignation, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT d.id, d.agency, d.employee_id, COALESCE(e.full_name, ''), d.action, d.reason,
		d.actor_id, COALESCE(a.full_name, ''), d.at
		FROM supervisor_designations d LEFT JOIN employees e ON e.id = d.employee_id LEFT JOIN employees a ON a.id = d.actor_id
		WHERE ? = '' OR d.agency = ? ORDER BY d.id DESC LIMIT 200`, agency, agency)
	if err != nil {
		return nil, fmt.Errorf("find designations: %w", err)
	}
	defer rows.Close()
	var out []*app.SupervisorDesignation
	for rows.Next() {
		var d app.SupervisorDesignation
		var actor sql.NullInt64
		var at string
		if err := rows.Scan(&d.ID, &d.Agency, &d.EmployeeID, &d.FullName, &d.Action, &d.Reason, &actor, &d.ActorName, &at); err != nil {
			return nil, err
		}
		if actor.Valid {
			d.ActorID = &actor.Int64
		}
		d.At = parseTime(at)
		out = append(out, &d)
	}
	return out, rows.Err()
}

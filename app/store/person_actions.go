package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"portal/app"
)

// PersonActionService implements app.PersonActionService: HR's extensions
// of a due date, exemptions and resent invitations. Each is one write
// transaction holding the evidence row (migration 013: never changed nor
// deleted), the change to the assignment (whose triggers move the counts)
// and the audit event.
type PersonActionService struct{ db *DB }

// NewPersonActionService returns HR's per-person actions.
func NewPersonActionService(db *DB) *PersonActionService { return &PersonActionService{db: db} }

// openAssignment is the person's assignment in an open cycle, as the
// actions need it.
type openAssignment struct {
	dueOn  string
	signed bool
	exempt bool
	email  string
	name   string
}

// findOpenAssignment reads the person's active assignment in an open cycle,
// or says why there is none in words for HR.
func findOpenAssignment(ctx context.Context, tx *sql.Tx, cycleID, employeeID int64) (*openAssignment, error) {
	var a openAssignment
	err := tx.QueryRowContext(ctx, `SELECT a.due_on, a.signed_at IS NOT NULL, a.exempt <> 0, e.email, e.full_name
		FROM assignments a JOIN cycles c ON c.id = a.cycle_id AND c.open = 1
		JOIN employees e ON e.id = a.employee_id AND e.active = 1
		WHERE a.cycle_id = ? AND a.employee_id = ? AND a.active = 1`, cycleID, employeeID).
		Scan(&a.dueOn, &a.signed, &a.exempt, &a.email, &a.name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ECONFLICT, "This person is not asked to sign in the open cycle, so nothing was changed.")
	}
	if err != nil {
		return nil, fmt.Errorf("read assignment: %w", err)
	}
	return &a, nil
}

// ExtendDue moves the person's due date later and records why.
func (s *PersonActionService) ExtendDue(ctx context.Context, x *app.DueExtension, ip string) error {
	if err := x.Validate(s.db.Today()); err != nil {
		return err
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	a, err := findOpenAssignment(ctx, tx, x.CycleID, x.EmployeeID)
	if err != nil {
		return err
	}
	if a.signed {
		return app.Errorf(app.ECONFLICT, "%s has already signed in this cycle, so the due date no longer matters.", a.name)
	}
	if x.NewDueOn <= a.dueOn {
		return app.Invalid("extend_due_on", "The new due date must be later than the current one, %s.", longDate(a.dueOn))
	}
	x.OldDueOn, x.CreatedAt = a.dueOn, s.db.Now().UTC().Truncate(time.Microsecond)
	res, err := insert(ctx, tx, `INSERT INTO due_extensions (cycle_id, employee_id, old_due_on, new_due_on, reason, actor_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, x.CycleID, x.EmployeeID, x.OldDueOn, x.NewDueOn, x.Reason, x.ActorID, formatTime(x.CreatedAt))
	if err != nil {
		return fmt.Errorf("record extension: %w", err)
	}
	if x.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE assignments SET due_on = ? WHERE cycle_id = ? AND employee_id = ?`,
		x.NewDueOn, x.CycleID, x.EmployeeID); err != nil {
		return fmt.Errorf("extend due date: %w", err)
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: x.CreatedAt, ActorID: x.ActorID, Action: "assignment.due_extended",
		SubjectType: "employee", SubjectID: x.EmployeeID, IP: ip,
		Detail: fmt.Sprintf("cycle %d: due %s, was %s; reason: %s", x.CycleID, x.NewDueOn, x.OldDueOn, x.Reason)}); err != nil {
		return err
	}
	return tx.Commit()
}

// Exempt excuses the person from the cycle and records why and when.
func (s *PersonActionService) Exempt(ctx context.Context, x *app.Exemption, ip string) error {
	x.Action = app.ExemptionStart
	return s.exemption(ctx, x, ip, func(a *openAssignment) error {
		switch {
		case a.signed:
			return app.Errorf(app.ECONFLICT, "%s has already signed in this cycle, so there is nothing to excuse.", a.name)
		case a.exempt:
			return app.Errorf(app.ECONFLICT, "%s is already exempt in this cycle.", a.name)
		}
		return nil
	})
}

// EndExemption makes an exempt person due again, from today.
func (s *PersonActionService) EndExemption(ctx context.Context, x *app.Exemption, ip string) error {
	x.Action, x.FromOn, x.ToOn = app.ExemptionEnd, s.db.Today(), ""
	return s.exemption(ctx, x, ip, func(a *openAssignment) error {
		if !a.exempt {
			return app.Errorf(app.ECONFLICT, "%s is not exempt in this cycle, so there is no exemption to end.", a.name)
		}
		return nil
	})
}

// exemption records a start or end of an exemption, after check.
func (s *PersonActionService) exemption(ctx context.Context, x *app.Exemption, ip string, check func(*openAssignment) error) error {
	if err := x.Validate(); err != nil {
		return err
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	a, err := findOpenAssignment(ctx, tx, x.CycleID, x.EmployeeID)
	if err != nil {
		return err
	}
	if err := check(a); err != nil {
		return err
	}
	x.CreatedAt = s.db.Now().UTC().Truncate(time.Microsecond)
	res, err := insert(ctx, tx, `INSERT INTO exemptions (cycle_id, employee_id, action, from_on, to_on, reason, actor_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, x.CycleID, x.EmployeeID, x.Action, x.FromOn, x.ToOn, x.Reason, x.ActorID, formatTime(x.CreatedAt))
	if err != nil {
		return fmt.Errorf("record exemption: %w", err)
	}
	if x.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE assignments SET exempt = ? WHERE cycle_id = ? AND employee_id = ?`,
		boolInt(x.Action == app.ExemptionStart), x.CycleID, x.EmployeeID); err != nil {
		return fmt.Errorf("set exemption: %w", err)
	}
	action, detail := "assignment.exempted", fmt.Sprintf("cycle %d: exempt from %s", x.CycleID, x.FromOn)
	if x.ToOn != "" {
		detail += " to " + x.ToOn
	}
	if x.Action == app.ExemptionEnd {
		action, detail = "assignment.exemption_ended", fmt.Sprintf("cycle %d: due again from %s", x.CycleID, x.FromOn)
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: x.CreatedAt, ActorID: x.ActorID, Action: action,
		SubjectType: "employee", SubjectID: x.EmployeeID, IP: ip, Detail: detail + "; reason: " + x.Reason}); err != nil {
		return err
	}
	return tx.Commit()
}

// longDate writes a date (YYYY-MM-DD) as the pages do.
func longDate(s string) string {
	t, err := time.Parse(app.DateLayout, s)
	if err != nil {
		return s
	}
	return t.Format("January 2, 2006")
}

// resendKey is the outbox dedupe key of an invitation sent again at a
// time: its own key, so that it is queued even though the first one was,
// and keys of one person sort together (their prefix) for the limit.
func resendKey(cycleID, employeeID int64, at time.Time) string {
	return fmt.Sprintf("%s%s", resendPrefix(cycleID, employeeID), formatTime(at))
}

func resendPrefix(cycleID, employeeID int64) string {
	return fmt.Sprintf("invitation:%d:%d:resent:", cycleID, employeeID)
}

// ResendInvitation queues the invitation again now, unless it was sent
// again less than app.ResendEvery ago. The mail worker writes it from the
// records when it sends it, as it does the first one.
func (s *PersonActionService) ResendInvitation(ctx context.Context, cycleID, employeeID int64, actor *int64, ip string) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	a, err := findOpenAssignment(ctx, tx, cycleID, employeeID)
	if err != nil {
		return err
	}
	switch {
	case a.signed:
		return app.Errorf(app.ECONFLICT, "%s has already signed in this cycle, so no invitation was sent.", a.name)
	case a.exempt:
		return app.Errorf(app.ECONFLICT, "%s is exempt in this cycle, so no invitation was sent. End the exemption first if they must sign.", a.name)
	}
	now := s.db.Now().UTC().Truncate(time.Microsecond)
	prefix := resendPrefix(cycleID, employeeID)
	var last sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT MAX(created_at) FROM outbox WHERE dedupe_key >= ? AND dedupe_key < ?`,
		prefix, prefix+"\U0010FFFF").Scan(&last); err != nil {
		return fmt.Errorf("read last invitation: %w", err)
	}
	if last.Valid {
		if next := parseTime(last.String).Add(app.ResendEvery); now.Before(next) {
			return app.Errorf(app.ETOOMANY, "The invitation was already sent again to %s at %s. To avoid flooding their mailbox, it can be sent again from %s.",
				a.email, parseTime(last.String).In(s.db.Location).Format("3:04 PM"), next.In(s.db.Location).Format("3:04 PM"))
		}
	}
	stamp := formatTime(now)
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (dedupe_key, kind, employee_id, cycle_id, to_addr, to_name, subject,
		text_body, html_body, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, '', '', '', ?, ?)`,
		resendKey(cycleID, employeeID, now), app.MailInvitation, employeeID, cycleID, a.email, a.name, stamp, stamp); err != nil {
		return fmt.Errorf("queue invitation: %w", err)
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: actor, Action: "mail.invitation_resent",
		SubjectType: "employee", SubjectID: employeeID, IP: ip,
		Detail: fmt.Sprintf("cycle %d: invitation sent again to %s", cycleID, a.email)}); err != nil {
		return err
	}
	return tx.Commit()
}

// Extensions lists a person's due date extensions, oldest first.
func (s *PersonActionService) Extensions(ctx context.Context, employeeID int64) ([]*app.DueExtension, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT x.id, x.cycle_id, x.employee_id, x.old_due_on, x.new_due_on, x.reason,
		x.actor_id, COALESCE(m.full_name, ''), x.created_at
		FROM due_extensions x LEFT JOIN employees m ON m.id = x.actor_id WHERE x.employee_id = ? ORDER BY x.id`, employeeID)
	if err != nil {
		return nil, fmt.Errorf("read extensions: %w", err)
	}
	defer rows.Close()
	var out []*app.DueExtension
	for rows.Next() {
		var x app.DueExtension
		var at string
		if err := rows.Scan(&x.ID, &x.CycleID, &x.EmployeeID, &x.OldDueOn, &x.NewDueOn, &x.Reason, &x.ActorID, &x.ActorName, &at); err != nil {
			return nil, fmt.Errorf("scan extension: %w", err)
		}
		x.CreatedAt = parseTime(at)
		out = append(out, &x)
	}
	return out, rows.Err()
}

// Exemptions lists a person's exemptions and their ends, oldest first.
func (s *PersonActionService) Exemptions(ctx context.Context, employeeID int64) ([]*app.Exemption, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT x.id, x.cycle_id, x.employee_id, x.action, x.from_on, x.to_on, x.reason,
		x.actor_id, COALESCE(m.full_name, ''), x.created_at
		FROM exemptions x LEFT JOIN employees m ON m.id = x.actor_id WHERE x.employee_id = ? ORDER BY x.id`, employeeID)
	if err != nil {
		return nil, fmt.Errorf("read exemptions: %w", err)
	}
	defer rows.Close()
	var out []*app.Exemption
	for rows.Next() {
		var x app.Exemption
		var at string
		if err := rows.Scan(&x.ID, &x.CycleID, &x.EmployeeID, &x.Action, &x.FromOn, &x.ToOn, &x.Reason, &x.ActorID, &x.ActorName, &at); err != nil {
			return nil, fmt.Errorf("scan exemption: %w", err)
		}
		x.CreatedAt = parseTime(at)
		out = append(out, &x)
	}
	return out, rows.Err()
}

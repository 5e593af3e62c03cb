package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"portal/app"
)

// actionFixture is the fixture on a fixed day (2026-02-10, before the
// cycle's due date of 2026-03-01), with an HR user to act.
func actionFixture(t *testing.T) (*fixture, *PersonActionService, *int64) {
	t.Helper()
	f := newFixture(t)
	now := time.Date(2026, 2, 10, 15, 0, 0, 0, time.UTC)
	f.db.Now = func() time.Time { return now }
	hr := &app.Employee{EmployeeNumber: "HR", FullName: "Hannah Roy", Email: "hr@x.example", Agency: "HR agency", Department: "D",
		Active: true, Roles: []app.Role{app.RoleHR}}
	if err := NewEmployeeService(f.db).CreateEmployee(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	return f, NewPersonActionService(f.db), &hr.ID
}

// completionOf reads agency A's figures (the fixture's one person) on a day.
func completionOf(t *testing.T, f *fixture, today string) app.Completion {
	t.Helper()
	_, total, err := NewDashboardService(f.db).Completion(context.Background(), f.cycle.ID, nil, "A", today)
	if err != nil {
		t.Fatal(err)
	}
	return total
}

func wantCode(t *testing.T, err error, code, contains string) {
	t.Helper()
	if app.ErrorCode(err) != code || !strings.Contains(app.ErrorMessage(err), contains) {
		t.Fatalf("got %v (%q), want %s saying %q", err, app.ErrorMessage(err), code, contains)
	}
}

// TestExtendDueMovesTheCountsAndKeepsEvidence: an extension moves the due
// date (an overdue person is overdue no more), is recorded with an audit
// event, survives a roster change, and refuses bad input changing nothing.
func TestExtendDueMovesTheCountsAndKeepsEvidence(t *testing.T) {
	f, s, hr := actionFixture(t)
	ctx := context.Background()
	const later = "2026-03-20" // a day past the cycle's due date
	if c := completionOf(t, f, later); c.Overdue != 1 {
		t.Fatalf("before: %+v", c)
	}
	for name, tc := range map[string]struct {
		due, reason, field, says string
	}{
		"no reason":          {"2026-04-01", " ", "extend_reason", "Enter the reason"},
		"not a date":         {"04/01/2026", "leave", "extend_due_on", "YYYY-MM-DD"},
		"in the past":        {"2026-02-01", "leave", "extend_due_on", "today or later"},
		"not later":          {"2026-03-01", "leave", "extend_due_on", "later than the current one, March 1, 2026"},
		"earlier":            {"2026-02-20", "leave", "extend_due_on", "later than the current one"},
		"years away":         {"2028-01-01", "leave", "extend_due_on", "within a year"},
		"an overlong reason": {"2026-04-01", strings.Repeat("x", 501), "extend_reason", "500 characters"},
	} {
		err := s.ExtendDue(ctx, &app.DueExtension{CycleID: f.cycle.ID, EmployeeID: f.emp.ID, NewDueOn: tc.due, Reason: tc.reason, ActorID: hr}, "ip")
		wantCode(t, err, app.EINVALID, tc.says)
		if !hasField(err, tc.field) {
			t.Errorf("%s: no error on %s: %v", name, tc.field, err)
		}
	}
	if n := countRows(t, f.db, `SELECT COUNT(*) FROM due_extensions`); n != 0 {
		t.Fatalf("refused extensions left %d rows", n)
	}

	x := &app.DueExtension{CycleID: f.cycle.ID, EmployeeID: f.emp.ID, NewDueOn: "2026-04-01", Reason: "Back from leave on March 15", ActorID: hr}
	if err := s.ExtendDue(ctx, x, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	checkCountTables(t, f.db, "an extension")
	if c := completionOf(t, f, later); c.Overdue != 0 || c.NotStarted != 1 {
		t.Fatalf("after the extension, on %s: %+v", later, c)
	}
	if x.OldDueOn != "2026-03-01" {
		t.Fatalf("old due date %q", x.OldDueOn)
	}
	got, err := s.Extensions(ctx, f.emp.ID)
	if err != nil || len(got) != 1 || got[0].NewDueOn != "2026-04-01" || got[0].ActorName != "Hannah Roy" || got[0].Reason != x.Reason {
		t.Fatalf("extensions %+v %v", got, err)
	}
	if n := countRows(t, f.db, `SELECT COUNT(*) FROM audit_events WHERE action = 'assignment.due_extended' AND subject_id = ? AND actor_id = ?
		AND detail LIKE '%Back from leave%'`, f.emp.ID, *hr); n != 1 {
		t.Fatalf("%d audit events", n)
	}
	// A roster change recomputes due dates (as a roster import does): the extension stands.
	tx, err := f.db.beginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE employees SET department = 'D2' WHERE id = ?`, f.emp.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.db.syncAssignments(ctx, tx, "1 = 1", "e.id = ?", f.emp.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if due := textRow(t, f.db, `SELECT due_on FROM assignments WHERE employee_id = ?`, f.emp.ID); due != "2026-04-01" {
		t.Fatalf("after a roster change the due date is %s", due)
	}
	checkCountTables(t, f.db, "a roster change after an extension")

	f.sign(t)
	err = s.ExtendDue(ctx, &app.DueExtension{CycleID: f.cycle.ID, EmployeeID: f.emp.ID, NewDueOn: "2026-05-01", Reason: "x", ActorID: hr}, "ip")
	wantCode(t, err, app.ECONFLICT, "already signed")
}

// TestExemptionsCountAndEnd: an exempt person is neither pending nor
// overdue and gets no reminder; ending the exemption makes them due again;
// each step is an evidence row and an audit event.
func TestExemptionsCountAndEnd(t *testing.T) {
	f, s, hr := actionFixture(t)
	ctx := context.Background()
	const later = "2026-03-20"
	for name, x := range map[string]struct {
		e           app.Exemption
		field, says string
	}{
		"no reason":        {app.Exemption{FromOn: "2026-02-10"}, "exempt_reason", "Enter the reason"},
		"no start":         {app.Exemption{Reason: "leave"}, "exempt_from", "starts"},
		"bad end":          {app.Exemption{FromOn: "2026-02-10", ToOn: "soon", Reason: "leave"}, "exempt_to", "ends"},
		"end before start": {app.Exemption{FromOn: "2026-02-10", ToOn: "2026-02-01", Reason: "leave"}, "exempt_to", "on or after the start"},
	} {
		e := x.e
		e.CycleID, e.EmployeeID, e.ActorID = f.cycle.ID, f.emp.ID, hr
		err := s.Exempt(ctx, &e, "ip")
		wantCode(t, err, app.EINVALID, x.says)
		if !hasField(err, x.field) {
			t.Errorf("%s: no error on %s: %v", name, x.field, err)
		}
	}
	err := s.EndExemption(ctx, &app.Exemption{CycleID: f.cycle.ID, EmployeeID: f.emp.ID, Reason: "back", ActorID: hr}, "ip")
	wantCode(t, err, app.ECONFLICT, "not exempt")
	if n := countRows(t, f.db, `SELECT COUNT(*) FROM exemptions`); n != 0 {
		t.Fatalf("refused exemptions left %d rows", n)
	}

	x := &app.Exemption{CycleID: f.cycle.ID, EmployeeID: f.emp.ID, FromOn: "2026-02-10", ToOn: "2026-08-31", Reason: "Military service", ActorID: hr}
	if err := s.Exempt(ctx, x, "ip"); err != nil {
		t.Fatal(err)
	}
	checkCountTables(t, f.db, "an exemption")
	if c := completionOf(t, f, later); c.Exempt != 1 || c.Overdue != 0 || c.Total != 1 || c.Percent() != 0 {
		t.Fatalf("exempt: %+v", c)
	}
	if p, n, err := NewDashboardService(f.db).People(ctx, app.PeopleFilter{CycleID: f.cycle.ID, Status: app.StatusExempt, Today: later}); err != nil || n != 1 || p[0].Status != app.StatusExempt {
		t.Fatalf("the exempt filter: %d %v", n, err)
	}
	wantCode(t, s.Exempt(ctx, &app.Exemption{CycleID: f.cycle.ID, EmployeeID: f.emp.ID, FromOn: "2026-02-10", Reason: "again", ActorID: hr}, "ip"),
		app.ECONFLICT, "already exempt")
	// No reminder, invitation or escalation for an exempt person: the one
	// invitation of the pass is the HR user's own.
	sum, err := NewReminderService(f.db).RunPass(ctx, time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC), time.UTC, app.DefaultSchedule, true)
	if err != nil || sum.Invitations != 1 || sum.Reminders+sum.Escalations+sum.Digests != 0 {
		t.Fatalf("a reminder pass for an exempt person: %+v %v", sum, err)
	}

	end := &app.Exemption{CycleID: f.cycle.ID, EmployeeID: f.emp.ID, Reason: "Back early", ActorID: hr}
	if err := s.EndExemption(ctx, end, "ip"); err != nil {
		t.Fatal(err)
	}
	checkCountTables(t, f.db, "the end of an exemption")
	if c := completionOf(t, f, later); c.Exempt != 0 || c.Overdue != 1 {
		t.Fatalf("after the end: %+v", c)
	}
	got, err := s.Exemptions(ctx, f.emp.ID)
	if err != nil || len(got) != 2 || got[0].Action != app.ExemptionStart || got[0].ToOn != "2026-08-31" ||
		got[1].Action != app.ExemptionEnd || got[1].FromOn != "2026-02-10" || got[1].ActorName != "Hannah Roy" {
		t.Fatalf("exemptions %+v %v", got, err)
	}
	for _, action := range []string{"assignment.exempted", "assignment.exemption_ended"} {
		if n := countRows(t, f.db, `SELECT COUNT(*) FROM audit_events WHERE action = ? AND subject_id = ?`, action, f.emp.ID); n != 1 {
			t.Fatalf("%d %s events", n, action)
		}
	}
	if sum, err := NewReminderService(f.db).RunPass(ctx, time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC), time.UTC, app.DefaultSchedule, true); err != nil || sum.Invitations != 2 {
		t.Fatalf("a reminder pass after the exemption ended: %+v %v", sum, err)
	}

	// A signed person cannot be excused.
	f.sign(t)
	wantCode(t, s.Exempt(ctx, &app.Exemption{CycleID: f.cycle.ID, EmployeeID: f.emp.ID, FromOn: "2026-02-10", Reason: "late", ActorID: hr}, "ip"),
		app.ECONFLICT, "already signed")
}

// TestResendInvitationIsLimited: the invitation is queued again at once,
// then refused for ten minutes, then allowed again.
func TestResendInvitationIsLimited(t *testing.T) {
	f, s, hr := actionFixture(t)
	ctx := context.Background()
	now := f.db.Now()
	if err := s.ResendInvitation(ctx, f.cycle.ID, f.emp.ID, hr, "ip"); err != nil {
		t.Fatal(err)
	}
	queued := func() int {
		return countRows(t, f.db, `SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' AND employee_id = ? AND status = 'queued'
			AND next_attempt_at <= ?`, f.emp.ID, formatTime(f.db.Now()))
	}
	if n := queued(); n != 1 {
		t.Fatalf("%d invitations queued", n)
	}
	f.db.Now = func() time.Time { return now.Add(9 * time.Minute) }
	wantCode(t, s.ResendInvitation(ctx, f.cycle.ID, f.emp.ID, hr, "ip"), app.ETOOMANY, "3:10 PM")
	f.db.Now = func() time.Time { return now.Add(10 * time.Minute) }
	if err := s.ResendInvitation(ctx, f.cycle.ID, f.emp.ID, hr, "ip"); err != nil {
		t.Fatal(err)
	}
	if n := queued(); n != 2 {
		t.Fatalf("%d invitations queued", n)
	}
	if n := countRows(t, f.db, `SELECT COUNT(*) FROM audit_events WHERE action = 'mail.invitation_resent' AND subject_id = ?`, f.emp.ID); n != 2 {
		t.Fatalf("%d audit events", n)
	}
	f.sign(t)
	wantCode(t, s.ResendInvitation(ctx, f.cycle.ID, f.emp.ID, hr, "ip"), app.ECONFLICT, "already signed")
	wantCode(t, s.ResendInvitation(ctx, f.cycle.ID, *hr+1000, hr, "ip"), app.ECONFLICT, "not asked to sign")
}

// TestPersonActionEvidenceRefusesChanges: extensions and exemptions are
// never changed nor deleted.
func TestPersonActionEvidenceRefusesChanges(t *testing.T) {
	f, s, hr := actionFixture(t)
	ctx := context.Background()
	if err := s.ExtendDue(ctx, &app.DueExtension{CycleID: f.cycle.ID, EmployeeID: f.emp.ID, NewDueOn: "2026-04-01", Reason: "x", ActorID: hr}, "ip"); err != nil {
		t.Fatal(err)
	}
	if err := s.Exempt(ctx, &app.Exemption{CycleID: f.cycle.ID, EmployeeID: f.emp.ID, FromOn: "2026-02-10", Reason: "x", ActorID: hr}, "ip"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE due_extensions SET new_due_on = '2027-01-01'`, `DELETE FROM due_extensions`,
		`UPDATE exemptions SET reason = 'y'`, `DELETE FROM exemptions`,
	} {
		if _, err := f.db.write.Exec(q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
}

func hasField(err error, field string) bool {
	for _, fe := range fieldsOf(err) {
		if fe == field {
			return true
		}
	}
	return false
}

// fieldsOf lists the form fields an error (or the errors it joins) names.
func fieldsOf(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, fieldsOf(e)...)
		}
		return out
	}
	if e, ok := err.(*app.Error); ok {
		return []string{e.Field}
	}
	return nil
}

func countRows(t *testing.T, db *DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.read.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func textRow(t *testing.T, db *DB, q string, args ...any) string {
	t.Helper()
	var s string
	if err := db.read.QueryRow(q, args...).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

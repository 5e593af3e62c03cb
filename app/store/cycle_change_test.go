package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"portal/app"
	"portal/app/content"
)

// addPerson adds an active employee to the fixture's roster (and so to its
// open cycle).
func (f *fixture) addPerson(t *testing.T, number, name, hired string) *app.Employee {
	t.Helper()
	e := &app.Employee{EmployeeNumber: number, FullName: name, Email: number + "@x.example", Agency: "A", Department: "D",
		HireDate: hired, Active: true}
	if err := NewEmployeeService(f.db).CreateEmployee(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

// signAs signs the fixture's cycle as e.
func (f *fixture) signAs(t *testing.T, e *app.Employee) {
	t.Helper()
	was := f.emp
	f.emp = e
	defer func() { f.emp = was }()
	if _, created := f.sign(t); !created {
		t.Fatalf("%s did not sign", e.FullName)
	}
}

func dueOf(t *testing.T, db *DB, cycle, employee int64) string {
	t.Helper()
	var due string
	if err := db.read.QueryRow(`SELECT due_on FROM assignments WHERE cycle_id = ? AND employee_id = ?`, cycle, employee).Scan(&due); err != nil {
		t.Fatal(err)
	}
	return due
}

// TestCycleConfirmationsCountWhatTheChangesDo seeds a roster in every
// state, checks the numbers the confirmation pages show, then makes the
// change and checks that it did what was counted.
func TestCycleConfirmationsCountWhatTheChangesDo(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cs := NewCycleService(f.db)
	zoe := f.emp
	signedA := f.addPerson(t, "2", "Ana Ruiz", "")
	reading := f.addPerson(t, "3", "Brian Levesque", "")
	f.addPerson(t, "4", "Chloé Martin", "") // not started
	readAndSigned := f.addPerson(t, "5", "Dmitri Volkov", "")
	left := f.addPerson(t, "6", "Emma Roy", "")
	for _, e := range []*app.Employee{zoe, signedA, readAndSigned, left} {
		f.signAs(t, e)
	}
	for _, e := range []*app.Employee{reading, readAndSigned} {
		if err := f.acks.MarkModuleRead(ctx, e.ID, f.cycle.ID, "m"); err != nil {
			t.Fatal(err)
		}
	}
	// Emma leaves after signing: her signature stays, she is asked nothing.
	if _, err := f.db.write.Exec(`UPDATE assignments SET active = 0 WHERE employee_id = ?`, left.ID); err != nil {
		t.Fatal(err)
	}

	close, err := cs.CloseImpact(ctx, f.cycle.ID)
	if err != nil {
		t.Fatal(err)
	}
	if close.Unsigned != 2 || close.Signatures != 4 {
		t.Errorf("closing: %d unsigned (want Brian and Chloé: 2), %d signatures (want 4)", close.Unsigned, close.Signatures)
	}

	minor := testVersion("1.1", "x")
	minor.Kind = app.KindMinor
	minor.SHA256 = content.VersionSHA256(minor)
	material := testVersion("2.0", "y")
	for _, v := range []*app.PolicyVersion{minor, material} {
		if err := NewPolicyService(f.db).PublishVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	mi, err := cs.VersionImpact(ctx, f.cycle.ID, minor.ID)
	if err != nil {
		t.Fatal(err)
	}
	if mi.Material || mi.Resign != 0 || mi.Restart != 0 || mi.VersionCode != "1.1" {
		t.Errorf("a minor version: %+v", mi)
	}
	ma, err := cs.VersionImpact(ctx, f.cycle.ID, material.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !ma.Material || ma.Resign != 3 || ma.Restart != 1 {
		t.Errorf("a material version: %+v, want 3 to sign again (Zoë, Ana, Dmitri; not Emma, who left) and 1 to start over (Brian)", ma)
	}
	for name, id := range map[string]int64{"the same version": f.version.ID, "an older one": f.version.ID - 1} {
		if _, err := cs.VersionImpact(ctx, f.cycle.ID, id); app.ErrorCode(err) != app.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	if _, err := cs.VersionImpact(ctx, 999, material.ID); app.ErrorCode(err) != app.ENOTFOUND {
		t.Errorf("no such cycle: %v", err)
	}

	// The change does what was counted.
	var signedBefore int
	if err := f.db.read.QueryRow(`SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND active = 1 AND signed_at IS NOT NULL`,
		f.cycle.ID).Scan(&signedBefore); err != nil {
		t.Fatal(err)
	}
	if err := cs.SetCycleVersion(ctx, f.cycle.ID, material.ID, nil); err != nil {
		t.Fatal(err)
	}
	if n := count(t, f.db, `SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND active = 1 AND signed_at IS NOT NULL`, f.cycle.ID); signedBefore-n != ma.Resign {
		t.Errorf("%d people lost their signature, the page said %d", signedBefore-n, ma.Resign)
	}
	if n := count(t, f.db, `SELECT COUNT(DISTINCT employee_id) FROM module_progress WHERE employee_id = ?`, reading.ID); n != 0 {
		t.Error("Brian's reading was not cleared")
	}
	if n := count(t, f.db, `SELECT COUNT(*) FROM acknowledgments WHERE cycle_id = ?`, f.cycle.ID); n != close.Signatures {
		t.Errorf("%d acknowledgments kept, want %d", n, close.Signatures)
	}

	if err := cs.CloseCycle(ctx, f.cycle.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CloseImpact(ctx, f.cycle.ID); app.ErrorCode(err) != app.ECONFLICT {
		t.Errorf("closing a closed cycle: %v", err)
	}
	if _, err := cs.VersionImpact(ctx, f.cycle.ID, material.ID+1); app.ErrorCode(err) != app.ECONFLICT {
		t.Errorf("moving a closed cycle: %v", err)
	}
	verifyLog(t, f.db)
}

// TestCycleDueDateMoves checks who moves with the cycle's due date: those
// due on the old date; new hires never before their own date; a later
// date given to someone on their own stays. Then every bad input, each
// refused with its field named and nothing changed.
func TestCycleDueDateMoves(t *testing.T) {
	f := newFixture(t) // opens 2026-01-01, due 2026-03-01, new hires 30 days
	ctx := context.Background()
	cs := NewCycleService(f.db)
	regular := f.emp
	lateHire := f.addPerson(t, "2", "Ana Ruiz", "2026-02-15")   // due 2026-03-17
	earlyHire := f.addPerson(t, "3", "Brian Roy", "2026-01-10") // hire + 30 is before the cycle's date: due 2026-03-01
	extended := f.addPerson(t, "4", "Chloé Martin", "")
	extendedSooner := f.addPerson(t, "5", "Dmitri Volkov", "")
	// Dates given to people on their own (as an extension does).
	for id, due := range map[int64]string{extended.ID: "2026-04-15", extendedSooner.ID: "2026-03-10"} {
		if _, err := f.db.write.Exec(`UPDATE assignments SET due_on = ? WHERE employee_id = ?`, due, id); err != nil {
			t.Fatal(err)
		}
	}
	want := func(step string, dues map[*app.Employee]string) {
		t.Helper()
		for e, d := range dues {
			if got := dueOf(t, f.db, f.cycle.ID, e.ID); got != d {
				t.Errorf("%s: %s is due %s, want %s", step, e.FullName, got, d)
			}
		}
	}
	want("before", map[*app.Employee]string{regular: "2026-03-01", lateHire: "2026-03-17", earlyHire: "2026-03-01"})
	actor := regular.ID

	moved, err := cs.SetCycleDueDate(ctx, f.cycle.ID, "2026-04-01", "  The agency asked for a month more.  ", &actor)
	if err != nil {
		t.Fatal(err)
	}
	want("later", map[*app.Employee]string{regular: "2026-04-01", lateHire: "2026-04-01", earlyHire: "2026-04-01",
		extended: "2026-04-15", extendedSooner: "2026-04-01"})
	if moved != 4 {
		t.Errorf("%d people moved, want 4", moved)
	}
	if c, _ := cs.FindCycleByID(ctx, f.cycle.ID); c.DueOn != "2026-04-01" {
		t.Errorf("the cycle is due %s", c.DueOn)
	}
	var detail string
	var by int64
	if err := f.db.read.QueryRow(`SELECT detail, actor_id FROM audit_events WHERE action = 'cycle.due_changed' AND subject_id = ?`,
		f.cycle.ID).Scan(&detail, &by); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, "2026-03-01 → 2026-04-01") || !strings.Contains(detail, "reason: The agency asked for a month more.") || by != actor {
		t.Errorf("the audit event: %q by %d", detail, by)
	}

	if _, err := cs.SetCycleDueDate(ctx, f.cycle.ID, "2026-02-20", "Sooner after all.", &actor); err != nil {
		t.Fatal(err)
	}
	want("sooner", map[*app.Employee]string{regular: "2026-02-20", lateHire: "2026-03-17", earlyHire: "2026-02-20",
		extended: "2026-04-15"})
	verifyLog(t, f.db)

	// Bad input: refused, naming the field, and nothing changes.
	state := func() string {
		var s string
		if err := f.db.read.QueryRow(`SELECT (SELECT string_agg(employee_id || ' ' || due_on, ',') FROM assignments)
			|| '|' || (SELECT due_on FROM cycles WHERE id = ?) || '|' || (SELECT COUNT(*) FROM audit_events)`, f.cycle.ID).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before, cycleBefore := state(), f.cycle.ID
	for _, c := range []struct {
		name, due, reason, field string
		code                     string
	}{
		{"no date", "", "r", "due_on", app.EINVALID},
		{"not a date", "31/03/2026", "r", "due_on", app.EINVALID},
		{"no such day", "2026-02-30", "r", "due_on", app.EINVALID},
		{"before the cycle opens", "2025-12-31", "r", "due_on", app.EINVALID},
		{"the day it opens", "2026-01-01", "r", "due_on", app.EINVALID},
		{"the date it has", "2026-02-20", "r", "due_on", app.EINVALID},
		{"no reason", "2026-05-01", "   ", "reason", app.EINVALID},
		{"a reason too long", "2026-05-01", strings.Repeat("x", app.MaxReasonLength+1), "reason", app.EINVALID},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := cs.SetCycleDueDate(ctx, cycleBefore, c.due, c.reason, &actor)
			var ae *app.Error
			if app.ErrorCode(err) != c.code || !errors.As(err, &ae) || ae.Field != c.field {
				t.Errorf("%v, want %s on %s", err, c.code, c.field)
			}
			if got := state(); got != before {
				t.Errorf("something changed")
			}
		})
	}
	if _, err := cs.SetCycleDueDate(ctx, 999, "2026-05-01", "r", &actor); app.ErrorCode(err) != app.ENOTFOUND {
		t.Errorf("no such cycle: %v", err)
	}
	if err := cs.CloseCycle(ctx, f.cycle.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.SetCycleDueDate(ctx, f.cycle.ID, "2026-05-01", "r", &actor); app.ErrorCode(err) != app.ECONFLICT {
		t.Errorf("a closed cycle: %v", err)
	}
}

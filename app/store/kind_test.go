package store

import (
	"context"
	"testing"
	"time"

	"portal/app"
)

// TestAuthorizationKindsFollowAuthorizations: the portal opens the
// agency-use acknowledgment's cycle of the year when someone first owes it
// (actor NULL, with an audit event), assigns the person due the kind's
// due_days after their first authorization, leaves out people who are not
// authorized, changes nothing when run again, and drops the person once
// every authorization has ended.
func TestAuthorizationKindsFollowAuthorizations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.db.Now = func() time.Time { return time.Date(2026, 6, 10, 15, 0, 0, 0, time.UTC) }
	other := &app.Employee{EmployeeNumber: "2", FullName: "José Núñez", Email: "jose@x.example", Agency: "A", Department: "D", Active: true}
	if err := NewEmployeeService(f.db).CreateEmployee(ctx, other); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := f.db.execWrite(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := f.db.read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ks := NewKindService(f.db)
	if err := ks.SyncAllAuthorizationKinds(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT COUNT(*) FROM cycles WHERE kind = 'agency-use'`); n != 0 {
		t.Fatalf("%d agency-use cycles with nobody authorized", n)
	}
	exec(`INSERT INTO social_accounts (id, agency, platform, handle, url, purpose, terms_accepted_by, terms_accepted_on, archive_method,
		status, review_on, created_at, updated_at) VALUES (1, 'A', 'Facebook', 'StateA', 'https://x.example', 'News', 'X', '2026-01-01',
		'export', 'active', '2027-01-01', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`)
	exec(`INSERT INTO terms_of_comment (id, agency, version, body, sha256, published_at) VALUES (4, 'A', 1, 'Be kind.', 'ab', '2026-01-01T00:00:00Z')`)
	exec(`INSERT INTO poster_authorizations (id, employee_id, account_id, agency, scope, starts_on, terms_id, granted_at)
		VALUES (1, ?, 1, 'A', 'post', '2026-06-01', 4, '2026-06-01T00:00:00Z')`, f.emp.ID)
	// A future authorization of the other person does not count yet.
	exec(`INSERT INTO poster_authorizations (id, employee_id, account_id, agency, scope, starts_on, terms_id, granted_at)
		VALUES (2, ?, 1, 'A', 'post', '2026-07-01', 4, '2026-06-01T00:00:00Z')`, other.ID)
	for range 2 { // the second run changes nothing
		if err := ks.SyncAuthorizationKinds(ctx, f.emp.ID); err != nil {
			t.Fatal(err)
		}
		if err := ks.SyncAllAuthorizationKinds(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(`SELECT COUNT(*) FROM cycles WHERE kind = 'agency-use' AND year = 2026 AND open = 1`); n != 1 {
		t.Fatalf("%d open agency-use cycles", n)
	}
	if n := count(`SELECT COUNT(*) FROM audit_events e JOIN cycles c ON c.id = e.subject_id
		WHERE e.action = 'cycle.opened' AND e.actor_id IS NULL AND c.kind = 'agency-use'`); n != 1 {
		t.Fatalf("%d audit events of the portal opening it", n)
	}
	var due string
	var active int
	if err := f.db.read.QueryRowContext(ctx, `SELECT a.due_on, a.active FROM assignments a JOIN cycles c ON c.id = a.cycle_id
		WHERE c.kind = 'agency-use' AND a.employee_id = ?`, f.emp.ID).Scan(&due, &active); err != nil {
		t.Fatal(err)
	}
	if due != "2026-07-01" || active != 1 {
		t.Fatalf("due %s, active %d; want 2026-07-01 (30 days after 2026-06-01), 1", due, active)
	}
	if n := count(`SELECT COUNT(*) FROM assignments a JOIN cycles c ON c.id = a.cycle_id WHERE c.kind = 'agency-use' AND a.employee_id = ?`, other.ID); n != 0 {
		t.Fatal("someone not yet authorized was asked to sign")
	}
	// The annual cycle is still the current one.
	if c, err := NewCycleService(f.db).CurrentCycle(ctx); err != nil || c.ID != f.cycle.ID {
		t.Fatalf("current cycle %+v %v", c, err)
	}
	cy, err := ks.OpenCycleOf(ctx, "agency-use", f.emp.ID)
	if err != nil || cy.Kind != "agency-use" {
		t.Fatalf("open cycle of the kind: %+v %v", cy, err)
	}
	pc, err := ks.PosterContext(ctx, f.emp.ID)
	if err != nil || len(pc.Accounts) != 1 || pc.Accounts[0] != "Facebook StateA" || pc.TermsID == nil || *pc.TermsID != 4 || pc.TermsVersion != 1 {
		t.Fatalf("poster context %+v %v", pc, err)
	}

	// HR neither closes the portal's cycle nor moves its version or due
	// date: each is refused and changes nothing.
	cs := NewCycleService(f.db)
	before := count(`SELECT COUNT(*) FROM audit_events`)
	for name, err := range map[string]error{
		"close":          cs.CloseCycle(ctx, cy.ID, nil),
		"close impact":   func() error { _, err := cs.CloseImpact(ctx, cy.ID); return err }(),
		"due date":       func() error { _, err := cs.SetCycleDueDate(ctx, cy.ID, "2026-12-01", "later", nil); return err }(),
		"version":        cs.SetCycleVersion(ctx, cy.ID, f.version.ID+1, nil),
		"version impact": func() error { _, err := cs.VersionImpact(ctx, cy.ID, f.version.ID+1); return err }(),
	} {
		if app.ErrorCode(err) != app.ECONFLICT {
			t.Errorf("%s of the portal's cycle: %v, want a conflict", name, err)
		}
	}
	if n := count(`SELECT COUNT(*) FROM cycles WHERE id = ? AND open = 1 AND due_on = '2026-12-31'`, cy.ID); n != 1 || count(`SELECT COUNT(*) FROM audit_events`) != before {
		t.Fatal("a refused change to the portal's cycle changed it")
	}
	// A later due date given to the person stays when the portal syncs again.
	if err := NewPersonActionService(f.db).ExtendDue(ctx, &app.DueExtension{CycleID: cy.ID, EmployeeID: f.emp.ID,
		NewDueOn: "2026-08-15", Reason: "on leave"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := ks.SyncAllAuthorizationKinds(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND employee_id = ? AND due_on = '2026-08-15'`, cy.ID, f.emp.ID); n != 1 {
		t.Fatal("the portal's sync moved an extended due date back")
	}

	// Revoked: she drops out, as the roster drops people; nothing is deleted.
	exec(`INSERT INTO authorization_ends (authorization_id, reason, at) VALUES (1, 'revoked', '2026-06-10T15:00:00Z')`)
	if err := ks.SyncAuthorizationKinds(ctx, f.emp.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT COUNT(*) FROM assignments a JOIN cycles c ON c.id = a.cycle_id
		WHERE c.kind = 'agency-use' AND a.employee_id = ? AND a.active = 0`, f.emp.ID); n != 1 {
		t.Fatal("the assignment of someone no longer authorized is still active")
	}
	if _, err := ks.OpenCycleOf(ctx, "agency-use", f.emp.ID); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("still owes it: %v", err)
	}
}

// TestCreateCycleRefusesKindsNotOpenedByHR: HR cannot open a cycle of a
// kind the portal assigns by authorization, nor of a kind that does not exist.
func TestCreateCycleRefusesKindsNotOpenedByHR(t *testing.T) {
	f := newFixture(t)
	for _, kind := range []string{"agency-use", "no-such-kind"} {
		c := &app.Cycle{Name: "x", Kind: kind, PolicyVersionID: f.version.ID, OpensOn: "2027-01-01", DueOn: "2027-03-01", NewHireDays: 30, Open: true}
		if err := NewCycleService(f.db).CreateCycle(context.Background(), c); app.ErrorCode(err) != app.EINVALID {
			t.Errorf("%s: %v", kind, err)
		}
	}
}

// TestAuthorizationKindsFallDueAYearAfterSigning: once a poster has signed
// the agency-use acknowledgment, the next year's cycle (opened by the
// portal when the year turns, last year's closed) asks them again a year
// after that signature, not the kind's due days after their first
// authorization; what they signed stays.
func TestAuthorizationKindsFallDueAYearAfterSigning(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Date(2025, 6, 10, 15, 0, 0, 0, time.UTC)
	f.db.Now = func() time.Time { return now }
	for _, q := range []string{
		`INSERT INTO social_accounts (id, agency, platform, handle, url, purpose, terms_accepted_by, terms_accepted_on, archive_method,
			status, review_on, created_at, updated_at) VALUES (1, 'A', 'Facebook', 'StateA', 'https://x.example', 'News', 'X', '2025-01-01',
			'export', 'active', '2026-01-01', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')`,
		`INSERT INTO poster_authorizations (id, employee_id, account_id, agency, scope, starts_on, granted_at)
			VALUES (1, ?, 1, 'A', 'post', '2025-06-01', '2025-06-01T00:00:00Z')`,
	} {
		if _, err := f.db.execWrite(ctx, q, f.emp.ID); err != nil {
			t.Fatal(err)
		}
	}
	ks := NewKindService(f.db)
	if err := ks.SyncAuthorizationKinds(ctx, f.emp.ID); err != nil {
		t.Fatal(err)
	}
	first, err := ks.OpenCycleOf(ctx, "agency-use", f.emp.ID)
	if err != nil || first.Year != 2025 {
		t.Fatalf("first cycle %+v %v", first, err)
	}
	f.cycle = first
	ack, _ := f.sign(t)

	now = time.Date(2026, 2, 1, 15, 0, 0, 0, time.UTC)
	if err := ks.SyncAllAuthorizationKinds(ctx); err != nil {
		t.Fatal(err)
	}
	next, err := ks.OpenCycleOf(ctx, "agency-use", f.emp.ID)
	if err != nil || next.Year != 2026 || next.ID == first.ID {
		t.Fatalf("next cycle %+v %v", next, err)
	}
	var due string
	if err := f.db.read.QueryRowContext(ctx, `SELECT due_on FROM assignments WHERE cycle_id = ? AND employee_id = ?`, next.ID, f.emp.ID).Scan(&due); err != nil {
		t.Fatal(err)
	}
	if due != "2026-06-10" {
		t.Fatalf("due %s, want 2026-06-10: a year after signing on 2025-06-10", due)
	}
	var open, acks int
	if err := f.db.read.QueryRowContext(ctx, `SELECT (SELECT open FROM cycles WHERE id = ?), (SELECT COUNT(*) FROM acknowledgments WHERE id = ? AND cycle_id = ?)`,
		first.ID, ack.ID, first.ID).Scan(&open, &acks); err != nil {
		t.Fatal(err)
	}
	if open != 0 || acks != 1 {
		t.Fatalf("last year's cycle open %d, its acknowledgment %d", open, acks)
	}
}

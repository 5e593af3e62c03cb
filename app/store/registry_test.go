package store

import (
	"context"
	"slices"
	"strings"
	"testing"

	"portal/app"
)

// registryFixture: agency A has 1 (the fixture's Zoë), S1 and S2; agency B
// has B1; X is inactive in A.
func registryFixture(t *testing.T) (*fixture, map[string]*app.Employee) {
	t.Helper()
	f := newFixture(t)
	ctx := context.Background()
	es := map[string]*app.Employee{"1": f.emp}
	for _, p := range []struct {
		number, agency string
		active         bool
	}{{"S1", "A", true}, {"S2", "A", true}, {"B1", "B", true}, {"X", "A", false}} {
		e := &app.Employee{EmployeeNumber: p.number, FullName: "Person " + p.number, Email: strings.ToLower(p.number) + "@x.example",
			Agency: p.agency, Department: "D", Active: p.active}
		if err := NewEmployeeService(f.db).CreateEmployee(ctx, e); err != nil {
			t.Fatal(err)
		}
		es[p.number] = e
	}
	return f, es
}

func TestSupervisorDesignations(t *testing.T) {
	ctx := context.Background()
	f, es := registryFixture(t)
	s := NewSupervisorService(f.db)
	admin := f.emp.ID
	refused := []struct {
		name, agency, number, reason, field, msg string
	}{
		{"nobody with that number", "A", "NOPE", "letter", "employee_number", "Nobody on the roster has employee number NOPE"},
		{"an inactive person", "A", "X", "letter", "employee_number", "no longer active"},
		{"a person of another agency", "A", "B1", "letter", "employee_number", "works for B, not A"},
		{"an agency nobody works for", "Q", "S1", "letter", "agency", "Choose an agency"},
		{"no reason", "A", "S1", "  ", "reason", "Give the reason"},
		{"no number", "A", "", "letter", "employee_number", "Enter the employee number"},
		{"the administrator themselves", f.emp.Agency, f.emp.EmployeeNumber, "letter", "employee_number", "You cannot designate yourself"},
	}
	for _, c := range refused {
		t.Run("refuses "+c.name, func(t *testing.T) {
			before := count(t, f.db, `SELECT COUNT(*) FROM supervisor_designations`) + count(t, f.db, `SELECT COUNT(*) FROM audit_events`)
			_, err := s.Designate(ctx, c.agency, c.number, c.reason, admin)
			var ae *app.Error
			if app.ErrorCode(err) != app.EINVALID || !asError(err, &ae) || ae.Field != c.field || !strings.Contains(ae.Message, c.msg) {
				t.Fatalf("err %v, want EINVALID on %s saying %q", err, c.field, c.msg)
			}
			if after := count(t, f.db, `SELECT COUNT(*) FROM supervisor_designations`) + count(t, f.db, `SELECT COUNT(*) FROM audit_events`); after != before {
				t.Fatal("a refused designation wrote rows")
			}
		})
	}
	t.Run("designating another ends the previous one in the same step", func(t *testing.T) {
		if _, err := s.Designate(ctx, "A", "S1", "letter of March 2", admin); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Designate(ctx, "A", "S1", "again", admin); app.ErrorCode(err) != app.EINVALID {
			t.Fatalf("designating the supervisor again: %v", err)
		}
		if _, err := s.Designate(ctx, "A", "S2", "new letter", admin); err != nil {
			t.Fatal(err)
		}
		if n := count(t, f.db, `SELECT COUNT(*) FROM agency_supervisors WHERE agency = 'A' AND employee_id = ?`, es["S2"].ID); n != 1 {
			t.Fatalf("A's supervisor is not S2")
		}
		if n := count(t, f.db, `SELECT COUNT(*) FROM supervisor_designations WHERE employee_id = ? AND action = 'end' AND reason LIKE 'Replaced by Person S2%'`, es["S1"].ID); n != 1 {
			t.Fatal("S1's designation has no end row naming S2")
		}
		for action, want := range map[string]int{"supervisor.designated": 2, "supervisor.ended": 1} {
			if n := count(t, f.db, `SELECT COUNT(*) FROM audit_events WHERE action = ?`, action); n != want {
				t.Errorf("%d %s events, want %d", n, action, want)
			}
		}
		sup, err := NewEmployeeService(f.db).FindEmployeeByID(ctx, es["S2"].ID)
		if err != nil || sup.SupervisorOf != "A" {
			t.Fatalf("S2's SupervisorOf: %v %q", err, sup.SupervisorOf)
		}
	})
	t.Run("ending leaves the agency without a supervisor; ending again is refused", func(t *testing.T) {
		if err := s.EndDesignation(ctx, "A", "", admin); app.ErrorCode(err) != app.EINVALID {
			t.Fatalf("end without a reason: %v", err)
		}
		if err := s.EndDesignation(ctx, "A", "left the post", admin); err != nil {
			t.Fatal(err)
		}
		if err := s.EndDesignation(ctx, "A", "again", admin); app.ErrorCode(err) != app.EINVALID {
			t.Fatalf("ending an agency with no supervisor: %v", err)
		}
		list, err := s.Supervisors(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list {
			if a.EmployeeID != 0 {
				t.Errorf("%s still has supervisor %s", a.Agency, a.FullName)
			}
		}
	})
	t.Run("the designations are evidence", func(t *testing.T) {
		for _, q := range []string{`UPDATE supervisor_designations SET reason = 'x'`, `DELETE FROM supervisor_designations`} {
			if _, err := f.db.write.Exec(q); err == nil || !strings.Contains(err.Error(), "evidence") {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	verifyLog(t, f.db)
}

func asError(err error, target **app.Error) bool {
	e, ok := err.(*app.Error)
	if ok {
		*target = e
	}
	return ok
}

// A roster import that deactivates a supervisor, or moves them to another
// agency, ends their designation in the same transaction, by the portal.
func TestRosterEndsSupervisorDesignation(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		row    app.RosterRow
		deact  bool
		reason string
	}{
		{"moved to another agency", app.RosterRow{Line: 2, EmployeeNumber: "S1", FullName: "Person S1", Email: "s1@x.example", Agency: "B", Department: "D"}, false, "The roster moved them to B."},
		{"deactivated", app.RosterRow{Line: 2, EmployeeNumber: "S2", FullName: "Person S2", Email: "s2@x.example", Agency: "A", Department: "D"}, true, "The roster deactivated them."},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, es := registryFixture(t)
			s := NewSupervisorService(f.db)
			if _, err := s.Designate(ctx, "A", "S1", "letter", f.emp.ID); err != nil {
				t.Fatal(err)
			}
			rows := []app.RosterRow{c.row}
			if c.deact {
				// A full roster without S1 deactivates S1.
				rows = []app.RosterRow{
					{Line: 2, EmployeeNumber: "1", FullName: f.emp.FullName, Email: f.emp.Email, Agency: "A", Department: "D"},
					{Line: 3, EmployeeNumber: "S2", FullName: "Person S2", Email: "s2@x.example", Agency: "A", Department: "D"},
					{Line: 4, EmployeeNumber: "B1", FullName: "Person B1", Email: "b1@x.example", Agency: "B", Department: "D"},
				}
			}
			sum, err := NewRosterService(f.db).ImportRoster(ctx, rows, app.ImportOptions{Source: "test", DeactivateMissing: c.deact})
			if err != nil || len(sum.Problems) > 0 {
				t.Fatalf("import: %v %+v", err, sum)
			}
			if n := count(t, f.db, `SELECT COUNT(*) FROM agency_supervisors`); n != 0 {
				t.Fatal("the agency still has the supervisor")
			}
			if n := count(t, f.db, `SELECT COUNT(*) FROM supervisor_designations WHERE employee_id = ? AND action = 'end' AND actor_id IS NULL AND reason = ?`,
				es["S1"].ID, c.reason); n != 1 {
				t.Fatalf("no end row by the portal saying %q", c.reason)
			}
			if n := count(t, f.db, `SELECT COUNT(*) FROM audit_events WHERE action = 'supervisor.ended_by_roster' AND actor_id IS NULL AND subject_id = ?`, es["S1"].ID); n != 1 {
				t.Fatal("no audit event for HR and administrators")
			}
			verifyLog(t, f.db)
		})
	}
	t.Run("a roster change that keeps the supervisor in their agency ends nothing", func(t *testing.T) {
		f, _ := registryFixture(t)
		if _, err := NewSupervisorService(f.db).Designate(ctx, "A", "S1", "letter", f.emp.ID); err != nil {
			t.Fatal(err)
		}
		rows := []app.RosterRow{{Line: 2, EmployeeNumber: "S1", FullName: "Person S1 Renamed", Email: "s1@x.example", Agency: "A", Department: "D"}}
		if _, err := NewRosterService(f.db).ImportRoster(ctx, rows, app.ImportOptions{Source: "test"}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, f.db, `SELECT COUNT(*) FROM agency_supervisors`); n != 1 {
			t.Fatal("a rename ended the designation")
		}
	})
}

func validAccount() *app.SocialAccount {
	return &app.SocialAccount{Agency: "A", Platform: "Facebook", Handle: "AgencyA", URL: "https://www.facebook.com/AgencyA",
		Purpose: "News", TermsAcceptedBy: "The director", TermsAcceptedOn: "2026-01-05", ArchiveMethod: "Weekly export",
		Status: app.AccountActive, ReviewOn: "2027-01-05"}
}

func TestAccountRegistryStore(t *testing.T) {
	ctx := context.Background()
	f, es := registryFixture(t)
	s := NewAccountService(f.db)
	if _, err := NewSupervisorService(f.db).Designate(ctx, "A", "S1", "letter", f.emp.ID); err != nil {
		t.Fatal(err)
	}
	actor := es["S1"].ID
	a := validAccount()
	if err := s.CreateAccount(ctx, a, actor); err != nil {
		t.Fatal(err)
	}
	t.Run("creating writes every field as a change and an audit event", func(t *testing.T) {
		chs, err := s.AccountChanges(ctx, a.ID)
		if err != nil || len(chs) != 1 || len(chs[0].Changes) != 10 || *chs[0].ActorID != actor {
			t.Fatalf("changes: %v %+v", err, chs)
		}
		if n := count(t, f.db, `SELECT COUNT(*) FROM audit_events WHERE action = 'account.created' AND subject_id = ?`, a.ID); n != 1 {
			t.Fatal("no audit event")
		}
		got, err := s.FindAccountByID(ctx, a.ID)
		if err != nil || got.SupervisorName != "Person S1" || got.Handle != "AgencyA" {
			t.Fatalf("read back: %v %+v", err, got)
		}
	})
	t.Run("bad input is refused and changes nothing", func(t *testing.T) {
		cases := map[string]func(*app.SocialAccount){
			"url":               func(x *app.SocialAccount) { x.URL = "http://www.facebook.com/x" },
			"platform":          func(x *app.SocialAccount) { x.Platform = "" },
			"handle":            func(x *app.SocialAccount) { x.Handle = "agencya" }, // the same handle, another case
			"terms_accepted_on": func(x *app.SocialAccount) { x.TermsAcceptedOn = "2999-01-01" },
			"review_on":         func(x *app.SocialAccount) { x.ReviewOn = "2027-02-30" },
			"status-active":     func(x *app.SocialAccount) { x.Status = "archived" },
			"archive_method":    func(x *app.SocialAccount) { x.ArchiveMethod = "" },
			"agency":            func(x *app.SocialAccount) { x.Agency = "Nowhere" },
		}
		for field, change := range cases {
			before := count(t, f.db, `SELECT COUNT(*) FROM social_accounts`) + count(t, f.db, `SELECT COUNT(*) FROM social_account_changes`)
			x := validAccount()
			x.Handle = "Other"
			change(x)
			err := s.CreateAccount(ctx, x, actor)
			if app.ErrorCode(err) != app.EINVALID || !slices.Contains(fieldsOf(err), field) {
				t.Errorf("%s: %v", field, err)
			}
			if after := count(t, f.db, `SELECT COUNT(*) FROM social_accounts`) + count(t, f.db, `SELECT COUNT(*) FROM social_account_changes`); after != before {
				t.Errorf("%s: a refused account wrote rows", field)
			}
		}
	})
	t.Run("a change records what changed, from and to; no change records nothing", func(t *testing.T) {
		x, err := s.FindAccountByID(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		x.Status, x.ReviewOn, x.Agency = app.AccountDormant, "2027-06-01", "B" // the agency never changes
		if err := s.UpdateAccount(ctx, x, actor); err != nil {
			t.Fatal(err)
		}
		chs, _ := s.AccountChanges(ctx, a.ID)
		if len(chs) != 2 || len(chs[1].Changes) != 2 || chs[1].Changes[0] != [3]string{"status", "active", "dormant"} ||
			chs[1].Changes[1] != [3]string{"review_on", "2027-01-05", "2027-06-01"} {
			t.Fatalf("changes: %+v", chs[len(chs)-1])
		}
		if got, _ := s.FindAccountByID(ctx, a.ID); got.Agency != "A" {
			t.Fatal("the agency changed")
		}
		if err := s.UpdateAccount(ctx, x, actor); err != nil {
			t.Fatal(err)
		}
		if n := count(t, f.db, `SELECT COUNT(*) FROM social_account_changes WHERE account_id = ?`, a.ID); n != 2 {
			t.Fatalf("an unchanged save recorded a change (%d rows)", n)
		}
	})
	t.Run("filters by agency and status", func(t *testing.T) {
		b := validAccount()
		b.Agency, b.Handle = "B", "AgencyB"
		if err := s.CreateAccount(ctx, b, actor); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			f    app.AccountFilter
			want int
		}{
			{app.AccountFilter{All: true}, 2}, {app.AccountFilter{Agencies: []string{"A"}}, 1}, {app.AccountFilter{}, 0},
			{app.AccountFilter{All: true, Status: app.AccountDormant}, 1}, {app.AccountFilter{Agencies: []string{"B"}, Agency: "A"}, 0},
		} {
			got, err := s.FindAccounts(ctx, c.f)
			if err != nil || len(got) != c.want {
				t.Errorf("%+v: %d accounts (%v), want %d", c.f, len(got), err, c.want)
			}
		}
	})
	t.Run("account changes are evidence", func(t *testing.T) {
		for _, q := range []string{`UPDATE social_account_changes SET changes = '[]'`, `DELETE FROM social_account_changes`} {
			if _, err := f.db.write.Exec(q); err == nil || !strings.Contains(err.Error(), "evidence") {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	verifyLog(t, f.db)
}

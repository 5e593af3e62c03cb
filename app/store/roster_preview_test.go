package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"portal/app"
)

// staff is a roster row with every field set.
func staff(line int, number, name, dept, manager string) app.RosterRow {
	return app.RosterRow{Line: line, EmployeeNumber: number, FullName: name, Email: strings.ToLower(number) + "@x.example",
		Agency: "Agency A", Department: dept, Title: "Clerk", ManagerNumber: manager, HireDate: "2020-01-06",
		BargainingUnit: "Unit 1", KeepSignatureName: true}
}

// importRows applies rows as the operator's command line does and fails the test on any problem.
func importRows(t *testing.T, rs *RosterService, rows []app.RosterRow, opts app.ImportOptions) *app.ImportSummary {
	t.Helper()
	opts.Source = "test"
	sum, err := rs.ImportRoster(context.Background(), append([]app.RosterRow(nil), rows...), opts)
	if err != nil || len(sum.Problems) > 0 {
		t.Fatalf("import: %v %+v", err, sum)
	}
	return sum
}

// previewText is a preview as one line per person: kind, number, name, and
// each change as field:old>new.
func previewText(rows []*app.RosterPreviewRow) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s %s %s", r.Kind, r.EmployeeNumber, r.FullName)
		for _, c := range r.Changes {
			fmt.Fprintf(&b, " | %s:%s>%s", c.Field, c.Old, c.New)
		}
		if r.NewEmail != "" {
			fmt.Fprintf(&b, " | address %s>%s awaits approval", r.OldEmail, r.NewEmail)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestRosterPreviewListsEveryChangeByPerson(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t) // Zoë Côté, number 1, already in the roster
	rs := NewRosterService(f.db)
	zoe := app.RosterRow{Line: 2, EmployeeNumber: "1", FullName: "Zoë Côté", Email: "zoe@x.example", Agency: "A", Department: "D", KeepSignatureName: true}
	base := []app.RosterRow{zoe,
		staff(3, "M1", "Ann Lee", "Finance", ""),
		staff(4, "M2", "Bob Stone", "Payroll", ""),
		staff(5, "P1", "Carl Dunn", "Finance", "M1"),
		staff(6, "P2", "Dana Ray", "Finance", "M1"),
		staff(7, "P3", "Eve Moss", "Finance", "M1"),
		staff(8, "P4", "Finn Cole", "Finance", "M1"),
	}
	importRows(t, rs, base, app.ImportOptions{})
	// Finn leaves: a full roster without him.
	importRows(t, rs, base[:6], app.ImportOptions{DeactivateMissing: true})

	// The next full roster: Carl changes every field, Dana nothing, Eve is
	// left out, Finn comes back, Renée is new (reporting to Bob).
	carl := staff(5, "P1", "Carl Dunne", "Payroll", "M2")
	carl.Email, carl.Agency, carl.Title, carl.HireDate = "carl.dunne@x.example", "Agency B", "Senior Clerk", "2021-02-01"
	carl.Roles, carl.BargainingUnit, carl.SignatureName, carl.KeepSignatureName = []app.Role{app.RolePoster}, "", "Carl Dunne", false
	renee := staff(9, "N1", "Renée Lévesque", "Payroll", "M2")
	next := []app.RosterRow{zoe, base[1], base[2], carl, base[4], base[6], renee}
	sum, err := rs.ImportRoster(ctx, append([]app.RosterRow(nil), next...), app.ImportOptions{DeactivateMissing: true, DryRun: true})
	if err != nil || len(sum.Problems) > 0 {
		t.Fatalf("dry run: %v %+v", err, sum)
	}

	t.Run("every field kind, reactivation and deactivation by a full roster, nobody unchanged", func(t *testing.T) {
		want := "added N1 Renée Lévesque | employee_number:>N1 | full_name:>Renée Lévesque | email:>n1@x.example | agency:>Agency A" +
			" | department:>Payroll | title:>Clerk | manager_employee_number:>Bob Stone (M2) | hire_date:>2020-01-06 | bargaining_unit:>Unit 1\n" +
			"changed P1 Carl Dunne | full_name:Carl Dunn>Carl Dunne | email:p1@x.example>carl.dunne@x.example | agency:Agency A>Agency B" +
			" | department:Finance>Payroll | title:Clerk>Senior Clerk | manager_employee_number:Ann Lee (M1)>Bob Stone (M2)" +
			" | hire_date:2020-01-06>2021-02-01 | roles:>poster | bargaining_unit:Unit 1> | signature_name:>Carl Dunne\n" +
			"reactivated P4 Finn Cole\n" +
			"deactivated P3 Eve Moss\n"
		if got := previewText(sum.People); got != want {
			t.Errorf("preview:\n%s\nwant:\n%s", got, want)
		}
		if sum.Added != 1 || sum.Updated != 1 || sum.Reactivated != 1 || sum.Deactivated != 1 || sum.Unchanged != 4 {
			t.Errorf("summary %+v", sum)
		}
	})

	up := &app.RosterUpload{SHA256: "x", Filename: "next.csv", Content: []byte("x"), DeactivateMissing: true, UploadedBy: f.emp.ID, Summary: sum}
	if err := rs.SaveUpload(ctx, up); err != nil {
		t.Fatal(err)
	}
	page := func(t *testing.T, flt app.RosterPreviewFilter) (*app.RosterPreview, string) {
		t.Helper()
		flt.UploadID = up.ID
		pv, err := rs.FindPreview(ctx, flt)
		if err != nil {
			t.Fatal(err)
		}
		return pv, previewText(pv.Rows)
	}

	t.Run("kept with the upload and read back as worked out", func(t *testing.T) {
		got, err := rs.FindUpload(ctx, up.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Summary == nil || got.Summary.Added != 1 || got.Summary.Deactivated != 1 || got.Summary.Unchanged != 4 {
			t.Fatalf("saved summary %+v", got.Summary)
		}
		pv, text := page(t, app.RosterPreviewFilter{})
		if text != previewText(sum.People) || pv.Total != 4 {
			t.Errorf("saved preview (%d):\n%s", pv.Total, text)
		}
		want := map[string]int{app.RosterAdded: 1, app.RosterChanged: 1, app.RosterReactivated: 1, app.RosterDeactivated: 1}
		for k, n := range want {
			if pv.Counts[k] != n {
				t.Errorf("count of %s: %d, want %d", k, pv.Counts[k], n)
			}
		}
	})
	t.Run("filtered by kind, searched ignoring case and accents, paged", func(t *testing.T) {
		if pv, text := page(t, app.RosterPreviewFilter{Kind: app.RosterDeactivated}); pv.Total != 1 || text != "deactivated P3 Eve Moss\n" {
			t.Errorf("deactivated: %d %q", pv.Total, text)
		}
		if pv, text := page(t, app.RosterPreviewFilter{Query: "LEVESQUE"}); pv.Total != 1 || !strings.HasPrefix(text, "added N1 ") {
			t.Errorf("search by name: %d %q", pv.Total, text)
		}
		if pv, text := page(t, app.RosterPreviewFilter{Query: "p4"}); pv.Total != 1 || text != "reactivated P4 Finn Cole\n" {
			t.Errorf("search by number: %d %q", pv.Total, text)
		}
		if pv, _ := page(t, app.RosterPreviewFilter{Kind: app.RosterAdded, Query: "Moss"}); pv.Total != 0 || len(pv.Rows) != 0 || pv.Counts[app.RosterDeactivated] != 1 {
			t.Errorf("kind and search together: %+v", pv)
		}
		pv, text := page(t, app.RosterPreviewFilter{Offset: 1, Limit: 2})
		if pv.Total != 4 || !strings.HasPrefix(text, "changed P1 Carl Dunne |") || len(pv.Rows) != 2 || pv.Rows[1].Kind != app.RosterReactivated {
			t.Errorf("second page of two: %d %q", pv.Total, text)
		}
		if _, err := rs.FindPreview(ctx, app.RosterPreviewFilter{UploadID: up.ID, Kind: "deleted"}); app.ErrorCode(err) != app.EINVALID {
			t.Errorf("unknown kind: %v", err)
		}
	})
	t.Run("no change lists nobody", func(t *testing.T) {
		same := []app.RosterRow{zoe, base[1], base[2], base[3], base[4], base[5]}
		sum, err := rs.ImportRoster(ctx, same, app.ImportOptions{DeactivateMissing: true, DryRun: true})
		if err != nil || len(sum.Problems) > 0 || sum.Changed() {
			t.Fatalf("dry run: %v %+v", err, sum)
		}
		if len(sum.People) != 0 {
			t.Errorf("an unchanged roster lists:\n%s", previewText(sum.People))
		}
		up := &app.RosterUpload{SHA256: "y", Filename: "same.csv", Content: []byte("y"), UploadedBy: f.emp.ID, Summary: sum}
		if err := rs.SaveUpload(ctx, up); err != nil {
			t.Fatal(err)
		}
		pv, err := rs.FindPreview(ctx, app.RosterPreviewFilter{UploadID: up.ID})
		if err != nil || pv.Total != 0 || len(pv.Rows) != 0 || len(pv.Counts) != 0 {
			t.Errorf("saved preview of no change: %v %+v", err, pv)
		}
	})
	t.Run("a web upload's new address is listed as awaiting approval", func(t *testing.T) {
		dana := base[4]
		dana.Email = "dana.ray@x.example"
		sum, err := rs.ImportRoster(ctx, []app.RosterRow{dana}, app.ImportOptions{DryRun: true, FromWeb: true})
		if err != nil || len(sum.Problems) > 0 {
			t.Fatalf("dry run: %v %+v", err, sum)
		}
		if got, want := previewText(sum.People), "changed P2 Dana Ray | address p2@x.example>dana.ray@x.example awaits approval\n"; got != want {
			t.Errorf("preview %q, want %q", got, want)
		}
	})
	t.Run("a real import lists nothing and an old upload's rows go with it", func(t *testing.T) {
		sum := importRows(t, rs, next, app.ImportOptions{DeactivateMissing: true})
		if sum.People != nil {
			t.Error("a real import carries a preview")
		}
		f.db.Now = func() time.Time { return time.Now().Add(25 * time.Hour) }
		defer func() { f.db.Now = time.Now }()
		if err := rs.SaveUpload(ctx, &app.RosterUpload{SHA256: "z", Filename: "z.csv", Content: []byte("z"), UploadedBy: f.emp.ID}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, f.db, `SELECT COUNT(*) FROM roster_upload_changes WHERE upload_id = ?`, up.ID); n != 0 {
			t.Errorf("%d preview rows outlive their upload", n)
		}
	})
}

func TestImportQueuesInvitationsOfNewPeopleOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	rs := NewRosterService(f.db)
	zoe := app.RosterRow{Line: 2, EmployeeNumber: "1", FullName: "Zoë Côté", Email: "zoe@x.example", Agency: "A", Department: "D", KeepSignatureName: true}
	invitations := func(number string) int {
		return count(t, f.db, `SELECT COUNT(*) FROM outbox o JOIN employees e ON e.id = o.employee_id
			WHERE o.kind = 'invitation' AND e.employee_number = ? AND o.cycle_id = ?`, number, f.cycle.ID)
	}

	t.Run("a dry run queues nothing", func(t *testing.T) {
		sum, err := rs.ImportRoster(ctx, []app.RosterRow{zoe, staff(3, "N1", "Nia Long", "D", "")}, app.ImportOptions{DryRun: true})
		if err != nil || sum.Invitations != 0 || count(t, f.db, `SELECT COUNT(*) FROM outbox`) != 0 {
			t.Fatalf("dry run: %v %+v", err, sum)
		}
	})
	t.Run("new people are invited in the import itself", func(t *testing.T) {
		sum := importRows(t, rs, []app.RosterRow{zoe, staff(3, "N1", "Nia Long", "D", ""), staff(4, "N2", "Omar Diallo", "D", "N1")}, app.ImportOptions{})
		if sum.Invitations != 2 || invitations("N1") != 1 || invitations("N2") != 1 {
			t.Fatalf("invitations: %+v, N1 %d, N2 %d", sum, invitations("N1"), invitations("N2"))
		}
		if invitations("1") != 0 {
			t.Error("the import invited someone it did not add")
		}
		if n := count(t, f.db, `SELECT COUNT(*) FROM audit_events WHERE action = 'roster.imported' AND detail LIKE '%2 invitations queued%'`); n != 1 {
			t.Errorf("the import's audit event does not count its invitations (%d)", n)
		}
	})
	t.Run("the reminder pass does not invite them again", func(t *testing.T) {
		if _, err := NewReminderService(f.db).RunPass(ctx, f.db.Now(), time.UTC, app.DefaultSchedule, false); err != nil {
			t.Fatal(err)
		}
		if invitations("N1") != 1 || invitations("N2") != 1 {
			t.Errorf("after the pass: N1 %d, N2 %d", invitations("N1"), invitations("N2"))
		}
		if invitations("1") != 1 {
			t.Error("the pass did not invite the person the import left alone: the test proves nothing")
		}
	})
	t.Run("someone reactivated is invited once, and never twice", func(t *testing.T) {
		importRows(t, rs, []app.RosterRow{zoe, staff(3, "N1", "Nia Long", "D", "")}, app.ImportOptions{DeactivateMissing: true})
		importRows(t, rs, []app.RosterRow{zoe, staff(3, "N1", "Nia Long", "D", ""), staff(4, "N2", "Omar Diallo", "D", "N1")}, app.ImportOptions{})
		if invitations("N2") != 1 {
			t.Errorf("N2 invited %d times", invitations("N2"))
		}
		sum := importRows(t, rs, []app.RosterRow{zoe, staff(3, "N1", "Nia Long", "D", ""), staff(5, "N3", "Pia Berg", "D", "")}, app.ImportOptions{DeactivateMissing: true})
		if sum.Invitations != 1 || invitations("N3") != 1 {
			t.Errorf("N3: %+v, %d", sum, invitations("N3"))
		}
		importRows(t, rs, []app.RosterRow{zoe, staff(3, "N1", "Nia Long", "D", ""), staff(5, "N3", "Pia Berg", "D", ""), staff(4, "N2", "Omar Diallo", "D", "N1")}, app.ImportOptions{})
		if invitations("N2") != 1 {
			t.Errorf("N2 invited %d times after coming back", invitations("N2"))
		}
	})
	t.Run("nobody is invited while no cycle is open", func(t *testing.T) {
		if err := NewCycleService(f.db).CloseCycle(ctx, f.cycle.ID, nil); err != nil {
			t.Fatal(err)
		}
		before := count(t, f.db, `SELECT COUNT(*) FROM outbox`)
		sum := importRows(t, rs, []app.RosterRow{staff(6, "N4", "Quinn Ito", "D", "")}, app.ImportOptions{})
		if sum.Added != 1 || sum.Invitations != 0 || count(t, f.db, `SELECT COUNT(*) FROM outbox`) != before {
			t.Errorf("with no cycle open: %+v", sum)
		}
	})
	t.Run("someone reactivated in a new cycle is invited to it", func(t *testing.T) {
		importRows(t, rs, []app.RosterRow{staff(6, "N4", "Quinn Ito", "D", "")}, app.ImportOptions{DeactivateMissing: true})
		next := &app.Cycle{Name: "2027", PolicyVersionID: f.version.ID, OpensOn: "2026-01-02", DueOn: "2027-03-01", NewHireDays: 30, Open: true}
		if err := NewCycleService(f.db).CreateCycle(ctx, next); err != nil {
			t.Fatal(err)
		}
		sum := importRows(t, rs, []app.RosterRow{staff(6, "N4", "Quinn Ito", "D", ""), staff(5, "N3", "Pia Berg", "D", "")}, app.ImportOptions{})
		n := count(t, f.db, `SELECT COUNT(*) FROM outbox o JOIN employees e ON e.id = o.employee_id
			WHERE o.kind = 'invitation' AND e.employee_number = 'N3' AND o.cycle_id = ?`, next.ID)
		if sum.Reactivated != 1 || sum.Invitations != 1 || n != 1 {
			t.Errorf("reactivated: %+v, %d invitations to the new cycle", sum, n)
		}
	})
}

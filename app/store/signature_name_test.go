package store

import (
	"context"
	"testing"

	"portal/app"
)

// The signature name is a roster field like the others: an import sets it,
// a preview and an import see it change, the change is in the evidence log,
// and a file without the column leaves it as it is.
func TestSignatureNameThroughTheRoster(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	rs, es := NewRosterService(f.db), NewEmployeeService(f.db)
	row := func(sig string, keep bool) []app.RosterRow {
		return []app.RosterRow{{Line: 2, EmployeeNumber: "W1", FullName: "王小明", Email: "wx@x.example", Agency: "A",
			Department: "D", SignatureName: sig, KeepSignatureName: keep}}
	}
	find := func(t *testing.T) *app.Employee {
		t.Helper()
		e, err := es.FindEmployeeByEmail(ctx, "wx@x.example")
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	lastChange := func(t *testing.T) (string, string) {
		t.Helper()
		var old, new string
		// changes is a JSON array of [field, old, new].
		err := f.db.read.QueryRowContext(ctx, `SELECT j.value ->> '$[1]', j.value ->> '$[2]'
			FROM roster_changes c, json_each(c.changes) j
			WHERE c.employee_number = 'W1' AND j.value ->> '$[0]' = 'signature_name' ORDER BY c.id DESC LIMIT 1`).Scan(&old, &new)
		if err != nil {
			t.Fatal(err)
		}
		return old, new
	}

	if sum, err := rs.ImportRoster(ctx, row("Wang Xiaoming", false), app.ImportOptions{Source: "test"}); err != nil || sum.Added != 1 {
		t.Fatalf("import: %+v %v", sum, err)
	}
	t.Run("an import stores it and the person carries it", func(t *testing.T) {
		if e := find(t); e.FullName != "王小明" || e.SignatureName != "Wang Xiaoming" {
			t.Fatalf("employee %q %q", e.FullName, e.SignatureName)
		}
		if old, new := lastChange(t); old != "" || new != "Wang Xiaoming" {
			t.Fatalf("logged change %q → %q", old, new)
		}
	})
	t.Run("a file without the column keeps it", func(t *testing.T) {
		sum, err := rs.ImportRoster(ctx, row("", true), app.ImportOptions{Source: "test"})
		if err != nil || sum.Unchanged != 1 || sum.Changed() {
			t.Fatalf("import: %+v %v", sum, err)
		}
		if e := find(t); e.SignatureName != "Wang Xiaoming" {
			t.Fatalf("signature name %q", e.SignatureName)
		}
	})
	t.Run("a preview sees a change, and changes nothing", func(t *testing.T) {
		sum, err := rs.ImportRoster(ctx, row("Wang Xiao Ming", false), app.ImportOptions{Source: "test", DryRun: true})
		if err != nil || sum.Updated != 1 {
			t.Fatalf("preview: %+v %v", sum, err)
		}
		if e := find(t); e.SignatureName != "Wang Xiaoming" {
			t.Fatalf("the preview changed the signature name to %q", e.SignatureName)
		}
	})
	t.Run("a change is stored and logged, and a file with the column empty clears it", func(t *testing.T) {
		if sum, err := rs.ImportRoster(ctx, row("Wang Xiao Ming", false), app.ImportOptions{Source: "test", FromWeb: true}); err != nil || sum.Updated != 1 {
			t.Fatalf("import: %+v %v", sum, err)
		}
		if old, new := lastChange(t); old != "Wang Xiaoming" || new != "Wang Xiao Ming" {
			t.Fatalf("logged change %q → %q", old, new)
		}
		if sum, err := rs.ImportRoster(ctx, row("", false), app.ImportOptions{Source: "test"}); err != nil || sum.Updated != 1 {
			t.Fatalf("import: %+v %v", sum, err)
		}
		if e := find(t); e.SignatureName != "" {
			t.Fatalf("signature name %q", e.SignatureName)
		}
		verifyLog(t, f.db)
	})
}

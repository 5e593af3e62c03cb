package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"portal/app"
	"portal/app/pgtest"
)

// A portal left running while its SQLite file is copied writes evidence the
// copy does not have: the copy says so, and how to start again.
func TestCopyNoticesAPortalStillRunning(t *testing.T) {
	lite := newFixtureAt(t, filepath.Join(t.TempDir(), "source.db"))
	lite.sign(t)
	pg, err := Open(pgtest.Database(t), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	late := &app.Employee{EmployeeNumber: "2", FullName: "Late Writer", Email: "late@x.example", Agency: "A", Department: "D", Active: true}
	copySnapshotTaken = func() {
		if err := NewEmployeeService(lite.db).CreateEmployee(context.Background(), late); err != nil {
			t.Error(err)
		}
	}
	defer func() { copySnapshotTaken = func() {} }()
	res, err := lite.db.CopyInto(context.Background(), pg)
	if app.ErrorCode(err) != app.ECONFLICT || !strings.Contains(app.ErrorMessage(err), "1 more evidence log entries") ||
		!strings.Contains(app.ErrorMessage(err), "Stop every portal process") {
		t.Fatalf("a copy while the source took a write: %v", err)
	}
	var people int
	if err := pg.read.QueryRow(`SELECT COUNT(*) FROM employees`).Scan(&people); err != nil || res == nil || people != 1 {
		t.Fatalf("the copy holds %d people (%v), want the snapshot's 1", people, err)
	}
}

// A source that is PostgreSQL, or a target that is SQLite, is refused.
func TestCopyNeedsSQLiteIntoPostgres(t *testing.T) {
	a := newFixtureAt(t, filepath.Join(t.TempDir(), "a.db"))
	b := newFixtureAt(t, filepath.Join(t.TempDir(), "b.db"))
	if _, err := a.db.CopyInto(context.Background(), b.db); err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("SQLite into SQLite: %v", err)
	}
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"portal/app"
	"portal/app/evidence"
)

func person(line int, number, email, manager string) app.RosterRow {
	return app.RosterRow{Line: line, EmployeeNumber: number, FullName: "Person " + number, Email: email,
		Agency: "A", Department: "D", ManagerNumber: manager}
}

// rosterState is every person as number, address, manager and activity.
func rosterState(t *testing.T, db *DB) string {
	t.Helper()
	rows, err := db.read.Query(`SELECT e.employee_number, e.email, COALESCE(m.employee_number, ''), e.active
		FROM employees e LEFT JOIN employees m ON m.id = e.manager_id ORDER BY e.employee_number`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var sb strings.Builder
	for rows.Next() {
		var n, e, m string
		var a bool
		if err := rows.Scan(&n, &e, &m, &a); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%s %s %s %v\n", n, e, m, a)
	}
	return sb.String()
}

func count(t *testing.T, db *DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.read.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func verifyLog(t *testing.T, db *DB) {
	t.Helper()
	rep, err := db.VerifyLog(context.Background(), evidence.VerifyOptions{Key: db.key})
	if err != nil || rep.Problem != nil {
		t.Fatalf("evidence log: %v %+v", err, rep)
	}
}

// An import written in batches of one person ends as the same import in
// one transaction: addresses that move between people (a swap, a chain),
// people listed before their new manager, deactivations.
func TestImportInBatchesMatchesOneTransaction(t *testing.T) {
	ctx := context.Background()
	first := []app.RosterRow{person(2, "E1", "a@x.example", ""), person(3, "E2", "b@x.example", "E1"),
		person(4, "E3", "c@x.example", "E1"), person(5, "E4", "d@x.example", "E1"), person(6, "E5", "e@x.example", "")}
	second := []app.RosterRow{
		person(2, "R3", "r3@x.example", "R1"), // before their manager, who is new too
		person(3, "E1", "b@x.example", ""),    // E1 and E2 swap addresses
		person(4, "E2", "a@x.example", "R1"),
		person(5, "E3", "d@x.example", "E1"), // E3 takes E4's, E4 a new one
		person(6, "E4", "new@x.example", "E1"),
		person(7, "R1", "r1@x.example", "R0"),
		person(8, "R0", "r0@x.example", ""),
	}
	var states []string
	for _, size := range []int{1, 2, 0} {
		f := newFixture(t)
		rs := NewRosterService(f.db)
		rs.batchRows = size
		for _, file := range [][]app.RosterRow{first, second} {
			sum, err := rs.ImportRoster(ctx, append([]app.RosterRow(nil), file...), app.ImportOptions{Source: "test", DeactivateMissing: true})
			if err != nil || len(sum.Problems) > 0 {
				t.Fatalf("batches of %d: %v %+v", size, err, sum)
			}
		}
		if n := count(t, f.db, `SELECT COUNT(*) FROM employees WHERE email LIKE '#moving%'`); n != 0 {
			t.Fatalf("batches of %d: %d addresses left parked", size, n)
		}
		verifyLog(t, f.db)
		states = append(states, rosterState(t, f.db))
	}
	if states[0] != states[2] || states[1] != states[2] {
		t.Fatalf("batches of 1:\n%s\nbatches of 2:\n%s\none transaction:\n%s", states[0], states[1], states[2])
	}
	for _, want := range []string{"E1 b@x.example  true", "E2 a@x.example R1 true", "E3 d@x.example E1 true", "R3 r3@x.example R1 true", "E5 e@x.example  false"} {
		if !strings.Contains(states[2], want+"\n") {
			t.Errorf("missing %q in\n%s", want, states[2])
		}
	}
}

// An import stopped after two of its batches leaves those two whole, each
// person with their roster change record and its log entry; importing the
// same file again adds only the rest, and a third time changes nothing.
func TestAStoppedImportLeavesWholeBatchesAndARerunFinishes(t *testing.T) {
	f := newFixture(t)
	rs := NewRosterService(f.db)
	rs.batchRows = 7
	var rows []app.RosterRow
	for i := 0; i < 30; i++ {
		rows = append(rows, person(2+i, fmt.Sprint("P", i), fmt.Sprintf("p%d@x.example", i), ""))
	}
	ctx, cancel := context.WithCancel(context.Background())
	batches := 0
	rs.afterBatch = func() {
		if batches++; batches == 2 {
			cancel() // as a kill would, between two batches
		}
	}
	if _, err := rs.ImportRoster(ctx, append([]app.RosterRow(nil), rows...), app.ImportOptions{Source: "test"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped import: %v", err)
	}
	if n := count(t, f.db, `SELECT COUNT(*) FROM employees WHERE employee_number LIKE 'P%'`); n != 14 {
		t.Fatalf("%d people after two batches of 7", n)
	}
	if n := count(t, f.db, `SELECT COUNT(*) FROM employees e WHERE e.employee_number LIKE 'P%' AND NOT EXISTS (
		SELECT 1 FROM roster_changes c JOIN log_entries l ON l.kind = 'roster_change' AND l.ref_id = c.id WHERE c.employee_id = e.id)`); n != 0 {
		t.Fatalf("%d people written without their logged roster change", n)
	}
	if n := count(t, f.db, `SELECT COUNT(*) FROM assignments a JOIN employees e ON e.id = a.employee_id WHERE e.employee_number LIKE 'P%'`); n != 14 {
		t.Fatalf("%d of 14 people assigned to the open cycle", n)
	}
	verifyLog(t, f.db)

	rs.afterBatch = nil
	sum, err := rs.ImportRoster(context.Background(), append([]app.RosterRow(nil), rows...), app.ImportOptions{Source: "test"})
	if err != nil || sum.Added != 16 || sum.Unchanged != 14 {
		t.Fatalf("rerun: %+v %v, want 16 added and 14 unchanged", sum, err)
	}
	sum, err = rs.ImportRoster(context.Background(), append([]app.RosterRow(nil), rows...), app.ImportOptions{Source: "test"})
	if err != nil || sum.Changed() || sum.Unchanged != 30 {
		t.Fatalf("third run: %+v %v, want nothing changed", sum, err)
	}
	if n := count(t, f.db, `SELECT COUNT(*) FROM roster_changes WHERE employee_number LIKE 'P%'`); n != 30 {
		t.Fatalf("%d roster change records for 30 people", n)
	}
	verifyLog(t, f.db)
}

// Someone changed by another writer between the plan and their batch stops
// the import with a clear conflict, after whole batches; a rerun finishes.
func TestAChangeDuringAnImportStopsItCleanly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rs := NewRosterService(f.db)
	var rows []app.RosterRow
	for i := 0; i < 6; i++ {
		rows = append(rows, person(2+i, fmt.Sprint("P", i), fmt.Sprintf("p%d@x.example", i), ""))
	}
	if _, err := rs.ImportRoster(ctx, append([]app.RosterRow(nil), rows...), app.ImportOptions{Source: "test"}); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		rows[i].Title = "Renamed"
	}
	rs.batchRows = 3
	other := person(6, "P4", "p4@x.example", "")
	other.Title = "Someone else"
	rs.afterBatch = func() { // another import, of one row, between two batches
		if _, err := NewRosterService(f.db).ImportRoster(ctx, []app.RosterRow{other}, app.ImportOptions{Source: "other"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := rs.ImportRoster(ctx, append([]app.RosterRow(nil), rows...), app.ImportOptions{Source: "test"})
	if app.ErrorCode(err) != app.ECONFLICT || !strings.Contains(app.ErrorMessage(err), "import the same file again") {
		t.Fatalf("import over a change: %v", err)
	}
	if n := count(t, f.db, `SELECT COUNT(*) FROM employees WHERE title = 'Renamed'`); n != 3 {
		t.Fatalf("%d people renamed, want the first batch's 3", n)
	}
	rs.afterBatch = nil
	sum, err := rs.ImportRoster(ctx, append([]app.RosterRow(nil), rows...), app.ImportOptions{Source: "test"})
	if err != nil || sum.Updated != 3 {
		t.Fatalf("rerun: %+v %v", sum, err)
	}
	verifyLog(t, f.db)
}

package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"portal/app"
)

// TestPeopleCountsMatchTheRows checks that the counts taken from the
// completion and pending tables equal the rows the list returns, for every
// status and filter.
func TestPeopleCountsMatchTheRows(t *testing.T) {
	db, cycle := seedLarge(t, 3000, 2)
	// Some of every status: exempt people (signed or not, started or not),
	// and paper signatures.
	if _, err := db.write.Exec(`UPDATE assignments SET exempt = 1 WHERE cycle_id = ? AND employee_id % 7 = 0`, cycle); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.Exec(`UPDATE assignments SET paper = 1 WHERE cycle_id = ? AND signed_at IS NOT NULL AND employee_id % 5 = 0`, cycle); err != nil {
		t.Fatal(err)
	}
	ds := NewDashboardService(db)
	ctx := context.Background()
	seen := map[string]bool{}
	for _, today := range []string{"2026-10-15", "2026-11-21", "2027-01-31"} {
		// The figures add up, and the tables' figures equal the rows'.
		_, total, err := ds.Completion(ctx, cycle, nil, "", today)
		if err != nil {
			t.Fatal(err)
		}
		counted, err := ds.Counts(ctx, app.PeopleFilter{CycleID: cycle, Today: today})
		if err != nil {
			t.Fatal(err)
		}
		total.Agency = ""
		if total != counted {
			t.Errorf("%s: the tables say %+v, the rows %+v", today, total, counted)
		}
		sum := 0
		for _, st := range app.Statuses {
			sum += total.Of(st)
			seen[st] = seen[st] || total.Of(st) > 0
		}
		if sum != total.Total {
			t.Errorf("%s: the statuses add up to %d of %d", today, sum, total.Total)
		}
		for _, status := range append([]string{""}, app.Statuses...) {
			for _, f := range []app.PeopleFilter{
				{}, {Agency: "Agency 3"}, {Agency: "Agency 3", Department: "Department 3"},
				{Scope: []string{"Agency 1", "Agency 2"}}, {Query: "Person 12"},
			} {
				f.CycleID, f.Status, f.Today = cycle, status, today
				people, total, err := ds.People(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if total != len(people) {
					t.Errorf("%s %q %+v: count %d, rows %d", today, status, f, total, len(people))
				}
				for _, p := range people {
					if status != "" && p.Status != status {
						t.Fatalf("%q filter returned a %q person", status, p.Status)
					}
				}
			}
		}
	}
	for _, st := range app.Statuses {
		if !seen[st] {
			t.Errorf("nobody is %s on any day; the test wants some of every status", st)
		}
	}
}

// TestCompletionTablesFollowEveryChange drives assignments through every
// kind of change — signing, starting, a move of department, a new due date,
// deactivation and back — and checks after each step that the completion and
// pending tables equal a count taken from the assignments themselves.
func TestCompletionTablesFollowEveryChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	es := NewEmployeeService(f.db)
	var people []*fixture
	for i := 0; i < 12; i++ {
		e := &app.Employee{EmployeeNumber: fmt.Sprint("T", i), FullName: fmt.Sprint("Person ", i),
			Email: fmt.Sprintf("t%d@x.example", i), Agency: "A", Department: fmt.Sprint("D", i%3), Active: true}
		if err := es.CreateEmployee(ctx, e); err != nil {
			t.Fatal(err)
		}
		people = append(people, &fixture{db: f.db, emp: e, version: f.version, cycle: f.cycle, acks: f.acks})
	}
	check := func(step string) {
		t.Helper()
		checkCountTables(t, f.db, step)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := f.db.write.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	check("the roster")
	for i, p := range people[:4] {
		if err := f.acks.MarkModuleRead(ctx, p.emp.ID, f.cycle.ID, "m"); err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprint("person ", i, " started"))
	}
	for i, p := range people[2:8] { // two of them had started
		p.sign(t)
		check(fmt.Sprint("person ", i+2, " signed"))
	}
	exec(`UPDATE assignments SET department = 'D9' WHERE employee_id = ?`, people[3].emp.ID) // signed
	exec(`UPDATE assignments SET department = 'D9' WHERE employee_id = ?`, people[9].emp.ID) // not signed
	check("moves of department")
	exec(`UPDATE assignments SET due_on = '2026-04-01' WHERE employee_id IN (?, ?)`, people[1].emp.ID, people[10].emp.ID)
	check("new due dates")
	exec(`UPDATE assignments SET active = 0 WHERE employee_id IN (?, ?)`, people[4].emp.ID, people[11].emp.ID)
	check("deactivation")
	exec(`UPDATE assignments SET active = 1 WHERE employee_id IN (?, ?)`, people[4].emp.ID, people[11].emp.ID)
	check("reactivation")
	exec(`UPDATE assignments SET signed_at = NULL, ack_id = NULL WHERE employee_id = ?`, people[5].emp.ID)
	check("a signature no longer counting (a material version)")
	exec(`UPDATE assignments SET signed_at = '2026-02-01T00:00:00.000000Z', department = 'D7', started = 1 WHERE employee_id = ?`, people[0].emp.ID)
	check("signed and moved at once")
	exec(`DELETE FROM assignments WHERE employee_id = ?`, people[6].emp.ID)
	check("a deleted assignment")
	exec(`UPDATE assignments SET exempt = 1 WHERE employee_id IN (?, ?, ?)`, people[1].emp.ID, people[9].emp.ID, people[7].emp.ID)
	check("exemptions (two unsigned, one signed)")
	exec(`UPDATE assignments SET due_on = '2026-05-01' WHERE employee_id = ?`, people[1].emp.ID)
	check("an exempt person's due date moved")
	people[1].sign(t)
	check("an exempt person signed anyway")
	exec(`UPDATE assignments SET exempt = 0 WHERE employee_id = ?`, people[9].emp.ID)
	check("an exemption ended")
	exec(`UPDATE assignments SET signed_at = '2026-02-02T00:00:00.000000Z', paper = 1 WHERE employee_id = ?`, people[10].emp.ID)
	check("signed on paper")
	exec(`UPDATE assignments SET signed_at = NULL, ack_id = NULL, paper = 0 WHERE employee_id = ?`, people[10].emp.ID)
	check("a paper signature no longer counting")
	exec(`UPDATE assignments SET exempt = 1, active = 0 WHERE employee_id = ?`, people[11].emp.ID)
	check("exempt and deactivated at once")
}

// TestExportsHoldNoReadConnection runs both exports on a read pool of one
// connection and reads the database from inside each callback, as a page
// served while an export writes to a slow client would: the callback runs
// between short reads, never inside one, so the read finds the connection
// free. The rows still come once each, in agency, department and name order,
// across several batches.
func TestExportsHoldNoReadConnection(t *testing.T) {
	seeded, cycle := seedLarge(t, 1500, 1) // 900 signed: two batches of certificates, three of people
	db, err := Open(seeded.Path, Options{LogKey: testKey(t), ReadConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ds := NewDashboardService(db)
	ctx := context.Background()
	read := func() error {
		// A fail-safe only: with the connection held, the ping would wait for ever.
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return db.Ping(pctx)
	}
	f := app.PeopleFilter{CycleID: cycle, Today: "2026-11-21"}

	// The people first: their order is checked on their fields, and the
	// certificates must come in the same order as the signed among them.
	var signed []int64
	t.Run("people", func(t *testing.T) {
		seen := map[int64]bool{}
		var last [3]string
		err := ds.EachPerson(ctx, f, func(p *app.PersonStatus) error {
			if seen[p.EmployeeID] {
				t.Fatalf("employee %d twice", p.EmployeeID)
			}
			seen[p.EmployeeID] = true
			key := [3]string{p.Agency, p.Department, p.FullName}
			if slices.Compare(key[:], last[:]) < 0 {
				t.Fatalf("%v after %v", key, last)
			}
			last = key
			if p.SignedAt != nil {
				signed = append(signed, p.EmployeeID)
			}
			return read()
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 1500 || len(signed) != 900 {
			t.Fatalf("%d people, %d signed; want 1500 and 900", len(seen), len(signed))
		}
	})
	t.Run("certificates", func(t *testing.T) {
		var got []int64
		err := ds.EachCertificate(ctx, f, func(a *app.Acknowledgment) error {
			got = append(got, a.EmployeeID)
			return read()
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, signed) {
			t.Fatalf("%d certificates, not those of the %d signed people in their order", len(got), len(signed))
		}
	})
}

// checkCountTables checks that the completion and pending tables equal a
// count taken from the assignments themselves (migration 013's meaning).
func checkCountTables(t *testing.T, db *DB, step string) {
	t.Helper()
	diff := func(what, counted, kept string) {
		t.Helper()
		var n int
		q := `SELECT (SELECT COUNT(*) FROM (SELECT * FROM (` + counted + `) EXCEPT SELECT * FROM (` + kept + `))) +
			(SELECT COUNT(*) FROM (SELECT * FROM (` + kept + `) EXCEPT SELECT * FROM (` + counted + `)))`
		if err := db.read.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("after %s: %s differs from the assignments in %d rows", step, what, n)
		}
	}
	diff("completion", `SELECT cycle_id, agency, department, COUNT(*), SUM(signed_at IS NOT NULL AND paper = 0),
			SUM(signed_at IS NOT NULL AND paper <> 0), SUM(signed_at IS NULL AND exempt <> 0),
			SUM(started <> 0 AND signed_at IS NULL AND exempt = 0) FROM assignments WHERE active = 1 GROUP BY 1, 2, 3`,
		`SELECT cycle_id, agency, department, total, signed, paper, exempt, started FROM completion
			WHERE total <> 0 OR signed <> 0 OR paper <> 0 OR exempt <> 0 OR started <> 0`)
	diff("pending", `SELECT cycle_id, agency, department, due_on, COUNT(*), SUM(started <> 0) FROM assignments
			WHERE active = 1 AND signed_at IS NULL AND exempt = 0 GROUP BY 1, 2, 3, 4`,
		`SELECT cycle_id, agency, department, due_on, n, started FROM pending`)
}

package store

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"portal/app"
)

// TestNameSearchUsesTheWordIndex checks that a search by name finds the
// people whose name has a word starting with each word searched, through
// the name_words index and not a scan of the roster, and that the index
// follows every change of name or address.
func TestNameSearchUsesTheWordIndex(t *testing.T) {
	db, cycle := seedLarge(t, 3000, 1)
	ds := NewDashboardService(db)
	ctx := context.Background()
	for _, q := range []string{
		`UPDATE employees SET full_name = 'Zoë Côté-Lévesque', email = 'zoe.cote@bench.invalid' WHERE id = 7`,
		`UPDATE employees SET full_name = 'Mary O''Brien', email = 'mobrien+hr@bench.invalid' WHERE id = 8`,
	} {
		if _, err := db.write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	find := func(q string) []string {
		t.Helper()
		people, total, err := ds.People(ctx, app.PeopleFilter{CycleID: cycle, Query: q, Today: "2026-10-15"})
		if err != nil {
			t.Fatal(err)
		}
		if total != len(people) {
			t.Fatalf("%q: count %d, rows %d", q, total, len(people))
		}
		var names []string
		for _, p := range people {
			names = append(names, p.FullName)
		}
		return names
	}
	for q, want := range map[string][]string{
		"Lévesque":                {"Zoë Côté-Lévesque"}, // a word after a hyphen
		"zoë côt":                 {"Zoë Côté-Lévesque"}, // the starts of two words, any order of case
		"zoe":                     {"Zoë Côté-Lévesque"}, // the start of the address
		"ZOE.COTE@bench.invalid":  {"Zoë Côté-Lévesque"}, // the whole address, any case
		"brien":                   {"Mary O'Brien"},
		"mobrien":                 {"Mary O'Brien"},
		"E8":                      {"Mary O'Brien"}, // the employee number
		"Person 2999":             {"Person 2999"},
		"nobody":                  nil,
		"%":                       nil, // no words: only an employee number could match
		"p7@bench.invalid":        nil, // moved
		"cô":                      {"Zoë Côté-Lévesque"},
		"zoe.c":                   {"Zoë Côté-Lévesque"}, // the start of the address
		"person 299 extra words!": nil,
	} {
		if got := find(q); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("search %q found %q, want %q", q, got, want)
		}
	}
	if n := len(find("Person 29")); n != 1+10+100 { // Person 29, 290–299, 2900–2999
		t.Errorf("search \"Person 29\" found %d people, want 111", n)
	}
	for _, name := range find("Person 7") {
		if name == "Person 7" {
			t.Error("the search finds a person by the name they had before")
		}
	}
	// The plan: the words through their index, no scan of people.
	rare, err := rarestWord(context.Background(), db.read, "person 29")
	if err != nil || rare != "29" {
		t.Fatalf("the rarest word of \"person 29\": %q, %v", rare, err)
	}
	where, args := peopleWhere(app.PeopleFilter{CycleID: cycle, Query: "person 29", Today: "2026-10-15"}, rare)
	rows, err := db.read.Query(`EXPLAIN QUERY PLAN `+peopleSelect+` WHERE `+where, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	joined := strings.Join(plan, "\n")
	t.Logf("plan:\n%s", joined)
	if !strings.Contains(joined, "SEARCH w USING PRIMARY KEY (word>? AND word<?)") || strings.Contains(joined, "SCAN e") || strings.Contains(joined, "SCAN a") {
		t.Errorf("the search's plan scans people:\n%s", joined)
	}
}

// TestEvidenceChecksRunInTheBackground checks the queue of evidence checks:
// one at a time, run by the job, its result kept, a dead one not blocking
// the next, and a change to the evidence found.
func TestEvidenceChecksRunInTheBackground(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.sign(t)
	audit := NewAuditService(f.db)
	actor := f.emp.ID
	first, queued, err := audit.RequestCheck(ctx, &actor)
	if err != nil || !queued {
		t.Fatalf("first request: queued %v, %v", queued, err)
	}
	again, queued, err := audit.RequestCheck(ctx, nil)
	if err != nil || queued || again.ID != first.ID {
		t.Fatalf("a second request while one waits: queued %v, id %d (want %d), %v", queued, again.ID, first.ID, err)
	}
	done, pending, err := audit.EvidenceChecks(ctx)
	if err != nil || done != nil || pending == nil || pending.StartedAt != nil || pending.RequesterName != f.emp.FullName {
		t.Fatalf("before the job: done %+v pending %+v %v", done, pending, err)
	}
	if n, err := audit.RunQueuedChecks(ctx); n != 1 || err != nil {
		t.Fatalf("the job ran %d checks: %v", n, err)
	}
	done, pending, err = audit.EvidenceChecks(ctx)
	if err != nil || pending != nil || done == nil || done.FinishedAt == nil || done.Problem != "" || done.Failed != "" || done.Entries != 7 {
		t.Fatalf("after the job: done %+v pending %+v %v", done, pending, err)
	}
	if n, err := audit.RunQueuedChecks(ctx); n != 0 || err != nil {
		t.Fatalf("an idle job ran %d checks: %v", n, err)
	}

	// A check whose process died an hour ago no longer counts as running.
	if _, err := f.db.write.Exec(`INSERT INTO evidence_checks (requested_at, started_at) VALUES (?, ?)`,
		formatTime(f.db.Now().Add(-2*time.Hour)), formatTime(f.db.Now().Add(-2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, queued, err := audit.RequestCheck(ctx, nil); err != nil || !queued {
		t.Fatalf("a request after a dead check: queued %v, %v", queued, err)
	}

	// A changed record is found, named, and kept as the newest result.
	if _, err := f.db.write.Exec(`UPDATE employees SET email = 'attacker@x.example'`); err != nil {
		t.Fatal(err)
	}
	if n, err := audit.RunQueuedChecks(ctx); n != 1 || err != nil {
		t.Fatalf("the job ran %d checks: %v", n, err)
	}
	done, _, err = audit.EvidenceChecks(ctx)
	if err != nil || done == nil || !strings.Contains(done.Problem, "changed outside the portal") || done.RequestedBy != nil {
		t.Fatalf("after a change: %+v %v", done, err)
	}

	// A check that cannot finish says so; it is not a finding.
	if _, _, err := audit.RequestCheck(ctx, &actor); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.write.Exec(`ALTER TABLE log_entries RENAME TO log_entries_away`); err != nil {
		t.Fatal(err)
	}
	_, runErr := audit.RunQueuedChecks(ctx)
	if _, err := f.db.write.Exec(`ALTER TABLE log_entries_away RENAME TO log_entries`); err != nil {
		t.Fatal(err)
	}
	if runErr == nil {
		t.Fatal("a check that could not read the log ran to the end")
	}
	if done, pending, err = audit.EvidenceChecks(ctx); err != nil || pending != nil || done == nil || done.Failed == "" || done.Problem != "" {
		t.Fatalf("after a check that stopped: done %+v pending %+v %v", done, pending, err)
	}
}

// TestListsWithoutPagesAreCapped checks that a person's events come capped,
// newest first, with their number.
func TestListsWithoutPagesAreCapped(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	audit := NewAuditService(f.db)
	for i := range 250 {
		if err := audit.RecordEvent(ctx, &app.AuditEvent{Action: "test.event", SubjectType: "employee", SubjectID: f.emp.ID,
			Detail: strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	events, total, err := audit.FindEvents(ctx, "employee", f.emp.ID, 200)
	if err != nil || total != 250 || len(events) != 200 || events[0].Detail != "249" || events[199].Detail != "50" {
		t.Fatalf("events: %d of %d (first %q), %v", len(events), total, events[0].Detail, err)
	}
	changes, total, err := NewIdentityService(f.db).History(ctx, f.emp.ID, 200)
	if err != nil || total != 1 || len(changes) != 1 {
		t.Fatalf("history: %d of %d, %v", len(changes), total, err)
	}
	pending, total, err := NewIdentityService(f.db).PendingAddressChanges(ctx, 200)
	if err != nil || total != 0 || len(pending) != 0 {
		t.Fatalf("pending address changes: %d of %d, %v", len(pending), total, err)
	}
}

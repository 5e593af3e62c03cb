package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"portal/app"
)

// seedAuditEvents adds n audit events to a seedLarge database in one
// transaction (raw SQL, as the benchmark seeds): people signing in, HR
// exporting reports about the cycle, a roster import now and then. Times
// go back a minute per event from base, and ids run against time for a
// tenth of them, as when an import is dated by its file.
func seedAuditEvents(t testing.TB, db *DB, n int, base time.Time, employees int) {
	t.Helper()
	tx, err := db.write.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	stmt, err := tx.Prepare(`INSERT INTO audit_events (at, actor_id, action, subject_type, subject_id, detail, ip) VALUES (?, ?, ?, ?, ?, ?, '')`)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	for i := 0; i < n; i++ {
		at := base.Add(-time.Duration(n-i) * time.Minute)
		if i%10 == 9 {
			at = at.Add(-time.Hour) // written after later events
		}
		person := int64(1 + i%employees)
		var err error
		switch {
		case i%100 == 0:
			_, err = stmt.Exec(formatTime(at), nil, "roster.imported", "roster", 0, "file")
		case i%7 == 0:
			_, err = stmt.Exec(formatTime(at), 2, "report.exported", "cycle", 1, "csv")
		default:
			_, err = stmt.Exec(formatTime(at), person, "session.signed_in", "employee", person, "email-link")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.Exec(`ANALYZE`); err != nil {
		t.Fatal(err)
	}
}

// TestAuditLogOrderFiltersAndScope checks the audit log's list against
// the events as seeded: newest first by time whatever order they were
// written in, each filter, the HR scope, the export's batches, and a
// filter naming too many people.
func TestAuditLogOrderFiltersAndScope(t *testing.T) {
	db, _ := seedLarge(t, 300, 1)
	base := time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC)
	seedAuditEvents(t, db, 2000, base, 300)
	s := NewAuditService(db)
	ctx := context.Background()
	all := func(f app.AuditFilter) []*app.AuditEvent {
		t.Helper()
		var out []*app.AuditEvent
		if err := s.EachAuditEvent(ctx, f, func(e *app.AuditEvent) error { out = append(out, e); return nil }); err != nil {
			t.Fatal(err)
		}
		_, total, err := s.FindAuditEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if total != len(out) {
			t.Fatalf("%+v: count %d, export %d", f, total, len(out))
		}
		return out
	}
	inOrder := func(t *testing.T, events []*app.AuditEvent) {
		t.Helper()
		for i := 1; i < len(events); i++ {
			a, b := events[i-1], events[i]
			if a.At.Before(b.At) || (a.At.Equal(b.At) && a.ID < b.ID) {
				t.Fatalf("event %d (%s) before event %d (%s)", a.ID, a.At, b.ID, b.At)
			}
		}
	}

	t.Run("newest first by time, in pages that join up", func(t *testing.T) {
		events := all(app.AuditFilter{})
		if len(events) < 2000 {
			t.Fatalf("%d events", len(events))
		}
		inOrder(t, events)
		// The export reads in batches of auditBatch: the list crosses several.
		if len(events) < 3*auditBatch {
			t.Fatalf("only %d events: the batches are not exercised", len(events))
		}
		page2, _, err := s.FindAuditEvents(ctx, app.AuditFilter{Offset: 50, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range page2 {
			if e.ID != events[50+i].ID {
				t.Fatalf("page 2 row %d is event %d, want %d", i, e.ID, events[50+i].ID)
			}
		}
	})
	t.Run("by kind of event", func(t *testing.T) {
		events := all(app.AuditFilter{Action: "roster.imported"})
		if len(events) != 20 {
			t.Errorf("%d roster imports, want 20", len(events))
		}
		for _, e := range events {
			if e.Action != "roster.imported" {
				t.Errorf("event %d is %s", e.ID, e.Action)
			}
		}
		inOrder(t, events)
	})
	t.Run("by who did it and whom it is about, by number or name", func(t *testing.T) {
		byNumber := all(app.AuditFilter{Actor: "E2"})
		for _, e := range byNumber {
			if e.ActorID == nil || *e.ActorID != 2 {
				t.Fatalf("event %d by %v", e.ID, e.ActorID)
			}
		}
		if len(byNumber) < 250 { // every seventh event, and person 2's own sign-ins
			t.Errorf("%d events by E2", len(byNumber))
		}
		about := all(app.AuditFilter{Person: "Person 42"})
		if len(about) == 0 {
			t.Fatal("nothing about Person 42")
		}
		for _, e := range about {
			if e.SubjectType != "employee" || e.SubjectID != 42 || e.SubjectName != "Person 42" || e.SubjectNumber != "E42" {
				t.Errorf("event %d is about %s %d (%s)", e.ID, e.SubjectType, e.SubjectID, e.SubjectName)
			}
		}
		if got := all(app.AuditFilter{Person: "p42@bench.invalid"}); len(got) != len(about) {
			t.Errorf("by e-mail address: %d events, by name %d", len(got), len(about))
		}
		if got := all(app.AuditFilter{Person: "nobody of that name"}); len(got) != 0 {
			t.Errorf("a person nobody is: %d events", len(got))
		}
		_, _, err := s.FindAuditEvents(ctx, app.AuditFilter{Person: "Person"})
		if app.ErrorCode(err) != app.EINVALID || !strings.Contains(app.ErrorMessage(err), "More than 100 people match") {
			t.Errorf("a name matching 300 people: %v", err)
		}
	})
	t.Run("between two times", func(t *testing.T) {
		since, before := base.Add(-10*time.Hour), base.Add(-5*time.Hour)
		events := all(app.AuditFilter{Since: since, Before: before})
		if len(events) == 0 {
			t.Fatal("no events in the window")
		}
		for _, e := range events {
			if e.At.Before(since) || !e.At.Before(before) {
				t.Errorf("event %d at %s is outside [%s, %s)", e.ID, e.At, since, before)
			}
		}
		var want int
		if err := db.read.QueryRow(`SELECT COUNT(*) FROM audit_events WHERE at >= ? AND at < ?`, formatTime(since), formatTime(before)).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if len(events) != want {
			t.Errorf("%d events in the window, want %d", len(events), want)
		}
	})
	t.Run("an HR user limited to an agency sees its people's, accounts' and Terms of Comment's events and their own", func(t *testing.T) {
		const viewer = 5 // Agency 5
		// An account and a Terms of Comment version of Agency 7 (ids 7) and
		// of Agency 3 (ids 3), each with an event by the portal.
		for _, id := range []int{3, 7} {
			agency := fmt.Sprintf("Agency %d", id)
			for _, q := range []string{
				`INSERT INTO social_accounts (id, agency, platform, handle, url, purpose, terms_accepted_by, terms_accepted_on, archive_method,
					status, review_on, created_at, updated_at) VALUES (?1, ?2, 'Facebook', 'H' || ?1, 'https://x.example', 'News', 'X',
					'2026-01-01', 'export', 'active', '2027-01-01', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
				`INSERT INTO terms_of_comment (id, agency, version, body, sha256, published_at) VALUES (?1, ?2, 1, 'Be kind.', 'ab', '2026-01-01T00:00:00Z')`,
				`INSERT INTO audit_events (at, action, subject_type, subject_id, detail, ip) VALUES ('2026-10-15T12:00:00Z', 'account.added', 'social_account', ?1, '', '')`,
				`INSERT INTO audit_events (at, action, subject_type, subject_id, detail, ip) VALUES ('2026-10-15T12:00:00Z', 'terms.published', 'terms', ?1, '', '')`,
			} {
				if _, err := db.execWrite(ctx, q, id, agency); err != nil {
					t.Fatal(err)
				}
			}
		}
		events := all(app.AuditFilter{Scope: []string{"Agency 7"}, ViewerID: viewer})
		var own, theirs, registry int
		for _, e := range events {
			switch {
			case e.ActorID != nil && *e.ActorID == viewer:
				own++
			case e.SubjectType == "employee" && e.SubjectID%20 == 7:
				theirs++
			case (e.SubjectType == "social_account" || e.SubjectType == "terms") && e.SubjectID == 7:
				registry++
			default:
				t.Errorf("event %d (%s about %s %d) is outside the scope", e.ID, e.Action, e.SubjectType, e.SubjectID)
			}
		}
		if own == 0 || theirs == 0 || registry != 2 {
			t.Errorf("own %d, agency's people %d, its account and terms %d: want some, some and 2", own, theirs, registry)
		}
		inOrder(t, events)
	})
}

// TestAuditLogCountStopsAtTheLimit: past app.AuditCountLimit events the
// count says "more" instead of reading every index entry; below it, it is
// exact.
func TestAuditLogCountStopsAtTheLimit(t *testing.T) {
	db, _ := seedLarge(t, 50, 1)
	seedAuditEvents(t, db, app.AuditCountLimit+100, time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC), 50)
	s := NewAuditService(db)
	ctx := context.Background()
	events, total, err := s.FindAuditEvents(ctx, app.AuditFilter{Limit: 50, Offset: app.AuditCountLimit - 50})
	if err != nil {
		t.Fatal(err)
	}
	if total != app.AuditCountLimit+1 || len(events) != 50 {
		t.Errorf("all events: total %d, last page %d rows", total, len(events))
	}
	if _, total, err = s.FindAuditEvents(ctx, app.AuditFilter{Action: "roster.imported"}); err != nil || total != 101 {
		t.Errorf("roster imports: %d (%v), want 101", total, err)
	}
}

// TestAuditLogUsesIndexes checks the plan of the list for each filter: an
// index gives the rows in order (no sort of every match), never a scan of
// the whole table. Plans are checked rather than timed (the benchmark
// times them).
func TestAuditLogUsesIndexes(t *testing.T) {
	db, _ := seedLarge(t, 300, 1)
	seedAuditEvents(t, db, 3000, time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC), 300)
	s := NewAuditService(db)
	ctx := context.Background()
	day := time.Date(2026, 10, 14, 0, 0, 0, 0, time.UTC)
	for name, f := range map[string]app.AuditFilter{
		"no filter":    {},
		"kind":         {Action: "report.exported"},
		"actor":        {Actor: "E2"},
		"person":       {Person: "E42"},
		"dates":        {Since: day, Before: day.AddDate(0, 0, 1)},
		"kind + dates": {Action: "session.signed_in", Since: day, Before: day.AddDate(0, 0, 1)},
		"scope":        {Scope: []string{"Agency 7"}, ViewerID: 5},
	} {
		t.Run(name, func(t *testing.T) {
			where, args, err := s.auditWhere(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			plan := queryPlan(t, db, auditEventSelect+auditPage(where), append(args, 50, 0)...)
			t.Logf("plan:\n%s", plan)
			if !strings.Contains(plan, "audit_events_") || strings.Contains(plan, "SCAN v\n") || strings.HasSuffix(plan, "SCAN v") {
				t.Errorf("plan:\n%s", plan)
			}
			// The agencies of an HR user gather events through two indexes
			// (about their people, by them) and sort the union of ids; every
			// other filter reads its index in order.
			if name != "scope" && strings.Count(plan, "TEMP B-TREE FOR ORDER BY") > 1 {
				t.Errorf("the page sorts every match:\n%s", plan)
			}
			count := queryPlan(t, db, `SELECT COUNT(*) FROM audit_events v WHERE `+where, args...)
			if name != "no filter" && !strings.Contains(count, "USING") {
				t.Errorf("the count scans the table:\n%s", count)
			}
		})
	}
}

func queryPlan(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.read.Query(`EXPLAIN QUERY PLAN `+query, args...)
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
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(strings.Join(plan, "\n"))
}

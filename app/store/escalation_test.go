package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"portal/app"
)

// People imported into a cycle that is already overdue get their
// invitation first; their manager hears about them only once that
// invitation was queued on an earlier day of the local calendar (as
// reminders wait), not in the same pass or the same evening.
func TestEscalationsWaitADayAfterTheInvitation(t *testing.T) {
	f := newFixture(t) // the cycle was due on 2026-03-01
	ctx := context.Background()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	// Late in the evening, local time: in UTC it is already the next day,
	// which must not count as a day gone by.
	now := time.Date(2026, 4, 1, 23, 30, 0, 0, ny)
	f.db.Now, f.db.Location = func() time.Time { return now }, ny
	rows := []app.RosterRow{{Line: 2, EmployeeNumber: "M1", FullName: "Manager", Email: "m1@x.example", Agency: "A", Department: "D"}}
	const people = 50
	for i := 0; i < people; i++ {
		rows = append(rows, app.RosterRow{Line: 3 + i, EmployeeNumber: fmt.Sprint("P", i), FullName: fmt.Sprint("Person ", i),
			Email: fmt.Sprintf("p%d@x.example", i), Agency: "A", Department: "D", ManagerNumber: "M1"})
	}
	// The import queues the invitations of the people it adds itself.
	imp, err := NewRosterService(f.db).ImportRoster(ctx, rows, app.ImportOptions{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Invitations != people+1 {
		t.Fatalf("the import queued %d invitations, want %d", imp.Invitations, people+1)
	}
	rs := NewReminderService(f.db)
	sum, err := rs.RunPass(ctx, now, ny, app.DefaultSchedule, false)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Invitations != 1 || sum.Escalations != 0 {
		t.Fatalf("the pass after the import: %+v, want the fixture's one invitation and no escalation", sum)
	}
	now = now.Add(20 * time.Minute) // still the same day in New York
	if sum, err = rs.RunPass(ctx, now, ny, app.DefaultSchedule, false); err != nil || sum.Escalations != 0 {
		t.Fatalf("later the same evening: %+v %v, want no escalation", sum, err)
	}
	now = time.Date(2026, 4, 2, 9, 0, 0, 0, ny)
	if sum, err = rs.RunPass(ctx, now, ny, app.DefaultSchedule, false); err != nil || sum.Escalations != people {
		t.Fatalf("the day after the invitations: %+v %v, want %d escalations", sum, err, people)
	}
}

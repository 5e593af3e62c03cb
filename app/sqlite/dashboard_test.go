package sqlite

import (
	"context"
	"testing"

	"portal/app"
)

// TestPeopleCountsMatchTheRows checks that the counts taken from the
// completion and pending tables equal the rows the list returns, for every
// status and filter.
func TestPeopleCountsMatchTheRows(t *testing.T) {
	db, cycle := seedLarge(t, 3000, 2)
	ds := NewDashboardService(db)
	ctx := context.Background()
	for _, today := range []string{"2026-10-15", "2026-11-21", "2027-01-31"} {
		for _, status := range []string{"", app.StatusSigned, app.StatusOverdue, app.StatusInProgress, app.StatusNotStarted} {
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
}

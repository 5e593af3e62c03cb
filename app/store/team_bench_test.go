package store

import (
	"context"
	"testing"
	"time"

	"portal/app"
)

// BenchmarkTeamPage measures the team page's queries for the manager of
// about 16,000 people (employee 2 of the 100,000 of seedLarge, whose tree is
// 8 wide) against the bare walk of the tree that every one of them needs,
// in the same run: each sort's first page, the counts, the progress of a
// page and the count of overdue people a reminder would reach.
func BenchmarkTeamPage(b *testing.B) {
	db, cycle := seedLarge(b, 100_000, 1)
	ds, team := NewDashboardService(db), NewTeamService(db)
	ctx := context.Background()
	today := "2026-11-21"
	manager := int64(2)
	var size int
	if err := db.read.QueryRow(treeCTE+`SELECT COUNT(*) FROM tree`, manager).Scan(&size); err != nil || size < 13_000 {
		b.Fatalf("the tree holds %d people (%v), want at least 13,000", size, err)
	}
	now := time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC)
	r := app.TeamReminder{ManagerID: manager, CycleID: cycle, Now: now, DayStart: app.DayStart(now, time.UTC), Today: today}
	run := func(name string, fn func() error) {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := fn(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
		})
	}
	run("bare-tree-walk", func() error {
		var n int
		return db.read.QueryRow(treeCTE+`SELECT COUNT(*) FROM tree`, manager).Scan(&n)
	})
	var first []*app.PersonStatus
	for _, sort := range app.SortKeys {
		run("first-page-sort="+sort, func() error {
			var err error
			first, _, err = ds.People(ctx, app.PeopleFilter{CycleID: cycle, ManagerID: &manager, Today: today, Sort: sort, Limit: 50})
			return err
		})
	}
	run("counts", func() error {
		_, err := ds.Counts(ctx, app.PeopleFilter{CycleID: cycle, ManagerID: &manager, Today: today})
		return err
	})
	ids := make([]int64, len(first))
	for i, p := range first {
		ids[i] = p.EmployeeID
	}
	run("progress-of-a-page", func() error {
		_, err := team.Progress(ctx, cycle, 1, ids)
		return err
	})
	run("overdue-to-remind", func() error {
		_, err := team.OverdueToRemind(ctx, r)
		return err
	})
	run("departments", func() error {
		_, err := team.Departments(ctx, cycle, manager)
		return err
	})
	run("reminder-quota", func() error {
		_, err := team.Quota(ctx, r)
		return err
	})
	b.Logf("tree of %d people", size)
}

package store

import (
	"context"
	"os"
	"testing"
	"time"

	"portal/app"
)

// BenchmarkAuditLog measures the first page of the audit log (with its
// count, which stops at app.AuditCountLimit) at 1,000,000 events (10,000 people; 100,000 events with
// PORTAL_BENCH_SMALL=1), unfiltered and by each filter, against the bare
// limit in the same run: the newest 50 rows by rowid with no join and no
// count.
func BenchmarkAuditLog(b *testing.B) {
	events, size := 1_000_000, "1M-events"
	if os.Getenv("PORTAL_BENCH_SMALL") == "1" {
		events, size = 100_000, "100k-events"
	}
	db, _ := seedLarge(b, 10_000, 1)
	base := time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC)
	start := time.Now()
	seedAuditEvents(b, db, events, base, 10_000)
	b.Logf("seeded %d audit events in %s", events, time.Since(start).Round(time.Millisecond))
	s := NewAuditService(db)
	ctx := context.Background()
	day := base.AddDate(0, 0, -3).Truncate(24 * time.Hour)
	run := func(name string, fn func() error) {
		b.Run(size+"/"+name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := fn(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
		})
	}
	run("bare-newest-50", func() error {
		rows, err := db.read.Query(`SELECT id, at, action FROM audit_events ORDER BY id DESC LIMIT 50`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
		}
		return rows.Err()
	})
	page := func(f app.AuditFilter) func() error {
		return func() error {
			f.Limit = 50
			_, _, err := s.FindAuditEvents(ctx, f)
			return err
		}
	}
	run("newest-first", page(app.AuditFilter{}))
	run("newest-first-page-100", page(app.AuditFilter{Offset: 99 * 50}))
	run("by-event", page(app.AuditFilter{Action: "roster.imported"}))
	run("by-actor", page(app.AuditFilter{Actor: "E2"}))
	run("by-person", page(app.AuditFilter{Person: "Person 4242"}))
	run("by-day", page(app.AuditFilter{Since: day, Before: day.AddDate(0, 0, 1)}))
	run("hr-limited-to-one-agency", page(app.AuditFilter{Scope: []string{"Agency 7"}, ViewerID: 5}))
}

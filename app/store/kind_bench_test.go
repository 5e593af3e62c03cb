package store

import (
	"context"
	"testing"
	"time"
)

// BenchmarkAuthorizationSync measures the work the reminder pass adds for
// the agency-use acknowledgment: SyncAllAuthorizationKinds at 100,000
// employees of 20 agencies, 2,000 of them authorized on 200 accounts. The
// first sync opens the year's cycle and assigns the 2,000; a repeat, as
// every hourly pass does, changes nothing. Compared in the same run with a
// bare scan of the authorizations it reads (the floor).
func BenchmarkAuthorizationSync(b *testing.B) {
	ctx := context.Background()
	var first, repeat, floor time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, _ := seedLarge(b, 100_000, 1)
		tx, err := db.beginWrite(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, q := range []string{
			`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199)
			INSERT INTO social_accounts (id, agency, platform, handle, url, purpose, terms_accepted_by, terms_accepted_on, archive_method,
				status, review_on, created_at, updated_at)
			SELECT i + 1, 'Agency ' || (i % 20), 'Facebook', 'Handle' || i, 'https://x.example/' || i, 'News', 'X', '2026-01-01',
				'export', 'active', '2027-06-01', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM n`,
			// Employees 20, 40, …, 40,000: each in agency (id % 20) = 0… the
			// account's agency is the person's.
			`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
			INSERT INTO poster_authorizations (employee_id, account_id, agency, scope, starts_on, granted_at)
			SELECT e.id, 1 + ((e.id % 20) + 20 * (i % 10)), e.agency, 'post', '2026-06-01', '2026-06-01T00:00:00Z'
			FROM n JOIN employees e ON e.id = i * 20`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		db.Now = func() time.Time { return time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC) }
		ks := NewKindService(db)
		start := time.Now()
		var n int
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(DISTINCT p.employee_id) FROM poster_authorizations p
			WHERE p.starts_on <= '2026-11-21' AND NOT EXISTS (SELECT 1 FROM authorization_ends z WHERE z.authorization_id = p.id)`).Scan(&n); err != nil || n != 2000 {
			b.Fatalf("%d authorized, %v", n, err)
		}
		floor += time.Since(start)
		b.StartTimer()
		start = time.Now()
		if err := ks.SyncAllAuthorizationKinds(ctx); err != nil {
			b.Fatal(err)
		}
		first += time.Since(start)
		start = time.Now()
		if err := ks.SyncAllAuthorizationKinds(ctx); err != nil {
			b.Fatal(err)
		}
		repeat += time.Since(start)
		b.StopTimer()
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM assignments a JOIN cycles c ON c.id = a.cycle_id
			WHERE c.kind = 'agency-use' AND a.active = 1`).Scan(&n); err != nil || n != 2000 {
			b.Fatalf("%d assigned, %v", n, err)
		}
		b.StartTimer()
	}
	per := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N) }
	b.ReportMetric(per(first), "ms/first_sync")
	b.ReportMetric(per(repeat), "ms/repeat_sync")
	b.ReportMetric(per(floor), "ms/bare_scan")
	b.ReportMetric(float64(repeat)/float64(floor), "repeat/bare")
}

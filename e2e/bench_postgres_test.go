package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"portal/app/pgtest"
)

// BenchmarkSignPostgres has 32 clients sign end to end (HTTP over
// loopback, the portal process, PostgreSQL) on one portal node and on two
// nodes sharing the database, on a throwaway PostgreSQL that keeps its
// durable defaults (fsync, synchronous commit), against two raw limits
// measured in the same run on the same server:
//
//   - bare-postgres-commit: one connection committing a one-row INSERT at
//     a time, the latency of one durable commit;
//   - bare-postgres-commit-32-connections: 32 connections doing so at
//     once, which PostgreSQL's own group commit serves with shared flushes:
//     the server's commit ceiling on this machine.
//
// The portal's signatures take turns on one write lock (every write of
// evidence extends the one log), and each node's group committer puts the
// signatures arriving together in one transaction and one commit.
func BenchmarkSignPostgres(b *testing.B) {
	srv, err := pgtest.Start(pgtest.Options{Durable: true})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	ctx := context.Background()
	var bare float64
	b.Run("bare-postgres-commit", func(b *testing.B) {
		bare = benchBarePostgres(b, srv, 1)
	})
	var ceiling float64
	b.Run("bare-postgres-commit-32-connections", func(b *testing.B) {
		ceiling = benchBarePostgres(b, srv, 32)
	})
	bin := portalBinary(b)
	for _, nodes := range []int{1, 2} {
		b.Run(fmt.Sprintf("sign-post-32-clients-%d-nodes", nodes), func(b *testing.B) {
			name, url, err := srv.CreateDatabase(ctx)
			if err != nil {
				b.Fatal(err)
			}
			d := testDatabase{dsn: url, keyDir: b.TempDir()}
			// Making the signers ready is not what is measured: their
			// writes need not wait for the disk.
			admin := mustSQL(b, srv.URL("postgres"))
			defer admin.Close()
			if _, err := admin.Exec(`ALTER DATABASE ` + name + ` SET synchronous_commit = off`); err != nil {
				b.Fatal(err)
			}
			ids := prepareSigners(b, d, b.N)
			if _, err := admin.Exec(`ALTER DATABASE ` + name + ` RESET synchronous_commit`); err != nil {
				b.Fatal(err)
			}
			procs := make([]*portalProcess, nodes)
			for n := range procs {
				procs[n] = startPortalProcess(b, bin, d, "NORMAL")
			}
			clients := make([]*client, b.N)
			for i := range clients {
				p := procs[i%nodes]
				clients[i] = newClient(b, p.base)
				clients[i].signIn(p.link(b, ids[i]))
				clients[i].get("/sign")
			}
			busy := sampleWriteLock(admin, name)
			rate := signStorm(b, clients, func(i int) string { return signerName(ids[i]) })
			if held := busy(); held > 0 {
				// The share of the storm during which some node held the write
				// lock: the lock's own ceiling is the rate it would reach held
				// all the time.
				b.ReportMetric(100*held, "lock_held_%")
				b.ReportMetric(rate/held, "lock_ceiling_signs/s")
			}
			if bare > 0 {
				b.ReportMetric(rate/bare, "ratio_vs_bare")
			}
			if ceiling > 0 {
				b.ReportMetric(rate/ceiling, "ratio_vs_ceiling")
			}
		})
	}
}

// benchBarePostgres commits b.N one-row INSERTs from conns connections at
// once and returns the commits a second.
func benchBarePostgres(b *testing.B, srv *pgtest.Server, conns int) float64 {
	_, url, err := srv.CreateDatabase(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	db := mustSQL(b, url)
	defer db.Close()
	db.SetMaxOpenConns(conns)
	if _, err := db.Exec(`CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT NOT NULL, at TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	work := make(chan struct{})
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				tx, err := db.Begin()
				if err == nil {
					_, err = tx.Exec(`INSERT INTO t (name, at) VALUES ($1, $2)`, "Zoë Côté", time.Now().UTC().Format(time.RFC3339Nano))
					if err == nil {
						err = tx.Commit()
					}
				}
				if err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	b.StopTimer()
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "commits/s")
	return rate
}

func mustSQL(b testing.TB, url string) *sql.DB {
	db, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// sampleWriteLock looks every 2 ms, until the returned function is called,
// whether a transaction of database holds the portal's write lock (the one
// advisory lock every write takes), and that function returns the share of
// looks that found it held.
func sampleWriteLock(admin *sql.DB, database string) func() float64 {
	stop := make(chan struct{})
	done := make(chan float64)
	go func() {
		var looks, held int
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				if looks == 0 {
					done <- 0
				} else {
					done <- float64(held) / float64(looks)
				}
				return
			case <-tick.C:
			}
			var n int
			if err := admin.QueryRow(`SELECT COUNT(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
				WHERE l.locktype = 'advisory' AND l.granted AND d.datname = $1`, database).Scan(&n); err != nil {
				continue
			}
			looks++
			if n > 0 {
				held++
			}
		}
	}()
	return func() float64 { close(stop); return <-done }
}

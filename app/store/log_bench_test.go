package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
	"portal/app/evidence"
)

// seedLog fills a database with n evidence records (audit events, each with
// its log entry, seal and tree hashes) in one transaction, through the same
// appender the portal uses.
func seedLog(b *testing.B, n int) (*DB, *evidence.Log) {
	b.Helper()
	start := time.Now()
	db, err := Open(filepath.Join(b.TempDir(), "log.db"), testOptions(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	tx, err := db.beginWrite(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	a, err := db.newAppender(ctx, tx)
	if err != nil {
		b.Fatal(err)
	}
	ins, err := tx.Prepare(`INSERT INTO audit_events (at, actor_id, action, subject_type, subject_id, detail, ip) VALUES (?, NULL, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		e := &app.AuditEvent{At: at.Add(time.Duration(i) * time.Second), Action: "bench.event", SubjectType: "employee",
			SubjectID: int64(i % 100000), Detail: fmt.Sprintf("event %d of the million", i), IP: "192.0.2.1"}
		res, err := ins.Exec(formatTime(e.At), e.Action, e.SubjectType, e.SubjectID, e.Detail, e.IP)
		if err != nil {
			b.Fatal(err)
		}
		if e.ID, err = res.LastInsertId(); err != nil {
			b.Fatal(err)
		}
		if _, err := a.add(evidence.AuditEventLeaf(e)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	l := &evidence.Log{Store: NewLogStore(db), Key: db.key}
	if _, err := l.Publish(ctx, false); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d records logged in %s", n, time.Since(start).Round(time.Millisecond))
	return db, l
}

// BenchmarkLog measures the evidence log at a million records (PORTAL_BENCH_1M=0:
// 100,000) beside the raw limits in the same run: an inclusion and a
// consistency proof against reading the same number of stored hashes by
// key, signing a checkpoint against a bare Ed25519 signature, and
// audit-verify against reading every record and its entry and hashing each
// once with SHA-256.
func BenchmarkLog(b *testing.B) {
	n := 1_000_000
	if os.Getenv("PORTAL_BENCH_1M") == "0" {
		n = 100_000
	}
	db, l := seedLog(b, n)
	ctx := context.Background()
	size := int64(n)
	label := fmt.Sprintf("%dk-records", n/1000)
	rnd := mrand.New(mrand.NewPCG(1, 2))
	var bareRead float64
	b.Run(label+"/bare-read-hashes", func(b *testing.B) {
		// What a proof must read: about 2·log2(n) stored hashes by key.
		k := 2 * 20
		for i := 0; i < b.N; i++ {
			idx := make([]int64, k)
			for j := range idx {
				idx[j] = rnd.Int64N(tlog.StoredHashCount(size))
			}
			if _, err := readHashes(ctx, db.read, idx); err != nil {
				b.Fatal(err)
			}
		}
		bareRead = b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(bareRead*1000, "ms/read")
	})
	b.Run(label+"/inclusion-proof", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := l.ProveInclusion(ctx, rnd.Int64N(size), size); err != nil {
				b.Fatal(err)
			}
		}
		per := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(per*1000, "ms/proof")
		if bareRead > 0 {
			b.ReportMetric(per/bareRead, "ratio_vs_bare")
		}
	})
	b.Run(label+"/consistency-proof", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := l.ProveConsistency(ctx, 1+rnd.Int64N(size-1), size); err != nil {
				b.Fatal(err)
			}
		}
		per := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(per*1000, "ms/proof")
		if bareRead > 0 {
			b.ReportMetric(per/bareRead, "ratio_vs_bare")
		}
	})
	var bareSign float64
	b.Run(label+"/bare-ed25519-sign", func(b *testing.B) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		msg := []byte("portal.example/log\n1000000\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
		for i := 0; i < b.N; i++ {
			ed25519.Sign(priv, msg)
		}
		bareSign = b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(bareSign*1000, "ms/sign")
	})
	b.Run(label+"/checkpoint-sign", func(b *testing.B) {
		// The whole of it: the tree's root, the consistency check against the
		// last checkpoint, the signature, and storing it.
		for i := 0; i < b.N; i++ {
			if _, err := l.Publish(ctx, true); err != nil {
				b.Fatal(err)
			}
		}
		per := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(per*1000, "ms/checkpoint")
		if bareSign > 0 {
			b.ReportMetric(per/bareSign, "ratio_vs_bare")
		}
	})
	var bareScan float64
	b.Run(label+"/bare-scan-and-hash", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rows, err := db.read.Query(`SELECT l.idx, l.hash, l.seal, v.id, v.at, v.actor_id, v.action, v.subject_type, v.subject_id,
				v.detail, v.ip FROM log_entries l JOIN audit_events v ON v.id = l.ref_id ORDER BY l.idx`)
			if err != nil {
				b.Fatal(err)
			}
			h := sha256.New()
			for rows.Next() {
				var idx, id, subject int64
				var hash, seal []byte
				var actor *int64
				var at, action, st, detail, ip string
				if err := rows.Scan(&idx, &hash, &seal, &id, &at, &actor, &action, &st, &subject, &detail, &ip); err != nil {
					b.Fatal(err)
				}
				h.Reset()
				h.Write([]byte(at + action + st + detail + ip))
				h.Sum(nil)
			}
			if err := rows.Close(); err != nil {
				b.Fatal(err)
			}
		}
		bareScan = b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(bareScan, "s/scan")
	})
	b.Run(label+"/audit-verify", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rep, err := db.VerifyLog(ctx, evidence.VerifyOptions{Key: db.key})
			if err != nil || rep.Problem != nil || rep.Entries != size {
				b.Fatalf("verify: %v %v %d", err, rep.Problem, rep.Entries)
			}
		}
		per := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(per, "s/verify")
		if bareScan > 0 {
			b.ReportMetric(per/bareScan, "ratio_vs_bare")
		}
	})
}

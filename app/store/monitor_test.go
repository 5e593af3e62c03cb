package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"portal/app"
)

// TestMonitorStats: the figures a metrics scrape reads follow the outbox
// and the log, and every query of them uses an index (a scrape must not
// read the whole outbox of a portal with a million messages sent).
func TestMonitorStats(t *testing.T) {
	ctx := context.Background()
	db, o := newOutboxFixture(t)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := t0
	db.Now = func() time.Time { return clock }

	s, err := db.MonitorStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.OutboxQueued != 0 || !s.OldestQueued.IsZero() || s.LogEntries != 0 || !s.LatestCheckpointAt.IsZero() {
		t.Fatalf("empty database: %+v", s)
	}

	// Four messages a minute apart: the first is claimed (in flight), the
	// second sent, the third and fourth wait.
	for i, key := range []string{"a", "b", "c", "d"} {
		clock = t0.Add(time.Duration(i) * time.Minute)
		enqueue(t, o, key, app.MailReminder, key+"@agency.example")
	}
	got := claim(t, o, "W", app.LaneOther, t0.Add(time.Hour), time.Minute)
	if len(got) != 4 {
		t.Fatalf("claimed %d", len(got))
	}
	for _, m := range got[1:] {
		if m.DedupeKey == "b" {
			if err := o.MarkSent(ctx, m); err != nil {
				t.Fatal(err)
			}
		} else if err := o.ReleaseMessage(ctx, m.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if got[0].DedupeKey != "a" {
		t.Fatalf("claimed first: %s", got[0].DedupeKey)
	}
	s, err = db.MonitorStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.OutboxQueued != 3 {
		t.Errorf("queued: %d, want 3 (one in flight, two waiting)", s.OutboxQueued)
	}
	if !s.OldestQueued.Equal(t0) {
		t.Errorf("oldest queued: %s, want %s (the one in flight)", s.OldestQueued, t0)
	}
	// Once the one in flight is sent, the oldest is the third.
	if err := o.MarkSent(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	if s, err = db.MonitorStats(ctx); err != nil {
		t.Fatal(err)
	}
	if s.OutboxQueued != 2 || !s.OldestQueued.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("after sending: queued %d oldest %s, want 2 and %s", s.OutboxQueued, s.OldestQueued, t0.Add(2*time.Minute))
	}

	// The log: a signature is entries; a checkpoint signed covers them.
	f := newFixture(t)
	f.sign(t)
	if s, err = f.db.MonitorStats(ctx); err != nil {
		t.Fatal(err)
	}
	var entries int64
	if err := f.db.read.QueryRow(`SELECT COUNT(*) FROM log_entries`).Scan(&entries); err != nil {
		t.Fatal(err)
	}
	if entries == 0 || s.LogEntries != entries {
		t.Errorf("log entries: %d, want %d (and more than none)", s.LogEntries, entries)
	}
	signed := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i, size := range []int64{1, entries} {
		cp := &app.SignedCheckpoint{Size: size, SignedAt: signed.Add(time.Duration(i) * time.Minute), Note: []byte{byte(i)}}
		if err := NewLogStore(f.db).SaveCheckpoint(ctx, cp); err != nil {
			t.Fatal(err)
		}
	}
	if s, err = f.db.MonitorStats(ctx); err != nil {
		t.Fatal(err)
	}
	if s.CheckpointSize != entries || !s.LatestCheckpointAt.Equal(signed.Add(time.Minute)) {
		t.Errorf("latest checkpoint: size %d at %s, want %d at %s", s.CheckpointSize, s.LatestCheckpointAt, entries, signed.Add(time.Minute))
	}

	t.Run("every query uses an index", func(t *testing.T) {
		for _, q := range []string{monitorWaiting, monitorInFlight, monitorQueuedAt, monitorLogSize, monitorCheckpoint} {
			var args []any
			if strings.Contains(q, "?") {
				args = append(args, 1)
			}
			for _, line := range strings.Split(queryPlan(t, db, q, args...), "\n") {
				if strings.HasPrefix(line, "SCALAR SUBQUERY") {
					continue
				}
				if !strings.HasPrefix(line, "SEARCH ") && !strings.Contains(line, " USING INDEX ") || strings.Contains(line, "TEMP B-TREE") {
					t.Errorf("%s\nreads without an index: %s", q, line)
				}
			}
		}
	})
}

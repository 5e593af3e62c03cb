package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"portal/app"
)

// The outbox's claims are leases measured on the wall clock the worker
// passes in; these tests pass fixed times, so nothing waits.

func newOutboxFixture(t *testing.T) (*DB, *Outbox) {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "outbox.db"), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, NewOutbox(db)
}

func enqueue(t *testing.T, o *Outbox, key, kind, to string) {
	t.Helper()
	m := &app.Message{DedupeKey: key, Kind: kind, ToAddr: to, ToName: "X", Subject: "s", Text: "t"}
	if kind == app.MailSignIn {
		m.Text, m.Sealed = "", []byte("sealed")
	}
	if ok, err := o.Enqueue(context.Background(), m); err != nil || !ok {
		t.Fatalf("enqueue %s: %v %v", key, ok, err)
	}
}

func claim(t *testing.T, o *Outbox, owner, lane string, now time.Time, lease time.Duration) []*app.Message {
	t.Helper()
	msgs, err := o.ClaimDue(context.Background(), app.Claim{Owner: owner, Lane: lane, Limit: 50, Now: now, Until: now.Add(lease)})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func TestOutboxLeases(t *testing.T) {
	ctx := context.Background()
	db, o := newOutboxFixture(t)
	for i := 0; i < 3; i++ {
		enqueue(t, o, fmt.Sprint("r", i), app.MailReminder, fmt.Sprintf("r%d@agency.example", i))
	}
	enqueue(t, o, "s0", app.MailSignIn, "zoe@agency.example")
	t0 := time.Now()
	lease := 30 * time.Second

	t.Run("each lane claims its own kinds", func(t *testing.T) {
		if got := claim(t, o, "A", app.LaneOther, t0, lease); len(got) != 3 {
			t.Fatalf("the main lane claimed %d of 3 reminders", len(got))
		}
		got := claim(t, o, "A", app.LaneSignIn, t0, lease)
		if len(got) != 1 || got[0].Kind != app.MailSignIn {
			t.Fatalf("the sign-in lane claimed %v", got)
		}
	})
	t.Run("a live lease is not taken, by a claim or a start", func(t *testing.T) {
		if got := claim(t, o, "B", app.LaneOther, t0.Add(lease/2), lease); len(got) != 0 {
			t.Fatalf("B took %d messages A holds", len(got))
		}
		if n, err := o.ReleaseExpired(ctx, t0.Add(lease/2)); err != nil || n != 0 {
			t.Fatalf("a start released %d live claims (%v)", n, err)
		}
	})
	t.Run("a renewed lease outlives its first end", func(t *testing.T) {
		if err := o.RenewLeases(ctx, "A", t0.Add(2*lease)); err != nil {
			t.Fatal(err)
		}
		if got := claim(t, o, "B", app.LaneOther, t0.Add(lease+time.Second), lease); len(got) != 0 {
			t.Fatalf("B took %d messages of a lease A renewed", len(got))
		}
	})
	t.Run("an ended lease goes to the next claimer, attempts untouched", func(t *testing.T) {
		later := t0.Add(2*lease + time.Second)
		got := claim(t, o, "B", app.LaneOther, later, lease)
		if len(got) != 3 || got[0].Attempts != 0 {
			t.Fatalf("B took %d messages after A's lease ended", len(got))
		}
		var owner string
		if err := db.read.QueryRow(`SELECT lease_owner FROM outbox WHERE id = ?`, got[0].ID).Scan(&owner); err != nil || owner != "B" {
			t.Fatalf("owner %q (%v)", owner, err)
		}
		// A's sign-in claim ended too, and is free.
		if got := claim(t, o, "C", app.LaneSignIn, later, time.Second); len(got) != 1 {
			t.Fatalf("C claimed %d sign-in links after A's lease ended", len(got))
		}
		// C's short lease ends first: a start frees it, and only it.
		if n, err := o.ReleaseExpired(ctx, later.Add(2*time.Second)); err != nil || n != 1 {
			t.Fatalf("a start released %d ended claims (%v), want C's sign-in link", n, err)
		}
	})
	t.Run("a stopping worker hands its claims back", func(t *testing.T) {
		if err := o.ReleaseOwned(ctx, "B"); err != nil {
			t.Fatal(err)
		}
		if got := claim(t, o, "C", app.LaneOther, t0.Add(2*lease+2*time.Second), lease); len(got) != 3 {
			t.Fatalf("C claimed %d of the 3 B handed back", len(got))
		}
	})
}

func TestOutboxUnreachableAndFault(t *testing.T) {
	ctx := context.Background()
	db, o := newOutboxFixture(t)
	enqueue(t, o, "a1", app.MailReminder, "gone@agency.example")
	enqueue(t, o, "b1", app.MailReminder, "fine@agency.example")
	now := time.Now()
	msgs := claim(t, o, "A", app.LaneOther, now, time.Minute)

	t.Run("a refused recipient marks that address only", func(t *testing.T) {
		if err := o.MarkUnreachable(ctx, msgs[0].ID, "rcpt: 550 no such mailbox"); err != nil {
			t.Fatal(err)
		}
		if err := o.MarkFailed(ctx, msgs[1].ID, "data: 554 rejected", 0, true); err != nil {
			t.Fatal(err)
		}
		u, err := o.Unreachable(ctx, "GONE@agency.example")
		if err != nil || u.Reason != "rcpt: 550 no such mailbox" {
			t.Fatalf("unreachable: %+v %v", u, err)
		}
		if _, err := o.Unreachable(ctx, "fine@agency.example"); app.ErrorCode(err) != app.ENOTFOUND {
			t.Fatalf("a refused message marked its address: %v", err)
		}
	})
	t.Run("a later delivery clears the mark", func(t *testing.T) {
		enqueue(t, o, "a2", app.MailSignIn, "gone@agency.example")
		m := claim(t, o, "A", app.LaneSignIn, now, time.Minute)[0]
		if err := o.MarkSent(ctx, m); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Unreachable(ctx, "gone@agency.example"); app.ErrorCode(err) != app.ENOTFOUND {
			t.Fatalf("still unreachable after a delivery: %v", err)
		}
	})
	t.Run("HR trying an address again clears it with an audit event", func(t *testing.T) {
		enqueue(t, o, "a3", app.MailReminder, "gone@agency.example")
		m := claim(t, o, "A", app.LaneOther, now, time.Minute)[0]
		if err := o.MarkUnreachable(ctx, m.ID, "rcpt: 550"); err != nil {
			t.Fatal(err)
		}
		e := &app.AuditEvent{Action: "mail.address_retried", SubjectType: "employee", SubjectID: 7}
		if err := o.RetryAddress(ctx, "gone@agency.example", e); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.read.QueryRow(`SELECT COUNT(*) FROM audit_events WHERE action = 'mail.address_retried' AND subject_id = 7`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d audit events (%v)", n, err)
		}
		if err := o.RetryAddress(ctx, "gone@agency.example", &app.AuditEvent{Action: "mail.address_retried"}); app.ErrorCode(err) != app.ENOTFOUND {
			t.Fatalf("clearing an address not marked: %v", err)
		}
		if err := db.read.QueryRow(`SELECT COUNT(*) FROM audit_events WHERE action = 'mail.address_retried'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d audit events after a refused retry (%v)", n, err)
		}
	})
	t.Run("a fault keeps its start and the latest answer, until cleared", func(t *testing.T) {
		if _, err := o.MailFault(ctx); app.ErrorCode(err) != app.ENOTFOUND {
			t.Fatalf("a fault before any: %v", err)
		}
		if err := o.SetFault(ctx, "mail", "530 5.7.0 Authentication required"); err != nil {
			t.Fatal(err)
		}
		first, err := o.MailFault(ctx)
		if err != nil {
			t.Fatal(err)
		}
		db.Now = func() time.Time { return now.Add(time.Hour) }
		if err := o.SetFault(ctx, "auth", "535 bad credentials"); err != nil {
			t.Fatal(err)
		}
		f, err := o.MailFault(ctx)
		if err != nil || !f.Since.Equal(first.Since) || f.Reply != "535 bad credentials" || f.Stage != "auth" || !f.Last.After(f.Since) {
			t.Fatalf("fault %+v (%v), first %+v", f, err, first)
		}
		if cleared, err := o.ClearFault(ctx); err != nil || !cleared {
			t.Fatalf("clear: %v %v", cleared, err)
		}
		if cleared, err := o.ClearFault(ctx); err != nil || cleared {
			t.Fatalf("clear again: %v %v", cleared, err)
		}
	})
	t.Run("a message put back is not counted as tried", func(t *testing.T) {
		enqueue(t, o, "c1", app.MailReminder, "c@agency.example")
		m := claim(t, o, "A", app.LaneOther, now, time.Minute)[0]
		if err := o.ReleaseMessage(ctx, m.ID, "not tried"); err != nil {
			t.Fatal(err)
		}
		again := claim(t, o, "B", app.LaneOther, now, time.Minute)
		if len(again) != 1 || again[0].ID != m.ID || again[0].Attempts != 0 || again[0].Status != "queued" {
			t.Fatalf("after release: %+v", again)
		}
	})
}

package e2e

import (
	"html"
	"strings"
	"testing"
	"time"

	"portal/app"
	"portal/app/evidence"
)

// TestWitnessesGetEachDaysCheckpoint: administrators name witness
// addresses; each gets the day's signed checkpoint through the outbox, once
// a day; bad input changes nothing.
func TestWitnessesGetEachDaysCheckpoint(t *testing.T) {
	tp := startTestPortal(t)
	admin := newClient(t, tp.BaseURL)
	admin.signIn(tp.signInLink(t, "1003"))
	mustContain(t, html.UnescapeString(admin.get("/admin/witnesses").Body), "Evidence log witnesses", "No witness yet", tp.Log.VerifierKey())
	const witness = "auditor@counsel.example"
	checkpointMail := func() []*app.Message {
		var out []*app.Message
		for _, m := range tp.DevMail.Messages() {
			if m.Kind == app.MailCheckpoint && m.ToAddr == witness {
				out = append(out, m)
			}
		}
		return out
	}
	waitFor := func(n int) []*app.Message {
		t.Helper()
		for try := 0; try < 200; try++ {
			if ms := checkpointMail(); len(ms) >= n {
				return ms
			}
			tp.Worker.Kick()
			time.Sleep(25 * time.Millisecond)
		}
		t.Fatalf("the witness did not get checkpoint %d", n)
		return nil
	}

	t.Run("bad input is refused and changes nothing", func(t *testing.T) {
		before := tp.count(t, `SELECT COUNT(*) FROM witnesses`)
		events := tp.count(t, `SELECT COUNT(*) FROM audit_events`)
		for _, c := range []struct{ email, action, want string }{
			{"", "add", "Enter an e-mail address"},
			{"not an address", "add", "Enter an e-mail address"},
			{"Auditor <auditor@counsel.example>", "add", "Enter an e-mail address"},
			{"nobody@counsel.example", "remove", "is not a witness"},
		} {
			r := admin.post("/admin/witnesses", form("email", c.email, "action", c.action))
			if r.Status != 422 {
				t.Errorf("%q %s: status %d, want 422", c.email, c.action, r.Status)
			}
			mustContain(t, r.Body, "There is a problem", c.want)
			wantFieldError(t, r, "email", c.want)
		}
		if tp.count(t, `SELECT COUNT(*) FROM witnesses`) != before || tp.count(t, `SELECT COUNT(*) FROM audit_events`) != events {
			t.Fatal("a refused request changed something")
		}
	})

	t.Run("a witness is added, and the change is evidence", func(t *testing.T) {
		if r := admin.post("/admin/witnesses", form("email", witness, "action", "add")); r.Status != 303 {
			t.Fatalf("add: status %d", r.Status)
		}
		if r := admin.post("/admin/witnesses", form("email", witness, "action", "add")); r.Status != 422 || !strings.Contains(r.Body, "already") {
			t.Fatalf("adding twice: status %d", r.Status)
		} else {
			wantFieldError(t, r, "email", "already")
		}
		if tp.count(t, `SELECT COUNT(*) FROM audit_events v JOIN log_entries l ON l.kind = 'audit_event' AND l.ref_id = v.id
			WHERE v.action = 'log.witness_added' AND v.detail = ? AND v.actor_id = ?`, witness, tp.employee(t, "1003").ID) != 1 {
			t.Fatal("adding a witness is not a logged audit event naming the administrator")
		}
		mustContain(t, admin.get("/admin/witnesses").Body, witness)
	})

	t.Run("each day the witness gets that day's checkpoint, once", func(t *testing.T) {
		tp.Clock.Advance(24 * time.Hour) // the next day: the publisher's next tick mails it
		ms := waitFor(1)
		v, err := evidence.ParseVerifierKey(tp.Log.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		text := ms[0].Text
		start := strings.Index(text, v.Name()+"\n")
		end := strings.Index(text, "The log's verifier key")
		if start < 0 || end < start {
			t.Fatalf("no checkpoint in the message:\n%s", text)
		}
		cp, err := evidence.OpenCheckpoint([]byte(strings.TrimRight(text[start:end], "\n")+"\n"), v)
		if err != nil {
			t.Fatalf("the mailed checkpoint does not verify: %v\n%s", err, text[start:end])
		}
		if cp.Size == 0 || !strings.Contains(text, "portal witness --url "+tp.BaseURL) {
			t.Fatalf("checkpoint of %d entries; message:\n%s", cp.Size, text)
		}
		tp.logRounds(t, 3) // several more rounds of the same day
		if n := len(checkpointMail()); n != 1 {
			t.Fatalf("%d checkpoint messages on one day, want 1", n)
		}
		tp.Clock.Advance(24 * time.Hour)
		waitFor(2)
	})

	t.Run("a removed witness gets no more", func(t *testing.T) {
		admin := newClient(t, tp.BaseURL) // two days on, the first session has ended
		admin.signIn(tp.signInLink(t, "1003"))
		admin.get("/admin/witnesses")
		if r := admin.post("/admin/witnesses", form("email", witness, "action", "remove")); r.Status != 303 {
			t.Fatalf("remove: status %d", r.Status)
		}
		n := len(checkpointMail())
		tp.Clock.Advance(24 * time.Hour)
		tp.logRounds(t, 3)
		if len(checkpointMail()) != n {
			t.Fatal("a removed witness still gets checkpoints")
		}
	})
}

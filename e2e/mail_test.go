package e2e

import (
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/server"
)

// eventually waits (bounded) for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pass runs one reminder pass at the portal's clock.
func (tp *testPortal) pass(t *testing.T) (inv, rem, esc, dig int) {
	t.Helper()
	sum, err := tp.Reminders.RunPass(context.Background(), tp.DB.Now(), tp.Config.TimeZone, tp.Config.Schedule, false)
	if err != nil {
		t.Fatal(err)
	}
	tp.Worker.Kick()
	return sum.Invitations, sum.Reminders, sum.Escalations, sum.Digests
}

// failedOnce waits, while the mail server is down, until every queued
// message has failed once and none is being delivered: each then waits for
// its back-off, and the worker is idle until the clock moves.
func (tp *testPortal) failedOnce(t *testing.T) {
	t.Helper()
	tp.Worker.Kick()
	eventually(t, "a failed attempt at every message", func() bool {
		return tp.count(t, `SELECT COUNT(*) FROM outbox WHERE status = 'queued' AND (attempts = 0 OR locked_at IS NOT NULL)`) == 0
	})
}

func (tp *testPortal) queued(t *testing.T) int {
	return tp.count(t, `SELECT COUNT(*) FROM outbox WHERE status = 'queued'`)
}

// annualTo is what an address received, without the messages about the
// agency-use acknowledgment (Zoë, an authorized poster, owes it too; its
// own tests follow those).
func annualTo(ms *mailServer, addr string) []string {
	var out []string
	for _, m := range ms.messagesTo(addr) {
		if !strings.Contains(m, "Authorized poster acknowledgment") && !strings.Contains(subjectLine(m), "Terms of Comment") {
			out = append(out, m)
		}
	}
	return out
}

func TestRemindersAreDeliveredOnceAndStopAfterSigning(t *testing.T) {
	ms := startMailServer(t)
	tp := startTestPortal(t, withSMTP(ms))
	zoe := tp.employee(t, "1005")    // overdue, not started
	mgr := tp.employee(t, "1004")    // her manager
	signed := tp.employee(t, "1008") // signed already

	// The demo gives Zoë, an authorized poster, her agency's Terms of
	// Comment by mail: that one goes first, and is not counted below.
	eventually(t, "the demo's mail", func() bool { return tp.queued(t) == 0 })
	base := ms.count(zoe.Email)
	inv, rem, esc, dig := tp.pass(t)
	unsigned := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE active = 1 AND signed_at IS NULL`)
	if inv != unsigned || rem != 0 {
		t.Fatalf("first pass: %d invitations for %d unsigned, %d reminders (reminders wait a day after the invitation)", inv, unsigned, rem)
	}
	if esc != 0 || dig == 0 {
		t.Fatalf("first pass: %d escalations, %d digests; the demo has people over a week overdue, but their invitations are new", esc, dig)
	}
	eventually(t, "the first pass's mail", func() bool { return tp.queued(t) == 0 })
	// Zoë is invited to the annual acknowledgment and, as an authorized
	// poster, to the agency-use one, in its own words. From here on the
	// test follows the annual one's messages (annualTo).
	if ms.count(zoe.Email)-base != 2 || len(annualTo(ms, zoe.Email)) != 1 {
		t.Fatalf("zoe got %d messages", ms.count(zoe.Email)-base)
	}
	agencyInvited := false
	for _, m := range ms.messagesTo(zoe.Email) {
		agencyInvited = agencyInvited || strings.Contains(m, "Subject: Please sign: Authorized poster acknowledgment") &&
			strings.Contains(m, "You are authorized to post for your agency")
	}
	if !agencyInvited {
		t.Fatal("no invitation to the agency-use acknowledgment naming it")
	}
	for _, m := range ms.messagesTo(signed.Email) { // only the copy of the certificate signed in the demo data
		if !strings.Contains(m, "Subject: Your certificate") {
			t.Fatalf("the signed employee got a reminder:\n%.300s", m)
		}
	}
	msg := ms.messagesTo(zoe.Email)[base]
	for _, want := range []string{"Subject: Please sign:", "text/plain", "text/html", tp.BaseURL + "/"} {
		if !strings.Contains(msg, want) {
			t.Errorf("invitation lacks %q", want)
		}
	}

	t.Run("a second pass, and two at once, queue nothing new", func(t *testing.T) {
		before := tp.count(t, `SELECT COUNT(*) FROM outbox`)
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := tp.Reminders.RunPass(context.Background(), tp.DB.Now(), tp.Config.TimeZone, tp.Config.Schedule, false); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox`); n != before {
			t.Fatalf("%d new messages", n-before)
		}
	})

	t.Run("the next day the overdue get their reminder, once, and their managers hear", func(t *testing.T) {
		tp.Clock.Advance(24 * time.Hour)
		_, rem, esc, _ := tp.pass(t)
		if rem == 0 || esc == 0 {
			t.Fatalf("a day later: %d reminders, %d escalations", rem, esc)
		}
		eventually(t, "reminders", func() bool { return tp.queued(t) == 0 })
		var subjects []string
		for _, m := range ms.messagesTo(mgr.Email) {
			subjects = append(subjects, subjectOf(t, m))
		}
		if !strings.Contains(strings.Join(subjects, "\n"), "Overdue in your team: Zoë Côté") {
			t.Errorf("the manager got no escalation about Zoë: %q", subjects)
		}
		if z := annualTo(ms, zoe.Email); len(z) != 2 || !strings.Contains(z[1], "Subject: Overdue:") {
			t.Fatalf("zoe got %d messages", len(z))
		}
		if _, rem, _, _ := tp.pass(t); rem != 0 {
			t.Fatalf("%d reminders again the same day", rem)
		}
	})

	t.Run("after signing, the certificate arrives and reminders stop", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLink(t, "1005"))
		readAll(t, tp, c, "1005")
		passQuiz(t, tp, c, "1005")
		consent(t, c)
		c.get("/sign")
		if r := c.post("/sign", form("typed_name", "Zoë Côté", "intent", "yes")); r.Status != 303 {
			t.Fatalf("sign: %d", r.Status)
		}
		eventually(t, "the certificate", func() bool { return len(annualTo(ms, zoe.Email)) == 3 })
		cert := annualTo(ms, zoe.Email)[2]
		for _, want := range []string{"Subject: Your certificate", "application/pdf", "SMP-"} {
			if !strings.Contains(cert, want) {
				t.Errorf("certificate mail lacks %q", want)
			}
		}
		tp.Clock.Advance(8 * 24 * time.Hour)
		tp.pass(t)
		eventually(t, "the later pass", func() bool { return tp.queued(t) == 0 })
		if n := len(annualTo(ms, zoe.Email)); n != 3 {
			t.Fatalf("zoe got %d messages after signing", n)
		}
	})

	t.Run("a reminder queued before a signature is skipped, not sent", func(t *testing.T) {
		// The demo's due date was 15 days ago at the start; nine days on, the
		// next weekly overdue step (28 days) falls four days later.
		tp.Clock.Advance(4 * 24 * time.Hour)
		ms.stop() // hold the mail back
		if _, rem, _, _ := tp.pass(t); rem == 0 {
			t.Fatal("no reminders due on the 28th day overdue")
		}
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLink(t, "1006"))
		readAll(t, tp, c, "1006")
		passQuiz(t, tp, c, "1006")
		consent(t, c)
		c.get("/sign")
		if r := c.post("/sign", form("typed_name", "José Núñez", "intent", "yes")); r.Status != 303 {
			t.Fatalf("sign: %d", r.Status)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE employee_id = ? AND kind = 'reminder' AND status = 'queued'`,
			tp.employee(t, "1006").ID); n != 1 {
			t.Fatalf("%d reminders queued for 1006", n)
		}
		tp.failedOnce(t) // so that no attempt still under way fails after the clock moves
		ms.start()
		tp.Clock.Advance(2 * time.Hour) // past any back-off
		tp.Worker.Kick()
		eventually(t, "the queue", func() bool { return tp.queued(t) == 0 })
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE employee_id = ? AND kind = 'reminder' AND status = 'skipped'`,
			tp.employee(t, "1006").ID); n != 1 {
			t.Fatalf("%d reminders skipped", n)
		}
	})
}

func TestMailOutageAndFailures(t *testing.T) {
	ms := startMailServer(t)
	tp := startTestPortal(t, withSMTP(ms))
	zoe, jose, lan := tp.employee(t, "1005"), tp.employee(t, "1006"), tp.employee(t, "1007")
	demo := map[string]int{} // what the demo data sent each (Zoë, a poster: her Terms of Comment)

	t.Run("while the server is down nothing is lost, and nothing is sent twice once it is back", func(t *testing.T) {
		// The demo data's certificate copies go out first; then the server stops.
		eventually(t, "the demo's mail", func() bool { return tp.queued(t) == 0 })
		for _, e := range []string{zoe.Email, jose.Email, lan.Email} {
			demo[e] = ms.count(e)
		}
		sentBefore := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE status = 'sent'`)
		ms.stop()
		if inv, _, _, _ := tp.pass(t); inv == 0 {
			t.Fatal("no invitations")
		}
		tp.failedOnce(t)
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE status = 'sent'`); n != sentBefore {
			t.Fatalf("%d sent while down", n-sentBefore)
		}
		ms.start()
		tp.Clock.Advance(2 * time.Minute) // the first retry is a minute later
		tp.Worker.Kick()
		eventually(t, "delivery after the outage", func() bool { return tp.queued(t) == 0 })
		for _, e := range []string{zoe.Email, jose.Email, lan.Email} {
			if n := len(annualTo(ms, e)); n != 1 {
				t.Errorf("%s got %d invitations", e, n)
			}
		}
	})

	t.Run("a 4xx is retried and then succeeds", func(t *testing.T) {
		ms.mu.Lock()
		ms.tempFail[strings.ToLower(zoe.Email)] = 1
		ms.mu.Unlock()
		link := newClient(t, tp.BaseURL)
		link.get("/signin")
		link.post("/signin", form("email", zoe.Email))
		eventually(t, "the failed attempt", func() bool {
			return tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'signin' AND attempts = 1 AND status = 'queued'`) == 1
		})
		tp.Clock.Advance(2 * time.Minute)
		tp.Worker.Kick()
		eventually(t, "the retry", func() bool { return ms.count(zoe.Email)-demo[zoe.Email] == 2 })
	})

	t.Run("a 5xx marks the address unreachable and HR sees it", func(t *testing.T) {
		ms.mu.Lock()
		ms.permFail[strings.ToLower(jose.Email)] = true
		ms.mu.Unlock()
		c := newClient(t, tp.BaseURL)
		c.get("/signin")
		c.post("/signin", form("email", jose.Email))
		eventually(t, "the bounce", func() bool {
			return tp.count(t, `SELECT COUNT(*) FROM unreachable WHERE email = ?`, jose.Email) == 1
		})
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE to_addr = ? AND status = 'failed'`, jose.Email); n != 1 {
			t.Fatalf("%d failed messages", n)
		}
		hr := hrClient(t, tp)
		mustContain(t, hr.get("/hr").Body, "unreachable by e-mail")
		mustContain(t, hr.get("/hr/people?status=unreachable").Body, "José Núñez", "Unreachable by e-mail", "1 person")
		tp.Clock.Advance(24 * time.Hour)
		tp.pass(t)
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE to_addr = ? AND status = 'queued'`, jose.Email); n != 0 {
			t.Fatal("reminders queued to an unreachable address")
		}
	})
}

func TestRemindCommand(t *testing.T) {
	tp := startTestPortal(t)
	tp.commandEnv(t)
	var out strings.Builder
	if err := server.Run(context.Background(), []string{"remind", "--dry-run"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "dry run") || tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'invitation'`) != 0 {
		t.Fatalf("dry run: %s", out.String())
	}
	out.Reset()
	if err := server.Run(context.Background(), []string{"remind"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'invitation'`)
	if n == 0 || !strings.Contains(out.String(), strconv.Itoa(n)+" invitations") {
		t.Fatalf("%d invitations; %s", n, out.String())
	}
	if _, ok := server.Run(context.Background(), []string{"remind", "--nope"}, &out, io.Discard).(server.UsageError); !ok {
		t.Fatal("bad flag: not a usage error")
	}
}

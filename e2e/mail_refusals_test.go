package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"portal/app"
	"portal/server"
)

// SMTP answers are classified: a refusal of the portal itself stops
// delivery, keeps every message and alerts HR; a refused recipient marks
// that address only, until a delivery gets through or HR tries it again.

func TestMailServerRefusingThePortal(t *testing.T) {
	ms := startMailServer(t)
	tp := startTestPortal(t, withSMTP(ms))
	eventually(t, "the demo's mail", func() bool { return tp.queued(t) == 0 })
	failedBefore := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE status = 'failed'`)
	// What the demo data sent Zoë (a poster: her Terms of Comment) went out
	// before the server began refusing.
	zoeBefore := ms.count(server.DemoEmail("1005"))
	zoeSentBefore := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND lower(to_addr) = lower(?)`, server.DemoEmail("1005"))
	// A relay that wants authentication the portal was not given.
	ms.mu.Lock()
	ms.mailFail = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	ms.mu.Unlock()
	inv, _, esc, dig := tp.pass(t)
	zoe := tp.employee(t, "1005")
	c := newClient(t, tp.BaseURL)
	c.get("/signin")
	if r := c.post("/signin", form("email", zoe.Email)); r.Status != 303 {
		t.Fatalf("sign-in request: %d", r.Status)
	}
	// The pass also told the DAFS supervisor about the demo's account past
	// its review date.
	queued := inv + esc + dig + 1 + tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'account_review'`)
	waitUntil(t, "the fault on record", time.Minute, func() bool { return tp.count(t, `SELECT COUNT(*) FROM mail_fault`) == 1 })
	// Both lanes have met the refusal again, after a pause each time.
	other, signIn := tp.Worker.Rounds(app.LaneOther), tp.Worker.Rounds(app.LaneSignIn)
	waitUntil(t, "retries", time.Minute, func() bool {
		return tp.Worker.Rounds(app.LaneOther) >= other+2 && tp.Worker.Rounds(app.LaneSignIn) >= signIn+2
	})

	t.Run("nobody is marked unreachable and every message stays queued", func(t *testing.T) {
		if n := tp.count(t, `SELECT COUNT(*) FROM unreachable`); n != 0 {
			t.Errorf("%d addresses marked unreachable", n)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE status = 'failed'`); n != failedBefore {
			t.Errorf("%d messages given up", n-failedBefore)
		}
		if n := tp.queued(t); n != queued {
			t.Errorf("%d messages queued, want %d", n, queued)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE status = 'queued' AND attempts > 0`); n != 0 {
			t.Errorf("%d messages counted as tried: the server refused the portal, not them", n)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'signin' AND status = 'queued' AND lower(to_addr) = lower(?)`, zoe.Email); n != 1 {
			t.Errorf("Zoë's sign-in link: %d queued", n)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND lower(to_addr) = lower(?)`, zoe.Email); n != zoeSentBefore || ms.count(zoe.Email) != zoeBefore {
			t.Errorf("mail reached Zoë through a server that refuses the portal")
		}
	})
	t.Run("it alerts: a log line and HR's dashboard", func(t *testing.T) {
		if !strings.Contains(tp.Logs.String(), "the mail server refuses the portal") {
			t.Error("no log line")
		}
		if !strings.Contains(tp.Logs.String(), `"level":"ERROR"`) {
			t.Error("the fault is not logged as an error")
		}
		body := hrClient(t, tp).get("/hr").Body
		mustContain(t, body, "E-mail is not being delivered", "at MAIL FROM", "530 5.7.0 Authentication required", "Every message is kept")
		if strings.Contains(body, testSecret) {
			t.Error("the dashboard shows the secret")
		}
	})
	t.Run("a server put right delivers everything, and the alert goes", func(t *testing.T) {
		ms.mu.Lock()
		ms.mailFail = nil
		ms.mu.Unlock()
		waitUntil(t, "delivery after the fault", time.Minute, func() bool { return tp.queued(t) == 0 })
		if n := tp.count(t, `SELECT COUNT(*) FROM mail_fault`); n != 0 {
			t.Errorf("the fault is still on record")
		}
		found := false
		for _, m := range ms.messagesTo(zoe.Email) {
			found = found || strings.Contains(m, "Subject: Your sign-in link")
		}
		if !found {
			t.Error("Zoë's sign-in link did not go out")
		}
		if body := hrClient(t, tp).get("/hr").Body; strings.Contains(body, "E-mail is not being delivered") {
			t.Error("the dashboard still shows the alert")
		}
		checkDeliveredOnce(t, tp, ms)
	})
}

func TestUnreachableAddressIsCleared(t *testing.T) {
	ms := startMailServer(t)
	tp := startTestPortal(t, withSMTP(ms))
	eventually(t, "the demo's mail", func() bool { return tp.queued(t) == 0 })
	jose, lan := tp.employee(t, "1006"), tp.employee(t, "1007")
	refuse := func(addr string, on bool) {
		ms.mu.Lock()
		defer ms.mu.Unlock()
		ms.permFail[strings.ToLower(addr)] = on
	}
	askLink := func(addr string) {
		c := newClient(t, tp.BaseURL)
		c.get("/signin")
		if r := c.post("/signin", form("email", addr)); r.Status != 303 {
			t.Fatalf("sign-in request: %d", r.Status)
		}
	}
	unreachable := func(addr string) int {
		return tp.count(t, `SELECT COUNT(*) FROM unreachable WHERE email = ?`, addr)
	}

	t.Run("a 550 to RCPT TO marks that address only", func(t *testing.T) {
		refuse(jose.Email, true)
		if inv, _, _, _ := tp.pass(t); inv == 0 {
			t.Fatal("no invitations")
		}
		eventually(t, "the pass's mail", func() bool { return tp.queued(t) == 0 })
		if n := tp.count(t, `SELECT COUNT(*) FROM unreachable`); n != 1 || unreachable(jose.Email) != 1 {
			t.Fatalf("%d addresses unreachable; want José's alone", n)
		}
		if ms.count(lan.Email) != 1 {
			t.Fatalf("Lan got %d messages", ms.count(lan.Email))
		}
	})
	t.Run("a later delivery to the address clears it", func(t *testing.T) {
		refuse(jose.Email, false)
		askLink(jose.Email) // sign-in links still go to an address marked unreachable
		waitUntil(t, "José's sign-in link", time.Minute, func() bool { return ms.count(jose.Email) == 1 })
		eventually(t, "the mark cleared", func() bool { return unreachable(jose.Email) == 0 })
	})
	t.Run("HR tries the address again", func(t *testing.T) {
		refuse(lan.Email, true)
		askLink(lan.Email)
		eventually(t, "Lan's address refused", func() bool { return unreachable(lan.Email) == 1 })
		refuse(lan.Email, false)
		hr := hrClient(t, tp)
		page := "/hr/people/" + strconv.FormatInt(lan.ID, 10)
		mustContain(t, hr.get(page).Body, "Unreachable by e-mail", "Try this address again")
		events := func() int {
			return tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'mail.address_retried' AND subject_type = 'employee'
				AND subject_id = ? AND actor_id = ?`, lan.ID, tp.employee(t, "1002").ID)
		}
		r := hr.post(page+"/reachable", nil)
		if r.Status != 303 || r.Location != page {
			t.Fatalf("retry: %d to %q", r.Status, r.Location)
		}
		if unreachable(lan.Email) != 0 || events() != 1 {
			t.Fatalf("after HR's retry: unreachable %d, audit events %d", unreachable(lan.Email), events())
		}
		body := hr.get(page).Body
		mustContain(t, body, "will be tried again", "asked for mail to")
		if strings.Contains(body, "Try this address again") {
			t.Error("the button is still there")
		}
		t.Run("again: nothing to clear, nothing changes", func(t *testing.T) {
			if r := hr.post(page+"/reachable", nil); r.Status != 303 {
				t.Fatalf("second retry: %d", r.Status)
			}
			mustContain(t, hr.get(page).Body, "is not marked unreachable; nothing changed")
			if events() != 1 {
				t.Fatalf("%d audit events", events())
			}
		})
		t.Run("an unknown person", func(t *testing.T) {
			if r := hr.post("/hr/people/999999/reachable", nil); r.Status != 404 {
				t.Fatalf("status %d", r.Status)
			}
			if r := hr.post("/hr/people/x/reachable", nil); r.Status != 404 {
				t.Fatalf("status %d", r.Status)
			}
		})
	})
}

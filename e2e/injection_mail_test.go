package e2e

import (
	"strings"
	"testing"
	"time"
)

// The hostile names in mail: headers that cannot be split, bodies that
// carry the names as written.

// testHostileMail imports the hostile people, sends their invitations,
// escalations and certificates through a real SMTP server, and checks
// every message they and their managers get.
func testHostileMail(t *testing.T, people []hostile) {
	ms := startMailServer(t)
	tp := startTestPortal(t, withSMTP(ms))
	if out, err := importReport(t, tp, rosterCSV(t, people)); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	inv, _, esc, dig := tp.pass(t)
	t.Logf("first pass: %d invitations, %d escalations, %d digests", inv, esc, dig)
	if inv == 0 {
		t.Fatal("no invitations")
	}
	// Managers hear about someone only once their invitation is a day old.
	tp.Clock.Advance(24 * time.Hour)
	_, _, esc, _ = tp.pass(t)
	eventually(t, "the invitations and escalations", func() bool { return tp.queued(t) == 0 })
	for _, p := range people {
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLinkFor(t, tp.employee(t, p.number)))
		signHostile(t, tp, c, p)
	}
	eventually(t, "the certificates", func() bool {
		for _, p := range people {
			got := false
			for _, m := range ms.messagesTo(p.email) {
				got = got || strings.Contains(subjectOf(t, m), "Your certificate")
			}
			if !got {
				return false
			}
		}
		return true
	})
	for _, p := range people {
		msgs := ms.messagesTo(p.email)
		if len(msgs) < 2 {
			t.Errorf("%s got %d messages, want an invitation and a certificate", p.number, len(msgs))
		}
		for _, raw := range msgs {
			m := checkHeaders(t, raw)
			to, err := m.Header.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Address != p.email || to[0].Name != p.stored {
				t.Errorf("%s: To %q reads as %v (%v), want %q <%s>", p.number, m.Header.Get("To"), to, err, p.stored, p.email)
			}
			html := mailPart(t, raw, "text/html")
			mustShowEscaped(t, p.number+"'s mail ("+subjectOf(t, raw)+")", html, p.stored)
			if !strings.Contains(mailPart(t, raw, "text/plain"), p.stored) {
				t.Errorf("%s: the plain-text part lacks the name", p.number)
			}
		}
	}
	// The manager hears about each overdue person by name: an escalation
	// with the name in its subject, and the weekly digest listing them all.
	if esc == 0 || dig == 0 {
		t.Fatal("the demo cycle is overdue: the pass should escalate and send digests")
	}
	subjects := map[string]bool{}
	for _, raw := range ms.messagesTo("mallory@hostile.example") {
		checkHeaders(t, raw)
		subject := subjectOf(t, raw)
		subjects[subject] = true
		html := mailPart(t, raw, "text/html")
		mustShowEscaped(t, "the manager's mail ("+subject+")", html)
		if strings.HasPrefix(subject, "Your team:") {
			for _, p := range people {
				mustShowEscaped(t, "the digest", html, p.stored)
			}
		}
	}
	for _, p := range people {
		if !subjects["Overdue in your team: "+p.stored] {
			t.Errorf("no escalation about %q: %v", p.stored, subjects)
		}
	}
	if !subjects["Your team: 6 overdue with the social media policy acknowledgment"] {
		t.Errorf("no digest: %v", subjects)
	}
	if ms.count("victim@x.example") != 0 {
		t.Fatal("mail reached the address named in a header injection")
	}
}

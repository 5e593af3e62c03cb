package e2e

import (
	"strings"
	"testing"

	"portal/app"
)

// agencyMessages is what an address received about the agency-use
// acknowledgment (its messages name the kind's title), with folded header
// lines unfolded.
func agencyMessages(ms *mailServer, addr string) []string {
	var out []string
	for _, m := range ms.messagesTo(addr) {
		if m = strings.ReplaceAll(m, "\r\n ", " "); strings.Contains(m, "Authorized poster acknowledgment") {
			out = append(out, m)
		}
	}
	return out
}

// TestAgencyUseReminders: the reminder pass invites and reminds authorized
// posters about the agency-use acknowledgment through the outbox, naming
// it, as it does for the annual one; someone whose authorization ended
// before the reminder is due drops out and hears nothing more.
func TestAgencyUseReminders(t *testing.T) {
	ms := startMailServer(t)
	tp := startTestPortal(t, withSMTP(ms))
	jose, lan := tp.employee(t, "1006"), tp.employee(t, "1007")
	today := tp.DB.Now().In(tp.Config.TimeZone)
	// Both were authorized 24 days ago on the demo's DAFS Facebook account:
	// due in 6 days (the kind's 30 days after the first authorization).
	raw := evRaw(t, tp.DB.Path)
	defer raw.Close()
	started := today.AddDate(0, 0, -24).Format(app.DateLayout)
	for _, e := range []*app.Employee{jose, lan} {
		if _, err := raw.Exec(`INSERT INTO poster_authorizations (employee_id, account_id, agency, scope, starts_on, granted_at)
			SELECT ?, id, agency, 'Post and answer comments', ?, ? FROM social_accounts WHERE platform = 'Facebook' AND handle = 'StateDAFSNews'`,
			e.ID, started, started+"T12:00:00Z"); err != nil {
			t.Fatal(err)
		}
	}

	tp.pass(t)
	eventually(t, "the first pass's mail", func() bool { return tp.queued(t) == 0 })
	for _, e := range []*app.Employee{jose, lan} {
		got := agencyMessages(ms, e.Email)
		if len(got) != 1 || !strings.Contains(got[0], "Subject: Please sign: Authorized poster acknowledgment: posting for your agency") ||
			!strings.Contains(got[0], "You are authorized to post for your agency") {
			t.Fatalf("%s: %d agency-use invitations: %.400q", e.FullName, len(got), got)
		}
	}
	due := today.AddDate(0, 0, 6).Format(app.DateLayout)
	if n := tp.count(t, `SELECT COUNT(*) FROM assignments a JOIN cycles c ON c.id = a.cycle_id
		WHERE c.kind = 'agency-use' AND a.employee_id IN (?, ?) AND a.due_on = ? AND a.active = 1`, jose.ID, lan.ID, due); n != 2 {
		t.Fatalf("%d assignments due %s", n, due)
	}

	// Lan's authorization is revoked; the invitations are a day old (moved
	// back rather than moving the clock, which on December 31 would open
	// the next year's cycle and start over with new invitations).
	if _, err := raw.Exec(`INSERT INTO authorization_ends (authorization_id, reason, at)
		SELECT id, 'revoked', ? FROM poster_authorizations WHERE employee_id = ?`, today.UTC().Format("2006-01-02T15:04:05Z"), lan.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE outbox SET created_at = ? WHERE kind = 'invitation'`,
		today.AddDate(0, 0, -1).UTC().Format("2006-01-02T15:04:05Z")); err != nil {
		t.Fatal(err)
	}
	tp.pass(t)
	eventually(t, "the second pass's mail", func() bool { return tp.queued(t) == 0 })
	got := agencyMessages(ms, jose.Email)
	if len(got) != 2 || !strings.Contains(got[1], "Subject: Reminder: Authorized poster acknowledgment: posting for your agency") ||
		!strings.Contains(got[1], "in 6 days") {
		t.Fatalf("José: %d agency-use messages, the last %.600q", len(got), got[len(got)-1])
	}
	if got := agencyMessages(ms, lan.Email); len(got) != 1 {
		t.Fatalf("Lan, no longer authorized, got %d agency-use messages", len(got))
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM assignments a JOIN cycles c ON c.id = a.cycle_id
		WHERE c.kind = 'agency-use' AND a.employee_id = ? AND a.active = 0`, lan.ID); n != 1 {
		t.Fatal("the assignment of someone no longer authorized is still active")
	}
}

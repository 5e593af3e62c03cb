package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The Social Media Supervisors and the registry of agency accounts through
// HTTP: who designates and ends supervisors, who sees and changes which
// agency's accounts, every bad input refused with nothing changed, the
// CSV for the central IT office, and the review reminder by e-mail.

// registryCounts sums the rows every registry write adds.
func registryCounts(t *testing.T, tp *testPortal) int {
	t.Helper()
	return tp.count(t, `SELECT (SELECT COUNT(*) FROM supervisor_designations) + (SELECT COUNT(*) FROM agency_supervisors) +
		(SELECT COUNT(*) FROM social_accounts) + (SELECT COUNT(*) FROM social_account_changes) + (SELECT COUNT(*) FROM audit_events)`)
}

// accountID is the id of the demo account with this handle.
func accountID(t *testing.T, tp *testPortal, handle string) int64 {
	t.Helper()
	id := int64(tp.count(t, `SELECT id FROM social_accounts WHERE handle = ?`, handle))
	if id == 0 {
		t.Fatalf("no account %s", handle)
	}
	return id
}

// accountForm is a valid account form, with pairs of fields to change.
func accountForm(tp *testPortal, kv ...string) url.Values {
	today := tp.DB.Now().In(tp.Config.TimeZone)
	f := form("platform", "Threads", "handle", "StateDAFSThreads", "url", "https://www.threads.net/@StateDAFSThreads",
		"purpose", "Short news items", "terms_accepted_by", "Margaret Thibodeau", "terms_accepted_on", today.AddDate(0, 0, -3).Format("2006-01-02"),
		"archive_method", "Weekly capture by the archiving service", "status", "active", "review_on", today.AddDate(1, 0, 0).Format("2006-01-02"))
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func signedIn(t *testing.T, tp *testPortal, number string) *client {
	t.Helper()
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, number))
	return c
}

func TestSupervisorDesignationPages(t *testing.T) {
	tp := startTestPortal(t)
	admin := signedIn(t, tp, "1003")
	t.Run("the list the central IT office keeps: who, which agency, since when", func(t *testing.T) {
		r := admin.get("/admin/supervisors")
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		mustContain(t, r.Body, dafs, "Łukasz Wiśniewski", "(1009)", dhhs, "Laura Gagnon", "No supervisor")
	})
	refusals := []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"someone of another agency", form("agency", dafs, "employee_number", "2001", "reason", "letter"), "employee_number", "works for " + dhhs},
		{"nobody with that number", form("agency", dafs, "employee_number", "9999", "reason", "letter"), "employee_number", "Nobody on the roster has employee number 9999"},
		{"no reason", form("agency", dafs, "employee_number", "1004", "reason", " "), "reason", "Give the reason"},
		{"an agency not on the roster", form("agency", "Ministry of Silly Walks", "employee_number", "1004", "reason", "letter"), "agency", "Choose the agency"},
		{"the supervisor again", form("agency", dafs, "employee_number", "1009", "reason", "letter"), "employee_number", "already the Social Media Supervisor"},
		{"the administrator themselves", form("agency", dafs, "employee_number", "1003", "reason", "letter"), "employee_number", "You cannot designate yourself"},
	}
	for _, c := range refusals {
		t.Run("refuses "+c.name+" and changes nothing", func(t *testing.T) {
			before := registryCounts(t, tp)
			wantFieldError(t, admin.post("/admin/supervisors", c.form), c.field, c.msg)
			if registryCounts(t, tp) != before {
				t.Fatal("a refused designation changed rows")
			}
		})
	}
	t.Run("a roster move to another agency ends the designation, and HR sees it", func(t *testing.T) {
		hr := signedIn(t, tp, "1002")
		applyRoster(t, hr, previewRoster(t, hr, "move.csv", tp.rosterFile(t, []string{"1009"}, map[string]map[string]string{"1009": {"agency": dhhs}})))
		if n := tp.count(t, `SELECT COUNT(*) FROM agency_supervisors WHERE agency = ?`, dafs); n != 0 {
			t.Fatal("DAFS still has a supervisor who moved to DHHS")
		}
		r := hr.get("/hr/audit")
		mustContain(t, r.Body, "ended the designation of Łukasz Wiśniewski (1009) as Social Media Supervisor, after a roster change")
		mustContain(t, admin.get("/admin/supervisors").Body, "The roster moved them to "+dhhs, "The portal (a roster change)")
		if r := signedIn(t, tp, "1009").get("/accounts"); r.Status != 403 {
			t.Fatalf("the former supervisor opens /accounts: %d", r.Status)
		}
	})
	t.Run("designating someone else: the new supervisor has the registry", func(t *testing.T) {
		before := tp.count(t, `SELECT COUNT(*) FROM supervisor_designations`)
		r := admin.post("/admin/supervisors", form("agency", dafs, "employee_number", "1004", "reason", "named by the agency head"))
		if r.Status != 303 {
			t.Fatalf("status %d", r.Status)
		}
		if tp.count(t, `SELECT COUNT(*) FROM supervisor_designations`) != before+1 {
			t.Fatal("no designation row")
		}
		sup := signedIn(t, tp, "1004")
		mustContain(t, sup.get("/accounts").Body, "StateDAFSNews")
		mustContain(t, sup.get("/").Body, "the accounts you supervise", "StateDAFSNews", `href="/accounts"`)
		mustContain(t, admin.get("/hr/audit").Body, "designated François Lévesque (1004) as their agency")
	})
	t.Run("ending a designation: a reason, then nothing left to end", func(t *testing.T) {
		before := registryCounts(t, tp)
		wantFieldError(t, admin.post("/admin/supervisors/end", form("agency", dhhs, "end_reason", "")), "end_reason", "Give the reason")
		if registryCounts(t, tp) != before {
			t.Fatal("a refused end changed rows")
		}
		if r := admin.post("/admin/supervisors/end", form("agency", dhhs, "end_reason", "left the post")); r.Status != 303 {
			t.Fatalf("status %d", r.Status)
		}
		if signedIn(t, tp, "2007").get("/accounts").Status != 403 {
			t.Fatal("Laura Gagnon still opens /accounts")
		}
		wantFieldError(t, admin.post("/admin/supervisors/end", form("agency", dhhs, "end_reason", "again")), "end_agency", "has no Social Media Supervisor")
	})
}

func TestAccountRegistryPages(t *testing.T) {
	tp := startTestPortal(t)
	fb, yt, ig := accountID(t, tp, "StateDAFSNews"), accountID(t, tp, "StateDAFS"), accountID(t, tp, "StateHealthTips")
	sup, dhhsSup, hr, admin := signedIn(t, tp, "1009"), signedIn(t, tp, "2007"), signedIn(t, tp, "1002"), signedIn(t, tp, "1003")
	scopedID := tp.employee(t, "1010").ID
	if err := tp.Handler.Scopes.SetScope(context.Background(), scopedID, []string{dhhs}, nil); err != nil {
		t.Fatal(err)
	}
	scoped := signedIn(t, tp, "1010")

	t.Run("each viewer sees their own agencies' accounts", func(t *testing.T) {
		for _, c := range []struct {
			who       string
			c         *client
			see, miss []string
		}{
			{"the DAFS supervisor", sup, []string{"StateDAFSNews", "StateDAFS", "Dormant", "Review overdue"}, []string{"StateHealthTips"}},
			{"the DHHS supervisor", dhhsSup, []string{"StateHealthTips"}, []string{"StateDAFS"}},
			{"HR for every agency", hr, []string{"StateDAFSNews", "StateDAFS", "StateHealthTips"}, nil},
			{"HR limited to DHHS", scoped, []string{"StateHealthTips"}, []string{"StateDAFS"}},
			{"an administrator", admin, []string{"StateDAFSNews", "StateHealthTips"}, nil},
		} {
			r := c.c.get("/accounts")
			if r.Status != 200 {
				t.Fatalf("%s: status %d", c.who, r.Status)
			}
			mustContain(t, r.Body, c.see...)
			for _, m := range c.miss {
				if strings.Contains(r.Body, m) {
					t.Errorf("%s sees %s", c.who, m)
				}
			}
		}
		if r := signedIn(t, tp, "1005").get("/accounts"); r.Status != 403 {
			t.Errorf("an employee opens /accounts: %d", r.Status)
		}
	})
	t.Run("the supervisor's home page and navigation show their accounts", func(t *testing.T) {
		r := sup.get("/")
		mustContain(t, r.Body, "the accounts you supervise", "/accounts/"+itoa(fb), "StateDAFS", "Review overdue since", `<a href="/accounts"`)
	})
	t.Run("an account's page says who may post on it, and who no longer may", func(t *testing.T) {
		r := sup.get("/accounts/" + itoa(fb))
		mustContain(t, r.Body, "Authorized posters", "Zoë Côté", "(1005)", "Post news and service updates", "Until revoked", "Authorize someone or revoke")
		if r := hr.get("/accounts/" + itoa(fb)); !strings.Contains(r.Body, "Zoë Côté") || strings.Contains(r.Body, "Authorize someone") {
			t.Error("HR reads who may post on the account, without a way to authorize anyone")
		}
		if r := sup.get("/accounts/" + itoa(yt)); !strings.Contains(r.Body, "No one has been authorized to post on this account.") || strings.Contains(r.Body, "Zoë") {
			t.Error("the dormant account, with nobody authorized, lists someone")
		}
		id := int64(tp.count(t, `SELECT id FROM poster_authorizations WHERE account_id = ?`, fb))
		if r := sup.post("/posters/"+itoa(id)+"/revoke", form("reason", "moved to another team")); r.Status != 303 {
			t.Fatalf("revoke: status %d", r.Status)
		}
		mustContain(t, sup.get("/accounts/"+itoa(fb)).Body, "Zoë Côté", "Ended", "moved to another team")
	})
	t.Run("another agency's account is out of reach by id, and nothing changes", func(t *testing.T) {
		before := registryCounts(t, tp)
		for _, c := range []struct {
			who  string
			c    *client
			path string
			post bool
			want int
		}{
			{"the DHHS supervisor", dhhsSup, "/accounts/" + itoa(fb), false, 404},
			{"the DHHS supervisor", dhhsSup, "/accounts/" + itoa(fb) + "/edit", false, 404},
			{"the DHHS supervisor", dhhsSup, "/accounts/" + itoa(fb), true, 404},
			{"the DAFS supervisor", sup, "/accounts/" + itoa(ig), true, 404},
			{"HR limited to DHHS", scoped, "/accounts/" + itoa(yt), false, 404},
			{"HR", hr, "/accounts/" + itoa(fb), true, 403},
			{"HR", hr, "/accounts/new", false, 403},
			{"HR", hr, "/accounts", true, 403},
		} {
			var r response
			if c.post {
				r = c.c.post(c.path, accountForm(tp, "status", "closed", "handle", "Taken"))
			} else {
				r = c.c.get(c.path)
			}
			if r.Status != c.want {
				t.Errorf("%s %s (post %v): status %d, want %d", c.who, c.path, c.post, r.Status, c.want)
			}
		}
		if registryCounts(t, tp) != before {
			t.Fatal("a refused request changed rows")
		}
		if r := hr.get("/accounts/" + itoa(fb)); r.Status != 200 || strings.Contains(r.Body, "/edit") {
			t.Errorf("HR reads the account (status %d) without a way to change it", r.Status)
		}
	})
	t.Run("filters by status and agency; a made-up filter is refused", func(t *testing.T) {
		r := sup.get("/accounts?status=dormant")
		mustContain(t, r.Body, "StateDAFS<")
		if strings.Contains(r.Body, "StateDAFSNews") {
			t.Error("the dormant filter lists an active account")
		}
		wantFieldError(t, sup.get("/accounts?status=archived"), "status", "Choose a status from the list")
		wantFieldError(t, sup.get("/accounts?agency="+url.QueryEscape(dhhs)), "agency", "Choose an agency from the list")
	})
	refusals := []struct {
		field, msg string
		kv         []string
	}{
		{"url", "full https:// address", []string{"url", "http://www.threads.net/@x"}},
		{"platform", "Enter the platform", []string{"platform", ""}},
		{"handle", "already has a Facebook account with the handle statedafsnews", []string{"platform", "Facebook", "handle", "statedafsnews"}},
		{"handle", "without spaces", []string{"handle", "State DAFS"}},
		{"purpose", "what the agency uses the account for", []string{"purpose", ""}},
		{"terms_accepted_by", "who accepted", []string{"terms_accepted_by", ""}},
		{"terms_accepted_on", "cannot be in the future", []string{"terms_accepted_on", "2999-01-01"}},
		{"archive_method", "public records", []string{"archive_method", ""}},
		{"status-active", "active, dormant or closed", []string{"status", "archived"}},
		{"review_on", "real date", []string{"review_on", "2027-02-30"}},
	}
	for _, c := range refusals {
		t.Run("refuses a bad "+c.field+" and changes nothing", func(t *testing.T) {
			before := registryCounts(t, tp)
			wantFieldError(t, sup.post("/accounts", accountForm(tp, c.kv...)), c.field, c.msg)
			if registryCounts(t, tp) != before {
				t.Fatal("a refused account changed rows")
			}
			wantFieldError(t, sup.post("/accounts/"+itoa(yt), accountForm(tp, c.kv...)), c.field, c.msg)
			if registryCounts(t, tp) != before {
				t.Fatal("a refused change changed rows")
			}
		})
	}
	var added int64
	t.Run("a supervisor adds an account to their own agency, whatever the form says", func(t *testing.T) {
		r := sup.post("/accounts", accountForm(tp, "agency", dhhs))
		if r.Status != 303 || !strings.HasPrefix(r.Location, "/accounts/") {
			t.Fatalf("status %d location %q", r.Status, r.Location)
		}
		added = accountID(t, tp, "StateDAFSThreads")
		if got := tp.text(t, `SELECT agency FROM social_accounts WHERE id = ?`, added); got != dafs {
			t.Fatalf("the account is %s's", got)
		}
		mustContain(t, sup.get(r.Location).Body, "Threads StateDAFSThreads", "Łukasz Wiśniewski", "Platform: “Threads”")
		mustContain(t, hr.get("/hr/audit").Body, "added the agency account "+dafs+" Threads StateDAFSThreads to the registry")
	})
	t.Run("a change is recorded in words", func(t *testing.T) {
		r := sup.post("/accounts/"+itoa(added), accountForm(tp, "status", "dormant"))
		if r.Status != 303 {
			t.Fatalf("status %d", r.Status)
		}
		mustContain(t, sup.get("/accounts/"+itoa(added)).Body, "Status: Active changed to Dormant")
		if n := tp.count(t, `SELECT COUNT(*) FROM social_account_changes WHERE account_id = ?`, added); n != 2 {
			t.Fatalf("%d change rows", n)
		}
	})
	t.Run("an administrator chooses the agency", func(t *testing.T) {
		before := registryCounts(t, tp)
		wantFieldError(t, admin.post("/accounts", accountForm(tp, "handle", "MDOTRoads", "agency", "")), "agency", "Choose the agency")
		if registryCounts(t, tp) != before {
			t.Fatal("a refused account changed rows")
		}
		if r := admin.post("/accounts", accountForm(tp, "handle", "MDOTRoads", "agency", mdot, "purpose", "=HYPERLINK(\"x\")")); r.Status != 303 {
			t.Fatalf("status %d", r.Status)
		}
	})
	t.Run("the CSV for the central IT office", func(t *testing.T) {
		if r := admin.post("/admin/supervisors", form("agency", dol, "employee_number", "4001", "reason", "letter")); r.Status != 303 {
			t.Fatalf("designate DOL's supervisor: %d", r.Status)
		}
		exports := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'accounts.exported'`)
		r := hr.get("/accounts.csv")
		if r.Status != 200 || !strings.HasPrefix(r.Body, "\ufeffagency,supervisor,") {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
		mustContain(t, r.Body,
			dafs+",Łukasz Wiśniewski,1009,", "Facebook,StateDAFSNews,https://www.facebook.com/StateDAFSNews",
			"YouTube,StateDAFS,https://www.youtube.com/@StateDAFS", "Dormant", ",yes\n",
			dhhs+",Laura Gagnon,2007,", "StateHealthTips",
			`"'=HYPERLINK(""x"")"`, // no formula reaches a spreadsheet
			dol+",Steven Paradis,4001,")
		if !strings.Contains(r.Body, ",,,,,,,,,,\n") {
			t.Error("DOL, with a supervisor and no account, has no row of its own")
		}
		if tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'accounts.exported'`) != exports+1 {
			t.Error("the export is not an audit event")
		}
		own := sup.get("/accounts.csv").Body
		if strings.Contains(own, "StateHealthTips") || strings.Contains(own, dol) || !strings.Contains(own, "StateDAFSNews") {
			t.Errorf("the DAFS supervisor's CSV:\n%s", own)
		}
	})
}

// The review reminder: an account past its review date gets its agency's
// supervisor one mail through the outbox, whatever the passes; a new
// review date that passes again, a new one.
func TestAccountReviewReminder(t *testing.T) {
	ms := startMailServer(t)
	tp := startTestPortal(t, withSMTP(ms))
	sup := tp.employee(t, "1009")
	reviewMails := func() int {
		n := 0
		for _, raw := range ms.messagesTo(sup.Email) {
			if strings.HasPrefix(subjectOf(t, raw), "Review due: YouTube StateDAFS") {
				n++
			}
		}
		return n
	}
	tp.pass(t)
	eventually(t, "the review reminder to the DAFS supervisor", func() bool { return reviewMails() == 1 })
	tp.pass(t)
	tp.pass(t)
	if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'account_review'`); n != 1 {
		t.Fatalf("%d review reminders queued after three passes, want 1", n)
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'account_review' AND to_addr <> ?`, sup.Email); n != 0 {
		t.Fatal("a review reminder went to someone other than the supervisor")
	}
	// The supervisor sets a new date, which passes too.
	c := signedIn(t, tp, "1009")
	past := tp.DB.Now().In(tp.Config.TimeZone).AddDate(0, 0, -2).Format("2006-01-02")
	f := accountForm(tp, "platform", "YouTube", "handle", "StateDAFS", "url", "https://www.youtube.com/@StateDAFS", "status", "dormant", "review_on", past)
	if r := c.post("/accounts/"+itoa(accountID(t, tp, "StateDAFS")), f); r.Status != 303 {
		t.Fatalf("change the review date: %d", r.Status)
	}
	tp.pass(t)
	eventually(t, "a second reminder for the new date", func() bool { return reviewMails() == 2 })
	for _, raw := range ms.messagesTo(sup.Email) {
		if strings.HasPrefix(subjectOf(t, raw), "Review due") {
			mustContain(t, strings.ReplaceAll(strings.ReplaceAll(raw, "=\r\n", ""), "\r\n", "\n"), "Social Media Supervisor", "/accounts/")
		}
	}

	// A reminder queued while the mail is held back, for an account then
	// reviewed (a new date) or closed, is skipped when its turn comes.
	// The dates are counted from one day: the clock moves on two hours
	// a case, and near midnight "three days ago" then "four days ago"
	// counted from two different days would be the same date.
	id := accountID(t, tp, "StateDAFS")
	base := tp.DB.Now().In(tp.Config.TimeZone)
	for i, c2 := range []struct{ what, status, review string }{
		{"reviewed", "dormant", tp.DB.Now().In(tp.Config.TimeZone).AddDate(1, 0, 0).Format("2006-01-02")},
		{"closed", "closed", ""},
	} {
		t.Run("a reminder for an account "+c2.what+" before it went out is skipped", func(t *testing.T) {
			c := signedIn(t, tp, "1009") // a new session: the clock moves on
			due := base.AddDate(0, 0, -3-i).Format("2006-01-02")
			f := accountForm(tp, "platform", "YouTube", "handle", "StateDAFS", "url", "https://www.youtube.com/@StateDAFS", "status", "dormant", "review_on", due)
			if r := c.post("/accounts/"+itoa(id), f); r.Status != 303 {
				t.Fatalf("set a past review date: %d", r.Status)
			}
			ms.stop() // hold the mail back
			tp.pass(t)
			if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'account_review' AND status = 'queued' AND subject = ?`, due); n != 1 {
				t.Fatalf("%d reminders queued for the review date %s", n, due)
			}
			review := c2.review
			if review == "" {
				review = due
			}
			f.Set("status", c2.status)
			f.Set("review_on", review)
			if r := c.post("/accounts/"+itoa(id), f); r.Status != 303 {
				t.Fatalf("the account %s: %d", c2.what, r.Status)
			}
			tp.failedOnce(t)
			ms.start()
			tp.Clock.Advance(2 * time.Hour) // past any back-off
			tp.Worker.Kick()
			eventually(t, "the queue", func() bool { return tp.queued(t) == 0 })
			if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'account_review' AND status = 'skipped' AND subject = ?`, due); n != 1 {
				t.Fatalf("%d reminders skipped, want 1", n)
			}
			if n := reviewMails(); n != 2 {
				t.Fatalf("%d review mails sent, want still 2", n)
			}
		})
	}
}

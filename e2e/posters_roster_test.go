package e2e

// A poster's authorizations end on their own when the roster deactivates
// them or moves them to another agency (the web upload and the command
// line), and the supervisor, or HR where there is none, is told by mail
// which accounts need a new password and second factor. Authorizations
// ending soon are reminded, once, by the reminder pass.

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"

	"portal/app"
	"portal/server"
)

// plainText is the decoded text/plain part of a raw message.
func plainText(t *testing.T, raw string) string {
	t.Helper()
	m, err := netmail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var find func(h map[string][]string, body io.Reader) string
	find = func(h map[string][]string, body io.Reader) string {
		get := func(k string) string {
			if v := h[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		ct, params, _ := mime.ParseMediaType(get("Content-Type"))
		if strings.HasPrefix(ct, "multipart/") {
			r := multipart.NewReader(body, params["boundary"])
			for {
				p, err := r.NextRawPart()
				if err != nil {
					return ""
				}
				if s := find(p.Header, p); s != "" {
					return s
				}
			}
		}
		if ct != "" && ct != "text/plain" {
			return ""
		}
		switch strings.ToLower(get("Content-Transfer-Encoding")) {
		case "quoted-printable":
			body = quotedprintable.NewReader(body)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return find(m.Header, m.Body)
}

// authorize gives number an authorization on the account through the store,
// as the agency's supervisor would.
func (tp *testPortal) authorize(t *testing.T, agency, number string, account int64, endsOn string) {
	t.Helper()
	actor := tp.employee(t, "1009").ID
	if _, err := tp.Handler.Authorizations.Authorize(t.Context(), &app.AuthorizationRequest{Agency: agency, EmployeeNumber: number,
		AccountIDs: []int64{account}, StartsOn: tp.DB.Today(), EndsOn: endsOn, Scope: "Post news", ActorID: actor}); err != nil {
		t.Fatalf("authorize %s: %v", number, err)
	}
}

func TestPosterAuthorizationsEndWithTheRoster(t *testing.T) {
	ms := startMailServer(t)
	tp := startTestPortal(t, withSMTP(ms))
	tp.designateSupervisor(t, dafs, "1009")
	facebook := tp.accountID(t, "Facebook", "StateDAFSNews")
	instagram := tp.accountID(t, "Instagram", "StateHealthTips")
	tp.writeSQL(t, `INSERT INTO social_accounts (agency, platform, handle, url, purpose, terms_accepted_by, terms_accepted_on,
		archive_method, status, review_on, created_at, updated_at) VALUES (?, 'Threads', 'StateDAFS', 'https://threads.example/StateDAFS',
		'news', 'someone', '2020-01-01', 'export', 'active', '2027-01-01', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z')`, dafs)
	threads := tp.accountID(t, "Threads", "StateDAFS")
	supervisor := tp.employee(t, "1009")
	hr := tp.as(t, "1002")

	t.Run("deactivated by a web upload: both accounts end, the supervisor is told which passwords to change", func(t *testing.T) {
		tp.authorize(t, dafs, "1006", facebook, "")
		tp.authorize(t, dafs, "1006", threads, "")
		jose := tp.employee(t, "1006")
		if !jose.AuthorizedPoster {
			t.Fatal("José is not a poster")
		}
		var numbers []string
		for _, e := range tp.employees(t, `e.active = 1 AND e.employee_number <> '1006'`) {
			numbers = append(numbers, e.EmployeeNumber)
		}
		hr.get("/hr/roster")
		r := hr.upload("/hr/roster", "file", "full.csv", tp.rosterFile(t, numbers, nil), map[string]string{"deactivate_missing": "yes"})
		if r.Status != 200 {
			t.Fatalf("preview: status %d", r.Status)
		}
		applyRoster(t, hr, r.Body)
		if tp.employee(t, "1006").Active {
			t.Fatal("José is still active")
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM authorization_ends x JOIN poster_authorizations pa ON pa.id = x.authorization_id
			WHERE pa.employee_id = ? AND x.reason = 'deactivated' AND x.actor_id IS NULL`, jose.ID); n != 2 {
			t.Fatalf("%d authorizations ended as deactivated, want 2", n)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'poster.authorization_ended' AND subject_id = ? AND actor_id IS NULL`, jose.ID); n != 2 {
			t.Fatalf("%d audit events, want 2", n)
		}
		eventually(t, "the mail to the supervisor", func() bool { return ms.count(supervisor.Email) >= 1 })
		var text string
		for _, m := range ms.messagesTo(supervisor.Email) {
			if strings.Contains(subjectOf(t, m), "Change the passwords") {
				text = plainText(t, m)
			}
		}
		for _, want := range []string{"José Núñez (employee 1006) was deactivated on the roster", "Facebook StateDAFSNews", "Threads StateDAFS",
			"password", "second factor", "Social Media Supervisor of " + dafs, tp.BaseURL + "/posters"} {
			if !strings.Contains(text, want) {
				t.Errorf("the mail does not say %q:\n%s", want, text)
			}
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'poster_ended'`); n != 1 {
			t.Errorf("%d notices queued, want one for both accounts", n)
		}
	})

	t.Run("moved to another agency by the command line; without a supervisor, HR is told", func(t *testing.T) {
		// The demo designates DHHS's supervisor; an administrator ends it first.
		if err := tp.Handler.Supervisors.EndDesignation(t.Context(), dhhs, "left the post", tp.employee(t, "1003").ID); err != nil {
			t.Fatal(err)
		}
		tp.authorize(t, dhhs, "2008", instagram, "")
		tp.authorize(t, dafs, "1007", facebook, "")
		lan, xiaoming := tp.employee(t, "1007"), tp.employee(t, "2008")
		edits := map[string]map[string]string{"1007": {"agency": dhhs, "department": cdc}, "2008": {"agency": dafs, "department": oit}}
		if err := importCSV(t, tp, string(tp.rosterFile(t, []string{"1007", "2008"}, edits))); err != nil {
			t.Fatal(err)
		}
		for _, p := range []*app.Employee{lan, xiaoming} {
			if n := tp.count(t, `SELECT COUNT(*) FROM authorization_ends x JOIN poster_authorizations pa ON pa.id = x.authorization_id
				WHERE pa.employee_id = ? AND x.reason = 'transferred' AND x.actor_id IS NULL`, p.ID); n != 1 {
				t.Errorf("%s: %d authorizations ended as transferred", p.FullName, n)
			}
			if tp.employee(t, p.EmployeeNumber).AuthorizedPoster {
				t.Errorf("%s is still a poster", p.FullName)
			}
		}
		eventually(t, "the mail about Lan to the supervisor", func() bool { return ms.count(supervisor.Email) >= 2 })
		found := false
		for _, m := range ms.messagesTo(supervisor.Email) {
			if s := plainText(t, m); strings.Contains(s, "Nguyễn Thị Lan") {
				found = strings.Contains(s, "moved to another agency on the roster ("+dhhs+")") && strings.Contains(s, "Facebook StateDAFSNews")
			}
		}
		if !found {
			t.Error("the DAFS supervisor was not told about Nguyễn Thị Lan's Facebook account")
		}
		// DHHS has no supervisor: HR who see DHHS are told (Hannah Roy, HR
		// for every agency).
		hannah := tp.employee(t, "1002")
		eventually(t, "the mail about 王小明 to HR", func() bool {
			for _, m := range ms.messagesTo(hannah.Email) {
				if s := plainText(t, m); strings.Contains(s, "王小明") && strings.Contains(s, "Instagram StateHealthTips") &&
					strings.Contains(s, "has no Social Media Supervisor in the portal") {
					return true
				}
			}
			return false
		})
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'poster_ended' AND employee_id = ?`, supervisor.ID); n != 2 {
			t.Errorf("the DAFS supervisor got %d notices, want 2 (José, Lan): not the one about DHHS", n)
		}
	})

	t.Run("an authorization ending within two weeks is reminded once, to the poster and the supervisor", func(t *testing.T) {
		tp.authorize(t, dafs, "1008", facebook, tp.DB.Now().In(tp.Config.TimeZone).AddDate(0, 0, 10).Format(app.DateLayout))
		tp.authorize(t, dafs, "1008", threads, tp.DB.Now().In(tp.Config.TimeZone).AddDate(0, 0, 20).Format(app.DateLayout))
		siobhan := tp.employee(t, "1008")
		sum, err := tp.Reminders.RunPass(t.Context(), tp.DB.Now(), tp.Config.TimeZone, tp.Config.Schedule, false)
		if err != nil {
			t.Fatal(err)
		}
		if sum.AuthorizationsEnding != 2 || tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'poster_ending'`) != 2 {
			t.Fatalf("%d reminders, want 2 (Siobhán and the supervisor, for Facebook only)", sum.AuthorizationsEnding)
		}
		tp.Worker.Kick()
		for _, who := range []struct{ email, subject string }{
			{siobhan.Email, "Your authorization to post on Facebook StateDAFSNews ends"},
			{supervisor.Email, "Siobhán O'Brien's authorization on Facebook StateDAFSNews ends"},
		} {
			eventually(t, "the reminder to "+who.email, func() bool {
				for _, m := range ms.messagesTo(who.email) {
					if strings.Contains(subjectOf(t, m), who.subject) {
						return true
					}
				}
				return false
			})
		}
		// Again, by the operator's command: nothing more.
		tp.commandEnv(t)
		var out bytes.Buffer
		if err := server.Run(t.Context(), []string{"remind"}, &out, &out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "poster authorizations ending soon") || tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'poster_ending'`) != 2 {
			t.Errorf("a second pass reminded again: %s", out.String())
		}
	})
}

package e2e

// Poster authorizations and Terms of Comment through HTTP: a supervisor
// authorizes and revokes on their own agency only, every bad input is
// refused with nothing changed, the poster role follows the authorization,
// and the Terms of Comment reach the poster and their receipt is evidence.

import (
	"strings"
	"testing"

	"portal/app"
)

// writeSQL runs statements on the test portal's database file, for what
// another change of the portal manages (supervisors, the account
// registry) or what a test needs set up directly.
func (tp *testPortal) writeSQL(t testing.TB, query string, args ...any) {
	t.Helper()
	if err := tp.trySQL(t, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// trySQL runs a statement on the database file and returns its error.
func (tp *testPortal) trySQL(t testing.TB, query string, args ...any) error {
	t.Helper()
	db := evRaw(t, tp.DB.Path)
	defer db.Close()
	_, err := db.Exec(query, args...)
	return err
}

// designateSupervisor makes number the agency's Social Media Supervisor,
// unless the agency has one (the demo may designate them itself).
func (tp *testPortal) designateSupervisor(t testing.TB, agency, number string) {
	t.Helper()
	if tp.count(t, `SELECT COUNT(*) FROM agency_supervisors WHERE agency = ?`, agency) > 0 {
		return
	}
	id := tp.employee(t, number).ID
	at := tp.DB.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	tp.writeSQL(t, `INSERT INTO supervisor_designations (agency, employee_id, action, actor_id, at) VALUES (?, ?, 'designate', NULL, ?)`, agency, id, at)
	tp.writeSQL(t, `INSERT INTO agency_supervisors (agency, employee_id, designation_id, since)
		VALUES (?, ?, (SELECT MAX(id) FROM supervisor_designations), ?)`, agency, id, at)
}

// accountID is the id of an account of the registry by platform and handle.
func (tp *testPortal) accountID(t testing.TB, platform, handle string) int64 {
	t.Helper()
	id := tp.count(t, `SELECT COALESCE(MAX(id), 0) FROM social_accounts WHERE platform = ? AND handle = ?`, platform, handle)
	if id == 0 {
		t.Fatalf("no account %s %s", platform, handle)
	}
	return int64(id)
}

// posterRows counts what an authorization or a revocation writes.
func (tp *testPortal) posterRows(t testing.TB) [4]int {
	return [4]int{tp.count(t, `SELECT COUNT(*) FROM poster_authorizations`), tp.count(t, `SELECT COUNT(*) FROM authorization_ends`),
		tp.count(t, `SELECT COUNT(*) FROM terms_deliveries`), tp.count(t, `SELECT COUNT(*) FROM audit_events`)}
}

func (tp *testPortal) as(t testing.TB, number string) *client {
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, number))
	return c
}

func TestPosterAuthorization(t *testing.T) {
	tp := startTestPortal(t)
	tp.designateSupervisor(t, dafs, "1009")
	tp.designateSupervisor(t, dhhs, "2007")
	facebook := tp.accountID(t, "Facebook", "StateDAFSNews")
	youtube := tp.accountID(t, "YouTube", "StateDAFS")
	instagram := tp.accountID(t, "Instagram", "StateHealthTips")
	tp.writeSQL(t, `INSERT INTO social_accounts (agency, platform, handle, url, purpose, terms_accepted_by, terms_accepted_on,
		archive_method, status, review_on, created_at, updated_at) VALUES (?, 'X', 'StateDAFSOld', 'https://x.example/StateDAFSOld',
		'old news', 'someone', '2020-01-01', 'export', 'closed', '2027-01-01', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z')`, dafs)
	closed := tp.accountID(t, "X", "StateDAFSOld")
	dafsTerms := int64(tp.count(t, `SELECT id FROM terms_of_comment WHERE agency = ? AND version = 1`, dafs))
	today := tp.DB.Now().In(tp.Config.TimeZone).Format(app.DateLayout)
	day := func(n int) string { return tp.DB.Now().In(tp.Config.TimeZone).AddDate(0, 0, n).Format(app.DateLayout) }
	sup := tp.as(t, "1009")
	sup.get("/posters/new")

	t.Run("the demo's Zoë is a poster by her authorization, not by the roster", func(t *testing.T) {
		zoe, err := tp.Handler.Employees.FindEmployeeByID(t.Context(), tp.employee(t, "1005").ID)
		if err != nil {
			t.Fatal(err)
		}
		if zoe.RosterPoster() || !zoe.AuthorizedPoster || !zoe.HasRole(app.RolePoster) {
			t.Fatalf("Zoë: roster poster %v, authorized %v", zoe.RosterPoster(), zoe.AuthorizedPoster)
		}
		home := tp.as(t, "1005").get("/")
		mustContain(t, home.Body, "Read your agency's Terms of Comment, version 1", "/my/terms/"+itoa(dafsTerms))
	})

	good := func(kv ...string) map[string][]string {
		f := form("employee", "1006", "accounts", itoa(facebook), "starts_on", today, "scope", "Post news")
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				f.Del(kv[i])
				continue
			}
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	t.Run("bad input is refused with its message and changes nothing", func(t *testing.T) {
		tp.writeSQL(t, `UPDATE employees SET active = 0 WHERE employee_number = '1012'`)
		for _, c := range []struct {
			name, field, msg string
			form             map[string][]string
		}{
			{"unknown person", "employee", "No one on the roster has employee number 9999", good("employee", "9999")},
			{"a person of another agency", "employee", "is not on the roster of " + dafs, good("employee", "2008")},
			{"an inactive person", "employee", "is no longer on the active roster", good("employee", "1012")},
			{"no person", "employee", "Enter the employee number", good("employee", "")},
			{"no account chosen", "accounts", "Choose at least one account", good("accounts", "")},
			{"an account of another agency", "accounts", "is not an account of " + dafs, good("accounts", itoa(instagram))},
			{"an account that does not exist", "accounts", "is not an account of " + dafs, good("accounts", "999999")},
			{"a closed account", "accounts", "X StateDAFSOld is closed", good("accounts", itoa(closed))},
			{"a dormant account", "accounts", "YouTube StateDAFS is dormant", good("accounts", itoa(youtube))},
			{"an end before the start", "ends_on", "The end date must be after the start date", good("ends_on", day(-1))},
			{"an end on the start", "ends_on", "The end date must be after the start date", good("ends_on", today)},
			{"a start that is not a date", "starts_on", "Enter the start date as a date", good("starts_on", "2026-13-45")},
			{"no start", "starts_on", "Enter the start date as a date", good("starts_on", "")},
			{"an end that is not a date", "ends_on", "Enter the end date as a date", good("ends_on", "soon")},
			{"no scope", "scope", "Say what they may do", good("scope", "")},
			{"a scope too long", "scope", "at most 300 characters", good("scope", strings.Repeat("x", 301))},
			{"already authorized on that account", "accounts", "Zoë Côté is already authorized on Facebook StateDAFSNews", good("employee", "1005")},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := tp.posterRows(t)
				r := sup.post("/posters", c.form)
				wantFieldError(t, r, c.field, c.msg)
				if after := tp.posterRows(t); after != before {
					t.Errorf("rows changed: %v → %v", before, after)
				}
			})
		}
		tp.writeSQL(t, `UPDATE employees SET active = 1 WHERE employee_number = '1012'`)
	})

	var joseAuth int64
	t.Run("a supervisor authorizes someone of their agency: the terms in force go with it", func(t *testing.T) {
		jose := tp.employee(t, "1006")
		if jose.AuthorizedPoster {
			t.Fatal("José is a poster already")
		}
		audit := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'poster.authorized'`)
		r := sup.post("/posters", good("ends_on", day(60)))
		if r.Status != 303 || r.Location != "/posters" {
			t.Fatalf("status %d location %q: %s", r.Status, r.Location, r.Body)
		}
		joseAuth = int64(tp.count(t, `SELECT id FROM poster_authorizations WHERE employee_id = ? AND account_id = ? AND terms_id = ?
			AND granted_by = ? AND scope = 'Post news' AND starts_on = ? AND ends_on = ?`,
			jose.ID, facebook, dafsTerms, tp.employee(t, "1009").ID, today, day(60)))
		if joseAuth == 0 {
			t.Fatal("no authorization naming the terms in force")
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'poster.authorized' AND subject_id = ?`, jose.ID); n != 1 ||
			tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'poster.authorized'`) != audit+1 {
			t.Fatalf("audit events: %d", n)
		}
		if tp.count(t, `SELECT COUNT(*) FROM terms_deliveries WHERE terms_id = ? AND employee_id = ?`, dafsTerms, jose.ID) != 1 ||
			tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'terms' AND employee_id = ? AND text_body LIKE '%Comments are public records%'`, jose.ID) != 1 {
			t.Fatal("the Terms of Comment were not given to José")
		}
		if !tp.employee(t, "1006").AuthorizedPoster {
			t.Fatal("José is not a poster")
		}
		page := sup.get("/posters").Body
		mustContain(t, page, "José Núñez", "Facebook StateDAFSNews", "Post news", "Active", "Version 1 not confirmed yet")
	})

	var dhhsAuth int64
	t.Run("a supervisor cannot touch another agency's authorizations", func(t *testing.T) {
		dhhsSup := tp.as(t, "2007")
		dhhsSup.get("/posters/new")
		if r := dhhsSup.post("/posters", form("employee", "2008", "accounts", itoa(instagram), "starts_on", today, "scope", "Health tips")); r.Status != 303 {
			t.Fatalf("DHHS authorizes 2008: status %d", r.Status)
		}
		dhhsAuth = int64(tp.count(t, `SELECT id FROM poster_authorizations WHERE account_id = ?`, instagram))
		before := tp.posterRows(t)
		if r := sup.post("/posters/"+itoa(dhhsAuth)+"/revoke", form("reason", "mine now")); r.Status != 404 {
			t.Errorf("DAFS revokes DHHS's: status %d, want 404", r.Status)
		}
		if r := sup.post("/posters/99999/revoke", form("reason", "x")); r.Status != 404 {
			t.Errorf("an authorization that does not exist: status %d, want 404", r.Status)
		}
		if r := sup.post("/posters", form("employee", "2008", "accounts", itoa(instagram), "starts_on", today, "scope", "x")); r.Status != 422 {
			t.Errorf("DAFS authorizes on DHHS's account: status %d", r.Status)
		}
		if after := tp.posterRows(t); after != before {
			t.Errorf("rows changed: %v → %v", before, after)
		}
		if strings.Contains(dhhsSup.get("/posters").Body, "José Núñez") || strings.Contains(sup.get("/posters").Body, "王小明") {
			t.Error("a supervisor sees another agency's posters")
		}
		if r := dhhsSup.get("/terms/" + itoa(dafsTerms)); r.Status != 404 {
			t.Errorf("DHHS reads DAFS's terms page: status %d", r.Status)
		}
	})

	t.Run("HR sees every agency within their scope; the poster note on the person page", func(t *testing.T) {
		hr := tp.as(t, "1002")
		mustContain(t, hr.get("/posters").Body, "José Núñez", "王小明")
		tp.writeSQL(t, `INSERT INTO hr_scopes (employee_id, agency) VALUES (?, ?)`, tp.employee(t, "1010").ID, dhhs)
		scoped := tp.as(t, "1010").get("/posters").Body
		if !strings.Contains(scoped, "王小明") || strings.Contains(scoped, "José Núñez") {
			t.Error("an HR user limited to DHHS sees DAFS's posters, or not DHHS's")
		}
		if r := tp.as(t, "1010").get("/terms?agency=" + urlEscape(dafs)); r.Status != 404 {
			t.Errorf("an HR user limited to DHHS reads DAFS's terms: status %d", r.Status)
		}
		priya := hr.get("/hr/people/" + itoa(tp.employee(t, "2009").ID)).Body
		mustContain(t, priya, "poster from the roster file: authorize them on an account instead")
		// The roles page notes a roster poster among the people it lists.
		tp.writeSQL(t, `UPDATE employees SET roles = 'hr;poster' WHERE employee_number = '1010'`)
		mustContain(t, tp.as(t, "1003").get("/admin/roles").Body, "(poster from the roster file: authorize them on an account instead)")
		tp.writeSQL(t, `UPDATE employees SET roles = 'hr' WHERE employee_number = '1010'`)
		zoe := hr.get("/hr/people/" + itoa(tp.employee(t, "1005").ID)).Body
		mustContain(t, zoe, "authorized poster")
		if strings.Contains(zoe, "poster from the roster file") {
			t.Error("Zoë, a poster by authorization, has the roster note")
		}
	})

	t.Run("revoking needs a reason, ends the authorization and the poster role", func(t *testing.T) {
		before := tp.posterRows(t)
		r := sup.post("/posters/"+itoa(joseAuth)+"/revoke", form("reason", " "))
		if r.Status != 422 {
			t.Fatalf("no reason: status %d", r.Status)
		}
		wantFieldError(t, r, "reason-"+itoa(joseAuth), "Say why the authorization ends")
		if after := tp.posterRows(t); after != before {
			t.Fatalf("rows changed: %v → %v", before, after)
		}
		if r := sup.post("/posters/"+itoa(joseAuth)+"/revoke", form("reason", "moved to payroll work")); r.Status != 303 {
			t.Fatalf("revoke: status %d", r.Status)
		}
		if tp.count(t, `SELECT COUNT(*) FROM authorization_ends WHERE authorization_id = ? AND reason = 'revoked'
			AND note = 'moved to payroll work' AND actor_id = ?`, joseAuth, tp.employee(t, "1009").ID) != 1 ||
			tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'poster.revoked' AND subject_id = ?`, tp.employee(t, "1006").ID) != 1 {
			t.Fatal("no end record or audit event")
		}
		if tp.employee(t, "1006").AuthorizedPoster {
			t.Fatal("José is still a poster")
		}
		if r := sup.post("/posters/"+itoa(joseAuth)+"/revoke", form("reason", "again")); r.Status != 409 {
			t.Errorf("revoking twice: status %d, want 409", r.Status)
		}
		mustContain(t, sup.get("/posters").Body, "Ended authorizations", "Revoked by the supervisor: moved to payroll work")
	})

	t.Run("the poster confirms their Terms of Comment: evidence, in the log, seen on /posters", func(t *testing.T) {
		zoeID := tp.employee(t, "1005").ID
		zoe := tp.as(t, "1005")
		if r := tp.as(t, "1004").get("/my/terms/" + itoa(dafsTerms)); r.Status != 404 {
			t.Errorf("someone not given the terms opens them: status %d", r.Status)
		}
		page := zoe.get("/my/terms/" + itoa(dafsTerms))
		if page.Status != 200 {
			t.Fatalf("status %d", page.Status)
		}
		mustContain(t, page.Body, "Comments are public records", "Confirm receipt")
		wantFieldError(t, zoe.post("/my/terms/"+itoa(dafsTerms), form()), "confirm", "Tick the box")
		if n := tp.count(t, `SELECT COUNT(*) FROM terms_receipts`); n != 0 {
			t.Fatalf("%d receipts before confirming", n)
		}
		if r := zoe.post("/my/terms/"+itoa(dafsTerms), form("confirm", "yes")); r.Status != 303 {
			t.Fatalf("confirm: status %d", r.Status)
		}
		if tp.count(t, `SELECT COUNT(*) FROM terms_receipts WHERE terms_id = ? AND employee_id = ? AND ip <> '' AND user_agent <> ''`, dafsTerms, zoeID) != 1 {
			t.Fatal("no receipt with its address and browser")
		}
		// The event names the text received by its digest.
		event := tp.count(t, `SELECT e.id FROM audit_events e JOIN terms_of_comment c ON c.id = ?
			WHERE e.action = 'terms.received' AND e.subject_id = ? AND e.actor_id = ? AND e.detail LIKE '%sha256 ' || c.sha256 || '%'`, dafsTerms, zoeID, zoeID)
		if event == 0 || tp.count(t, `SELECT COUNT(*) FROM log_entries WHERE kind = 'audit_event' AND ref_id = ?`, event) != 1 {
			t.Fatalf("the receipt's audit event %d is not in the evidence log", event)
		}
		if err := tp.trySQL(t, `UPDATE terms_receipts SET ip = 'x'`); err == nil || !strings.Contains(err.Error(), "evidence") {
			t.Fatalf("a receipt could be changed: %v", err)
		}
		if strings.Contains(zoe.get("/").Body, "Read your agency's Terms of Comment") {
			t.Error("the home page still asks for the receipt")
		}
		mustContain(t, sup.get("/posters").Body, "Version 1 confirmed")
		if r := zoe.post("/my/terms/"+itoa(dafsTerms), form("confirm", "yes")); r.Status != 303 || tp.count(t, `SELECT COUNT(*) FROM terms_receipts`) != 1 {
			t.Errorf("confirming twice: status %d", r.Status)
		}
	})

	t.Run("a new version is previewed, published once, and given to every poster again", func(t *testing.T) {
		sup.get("/terms")
		before := tp.count(t, `SELECT COUNT(*) FROM terms_of_comment`)
		body := "## Our rules\n\nBe kind.\n\n<script>alert(1)</script>\n"
		r := sup.post("/terms", form("body", body, "action", "preview"))
		if r.Status != 200 || !strings.Contains(r.Body, "Be kind.") || strings.Contains(r.Body, "<script>alert") {
			t.Fatalf("preview: status %d", r.Status)
		}
		if tp.count(t, `SELECT COUNT(*) FROM terms_of_comment`) != before {
			t.Fatal("the preview published")
		}
		wantFieldError(t, sup.post("/terms", form("body", "  ", "action", "publish")), "body", "Enter the text of the Terms of Comment")
		r = sup.post("/terms", form("body", body, "action", "publish"))
		if r.Status != 303 {
			t.Fatalf("publish: status %d", r.Status)
		}
		v2 := int64(tp.count(t, `SELECT id FROM terms_of_comment WHERE agency = ? AND version = 2 AND sha256 = ?`, dafs, app.TermsDigest(app.NormalizeTerms(body))))
		if v2 == 0 || r.Location != "/terms/"+itoa(v2) {
			t.Fatalf("version 2 %d, location %q", v2, r.Location)
		}
		zoeID := tp.employee(t, "1005").ID
		if tp.count(t, `SELECT COUNT(*) FROM terms_deliveries WHERE terms_id = ? AND employee_id = ?`, v2, zoeID) != 1 ||
			tp.count(t, `SELECT COUNT(*) FROM outbox WHERE dedupe_key = ?`, "terms:"+itoa(v2)+":"+itoa(zoeID)) != 1 {
			t.Fatal("version 2 was not given to Zoë")
		}
		if tp.count(t, `SELECT COUNT(*) FROM terms_deliveries WHERE terms_id = ? AND employee_id = ?`, v2, tp.employee(t, "1006").ID) != 0 {
			t.Fatal("version 2 was given to José, whose authorization was revoked")
		}
		mustContain(t, tp.as(t, "1005").get("/").Body, "Read your agency's Terms of Comment, version 2")
		mustContain(t, sup.get("/posters").Body, "Version 2 not confirmed yet")
		wantFieldError(t, sup.post("/terms", form("body", body, "action", "publish")), "body", "the same as version 2")
		if err := tp.trySQL(t, `UPDATE terms_of_comment SET body = 'x'`); err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Fatalf("a published version could be changed: %v", err)
		}
	})
}

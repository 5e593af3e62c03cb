package e2e

// The authorization matrix: every route as every role, and the table of who
// may use each route; the agency-use and API rows, the prepared portal and the
// request helpers are in the authz_matrix_*_test.go files.

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"portal/app"
	"portal/handlers"
	"portal/server"
)

// TestAuthorizationMatrix requests every route as every role and checks who
// gets in: anonymous GETs go to sign in, anonymous POSTs are refused (403
// without a CSRF token, 401 with one), the wrong role gets 403, the right
// one reaches the handler.
func TestAuthorizationMatrix(t *testing.T) {
	routes := handlers.Routes()
	seen := map[string]bool{}
	for _, r := range routes {
		key := azKey(r)
		if seen[key] {
			t.Errorf("route %s is in the table twice", key)
		}
		seen[key] = true
		exp, ok := azTable[key]
		if !ok {
			t.Errorf("route %s has no entry in azTable (authz_matrix_test.go): say who may use it and what they get", key)
			continue
		}
		if exp.devOnly != (r.Access == handlers.DevOnly) {
			t.Errorf("route %s: azTable devOnly=%v but the route's access level is %d", key, exp.devOnly, r.Access)
		}
		if exp.api != r.Access.APIScope() {
			t.Errorf("route %s: azTable api=%q but the route's access level needs the scope %q", key, exp.api, r.Access.APIScope())
		}
		if exp.writes != nil && r.Method != "GET" {
			t.Errorf("route %s: writes is for GET routes", key)
		}
	}
	for key := range azTable {
		if !seen[key] {
			t.Errorf("azTable has %s, which handlers.Routes() does not", key)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Reads: one portal; every role in its own browser.
	t.Run("GET", func(t *testing.T) {
		t.Parallel()
		e := azPortal(t)
		clients := map[azRole]*client{}
		for _, who := range azRoles {
			clients[who] = e.client(who)
		}
		for _, r := range routes {
			if r.Method != "GET" {
				continue
			}
			for _, who := range azRoles {
				q := e.request(r, who)
				azCheckCell(t, r, who, q, clients[who].get(q.path))
			}
		}
		// Signed-in users are still signed in: no GET signed anyone out.
		for _, who := range azRoles[1:] {
			if !strings.Contains(clients[who].get("/").Body, "Sign out") {
				t.Errorf("%s is no longer signed in", who)
			}
		}
	})

	// State changes: a fresh portal per route, so what an allowed request
	// does (close the cycle, sign out, publish) cannot disturb another route.
	// Within a route every role uses a fresh browser.
	for _, r := range routes {
		if r.Method == "GET" {
			continue
		}
		t.Run(azKey(r), func(t *testing.T) {
			t.Parallel()
			e := azPortal(t)
			exp := azTable[azKey(r)]
			for _, who := range azRoles {
				c := e.client(who)
				q := e.request(r, who)
				if who == azAnon && exp.api == "" { // the API takes no CSRF token: bearer tokens only
					before := e.counts()
					res := azSend(c, r.Method, q, nil)
					if res.Status != 403 || !strings.Contains(res.Body, azMsgExpired) {
						t.Errorf("anonymous without a CSRF token: status %d, want 403 %q", res.Status, azMsgExpired)
					}
					if d := azDelta(before, e.counts()); len(d) > 0 {
						t.Errorf("anonymous without a CSRF token changed rows: %v", d)
					}
				}
				before := e.counts()
				res := azSend(c, r.Method, q, &c.csrf)
				azCheckCell(t, r, who, q, res)
				if !exp.allow.has(who) {
					if d := azDelta(before, e.counts()); len(d) > 0 {
						t.Errorf("refused request as %s changed rows: %v", who, d)
					}
				}
			}
		})
	}

	// The API with tokens, one of each scope (authz_api_test.go).
	t.Run("API tokens", func(t *testing.T) {
		t.Parallel()
		azAPITokens(t, routes)
	})

	// The development mailbox exists only in demo mode.
	t.Run("DevOnly without demo", func(t *testing.T) {
		t.Parallel()
		e := azPortal(t, func(c *server.Config) { c.Demo = false })
		for _, r := range routes {
			if !azTable[azKey(r)].devOnly {
				continue
			}
			for _, who := range azRoles {
				q := e.request(r, who)
				if res := azSend(e.client(who), r.Method, q, nil); res.Status != 404 {
					t.Errorf("%s as %s without demo: status %d, want 404", azKey(r), who, res.Status)
				}
			}
		}
	})
}

// The matrix itself: who may use each route, and the requests that try it.
// Authorization and CSRF, driven by the route table (SPEC §5: "CSRF on every
// state change … every route × role checked by a test"). Every route of
// handlers.Routes() must have an entry in azTable below, which says — in the
// test, independently of the Access level the route table declares — who may
// use the route and what an allowed request gets. A new route without an
// entry fails TestAuthorizationMatrix, naming it.

// azGETWrites: GET routes that legitimately add rows. An export is a read,
// but who exported what is evidence (README "Audit": every export is an
// audit event in the evidence log), so each one appends an audit event and
// its log entry. Nothing else changes.
var azGETWrites = map[string]int{"audit_events": 1, "log_entries": 1}

// azTable is the expectation for every route: the rows below, in the route
// table's order, then the agency-use side's (authz_matrix_agency_use_test.go)
// and the API, SCIM, OpenID Connect and metrics rows (authz_matrix_api_test.go).
var azTable = azJoin(map[string]azExpect{
	"GET /":            {allow: azEveryone, ok: []int{200}},
	"GET /signin":      {allow: azEveryone, ok: []int{200, 303}, note: "signed in: 303 to /"},
	"POST /signin":     {allow: azEveryone, ok: []int{303}, req: func(e *azEnv, who azRole) azReq { return azReq{path: "/signin", form: form("email", e.emp[who].Email)} }},
	"GET /signin/sent": {allow: azEveryone, ok: []int{200}},
	"GET /signin/link/:token": {allow: azEveryone, ok: []int{200},
		req: func(e *azEnv, who azRole) azReq { return azReq{path: "/signin/link/" + e.token(who)} }},
	"POST /signin/link/:token": {allow: azEveryone, ok: []int{303},
		req: func(e *azEnv, who azRole) azReq { return azReq{path: "/signin/link/" + e.token(who)} }},
	"POST /signout":         {allow: azSignedIn, ok: []int{303}},
	"GET /guidance":         {allow: azSignedIn, ok: []int{200}},
	"GET /guidance/changes": {allow: azSignedIn, ok: []int{200}},
	"GET /guidance/:slug": {allow: azSignedIn, ok: []int{200},
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/guidance/" + e.slug} }},
	"POST /guidance/:slug/read": {allow: azSignedIn, ok: []int{303},
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/guidance/" + e.slug + "/read"} }},
	"GET /policy":     {allow: azSignedIn, ok: []int{200}},
	"GET /policy.pdf": {allow: azSignedIn, ok: []int{200}},
	"GET /policy/:code": {allow: azEveryone, ok: []int{200}, note: "public, as verification: the text people signed",
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/policy/" + e.tp.Version.Code} }},
	"GET /policy/:code/pdf": {allow: azEveryone, ok: []int{200},
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/policy/" + e.tp.Version.Code + "/pdf"} }},
	"GET /policy/:code/documents/:name": {allow: azEveryone, ok: []int{200},
		req: func(*azEnv, azRole) azReq {
			return azReq{path: "/policy/" + docsFixtureCode + "/documents/official-policy.pdf"}
		}},
	"GET /quiz": {allow: azSignedIn, ok: []int{200}},
	"POST /quiz": {allow: azSignedIn, ok: []int{303}, req: func(e *azEnv, who azRole) azReq {
		f := url.Values{}
		for k, v := range e.tp.answers(e.emp[who]) {
			f.Set(k, v)
		}
		return azReq{path: "/quiz", form: f}
	}},
	"POST /quiz/start": {allow: azSignedIn, ok: []int{303}},
	"GET /quiz/section/:n": {allow: azSignedIn, ok: []int{200}, note: "the check started first",
		req: func(e *azEnv, who azRole) azReq { e.tp.answers(e.emp[who]); return azReq{path: "/quiz/section/1"} }},
	"POST /quiz/section/:n": {allow: azSignedIn, ok: []int{303}, note: "saves nothing new: the draw only",
		req: func(e *azEnv, who azRole) azReq {
			return azReq{path: "/quiz/section/1", form: form("draw", e.tp.answers(e.emp[who])["draw"], "go", "next")}
		}},
	"GET /quiz/check": {allow: azSignedIn, ok: []int{200}, note: "the check started first",
		req: func(e *azEnv, who azRole) azReq { e.tp.answers(e.emp[who]); return azReq{path: "/quiz/check"} }},
	"GET /quiz/attempts/:id": {allow: azSignedIn, ok: []int{200}, note: "each role opens its own attempt",
		req: func(e *azEnv, who azRole) azReq { return azReq{path: "/quiz/attempts/" + itoa(e.attempt[who])} }},
	"GET /sign":          {allow: azSignedIn, ok: []int{303}, note: "everyone here has signed: on to the certificate"},
	"POST /sign/consent": {allow: azSignedIn, ok: []int{303}, req: func(*azEnv, azRole) azReq { return azReq{path: "/sign/consent", form: form("consent", "yes")} }},
	"POST /sign/review":  {allow: azSignedIn, ok: []int{303}, req: azSignForm("/sign/review")},
	"POST /sign/edit":    {allow: azSignedIn, ok: []int{303}, req: azSignForm("/sign/edit")},
	"POST /sign":         {allow: azSignedIn, ok: []int{303}, req: azSignForm("/sign")},
	"GET /certificates/:code": {allow: azSignedIn, ok: []int{200}, note: "each role opens its own certificate",
		req: func(e *azEnv, who azRole) azReq { return azReq{path: "/certificates/" + e.code[who]} }},
	"GET /certificates/:code/pdf": {allow: azSignedIn, ok: []int{200},
		req: func(e *azEnv, who azRole) azReq { return azReq{path: "/certificates/" + e.code[who] + "/pdf"} }},
	"GET /certificates/:code/confirmation": {allow: azSignedIn, ok: []int{200}, note: "each role opens the confirmation of its own signature",
		req: func(e *azEnv, who azRole) azReq { return azReq{path: "/certificates/" + e.code[who] + "/confirmation"} }},
	"GET /verify": {allow: azEveryone, ok: []int{200}},
	"GET /verify/:code": {allow: azEveryone, ok: []int{200},
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/verify/" + e.code[azAnon]} }},
	"GET /log/checkpoint": {allow: azEveryone, ok: []int{200}},
	"GET /log/key":        {allow: azEveryone, ok: []int{200}},
	"GET /log/proof/inclusion": {allow: azEveryone, ok: []int{200},
		req: func(*azEnv, azRole) azReq { return azReq{path: "/log/proof/inclusion?index=1&size=3"} }},
	"GET /log/proof/consistency": {allow: azEveryone, ok: []int{200},
		req: func(*azEnv, azRole) azReq { return azReq{path: "/log/proof/consistency?from=2&to=5"} }},
	"GET /log/certificate/:code": {allow: azEveryone, ok: []int{200},
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/log/certificate/" + e.code[azAnon]} }},
	"GET /team":                  {allow: azSetManager | azSetHR, ok: []int{200}, note: "1002 has reports; 1003 has none"},
	"GET /team/certificates.zip": {allow: azSetManager | azSetHR, ok: []int{200}, writes: azGETWrites},
	"GET /hr":                    {allow: azSetHR, ok: []int{200}},
	"GET /hr/certificates.zip":   {allow: azSetHR, ok: []int{200}, writes: azGETWrites},
	"GET /hr/people":             {allow: azSetHR, ok: []int{200}},
	"GET /hr/people/:id": {allow: azSetHR, ok: []int{200},
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/hr/people/" + itoa(e.emp[azEmployee].ID)} }},
	"POST /hr/people/:id/reachable": {allow: azSetHR, ok: []int{303}, note: "Zoë's address is not marked unreachable: a flash, nothing changed",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/people/" + itoa(e.emp[azEmployee].ID) + "/reachable"}
		}},
	"GET /hr/people/:id/paper": {allow: azSetHR, ok: []int{200}, note: "1007 has not signed: the form",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/people/" + itoa(e.tp.employee(e.t, "1007").ID) + "/paper"}
		}},
	"POST /hr/people/:id/paper": {allow: azSetHR, ok: []int{303}, note: "1007's paper form, recorded",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/people/" + itoa(e.tp.employee(e.t, "1007").ID) + "/paper",
				form: form("signed_on", e.tp.DB.Today()), file: &azFile{"scan", "form.pdf", paperScanPDF}}
		}},
	"GET /hr/people/:id/paper/recorded": {allow: azSetHR, ok: []int{200},
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/people/" + itoa(e.paperPerson) + "/paper/recorded"}
		}},
	"GET /hr/people/:id/scans/:ack": {allow: azSetHR, ok: []int{200}, writes: azGETWrites, note: "personal data: each download is an audit event",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/people/" + itoa(e.paperPerson) + "/scans/" + itoa(e.paperAck)}
		}},
	"POST /hr/people/:id/extend": {allow: azSetHR, ok: []int{303}, note: "1006, overdue, gets two more weeks",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/people/" + itoa(e.emp[azAnon].ID) + "/extend", form: form("extend_due_on", e.day(14), "extend_reason", "leave")}
		}},
	"POST /hr/people/:id/exempt": {allow: azSetHR, ok: []int{303}, note: "1007, not signed, is excused",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/people/" + itoa(e.tp.employee(e.t, "1007").ID) + "/exempt", form: form("exempt_from", e.day(0), "exempt_reason", "leave")}
		}},
	"POST /hr/people/:id/exempt/end": {allow: azSetHR, ok: []int{303}, note: "1009 was excused when the portal was prepared",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/people/" + itoa(e.tp.employee(e.t, "1009").ID) + "/exempt/end", form: form("end_reason", "back")}
		}},
	"POST /hr/people/:id/resend": {allow: azSetHR, ok: []int{303}, note: "1012 has not signed",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/people/" + itoa(e.tp.employee(e.t, "1012").ID) + "/resend"}
		}},
	"GET /hr/export.csv":  {allow: azSetHR, ok: []int{200}, writes: azGETWrites},
	"GET /hr/export.xlsx": {allow: azSetHR, ok: []int{200}, writes: azGETWrites},
	"GET /hr/roster":      {allow: azSetHR, ok: []int{200}},
	"POST /hr/roster": {allow: azSetHR, ok: []int{200}, note: "the preview page",
		req: func(*azEnv, azRole) azReq {
			return azReq{path: "/hr/roster", file: &azFile{"file", "roster.csv", []byte(goodRoster)}}
		}},
	"POST /hr/roster/:id/apply": {allow: azSetHR, ok: []int{303}, note: "1002's own upload",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/roster/" + itoa(e.upload) + "/apply", form: form("sha256", e.uploadSHA)}
		}},
	"GET /hr/roster/template.csv": {allow: azSetHR, ok: []int{200}},
	"GET /hr/roster/:id": {allow: azSetHR, ok: []int{200}, note: "1002's own upload's preview",
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/hr/roster/" + itoa(e.upload) + "?kind=added"} }},
	"GET /hr/address-changes": {allow: azSetHR | azSetAdmin, ok: []int{200}},
	"POST /hr/address-changes": {allow: azSetHR | azSetAdmin, ok: []int{303, 422},
		note: "the first allowed user approves 1011's change, which 1010 uploaded (303); the next finds it decided (422)",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/address-changes", form: form("id", itoa(e.addressChange), "decision", "approve")}
		}},
	"GET /hr/cycles": {allow: azSetHR, ok: []int{200}},
	"POST /hr/cycles": {allow: azSetHR, ok: []int{303}, note: "opens next year's cycle",
		req: func(e *azEnv, _ azRole) azReq {
			y := itoa(int64(testClockStart().Year() + 1))
			return azReq{path: "/hr/cycles", form: form("name", "Next year", "version", itoa(e.tp.Version.ID),
				"opens_on", y+"-01-15", "due_on", y+"-03-15", "new_hire_days", "30")}
		}},
	"POST /hr/cycles/:id/close": {allow: azSetHR, ok: []int{303},
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/hr/cycles/" + itoa(e.cycle) + "/close"} }},
	"POST /hr/cycles/:id/version": {allow: azSetHR, ok: []int{422}, note: "the same version: refused beside the cycle's version list, 422",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/cycles/" + itoa(e.cycle) + "/version", form: form("version", itoa(e.tp.Version.ID))}
		}},
	"GET /hr/versions": {allow: azSetHR | azSetAdmin, ok: []int{200}},
	"POST /hr/versions": {allow: azSetHR | azSetAdmin, ok: []int{303, 409},
		note: "the first allowed user publishes 2099.1 (303); the next one gets 'already published' (409) from the handler",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/versions", file: &azFile{"bundle", "2099.1.zip", e.bundle}}
		}},
	"GET /hr/versions/:id": {allow: azSetHR | azSetAdmin, ok: []int{200},
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/hr/versions/" + itoa(e.tp.Version.ID)} }},
	"GET /hr/audit": {allow: azSetHR | azSetAdmin, ok: []int{200}},
	"POST /hr/audit/check": {allow: azSetHR | azSetAdmin, ok: []int{303},
		note: "queues a check of every evidence record (or finds one queued)"},
	"GET /hr/audit.csv": {allow: azSetHR | azSetAdmin, ok: []int{200}, writes: azGETWrites, note: "the export is an audit event"},
	"GET /hr/cycles/:id/close": {allow: azSetHR, ok: []int{200}, note: "the page confirming the close: nothing changes",
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/hr/cycles/" + itoa(e.cycle) + "/close"} }},
	"GET /hr/cycles/:id/version": {allow: azSetHR, ok: []int{200}, note: "the page confirming a move to the newest version: nothing changes",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/cycles/" + itoa(e.cycle) + "/version?version=" + itoa(int64(e.tp.count(e.t, `SELECT MAX(id) FROM policy_versions`)))}
		}},
	"GET /hr/cycles/:id/due": {allow: azSetHR, ok: []int{200},
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/hr/cycles/" + itoa(e.cycle) + "/due"} }},
	"POST /hr/cycles/:id/due": {allow: azSetHR, ok: []int{303}, note: "moves the due date to the end of 2099",
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/hr/cycles/" + itoa(e.cycle) + "/due", form: form("due_on", "2099-12-31", "reason", "The matrix moves it")}
		}},
	"GET /admin/roles": {allow: azSetAdmin, ok: []int{200}},
	"POST /admin/roles": {allow: azSetAdmin, ok: []int{303}, note: "grants 1011 the hr role",
		req: func(*azEnv, azRole) azReq {
			return azReq{path: "/admin/roles", form: form("employee_number", "1011", "role", "hr", "action", "grant")}
		}},
	"GET /admin/witnesses": {allow: azSetAdmin, ok: []int{200}},
	"POST /admin/witnesses": {allow: azSetAdmin, ok: []int{303},
		req: func(*azEnv, azRole) azReq {
			return azReq{path: "/admin/witnesses", form: form("email", "auditor@witness.invalid", "action", "add")}
		}},
	"GET /admin/scopes": {allow: azSetAdmin, ok: []int{200}},
	"POST /admin/scopes": {allow: azSetAdmin, ok: []int{303},
		req: func(e *azEnv, _ azRole) azReq {
			return azReq{path: "/admin/scopes", form: form("employee", itoa(e.tp.employee(e.t, "1010").ID), "agency", dol)}
		}},
	"GET /dev/mailbox": {allow: azEveryone, ok: []int{200}, devOnly: true},
	"GET /healthz":     {allow: azEveryone, ok: []int{200}},
	"POST /team/people/:id/remind": {allow: azSetManager | azSetHR, ok: []int{303},
		note: "each reminds an overdue person of their own tree: 1004 José Núñez (1006), 1002 Дарья Смирнова (1012; 1011 has signed on paper here)",
		req: func(e *azEnv, who azRole) azReq {
			n := "1006"
			if who == azHR {
				n = "1012"
			}
			return azReq{path: "/team/people/" + itoa(e.tp.employee(e.t, n).ID) + "/remind"}
		}},
	"GET /team/remind-overdue": {allow: azSetManager | azSetHR, ok: []int{200}, note: "the confirmation page: sends nothing"},
	"POST /team/remind-overdue": {allow: azSetManager | azSetHR, ok: []int{303}, note: "with the number the confirmation page states",
		req: func(e *azEnv, who azRole) azReq {
			// The number the page would state, asked of the portal (signing
			// in for each request would meet the sign-in limit).
			now, tz := e.tp.DB.Now(), e.tp.Config.TimeZone
			n, err := e.tp.Handler.Team.OverdueToRemind(e.t.Context(), app.TeamReminder{ManagerID: e.emp[who].ID, CycleID: e.cycle,
				Now: now, DayStart: app.DayStart(now, tz), Today: app.Today(now, tz)})
			if err != nil {
				e.t.Fatal(err)
			}
			return azReq{path: "/team/remind-overdue", form: form("count", strconv.Itoa(n))}
		}},

	// The accessibility statement, the privacy notice and the organisation's logo are public.
	"GET /accessibility": {allow: azEveryone, ok: []int{200}},
	"GET /privacy":       {allow: azEveryone, ok: []int{200}},
	"GET /org-logo":      {allow: azEveryone, ok: []int{200}}, // azPortal's portal has a logo (testBranding)
}, azAgencyUseRows, azAPIRows)

// azJoin puts the rows of the matrix's files into one table. A route named
// twice would be a compile error in one map literal; across files it panics.
func azJoin(tables ...map[string]azExpect) map[string]azExpect {
	all := map[string]azExpect{}
	for _, rows := range tables {
		for k, v := range rows {
			if _, dup := all[k]; dup {
				panic("azTable: two entries for route " + k)
			}
			all[k] = v
		}
	}
	return all
}

func azSignForm(path string) func(*azEnv, azRole) azReq {
	return func(e *azEnv, who azRole) azReq {
		return azReq{path: path, form: form("typed_name", e.emp[who].FullName, "intent", "yes")}
	}
}

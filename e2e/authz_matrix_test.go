package e2e

// The authorization matrix and object-level checks; the matrix's table and helpers follow the tests.

import (
	"bytes"
	"database/sql"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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

// TestObjectAuthorization: a role that may use a route still sees only its
// own objects — certificates, quiz attempts, team members, HR people.
func TestObjectAuthorization(t *testing.T) {
	tp := startTestPortal(t)
	tp.Handler.ExportLimit = handlers.NewRateLimiter(1<<30, time.Minute)
	cycleID := tp.cycleID(t)
	codeOf := func(number string) string {
		code := tp.codeOf(t, tp.employee(t, number).ID)
		if code == "" {
			t.Fatalf("no acknowledgment of %s", number)
		}
		return code
	}
	as := func(number string) *client {
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLink(t, number))
		return c
	}
	status := func(c *client, path string) int { return c.get(path).Status }
	certPaths := func(code string) []string { return []string{"/certificates/" + code, "/certificates/" + code + "/pdf"} }

	// 1006 takes the knowledge check, so there is an attempt of theirs.
	jose := as("1006")
	readAll(t, tp, jose, "1006")
	passQuiz(t, tp, jose, "1006")
	attempt := tp.attemptOf(t, tp.employee(t, "1006").ID, cycleID)
	if attempt == 0 {
		t.Fatal("no attempt of 1006")
	}
	joseAttempt := "/quiz/attempts/" + itoa(attempt)

	type cell struct {
		who, path string
		want      int
	}
	check := func(t *testing.T, cells []cell) {
		t.Helper()
		clients := map[string]*client{}
		for _, c := range cells {
			if clients[c.who] == nil {
				clients[c.who] = as(c.who)
			}
			if got := status(clients[c.who], c.path); got != c.want {
				t.Errorf("%s GET %s: status %d, want %d", c.who, c.path, got, c.want)
			}
		}
	}

	t.Run("certificates: the owner, managers above, HR; nobody else", func(t *testing.T) {
		var cells []cell
		for _, p := range certPaths(codeOf("1008")) {
			cells = append(cells,
				cell{"1008", p, 200}, cell{"1004", p, 200}, cell{"1001", p, 200}, cell{"1002", p, 200},
				cell{"1005", p, 404}, // a peer
				cell{"1003", p, 404}, // admin is not HR and not above 1008
				cell{"2001", p, 404}, // a manager of another tree
				cell{"2002", p, 404},
			)
		}
		for _, p := range certPaths(codeOf("1001")) { // 1004's own manager: a manager sees down, not up
			cells = append(cells, cell{"1004", p, 404}, cell{"1001", p, 200})
		}
		for _, p := range certPaths(codeOf("2006")) { // in 2001's tree, not 1004's
			cells = append(cells, cell{"1004", p, 404}, cell{"2001", p, 200}, cell{"2002", p, 200})
		}
		cells = append(cells, cell{"1005", "/certificates/SMP-NOPE-NOPE", 404}, cell{"1002", "/certificates/not-a-code", 404})
		check(t, cells)
	})

	t.Run("the confirmation after signing: only the signer, not even their manager or HR", func(t *testing.T) {
		p := "/certificates/" + codeOf("1008") + "/confirmation"
		check(t, []cell{
			{"1008", p, 200},
			{"1004", p, 404}, // 1008's manager sees the certificate, not the confirmation
			{"1001", p, 404},
			{"1002", p, 404}, // HR
			{"1005", p, 404}, // a peer
			{"1003", p, 404},
			{"1008", "/certificates/SMP-NOPE-NOPE/confirmation", 404},
			{"1008", "/certificates/not-a-code/confirmation", 404},
		})
	})

	t.Run("quiz attempts: only their owner", func(t *testing.T) {
		check(t, []cell{
			{"1006", joseAttempt, 200},
			{"1005", joseAttempt, 404},
			{"1004", joseAttempt, 404}, // not even 1006's manager
			{"1002", joseAttempt, 404}, // HR reads attempts on the person page
			{"1003", joseAttempt, 404},
			{"1006", "/quiz/attempts/999999", 404},
			{"1006", "/quiz/attempts/abc", 404},
		})
	})

	t.Run("a manager's team and ZIP hold only their tree", func(t *testing.T) {
		for _, tc := range []struct {
			manager string
			inTree  func(number string) bool
			outside string // a name from elsewhere
		}{
			{"1004", func(n string) bool { return n >= "1005" && n <= "1008" }, "Robert Pelletier"},
			{"2001", func(n string) bool { return strings.HasPrefix(n, "2") && n != "2001" }, "Siobhán"},
		} {
			c := as(tc.manager)
			if body := c.get("/team").Body; strings.Contains(body, tc.outside) {
				t.Errorf("%s's team page shows %s", tc.manager, tc.outside)
			}
			r := c.get("/team/certificates.zip")
			if r.Status != 200 {
				t.Fatalf("%s team ZIP: %d", tc.manager, r.Status)
			}
			numbers := checkZip(t, []byte(r.Body))
			if len(numbers) == 0 {
				t.Errorf("%s team ZIP is empty", tc.manager)
			}
			for _, n := range numbers {
				if !tc.inTree(n) {
					t.Errorf("%s team ZIP holds %s, outside the tree", tc.manager, n)
				}
			}
		}
	})

	t.Run("a manager reminds only people of their own tree", func(t *testing.T) {
		remind := func(n string) string { return "/team/people/" + itoa(tp.employee(t, n).ID) + "/remind" }
		before := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'reminder'`)
		for _, c := range []struct{ who, number string }{
			{"1004", "2003"}, // another manager's report
			{"2001", "1006"}, // the other way round
			{"1004", "1001"}, // their own manager: a manager reaches down, not up
			{"1004", "1009"}, // a peer's report
			{"1002", "1006"}, // HR reaches their own tree only from the team page
		} {
			cl := as(c.who)
			cl.get("/team")
			if r := cl.post(remind(c.number), nil); r.Status != 404 {
				t.Errorf("%s reminds %s: status %d, want 404", c.who, c.number, r.Status)
			}
		}
		if tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'reminder'`) != before {
			t.Error("a refused reminder was queued")
		}
		// HR-only pages stay HR's: a manager does not reach their people there.
		check(t, []cell{{"1004", "/hr/people/" + itoa(tp.employee(t, "1006").ID), 403}, {"1004", "/hr/people", 403}})
	})

	t.Run("a roster upload is applied only by who previewed it", func(t *testing.T) {
		hr := as("1002")
		hr.get("/hr/roster")
		r := hr.upload("/hr/roster", "file", "roster.csv", []byte(goodRoster), nil)
		m := applyRE.FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("preview: %d", r.Status)
		}
		other := as("1010") // also HR, not (yet) limited to an agency
		other.get("/hr/roster")
		before := tp.count(t, `SELECT COUNT(*) FROM employees`)
		if r := other.post(m[1], form("sha256", m[2])); r.Status != 404 {
			t.Errorf("another HR user applied the upload: %d", r.Status)
		}
		if r := other.get(strings.TrimSuffix(m[1], "/apply")); r.Status != 404 || strings.Contains(r.Body, "Chidi") {
			t.Errorf("another HR user sees the preview: %d", r.Status)
		}
		if r := hr.get(strings.TrimSuffix(m[1], "/apply")); r.Status != 200 || !strings.Contains(r.Body, "Okafor, Chidi") {
			t.Errorf("the uploader's own preview: %d", r.Status)
		}
		if r := hr.post(m[1], form("sha256", strings.Repeat("0", 64))); r.Status != 404 {
			t.Errorf("a wrong hash applied the upload: %d", r.Status)
		}
		if tp.count(t, `SELECT COUNT(*) FROM employees`) != before {
			t.Error("the roster changed")
		}
	})

	t.Run("an HR user limited to one agency sees nothing of another", func(t *testing.T) {
		admin := as("1003")
		admin.get("/admin/scopes")
		if r := admin.post("/admin/scopes", form("employee", itoa(tp.employee(t, "1010").ID), "agency", dol)); r.Status != 303 {
			t.Fatalf("set scope: %d", r.Status)
		}
		s := as("1010") // DAFS, limited to the Department of Labor
		person := func(n string) string { return "/hr/people/" + itoa(tp.employee(t, n).ID) }
		check(t, []cell{
			{"1010", person("4003"), 200},
			{"1010", person("3003"), 404},
			{"1010", person("1005"), 404},
			{"1010", person("2006"), 404},
			{"1010", "/hr/people/999999", 404},
			{"1010", "/hr?agency=" + urlEscape(mdot), 404},
			{"1010", "/hr/people?agency=" + urlEscape(dhhs), 404},
			{"1010", "/hr/export.csv?agency=" + urlEscape(dafs), 404},
			{"1010", "/hr/export.xlsx?agency=" + urlEscape(dafs), 404},
			{"1010", "/hr/certificates.zip?agency=" + urlEscape(dafs), 404},
			{"1010", "/hr/roster", 403},   // everyone-wide actions need an unscoped HR user
			{"1002", person("3003"), 200}, // the unscoped HR user does
		})
		for _, action := range []string{"/extend", "/exempt", "/exempt/end", "/resend"} {
			r := s.post(person("3003")+action, form("extend_due_on", "2099-01-01", "extend_reason", "x", "exempt_from", "2099-01-01",
				"exempt_reason", "x", "end_reason", "x"))
			if r.Status != 404 {
				t.Errorf("1010 POST %s on someone outside the scope: status %d, want 404", action, r.Status)
			}
		}
		if body := s.get("/hr/people").Body; strings.Contains(body, "Zoë Côté") || !strings.Contains(body, "Ryan Caron") {
			t.Error("the people list leaves the scope")
		}
		r := s.get("/hr/certificates.zip")
		if r.Status != 200 {
			t.Fatalf("scoped ZIP: %d", r.Status)
		}
		for _, n := range checkZip(t, []byte(r.Body)) {
			if !strings.HasPrefix(n, "4") {
				t.Errorf("the scoped ZIP holds %s, outside the Department of Labor", n)
			}
		}
		s.get("/hr/cycles")
		y := itoa(int64(time.Now().Year() + 1))
		before := tp.count(t, `SELECT COUNT(*) FROM cycles`)
		versions := tp.count(t, `SELECT COUNT(*) FROM policy_versions`) // the shipped ones
		for path, f := range map[string]url.Values{
			"/hr/cycles":                               form("name", "x", "version", itoa(tp.Version.ID), "opens_on", y+"-01-15", "due_on", y+"-03-15", "new_hire_days", "30"),
			"/hr/cycles/" + itoa(cycleID) + "/close":   nil,
			"/hr/cycles/" + itoa(cycleID) + "/version": form("version", itoa(tp.Version.ID)),
		} {
			if r := s.post(path, f); r.Status != 403 {
				t.Errorf("scoped POST %s: %d, want 403", path, r.Status)
			}
		}
		// Every route the table keeps for HR users without an agency limit.
		n := 0
		for _, r := range handlers.Routes() {
			if r.Access != handlers.HRAllAgencies && r.Access != handlers.HRAllAgenciesOrAdmin {
				continue
			}
			n++
			path := strings.ReplaceAll(r.Path, ":id", itoa(cycleID))
			var got response
			if r.Method == "GET" {
				got = s.get(path)
			} else {
				got = s.post(path, form("x", "y"))
			}
			if got.Status != 403 || !strings.Contains(got.Body, "limited to some agencies") {
				t.Errorf("scoped %s %s: %d, want 403 saying why", r.Method, path, got.Status)
			}
		}
		if n < 10 {
			t.Errorf("only %d routes need an HR user without an agency limit", n)
		}
		if r := s.upload("/hr/versions", "bundle", "2099.1.zip", zipDir(t, "../app/content/testdata/2099.1"), nil); r.Status != 403 {
			t.Errorf("scoped publish: %d, want 403", r.Status)
		}
		if tp.count(t, `SELECT COUNT(*) FROM cycles WHERE open = 1 AND kind = 'personal-use'`) != 1 || tp.count(t, `SELECT COUNT(*) FROM cycles`) != before ||
			tp.count(t, `SELECT COUNT(*) FROM policy_versions`) != versions {
			t.Error("a scoped HR user changed cycles or versions")
		}
		// Certificates: their own, and their agency's; not another agency's.
		check(t, []cell{{"1010", "/certificates/" + codeOf("1010"), 200}, {"1010", "/certificates/" + codeOf("4004"), 200}})
		t.Run("the audit log of another agency", func(t *testing.T) {
			as("2006") // Kevin Morin, Department of Health and Human Services, signs in: an audit event
			// The log is theirs to read, limited to their people and their
			// own actions: Kevin's sign-in is not in it, page or CSV.
			r := s.get("/hr/audit")
			if r.Status != 200 || strings.Contains(r.Body, "Kevin Morin") || !strings.Contains(r.Body, "limited to some agencies") {
				t.Errorf("a Department of Labor HR user reads the audit log of another agency: status %d", r.Status)
			}
			if r := s.get("/hr/audit?person=2006"); r.Status != 200 || strings.Contains(r.Body, "Kevin Morin") {
				t.Errorf("a Department of Labor HR user finds Kevin Morin's events by number: status %d", r.Status)
			}
			if r := s.get("/hr/audit.csv"); r.Status != 200 || strings.Contains(r.Body, "Kevin Morin") {
				t.Errorf("a Department of Labor HR user exports the audit log of another agency: status %d", r.Status)
			}
		})
		t.Run("certificate of another agency", func(t *testing.T) {
			check(t, []cell{
				{"1010", "/certificates/" + codeOf("2006"), 404},
				{"1010", "/certificates/" + codeOf("2006") + "/pdf", 404},
				{"1010", "/certificates/" + codeOf("1008"), 404},
			})
		})
	})
}

// The matrix itself: who may use each route, and the requests that try it.
// Authorization and CSRF, driven by the route table (SPEC §5: "CSRF on every
// state change … every route × role checked by a test"). Every route of
// handlers.Routes() must have an entry in azTable below, which says — in the
// test, independently of the Access level the route table declares — who may
// use the route and what an allowed request gets. A new route without an
// entry fails TestAuthorizationMatrix, naming it.

// azRole is who makes a request.
type azRole int

const (
	azAnon     azRole = iota // not signed in
	azEmployee               // 1005 Zoë Côté: no reports, no role
	azManager                // 1004 François Lévesque: manages 1005–1008
	azHR                     // 1002 Hannah Roy: hr role, and manages 1010–1012
	azAdmin                  // 1003 Adam Ouellette: admin role, no reports
	azSupDAFS                // 1008 Siobhán O'Brien: DAFS's Social Media Supervisor here (azPortal designates her)
	azSupDHHS                // 2009 Priya Natarajan: DHHS's Social Media Supervisor here (azPortal designates her)
)

var azRoles = []azRole{azAnon, azEmployee, azManager, azHR, azAdmin, azSupDAFS, azSupDHHS}

// azNumber is the demo employee each role signs in as; the anonymous
// visitor's sign-in tokens are 1006's.
var azNumber = map[azRole]string{azAnon: "1006", azEmployee: "1005", azManager: "1004", azHR: "1002", azAdmin: "1003", azSupDAFS: "1008", azSupDHHS: "2009"}

func (r azRole) String() string {
	return [...]string{"anonymous", "employee 1005", "manager 1004", "HR 1002", "admin 1003", "DAFS supervisor 1008", "DHHS supervisor 2009"}[r]
}

// azSet is a set of roles.
type azSet uint8

func (s azSet) has(r azRole) bool { return s&(1<<r) != 0 }

const (
	azSetAnon     azSet = 1 << azAnon
	azSetEmployee azSet = 1 << azEmployee
	azSetManager  azSet = 1 << azManager
	azSetHR       azSet = 1 << azHR
	azSetAdmin    azSet = 1 << azAdmin
	azSetSups     azSet = 1<<azSupDAFS | 1<<azSupDHHS // each supervisor acts on their own agency's objects (the requests say which)
	azSignedIn          = azSetEmployee | azSetManager | azSetHR | azSetAdmin | azSetSups
	azEveryone          = azSetAnon | azSignedIn
)

// azReq is one concrete request for a route: its path with the parameters
// filled in, and the form it sends (multipart when file is set).
type azReq struct {
	path string
	form url.Values
	file *azFile
	// An API request's body and its type (for the token holders; a
	// browser session sends the form).
	body, ctype string
}

type azFile struct {
	field, name string
	content     []byte
}

// azExpect says who may use a route and what they get.
type azExpect struct {
	allow   azSet
	ok      []int                            // the statuses an allowed request may get
	req     func(e *azEnv, who azRole) azReq // nil: the path as it is, an empty form
	devOnly bool                             // 404 for everyone when the portal is not a demo
	writes  map[string]int                   // GET only: rows an allowed request adds (see azGETWrites)
	note    string                           // why, where the table needs a word
	api     string                           // an API route: the token scope it needs (no session role is allowed)
	// bearer is the status every role gets, signed in or not, from a route
	// that a bearer token opens and no session ever does (the portal runs
	// with a metrics token set, and the matrix never sends it).
	bearer int
}

// azGETWrites: GET routes that legitimately add rows. An export is a read,
// but who exported what is evidence (README "Audit": every export is an
// audit event in the evidence log), so each one appends an audit event and
// its log entry. Nothing else changes.
var azGETWrites = map[string]int{"audit_events": 1, "log_entries": 1}

// azTable is the expectation for every route, in the route table's order.
var azTable = map[string]azExpect{
	"GET /":            {allow: azEveryone, ok: []int{200}},
	"GET /signin":      {allow: azEveryone, ok: []int{200, 303}, note: "signed in: 303 to /"},
	"POST /signin":     {allow: azEveryone, ok: []int{303}, req: func(e *azEnv, who azRole) azReq { return azReq{path: "/signin", form: form("email", e.emp[who].Email)} }},
	"GET /signin/sent": {allow: azEveryone, ok: []int{200}},
	"GET /signin/oidc": {allow: azEveryone, ok: []int{303}, note: "to the provider; signed in: 303 to /"},
	"GET /signin/oidc/callback": {allow: azEveryone, ok: []int{400},
		note: "no sign-in started in this browser: the refusal page, no session (the flow itself: oidc_test.go)"},
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
			y := itoa(int64(time.Now().Year() + 1))
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

	// Social Media Supervisors and the registry of accounts: administrators
	// designate; supervisors, HR and administrators read the registry;
	// supervisors and administrators change it, HR does not. Each
	// supervisor asks for their own agency's account (TestAccountRegistryPages
	// covers another agency's: 404, nothing changed).
	"GET /admin/supervisors": {allow: azSetAdmin, ok: []int{200}},
	"POST /admin/supervisors": {allow: azSetAdmin, ok: []int{303}, note: "1004 replaces 1008 at DAFS",
		req: func(*azEnv, azRole) azReq {
			return azReq{path: "/admin/supervisors", form: form("agency", dafs, "employee_number", "1004", "reason", "letter")}
		}},
	"POST /admin/supervisors/end": {allow: azSetAdmin, ok: []int{303},
		req: func(*azEnv, azRole) azReq {
			return azReq{path: "/admin/supervisors/end", form: form("agency", dhhs, "end_reason", "left the post")}
		}},
	"GET /accounts":          {allow: azSetSups | azSetHR | azSetAdmin, ok: []int{200}},
	"GET /accounts.csv":      {allow: azSetSups | azSetHR | azSetAdmin, ok: []int{200}, writes: azGETWrites},
	"GET /accounts/new":      {allow: azSetSups | azSetAdmin, ok: []int{200}},
	"GET /accounts/:id":      {allow: azSetSups | azSetHR | azSetAdmin, ok: []int{200}, req: azAccountPath("")},
	"GET /accounts/:id/edit": {allow: azSetSups | azSetAdmin, ok: []int{200}, req: azAccountPath("/edit")},
	"POST /accounts": {allow: azSetSups | azSetAdmin, ok: []int{303}, note: "a handle of each role's own",
		req: func(e *azEnv, who azRole) azReq {
			return azReq{path: "/accounts", form: accountForm(e.tp, "handle", "Matrix"+azNumber[who], "agency", dafs)}
		}},
	"POST /accounts/:id": {allow: azSetSups | azSetAdmin, ok: []int{303},
		req: func(e *azEnv, who azRole) azReq {
			q := azAccountPath("")(e, who)
			q.form = accountForm(e.tp, "platform", "Facebook", "handle", "StateDAFSNews", "url", "https://www.facebook.com/StateDAFSNews",
				"purpose", "Checked by "+azNumber[who])
			if who == azSupDHHS {
				q.form = accountForm(e.tp, "platform", "Instagram", "handle", "StateHealthTips", "url", "https://www.instagram.com/StateHealthTips",
					"purpose", "Checked by "+azNumber[who])
			}
			return q
		}},
	// Poster authorizations and Terms of Comment: each supervisor on their
	// own agency (the requests say which); HR and administrators read.
	"GET /posters":     {allow: azSetSups | azSetHR | azSetAdmin, ok: []int{200}},
	"GET /posters/new": {allow: azSetSups, ok: []int{200}},
	"POST /posters": {allow: azSetSups, ok: []int{303}, note: "someone of each supervisor's agency on one of its accounts",
		req: func(e *azEnv, who azRole) azReq {
			person, handle := "1006", "StateDAFSNews"
			if who == azSupDHHS {
				person, handle = "2003", "StateHealthTips"
			}
			return azReq{path: "/posters", form: form("employee", person, "accounts",
				itoa(int64(e.tp.count(e.t, `SELECT id FROM social_accounts WHERE handle = ?`, handle))), "starts_on", e.day(0), "scope", "news")}
		}},
	"POST /posters/:id/revoke": {allow: azSetSups, ok: []int{303, 404}, note: "Zoë's demo authorization, of DAFS: the DHHS supervisor gets 404 (TestPosterAuthorization)",
		req: func(e *azEnv, who azRole) azReq {
			return azReq{path: "/posters/" + itoa(int64(e.tp.count(e.t, `SELECT MIN(id) FROM poster_authorizations`))) + "/revoke", form: form("reason", "left")}
		}},
	"GET /terms": {allow: azSetSups | azSetHR | azSetAdmin, ok: []int{200}},
	"POST /terms": {allow: azSetSups, ok: []int{303}, req: func(e *azEnv, who azRole) azReq {
		return azReq{path: "/terms", form: form("body", "## New", "action", "publish")}
	}},
	"GET /terms/:id": {allow: azSetSups | azSetHR | azSetAdmin, ok: []int{200}, note: "version 1 of the role's agency (DAFS but for the DHHS supervisor)",
		req: func(e *azEnv, who azRole) azReq {
			agency := dafs
			if who == azSupDHHS {
				agency = dhhs
			}
			return azReq{path: "/terms/" + itoa(int64(e.tp.count(e.t, `SELECT id FROM terms_of_comment WHERE agency = ? AND version = 1`, agency)))}
		}},
	"GET /my/terms/:id": {allow: azSignedIn, ok: []int{200, 404}, note: "given to Zoë only: 404 for the others",
		req: func(e *azEnv, who azRole) azReq { return azReq{path: "/my/terms/" + itoa(azDemoTerms(e))} }},
	"POST /my/terms/:id": {allow: azSignedIn, ok: []int{303, 404}, note: "Zoë confirms her receipt; not given to the others: 404",
		req: func(e *azEnv, who azRole) azReq {
			return azReq{path: "/my/terms/" + itoa(azDemoTerms(e)), form: form("confirm", "yes")}
		}},
	// Another kind's journey (the agency-use acknowledgment): any signed-in
	// person may ask; the employee (Zoë, authorized on a DAFS account) is
	// asked to sign it, everyone else gets the page saying they are not
	// (404). Who owes it and what it records: TestAgencyUseAcknowledgment.
	"GET /acknowledgments/:kind/guidance":             {allow: azSignedIn, ok: []int{200, 404}, req: azKindPath("/guidance")},
	"GET /acknowledgments/:kind/guidance/changes":     {allow: azSignedIn, ok: []int{200, 404}, req: azKindPath("/guidance/changes")},
	"GET /acknowledgments/:kind/guidance/:slug":       {allow: azSignedIn, ok: []int{200, 404}, req: azKindSlug("")},
	"POST /acknowledgments/:kind/guidance/:slug/read": {allow: azSignedIn, ok: []int{303, 404}, req: azKindSlug("/read")},
	"GET /acknowledgments/:kind/quiz":                 {allow: azSignedIn, ok: []int{200, 404}, req: azKindPath("/quiz")},
	"POST /acknowledgments/:kind/quiz":                {allow: azSignedIn, ok: []int{404, 422}, req: azKindPath("/quiz"), note: "Zoë has not read the agency-use guidance: 422"},
	"POST /acknowledgments/:kind/quiz/start":          {allow: azSignedIn, ok: []int{404, 422}, req: azKindPath("/quiz/start")},
	"GET /acknowledgments/:kind/quiz/section/:n":      {allow: azSignedIn, ok: []int{303, 404}, req: azKindPath("/quiz/section/1"), note: "no check started: back to its start"},
	"POST /acknowledgments/:kind/quiz/section/:n":     {allow: azSignedIn, ok: []int{404, 422}, req: azKindPath("/quiz/section/1")},
	"GET /acknowledgments/:kind/quiz/check":           {allow: azSignedIn, ok: []int{303, 404}, req: azKindPath("/quiz/check")},
	"GET /acknowledgments/:kind/sign":                 {allow: azSignedIn, ok: []int{303, 404}, req: azKindPath("/sign"), note: "Zoë has not passed its check: to the guidance"},
	"POST /acknowledgments/:kind/sign/consent":        {allow: azSignedIn, ok: []int{303, 404}, req: azKindPath("/sign/consent")},
	"POST /acknowledgments/:kind/sign/review":         {allow: azSignedIn, ok: []int{303, 404}, req: azKindPath("/sign/review")},
	"POST /acknowledgments/:kind/sign/edit":           {allow: azSignedIn, ok: []int{303, 404}, req: azKindPath("/sign/edit")},
	"POST /acknowledgments/:kind/sign":                {allow: azSignedIn, ok: []int{403, 404}, req: azKindPath("/sign"), note: "not passed: refused, nothing signed"},
	// The API: a bearer token with the route's scope and nothing else, so
	// every role's browser session gets 401 (api: true); the tokens of each
	// scope are tried by TestAuthorizationMatrix/API_tokens.
	"GET /api/v1/openapi.json": {allow: azEveryone, ok: []int{200}},
	"GET /api/v1/completion":   {api: app.ScopeCompletionRead, ok: []int{200}},
	"GET /api/v1/people/:number/acknowledgments": {api: app.ScopeCompletionRead, ok: []int{200},
		req: func(*azEnv, azRole) azReq { return azReq{path: "/api/v1/people/1008/acknowledgments"} }},
	"GET /api/v1/certificates/:code": {api: app.ScopeCertificatesRead, ok: []int{200},
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/api/v1/certificates/" + e.code[azAnon]} }},
	"GET /admin/api-tokens": {allow: azSetAdmin, ok: []int{200}},
	"POST /admin/api-tokens": {allow: azSetAdmin, ok: []int{200}, req: func(_ *azEnv, who azRole) azReq {
		return azReq{path: "/admin/api-tokens", form: form("name", "Matrix "+who.String(), "scope", app.ScopeCompletionRead)}
	}},
	"POST /admin/api-tokens/:id/revoke": {allow: azSetAdmin, ok: []int{303}, note: "a token made for each request", req: func(e *azEnv, who azRole) azReq {
		tok, _, err := e.tp.Handler.APITokens.CreateAPIToken(e.t.Context(), "Matrix revoke "+who.String()+" "+randomName(), []string{app.ScopeCompletionRead}, nil)
		if err != nil {
			e.t.Fatal(err)
		}
		return azReq{path: "/admin/api-tokens/" + itoa(tok.ID) + "/revoke"}
	}},
	// Roster sync from the directory: roster:write tokens (api_roster_test.go, scim_test.go).
	"PUT /api/v1/roster": {api: app.ScopeRosterWrite, ok: []int{200}, req: func(e *azEnv, _ azRole) azReq {
		return azReq{path: "/api/v1/roster?dry_run=1", ctype: "text/csv", body: string(e.tp.rosterFile(e.t, []string{"1008"}, nil))}
	}},
	"GET /scim/v2/Users": {api: app.ScopeRosterWrite, ok: []int{200}, req: func(*azEnv, azRole) azReq {
		return azReq{path: "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "nobody@maine.example"`)}
	}},
	"POST /scim/v2/Users": {api: app.ScopeRosterWrite, ok: []int{201}, req: func(*azEnv, azRole) azReq {
		n := randomName()
		return azReq{path: "/scim/v2/Users", ctype: "application/scim+json", body: `{"userName":"n` + n + `@maine.example","name":{"formatted":"New Person"},
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"N` + n + `","organization":"` + dafs + `","department":"Matrix"}}`}
	}},
	"GET /scim/v2/Users/:id": {api: app.ScopeRosterWrite, ok: []int{200}, req: func(e *azEnv, _ azRole) azReq {
		return azReq{path: "/scim/v2/Users/" + itoa(e.tp.employee(e.t, "1008").ID)}
	}},
	"PUT /scim/v2/Users/:id": {api: app.ScopeRosterWrite, ok: []int{200}, req: func(e *azEnv, _ azRole) azReq {
		return azReq{path: azSCIMPerson(e), ctype: "application/scim+json", body: `{"title":"Replaced"}`}
	}},
	"PATCH /scim/v2/Users/:id": {api: app.ScopeRosterWrite, ok: []int{200}, req: func(e *azEnv, _ azRole) azReq {
		return azReq{path: azSCIMPerson(e), ctype: "application/scim+json", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"Replace","path":"active","value":"False"}]}`}
	}},
	"DELETE /scim/v2/Users/:id": {api: app.ScopeRosterWrite, ok: []int{204}, req: func(e *azEnv, _ azRole) azReq {
		return azReq{path: azSCIMPerson(e)}
	}},
	"GET /scim/v2/ServiceProviderConfig": {api: app.ScopeRosterWrite, ok: []int{200}},
	"GET /scim/v2/ResourceTypes":         {api: app.ScopeRosterWrite, ok: []int{200}},
	"GET /scim/v2/Schemas":               {api: app.ScopeRosterWrite, ok: []int{200}},
	"GET /metrics":                       {bearer: 401, note: "Prometheus: the metrics token only (TestMetricsToken); no session opens it"},
}

// azAccountPath is the path of an account of the role's agency: DHHS
// Instagram for the DHHS supervisor, DAFS Facebook for everyone else.
func azAccountPath(tail string) func(*azEnv, azRole) azReq {
	return func(e *azEnv, who azRole) azReq {
		handle := "StateDAFSNews"
		if who == azSupDHHS {
			handle = "StateHealthTips"
		}
		return azReq{path: "/accounts/" + itoa(int64(e.tp.count(e.t, `SELECT id FROM social_accounts WHERE handle = ?`, handle))) + tail}
	}
}

// azDemoTerms is the id of DAFS's Terms of Comment, version 1 (the demo's).
func azDemoTerms(e *azEnv) int64 {
	return int64(e.tp.count(e.t, `SELECT id FROM terms_of_comment WHERE agency = ? AND version = 1`, dafs))
}

// azKindPath is a path of the agency-use acknowledgment's journey.
func azKindPath(path string) func(*azEnv, azRole) azReq {
	return func(e *azEnv, who azRole) azReq {
		return azReq{path: "/acknowledgments/agency-use" + path, form: form("typed_name", e.emp[who].FullName, "intent", "yes", "consent", "yes")}
	}
}

// azKindSlug is a guidance section of the agency-use acknowledgment, then suffix.
func azKindSlug(suffix string) func(*azEnv, azRole) azReq {
	return func(e *azEnv, _ azRole) azReq {
		return azReq{path: "/acknowledgments/agency-use/guidance/" + e.tp.Version.ModulesFor(app.AudiencePosters)[0].Slug + suffix}
	}
}

func azSignForm(path string) func(*azEnv, azRole) azReq {
	return func(e *azEnv, who azRole) azReq {
		return azReq{path: path, form: form("typed_name", e.emp[who].FullName, "intent", "yes")}
	}
}

// azEnv is one test portal prepared for the matrix.
type azEnv struct {
	t         *testing.T
	tp        *testPortal
	counter   *sql.DB
	emp       map[azRole]*app.Employee
	code      map[azRole]string // the role's own certificate; anonymous: 1008's
	attempt   map[azRole]int64  // the role's own quiz attempt; anonymous: 1008's
	slug      string
	cycle     int64
	upload    int64 // a roster file 1002 has previewed
	uploadSHA string
	bundle    []byte
	// addressChange is a change of 1011's address that 1010 (another HR
	// user) uploaded, waiting for a second person.
	addressChange int64
	// paperPerson (1011) has a paper acknowledgment, paperAck, that 1002 recorded.
	paperPerson, paperAck int64
}

var azApplyRE = regexp.MustCompile(`/hr/roster/(\d+)/apply`)

// azPortal starts a demo portal and prepares it: 1005 reads everything and
// signs (as 1002, 1003 and 1004 did in the demo data), so every role has a
// certificate and a quiz attempt of its own; 1002 previews a roster file.
func azPortal(t *testing.T, options ...func(*server.Config)) *azEnv {
	t.Helper()
	// An OpenID provider too, so that its sign-in routes do their work.
	op := startTestOP(t, nil)
	tp := startTestPortal(t, append([]func(*server.Config){testBranding(t), withMetricsToken, withOIDC(op, "email")}, options...)...)
	// Five exports per user per ten minutes would end the matrix early.
	tp.Handler.ExportLimit = handlers.NewRateLimiter(1<<30, time.Minute)
	e := &azEnv{t: t, tp: tp, emp: map[azRole]*app.Employee{}, code: map[azRole]string{}, attempt: map[azRole]int64{}}
	e.cycle = tp.cycleID(t)
	zoe := tp.employee(t, "1005")
	// Zoë signs, as she would, so that the employee has a certificate of her own.
	zc := newClient(t, tp.BaseURL)
	zc.signIn(tp.signInLink(t, "1005"))
	readAll(t, tp, zc, "1005")
	passQuiz(t, tp, zc, "1005")
	consent(t, zc)
	zc.get("/sign")
	if r := zc.post("/sign", form("typed_name", zoe.FullName, "intent", "yes")); r.Status != 303 {
		t.Fatalf("Zoë signs: status %d", r.Status)
	}
	e.slug = tp.Version.ModulesFor(app.AudienceAll)[0].Slug
	publishDocsFixture(t, tp) // a version with an official document to download
	// Two supervisors with no reports and no role, each signed, in place of
	// the demo's (1009 has not signed, 2007 manages people).
	for _, s := range []struct{ agency, number string }{{dafs, azNumber[azSupDAFS]}, {dhhs, azNumber[azSupDHHS]}} {
		if _, err := tp.Handler.Supervisors.Designate(t.Context(), s.agency, s.number, "the matrix", tp.employee(t, "1003").ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, who := range azRoles {
		e.emp[who] = tp.employee(t, azNumber[who])
		number := azNumber[who]
		if who == azAnon {
			number = "1008"
		}
		emp := tp.employee(t, number)
		if n := tp.count(t, `SELECT COUNT(*) FROM acknowledgments WHERE employee_id = ?`, emp.ID); n != 1 {
			t.Fatalf("acknowledgments of %s: %d", number, n)
		}
		e.code[who] = tp.codeOf(t, emp.ID)
		if e.attempt[who] = tp.attemptOf(t, emp.ID, e.cycle); e.attempt[who] == 0 {
			t.Fatalf("no quiz attempt of %s", number)
		}
	}
	hr := newClient(t, tp.BaseURL)
	hr.signIn(tp.signInLink(t, "1002"))
	hr.get("/hr/roster")
	r := hr.upload("/hr/roster", "file", "roster.csv", []byte(goodRoster), nil)
	m := applyRE.FindStringSubmatch(r.Body)
	if r.Status != 200 || m == nil {
		t.Fatalf("roster preview: status %d", r.Status)
	}
	e.upload, e.uploadSHA = int64(mustAtoi(t, azApplyRE.FindStringSubmatch(m[1])[1])), m[2]
	e.bundle = zipDir(t, "../app/content/testdata/2099.1")
	// Chloé (HR) uploads a new address for Dmitri; it waits for a second person.
	chloe := newClient(t, tp.BaseURL)
	chloe.signIn(tp.signInLink(t, "1010"))
	applyRoster(t, chloe, previewRoster(t, chloe, "address.csv",
		tp.rosterFile(t, []string{"1011"}, map[string]map[string]string{"1011": {"email": "dmitri.volkov@new.invalid"}})))
	if n := tp.count(t, `SELECT COUNT(*) FROM address_changes WHERE action = 'request'`); n != 1 {
		t.Fatalf("%d address changes requested", n)
	}
	e.addressChange = int64(tp.count(t, `SELECT id FROM address_changes WHERE action = 'request'`))
	e.paperPerson, e.paperAck = azPaperFixture(t, tp)
	// 1009 is excused, so that there is an exemption to end.
	if r := hr.post("/hr/people/"+itoa(tp.employee(t, "1009").ID)+"/exempt", form("exempt_from", e.day(0), "exempt_reason", "leave")); r.Status != 303 {
		t.Fatalf("exempt 1009: status %d", r.Status)
	}
	e.counter = readFile(t, tp.DB.Path)
	t.Cleanup(func() { e.counter.Close() }) // runs before the portal's own clean-up closes the database
	return e
}

// day is the date days from today in the portal's calendar (YYYY-MM-DD).
func (e *azEnv) day(days int) string {
	return e.tp.DB.Now().In(e.tp.Config.TimeZone).AddDate(0, 0, days).Format(app.DateLayout)
}

// token is a fresh one-time sign-in token for the role (1006 for anonymous).
func (e *azEnv) token(who azRole) string {
	l := e.tp.signInLink(e.t, azNumber[who])
	return l[strings.LastIndex(l, "/")+1:]
}

// client is a new browser: signed in as the role, or anonymous with a CSRF
// cookie and its token.
func (e *azEnv) client(who azRole) *client {
	c := newClient(e.t, e.tp.BaseURL)
	if who == azAnon {
		c.get("/signin")
	} else {
		c.signIn(e.tp.signInLink(e.t, azNumber[who]))
	}
	if c.csrf == "" {
		e.t.Fatalf("%s: no CSRF token in the page", who)
	}
	return c
}

// counts is the number of rows of every table.
func (e *azEnv) counts() map[string]int {
	e.t.Helper()
	// A sign-in request's rows are written after its answer: wait for them,
	// so that they count with the request that made them.
	e.tp.signInRequestsHandled(e.t)
	rows, err := e.counter.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	if len(names) < 10 {
		e.t.Fatalf("only %d tables", len(names))
	}
	out := map[string]int{}
	for _, n := range names {
		if n == "log_hashes" || n == "log_checkpoints" {
			// The tree's hashes follow log_entries (one to a dozen an entry),
			// and checkpoints are signed in the background, whoever asks.
			continue
		}
		var c int
		if err := e.counter.QueryRow(`SELECT COUNT(*) FROM "` + n + `"`).Scan(&c); err != nil {
			e.t.Fatal(err)
		}
		out[n] = c
	}
	return out
}

// azDelta is what changed between two snapshots: table → rows added (or removed).
func azDelta(before, after map[string]int) map[string]int {
	d := map[string]int{}
	for n, a := range after {
		if a != before[n] {
			d[n] = a - before[n]
		}
	}
	for n := range before {
		if _, ok := after[n]; !ok {
			d[n] = -before[n]
		}
	}
	return d
}

func azSameDelta(got, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// azSend sends a route's request; csrf is the _csrf field it carries (nil: none).
func azSend(c *client, method string, q azReq, csrf *string) response {
	c.t.Helper()
	if method == "GET" {
		return c.get(q.path)
	}
	var body bytes.Buffer
	ctype := "application/x-www-form-urlencoded"
	fields := url.Values{}
	for k, v := range q.form {
		fields[k] = slices.Clone(v)
	}
	if csrf != nil {
		fields.Set("_csrf", *csrf)
	}
	if q.file != nil {
		w := multipart.NewWriter(&body)
		for k, vs := range fields {
			for _, v := range vs {
				if err := w.WriteField(k, v); err != nil {
					c.t.Fatal(err)
				}
			}
		}
		fw, err := w.CreateFormFile(q.file.field, q.file.name)
		if err != nil {
			c.t.Fatal(err)
		}
		if _, err := fw.Write(q.file.content); err != nil {
			c.t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			c.t.Fatal(err)
		}
		ctype = w.FormDataContentType()
	} else {
		body.WriteString(fields.Encode())
	}
	req, err := http.NewRequest(method, c.url(q.path), &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	return c.do(req)
}

const (
	azMsgDenied  = "You do not have access to this page."
	azMsgSignIn  = "Please sign in first."
	azMsgExpired = "This form has expired"
)

func azKey(r handlers.Route) string { return r.Method + " " + r.Path }

// request builds the concrete request of a route for a role.
func (e *azEnv) request(r handlers.Route, who azRole) azReq {
	e.t.Helper()
	exp := azTable[azKey(r)]
	q := azReq{path: r.Path}
	if exp.req != nil {
		q = exp.req(e, who)
	}
	if strings.Contains(q.path, ":") {
		e.t.Fatalf("%s: azTable gives no value for the parameters of %q", azKey(r), q.path)
	}
	return q
}

// azCheckCell checks one response of the matrix.
func azCheckCell(t *testing.T, r handlers.Route, who azRole, q azReq, res response) {
	t.Helper()
	key, exp := azKey(r), azTable[azKey(r)]
	if exp.bearer != 0 {
		if res.Status != exp.bearer || strings.Contains(res.Body, "portal_") {
			t.Errorf("%s as %s: status %d, want %d and nothing of what the token opens", key, who, res.Status, exp.bearer)
		}
		return
	}
	switch {
	case exp.api != "":
		// A browser session, whoever's, authorizes no API call.
		scim := strings.Contains(res.Body, `"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"]`) && strings.Contains(res.Body, `"status":"401"`)
		if res.Status != 401 || !strings.Contains(res.Body, `"error":"unauthorized"`) && !scim {
			t.Errorf("%s as %s (%s): status %d %s, want 401 in JSON", key, who, q.path, res.Status, res.Body)
		}
	case exp.allow.has(who):
		if !slices.Contains(exp.ok, res.Status) {
			t.Errorf("%s as %s (%s): status %d, want one of %v (allowed)", key, who, q.path, res.Status, exp.ok)
		}
		for _, m := range []string{azMsgDenied, azMsgSignIn, azMsgExpired} {
			if strings.Contains(res.Body, m) {
				t.Errorf("%s as %s: allowed, but the page says %q", key, who, m)
			}
		}
	case who == azAnon && r.Method == "GET":
		if want := "/signin?next=" + url.QueryEscape(q.path); res.Status != 303 || res.Location != want {
			t.Errorf("%s anonymous: status %d location %q, want 303 to %q", key, res.Status, res.Location, want)
		}
	case who == azAnon:
		if res.Status != 401 || !strings.Contains(res.Body, azMsgSignIn) {
			t.Errorf("%s anonymous with a valid CSRF token: status %d, want 401 %q", key, res.Status, azMsgSignIn)
		}
	default:
		if res.Status != 403 || !strings.Contains(res.Body, azMsgDenied) {
			t.Errorf("%s as %s: status %d, want 403 %q", key, who, res.Status, azMsgDenied)
		}
	}
}

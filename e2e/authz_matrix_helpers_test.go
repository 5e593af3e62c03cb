package e2e

// The authorization matrix's roles and expectations, the portal it runs on,
// and how it sends each request and checks each response.

import (
	"bytes"
	"database/sql"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"portal/app"
	"portal/handlers"
	"portal/server"
)

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
	rows, err := e.counter.Query(tablesQuery(e.tp.DB.Path))
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

package e2e

// The accessibility sweep (SPEC §5): every GET page of the route table, for
// every role, checked with axe-core in a real Chromium — whatever comes back,
// so the "Not allowed", "Page not found", expired-link and bad-filter pages
// and the empty states are checked as well as the pages themselves. The list
// of pages comes from handlers.Routes(), so a new GET page is swept without
// touching this file; only a new path parameter needs an entry in
// axeSweepParams (the test says so), and a new download one in
// axeSweepDownloads. Then HR closes the cycle and the signed-in roles are
// swept again, for the "no open cycle" states, together with HR in a second
// portal that has never had a cycle; and the employee's journey is checked
// once more at a phone's size.

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/app"
	"portal/handlers"
)

// axeSweepRole is one kind of visitor. number is "" for the anonymous one.
type axeSweepRole struct {
	name, number string
	seesCert     bool // may open 1008's certificate: HR, or her manager 1004
}

var axeSweepRoles = []axeSweepRole{
	{name: "anonymous"},
	{name: "employee", number: "1005"},
	{name: "manager", number: "1004", seesCert: true},
	{name: "HR", number: "1002", seesCert: true},
	{name: "admin", number: "1003"},
	{name: "supervisor", number: "1009"}, // DAFS's Social Media Supervisor in the demo
}

// axeSweepParams fills the path parameters of the GET routes. A key is a
// parameter (":slug"), or a route and its parameter ("/hr/people/:id :id"),
// which wins. A parameter that is in neither fails the test.
var axeSweepParams = map[string]func(t *testing.T, s *axeSweeper) string{
	// a fresh one-time sign-in link of the visitor (of an employee for the anonymous one)
	":token": func(t *testing.T, s *axeSweeper) string {
		return strings.TrimPrefix(s.tp.signInLinkFor(t, s.visitor()), s.tp.BaseURL+"/signin/link/")
	},
	// the first guidance section the visitor reads
	":slug": func(t *testing.T, s *axeSweeper) string { return s.tp.Version.ModulesFor(app.AudienceAll)[0].Slug },
	// the verification code of Siobhán O'Brien's (1008) acknowledgment
	":code": func(t *testing.T, s *axeSweeper) string { return s.fx.code },
	// the visitor's own latest acknowledgment, whose confirmation page only
	// they may see; one who has none gets 1008's, which is "not found"
	"/certificates/:code/confirmation :code": func(t *testing.T, s *axeSweeper) string {
		if code := s.tp.codeOf(t, s.visitor().ID); code != "" && s.emp != nil {
			return code
		}
		return s.fx.code
	},
	// the first section of the visitor's knowledge check, started for them
	"/quiz/section/:n :n": func(t *testing.T, s *axeSweeper) string { s.tp.answers(s.visitor()); return "1" },
	// a quiz attempt of the visitor's own, made on the quiz page if they have none
	"/quiz/attempts/:id :id": func(t *testing.T, s *axeSweeper) string { return s.quizAttempt(t) },
	// Siobhán O'Brien (1008)
	"/hr/people/:id :id": func(t *testing.T, s *axeSweeper) string { return itoa(s.fx.person.ID) },
	// the policy version of the demo cycle
	"/hr/versions/:id :id": func(t *testing.T, s *axeSweeper) string { return itoa(s.tp.Version.ID) },
	// the policy text of the demo cycle's version
	"/policy/:code :code": func(t *testing.T, s *axeSweeper) string { return s.tp.Version.Code },
	// its PDF
	"/policy/:code/pdf :code": func(t *testing.T, s *axeSweeper) string { return s.tp.Version.Code },
	// the official document of the version publishDocsFixture publishes
	"/policy/:code/documents/:name :code": func(t *testing.T, s *axeSweeper) string { return docsFixtureCode },
	"/policy/:code/documents/:name :name": func(t *testing.T, s *axeSweeper) string { return "official-policy.pdf" },
	// Nguyễn Thị Lan (1007), who has not signed: the form itself (in the
	// portal without a roster, the fixtures' person, with no cycle to sign in)
	"/hr/people/:id/paper :id": func(t *testing.T, s *axeSweeper) string {
		if es := s.tp.employees(t, `e.employee_number = ?`, "1007"); len(es) == 1 {
			return itoa(es[0].ID)
		}
		return itoa(s.fx.person.ID)
	},
	// the person with a paper acknowledgment, and its id (axePaperFixture)
	"/hr/people/:id/paper/recorded :id": func(t *testing.T, s *axeSweeper) string { return itoa(axePaperFixture(t, s.tp).person) },
	"/hr/people/:id/scans/:ack :id":     func(t *testing.T, s *axeSweeper) string { return itoa(axePaperFixture(t, s.tp).person) },
	"/hr/people/:id/scans/:ack :ack":    func(t *testing.T, s *axeSweeper) string { return itoa(axePaperFixture(t, s.tp).ack) },
	// a roster file the visitor previewed: one person added, one changed, one deactivated
	"/hr/roster/:id :id": func(t *testing.T, s *axeSweeper) string { return previewUploadFor(t, s.tp, s.visitor()) },
	// the newest cycle: the pages confirming a close or a version move and
	// the due date form (once it is closed, and with no cycle, their errors)
	"/hr/cycles/:id/close :id":   axeSweepNewestCycle,
	"/hr/cycles/:id/version :id": axeSweepNewestCycle,
	"/hr/cycles/:id/due :id":     axeSweepNewestCycle,
	// DAFS Facebook StateDAFSNews, the demo's (a supervisor of DAFS may
	// change it; "not found" in the portal without a roster)
	"/accounts/:id :id":      axeSweepDemoAccount,
	"/accounts/:id/edit :id": axeSweepDemoAccount,
	// DAFS's Terms of Comment, version 1 (the demo's, given to Zoë; "not
	// found" for the others and in the portal without a roster)
	"/terms/:id :id":    axeSweepDemoTerms,
	"/my/terms/:id :id": axeSweepDemoTerms,
	// the agency-use acknowledgment, which the employee (Zoë) is asked to
	// sign; the others get the page saying they are not
	":kind": func(t *testing.T, s *axeSweeper) string { return "agency-use" },
	"/acknowledgments/:kind/guidance/:slug :slug": func(t *testing.T, s *axeSweeper) string {
		return s.tp.Version.ModulesFor(app.AudiencePosters)[0].Slug
	},
	"/acknowledgments/:kind/quiz/section/:n :n": func(t *testing.T, s *axeSweeper) string { return "1" },
}

func axeSweepDemoAccount(t *testing.T, s *axeSweeper) string {
	return itoa(int64(s.tp.count(t, `SELECT COALESCE(MIN(id), 0) FROM social_accounts WHERE handle = 'StateDAFSNews'`)))
}

func axeSweepDemoTerms(t *testing.T, s *axeSweeper) string {
	return itoa(int64(s.tp.count(t, `SELECT COALESCE(MIN(id), 0) FROM terms_of_comment`)))
}

func axeSweepNewestCycle(t *testing.T, s *axeSweeper) string {
	return itoa(int64(s.tp.count(t, `SELECT COALESCE(MAX(id), 0) FROM cycles WHERE kind = 'personal-use'`)))
}

// axeSweepSkip are the GET routes that are not pages, with the reason.
var axeSweepSkip = map[string]string{
	"/healthz": "JSON for the load balancer",
	// The API answers programs in JSON (and PDF), and a browser session
	// gets only its 401 there (TestAPIAuthentication).
	"/api/v1/openapi.json":                   "JSON for API clients",
	"/api/v1/completion":                     "JSON for API clients",
	"/api/v1/people/:number/acknowledgments": "JSON for API clients",
	"/api/v1/certificates/:code":             "a PDF for API clients",
	// SCIM answers directories (Entra ID, Okta) in JSON (TestSCIMSpecificationExamples).
	"/scim/v2/Users":                 "SCIM JSON for directories",
	"/scim/v2/Users/:id":             "SCIM JSON for directories",
	"/scim/v2/ServiceProviderConfig": "SCIM JSON for directories",
	"/scim/v2/ResourceTypes":         "SCIM JSON for directories",
	"/scim/v2/Schemas":               "SCIM JSON for directories",
	"/metrics":                       "Prometheus text for the monitoring system, behind its token (TestMetricsToken)",
}

// axeSweepDownloads are the GET routes that download a file, with its
// content type: their content type is checked instead of running axe.
var axeSweepDownloads = map[string]string{
	"/certificates/:code/pdf": "application/pdf",
	"/team/certificates.zip":  "application/zip",
	"/hr/certificates.zip":    "application/zip",
	"/hr/export.csv":          "text/csv",
	"/hr/export.xlsx":         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"/hr/audit.csv":           "text/csv",
	// the policy text and its official documents
	"/policy.pdf":                   "application/pdf",
	"/policy/:code/pdf":             "application/pdf",
	"/policy/:code/documents/:name": "application/pdf",
	// the scan of a paper form (a PDF in the fixture)
	"/hr/people/:id/scans/:ack": "application/pdf",
	"/hr/roster/template.csv":   "text/csv",
	"/accounts.csv":             "text/csv",
}

// axeSweepDocuments are the GET routes that answer machines, not people
// (the evidence log's checkpoint, key and proofs, for witnesses): their
// content type is checked instead of running axe.
var axeSweepDocuments = map[string]string{
	"/log/checkpoint":        "text/plain",
	"/log/key":               "text/plain",
	"/log/proof/inclusion":   "application/json",
	"/log/proof/consistency": "application/json",
	"/log/certificate/:code": "application/json",
	"/org-logo":              "image/svg+xml", // the organisation's logo (testBranding's)
}

// axeSweepExtras are the states that no route of the table shows with its
// plain address: error pages, bad filters and filters that match nobody.
// Every role visits each of them. {used-token} is a link already used.
var axeSweepExtras = []string{
	"/no-such-page",             // 404
	"/signin/link/{used-token}", // 401: the link has expired or was used
	"/guidance/no-such-section", // 404 from a handler
	"/quiz/attempts/999999",     // 404
	"/certificates/ZZZZZ-ZZZZZ", // 404
	"/verify/ZZZZZ-ZZZZZ",       // unknown code (404)
	"/policy/no-such-version",   // 404
	"/verify?code=" + url.QueryEscape("not a code"),
	"/team?status=bogus",                                              // 422
	"/team?department=" + url.QueryEscape("No such department"),       // filtered to nobody
	"/hr/people?status=bogus",                                         // 422
	"/hr/people?q=" + url.QueryEscape("zzz nobody has this name zzz"), // no one found
	"/hr/people/999999",                                               // 404
	"/hr?agency=" + url.QueryEscape(dol),                              // one agency's departments
	"/signin?next=" + url.QueryEscape("/hr/people"),
	"/hr/people/{overdue-person}", // HR's forms for someone who has not signed (Nguyễn Thị Lan, 1007: the employee on a phone, 1005, signs during the sweep)
	"/team?sort=-status",          // sorted: aria-sort on a header
	"/team?sort=bogus",            // 422: an order the page does not offer
	"/accounts?status=bogus",      // 422: a status the registry does not have
}

// axeSweepExpect are words that show the sweep reached the state it means
// to check, by role and page (as the subtests name them): each is checked
// in every phase in which the role visits the page.
var axeSweepExpect = map[string]string{
	"anonymous /signin/link/{used-token}": "This sign-in link has expired or has already been used",
	"anonymous /verify/ZZZZZ-ZZZZZ":       "Unknown code",
	"employee /hr":                        "You do not have access to this page",
	"HR /hr/people?status=bogus":          "Unknown status filter. Choose a status from the list.",
	"HR /hr/people?q=" + url.QueryEscape("zzz nobody has this name zzz"): "Nobody matches these filters",
	"HR, no cycle ever /hr":   "No cycle has been opened yet",
	"HR, no cycle ever /team": "No acknowledgment cycle is open",
	// an unknown policy version
	"anonymous /policy/no-such-version": "There is no published policy version with that code",

	// the manager (1004) has signed in the demo: their own confirmation page
	"manager /certificates/:code/confirmation": "Acknowledgment signed",

	// HR's forms on a person who has not signed (only while a cycle is open)
	"HR, cycle open /hr/people/{overdue-person}": "Extend the due date",

	// the agency-use acknowledgment: Zoë is asked to sign it, HR is not
	"employee /acknowledgments/:kind/guidance": "Guidance",
	"HR /acknowledgments/:kind/guidance":       "You are not asked to sign the authorized poster acknowledgment",

	// a code of the wrong shape is a form error (422) beside the field
	"anonymous /verify?code=" + url.QueryEscape("not a code"): "Enter the code as printed on the certificate",

	// the registry: the supervisor's own accounts, the overdue review flag
	"supervisor /accounts":     "Review overdue",
	"supervisor /accounts/:id": "Change this account",
	"supervisor /":             "the accounts you supervise",

	// an agency-account sign-in refused: by the roster, and without one started
	"anonymous /signin/oidc":          "not on the portal’s list of current employees",
	"anonymous /signin/oidc/callback": "was not started in this browser",
}

// axeSweepFixtures are the values that the parameters share, found once
// for each portal.
type axeSweepFixtures struct {
	person    *app.Employee // someone else: 1008 in the demo portal
	code      string        // the verification code of person's acknowledgment
	usedToken string        // a sign-in token that has been used
}

// axeSweepFixturesOf finds the fixtures in a portal: person's latest
// acknowledgment, if any (else a code that nobody has), and a used link.
func axeSweepFixturesOf(t *testing.T, tp *testPortal, person string) *axeSweepFixtures {
	t.Helper()
	fx := &axeSweepFixtures{person: tp.employee(t, person), code: "ZZZZZ-ZZZZZ"}
	if code := tp.codeOf(t, fx.person.ID); code != "" {
		fx.code = code
	}
	link := tp.signInLinkFor(t, fx.person)
	fx.usedToken = strings.TrimPrefix(link, tp.BaseURL+"/signin/link/")
	newClient(t, tp.BaseURL).signIn(link) // the link is used once, by someone else's browser
	return fx
}

// axeSweeper visits pages as one role in its own browser context.
type axeSweeper struct {
	tp      *testPortal
	fx      *axeSweepFixtures
	role    axeSweepRole
	b       *browser
	emp     *app.Employee // nil when anonymous
	attempt string        // the quiz attempt id, once known
	phone   bool          // the tab is a 390 px phone: pages must not scroll sideways (design_sweep_test.go)
	// cycleOpen: the sweep under way is of the portal with its cycle open
	// (set by sweep; one sweeper sweeps one state at a time).
	cycleOpen bool

	mu     sync.Mutex
	pages  []string        // "status path" of every page checked with axe
	denied map[string]bool // the pages that said "Not allowed" (403), by name
}

// visitor is the signed-in employee, or for the anonymous visitor the
// fixtures' person.
func (s *axeSweeper) visitor() *app.Employee {
	if s.emp == nil {
		return s.fx.person
	}
	return s.emp
}

// allowed says whether the route's access level lets the role in.
func (s *axeSweeper) allowed(level handlers.Access) bool {
	if s.emp == nil {
		return level == handlers.Public || level == handlers.DevOnly
	}
	switch level {
	case handlers.Manager:
		return s.emp.IsManager
	case handlers.HR, handlers.HRAllAgencies: // the sweep's HR user has no agency limit
		return s.emp.HasRole(app.RoleHR)
	case handlers.HROrAdmin, handlers.HRAllAgenciesOrAdmin:
		return s.emp.HasRole(app.RoleHR) || s.emp.HasRole(app.RoleAdmin)
	case handlers.Admin:
		return s.emp.HasRole(app.RoleAdmin)
	case handlers.Supervisor:
		return s.emp.SupervisorOf != ""
	case handlers.SupervisorHROrAdmin:
		return s.emp.SupervisorOf != "" || s.emp.HasRole(app.RoleHR) || s.emp.HasRole(app.RoleAdmin)
	case handlers.SupervisorOrAdmin:
		return s.emp.SupervisorOf != "" || s.emp.HasRole(app.RoleAdmin)
	}
	return true
}

var (
	axeSweepParamRE    = regexp.MustCompile(`:[A-Za-z_]+`)
	axeSweepDownloadRE = regexp.MustCompile(`\.(csv|xlsx|zip|pdf)$|/pdf$`)
)

// fill replaces the parameters of a route path with real values.
func (s *axeSweeper) fill(t *testing.T, path string) string {
	t.Helper()
	return axeSweepParamRE.ReplaceAllStringFunc(path, func(p string) string {
		f, ok := axeSweepParams[path+" "+p]
		if !ok {
			f, ok = axeSweepParams[p]
		}
		if !ok {
			t.Fatalf("GET %s has the parameter %s, which the sweep does not know how to fill: "+
				"add a value for %q (or %q) to axeSweepParams in a11y_sweep_test.go", path, p, p, path+" "+p)
		}
		return url.PathEscape(f(t, s))
	})
}

// quizAttempt returns the id of a quiz attempt of the visitor's own. One who
// has none (1005) reads the guidance and fails the knowledge check on the
// quiz page, and the pages on the way are checked too. The anonymous visitor
// gets the fixtures' person's latest attempt, and the sign-in page. Where no
// cycle is open nobody can make one, and a made-up id gets "not found".
func (s *axeSweeper) quizAttempt(t *testing.T) string {
	t.Helper()
	if s.attempt != "" {
		return s.attempt
	}
	e := s.visitor()
	if n := s.tp.count(t, `SELECT COALESCE(MAX(id), 0) FROM quiz_attempts WHERE employee_id = ?`, e.ID); n > 0 {
		s.attempt = strconv.Itoa(n)
		return s.attempt
	}
	if s.tp.count(t, `SELECT COUNT(*) FROM cycles WHERE open = 1 AND kind = 'personal-use'`) == 0 {
		return "999999"
	}
	b := s.b
	for _, m := range s.tp.Version.ModulesFor(app.AudienceAll) {
		b.open(t, s.tp.BaseURL+"/guidance/"+m.Slug)
		if st := b.press(t, `form.module-next button[type=submit]`); st != 200 {
			b.fatalf(t, "I have read %s: status %d", m.Slug, st)
		}
	}
	b.wantPath(t, "/quiz")
	s.check(t, "/quiz (all guidance read)", 200)
	// The check page with every question unanswered, then an attempt with
	// every answer wrong: its result names the sections to read again.
	b.press(t, `main form[action="/quiz/start"] button, main a.button[href^="/quiz/"]`) // Start, or Continue when the sweep began it
	b.open(t, s.tp.BaseURL+"/quiz/check")
	if st := b.press(t, `main form[action="/quiz"] button[type=submit]`); st != 422 {
		b.fatalf(t, "submit an empty knowledge check: status %d, want 422", st)
	}
	b.wantText(t, "check with gaps", "There is a problem", "Answer question 1 (section 1).")
	s.check(t, "/quiz/check (nothing answered, submitted)", 422)
	b.open(t, s.tp.BaseURL+"/quiz")
	questions := s.tp.Version.QuestionsFor(app.AudienceAll)
	if st := b.answerQuiz(t, questions, wrongOptionOf); st != 200 {
		b.fatalf(t, "submit the knowledge check: status %d", st)
	}
	b.wantUnder(t, "/quiz/attempts/")
	b.wantText(t, "failed result", "Not passed yet", "Sections to read again")
	s.check(t, "/quiz/attempts/:id (failed)", 200)
	s.attempt = strings.TrimPrefix(evalJS[string](t, b, `location.pathname`), "/quiz/attempts/")
	return s.attempt
}

// check runs axe on the page in the tab and records it.
func (s *axeSweeper) check(t *testing.T, what string, status int64) {
	t.Helper()
	s.checkFrame(t, what)
	s.b.axe(t, s.role.name+": "+what+" ("+strconv.FormatInt(status, 10)+")")
	s.mu.Lock()
	s.pages = append(s.pages, fmt.Sprintf("%d %s", status, what))
	s.mu.Unlock()
}

// visit opens a page, checks that the role got in or was turned away as its
// access level says, and runs axe on whatever came back. level is nil for
// an address that is not a route of the table.
func (s *axeSweeper) visit(t *testing.T, name, address string, level *handlers.Access) {
	t.Helper()
	b := s.b
	st := b.open(t, s.tp.BaseURL+address)
	if st >= 500 {
		b.fatalf(t, "GET %s: status %d", address, st)
	}
	doc := evalJS[[]string](t, b, `[document.contentType, location.pathname]`)
	if doc[0] != "text/html" {
		b.fatalf(t, "GET %s: a %s document, want an HTML page (list a download in axeSweepDownloads)", address, doc[0])
	}
	path := doc[1]
	if level != nil {
		switch allowed := s.allowed(*level); {
		case allowed && *level != handlers.Public && (st == 401 || st == 403 || path == "/signin"):
			b.fatalf(t, "GET %s as %s: status %d at %s, but the route lets them in", address, s.role.name, st, path)
		case !allowed && s.emp == nil && path != "/signin":
			b.fatalf(t, "GET %s signed out: status %d at %s, want the sign-in page", address, st, path)
		case !allowed && s.emp != nil && st != 403:
			b.fatalf(t, "GET %s as %s: status %d, want 403", address, s.role.name, st)
		}
	}
	if want, ok := axeSweepExpect[s.role.name+" "+name]; ok {
		b.wantText(t, name, want)
	}
	if want, ok := axeSweepExpect[s.role.name+", cycle open "+name]; ok && s.cycleOpen {
		b.wantText(t, name, want)
	}
	if st == 403 {
		s.mu.Lock()
		s.denied[name] = true
		s.mu.Unlock()
	}
	if u, err := url.Parse(address); err == nil && u.EscapedPath() != path {
		name += " → " + path
	}
	s.check(t, name, st)
}

// download fetches a file with the tab's cookies and checks its content
// type: the file when the role may have it, an HTML page when not.
func (s *axeSweeper) download(t *testing.T, r handlers.Route, address, want string, cycleOpen bool) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.tp.BaseURL+address, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.b.cookies(t, s.tp.BaseURL) {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := (&http.Client{Timeout: browserStepTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", address, err)
	}
	resp.Body.Close()
	ct, st := resp.Header.Get("Content-Type"), resp.StatusCode
	allowed := s.allowed(r.Access)
	if strings.HasPrefix(r.Path, "/certificates/:code") { // a policy version's :code is public
		allowed = allowed && s.role.seesCert
	}
	switch {
	case s.emp == nil && r.Access != handlers.Public:
		if loc := resp.Header.Get("Location"); st != 303 || !strings.HasPrefix(loc, "/signin") {
			t.Errorf("GET %s signed out: status %d to %q, want 303 to the sign-in page", address, st, loc)
		}
	case st == 200 && !strings.HasPrefix(ct, want):
		t.Errorf("GET %s as %s: status 200 with %q, want %s", address, s.role.name, ct, want)
	case st == 200 && !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment"):
		t.Errorf("GET %s as %s: Content-Disposition %q, want an attachment", address, s.role.name, resp.Header.Get("Content-Disposition"))
	case st != 200 && !strings.HasPrefix(ct, "text/html"):
		t.Errorf("GET %s as %s: status %d with %q, want an HTML page", address, s.role.name, st, ct)
	case allowed && st != 200 && (cycleOpen || st != 404):
		t.Errorf("GET %s as %s: status %d (%s), want the file (or, with no open cycle, 404)", address, s.role.name, st, ct)
	case !allowed && st == 200 && strings.HasPrefix(ct, want):
		t.Errorf("GET %s as %s: they got the file, but they may not have it", address, s.role.name)
	}
}

// document fetches a machine-readable document and checks its content type,
// whoever asks: they are public.
func (s *axeSweeper) document(t *testing.T, address, want string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: browserStepTimeout}).Get(s.tp.BaseURL + address)
	if err != nil {
		t.Fatalf("GET %s: %v", address, err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
		t.Errorf("GET %s: status %d with %q, want %s", address, resp.StatusCode, ct, want)
	}
}

// sweep visits every GET page of the route table and every extra state.
// A page that said "Not allowed" in an earlier sweep of the role is not
// visited again: access is decided before any handler runs, so the cycle
// cannot change it, and its page has been checked.
func (s *axeSweeper) sweep(t *testing.T, cycleOpen bool) {
	s.mu.Lock()
	s.cycleOpen = cycleOpen
	denied := maps.Clone(s.denied)
	s.mu.Unlock()
	for _, r := range handlers.Routes() {
		if r.Method != "GET" {
			continue
		}
		if _, skip := axeSweepSkip[r.Path]; skip || denied[r.Path] {
			continue
		}
		t.Run(r.Path, func(t *testing.T) {
			address := s.fill(t, r.Path)
			if want, ok := axeSweepDownloads[r.Path]; ok {
				s.download(t, r, address, want, cycleOpen)
				return
			}
			if want, ok := axeSweepDocuments[r.Path]; ok {
				s.document(t, address, want)
				return
			}
			s.visit(t, r.Path, address, &r.Access)
		})
	}
	for _, x := range axeSweepExtras {
		if denied[x] {
			continue
		}
		t.Run(x, func(t *testing.T) {
			address := strings.ReplaceAll(x, "{used-token}", s.fx.usedToken)
			if strings.Contains(address, "{overdue-person}") {
				address = strings.ReplaceAll(address, "{overdue-person}", axeSweepParams["/hr/people/:id/paper :id"](t, s))
			}
			s.visit(t, x, address, nil)
		})
	}
}

// axeSweepSignIn opens a fresh private tab of bw and signs the role in there
// with a one-time link (the anonymous visitor just gets the tab).
func axeSweepSignIn(t *testing.T, bw *browser, tp *testPortal, fx *axeSweepFixtures, role axeSweepRole) *axeSweeper {
	t.Helper()
	s := &axeSweeper{tp: tp, fx: fx, role: role, b: bw.incognito(t), denied: map[string]bool{}}
	if role.number == "" {
		return s
	}
	s.emp = tp.employee(t, role.number)
	s.b.open(t, tp.signInLink(t, role.number))
	if st := s.b.press(t, `main form button[type=submit]`); st != 200 {
		s.b.fatalf(t, "sign in as %s: status %d", role.number, st)
	}
	s.b.wantPath(t, "/")
	return s
}

// TestEveryPageIsAccessibleForEveryRole runs axe-core on every GET page of
// the route table as every role (anonymous, employee 1005, manager 1004, HR
// 1002, admin 1003), each signed in in its own private tab of one Chromium,
// in the open demo cycle and again once HR has closed it (and as HR in a
// portal that never had a cycle), plus the error pages and empty states of
// axeSweepExtras and, at a phone's size, the employee's journey to the
// certificate. Downloads get their content type checked instead.
func TestEveryPageIsAccessibleForEveryRole(t *testing.T) {
	axeSweepCheckTables(t)
	bw := newBrowser(t, true) // before startTestPortal: a skip must not race its server start
	// The organisation's name, logo and help address, as an agency configures them.
	// With an OpenID provider whose user is not on the roster: /signin/oidc
	// goes there and back to the refusal page.
	op := startTestOP(t, nil)
	op.set(func(op *testOP) { op.User = map[string]any{"sub": "x", "email": "nobody@elsewhere.example"} })
	tp := startTestPortal(t, testBranding(t), withOIDC(op, "email"))
	publishDocsFixture(t, tp) // a version with an official document to download
	bare := axeSweepBarePortal(t)
	start := time.Now()
	fx := axeSweepFixturesOf(t, tp, "1008")
	if fx.code == "ZZZZZ-ZZZZZ" {
		t.Fatal("1008 has no acknowledgment in the demo data")
	}

	sweepers := make([]*axeSweeper, len(axeSweepRoles))
	for i, role := range axeSweepRoles {
		sweepers[i] = axeSweepSignIn(t, bw, tp, fx, role)
	}
	phone := axeSweepSignIn(t, bw, tp, fx, axeSweepRole{name: "employee on a phone", number: "1005"})
	// HR in a portal that has never had a cycle, for the "no cycle yet" states.
	bareHR := axeSweepSignIn(t, bw, bare, axeSweepFixturesOf(t, bare, "1005"), axeSweepRole{name: "HR, no cycle ever", number: "1002"})
	all := append(slices.Clone(sweepers), phone, bareHR)

	t.Run("open cycle", func(t *testing.T) {
		for _, s := range sweepers {
			t.Run(s.role.name, func(t *testing.T) {
				t.Parallel()
				s.sweep(t, true)
				if s.role.number == "1005" {
					t.Run("phone", func(t *testing.T) { axeSweepPhone(t, phone) })
				}
			})
		}
	})
	t.Run("form errors", func(t *testing.T) {
		all = append(all, axeSweepFormErrors(t, bw, tp, fx)...)
	})
	if t.Failed() {
		axeSweepReport(t, all, start)
		t.FailNow()
	}

	t.Run("HR closes the cycle", func(t *testing.T) {
		var hr *axeSweeper
		for _, s := range sweepers {
			if s.role.number == "1002" {
				hr = s
			}
		}
		hr.b.open(t, tp.BaseURL+"/hr/cycles")
		// Closing is confirmed on a page of its own that says what it does.
		if st := hr.b.press(t, `main a[href$="/close"]`); st != 200 {
			hr.b.fatalf(t, "the page confirming the close: status %d", st)
		}
		hr.b.wantText(t, "close confirmation", "have not signed", "stay as evidence")
		if st := hr.b.press(t, `main form[action$="/close"] button[type=submit]`); st != 200 {
			hr.b.fatalf(t, "close the cycle: status %d", st)
		}
		hr.b.wantPath(t, "/hr/cycles")
		hr.b.wantFlash(t, "cycle closed", "The cycle is closed.")
		hr.check(t, "/hr/cycles (the cycle closed)", 200)
		if n := tp.count(t, `SELECT COUNT(*) FROM cycles WHERE open = 1 AND kind = 'personal-use'`); n != 0 {
			t.Fatalf("%d cycles still open", n)
		}
	})

	// Signed out, nothing depends on the cycle: the anonymous pages are not
	// swept again.
	t.Run("no open cycle", func(t *testing.T) {
		for _, s := range append(slices.Clone(sweepers[1:]), bareHR) {
			t.Run(s.role.name, func(t *testing.T) {
				t.Parallel()
				s.sweep(t, false)
			})
		}
	})
	axeSweepReport(t, all, start)
}

// axeSweepCheckTables fails the test before any browser starts if a GET
// route has a parameter that axeSweepParams cannot fill or looks like a
// download that axeSweepDownloads does not list, or if those maps name a
// route that is not in the table (so they cannot go stale).

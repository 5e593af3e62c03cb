package e2e

// The accessibility sweeper (a11y_sweep_test.go): one role in its own private
// tab, visiting and checking every page the route table lists.

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"portal/app"
	"portal/handlers"
)

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
				"add a value for %q (or %q) to axeSweepParams in a11y_sweep_tables_test.go", path, p, p, path+" "+p)
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

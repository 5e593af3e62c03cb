package e2e

// Helpers of the accessibility sweep (a11y_sweep_test.go).

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"portal/app"
	"portal/handlers"
	"portal/server"
)

// axeSweepCheckTables fails the test before any browser starts if a GET
// route has a parameter that axeSweepParams cannot fill or looks like a
// download that axeSweepDownloads does not list, or if those maps name a
// route that is not in the table (so they cannot go stale).
func axeSweepCheckTables(t *testing.T) {
	t.Helper()
	known := map[string]handlers.Route{}
	for _, r := range handlers.Routes() {
		if r.Method == "GET" {
			known[r.Path] = r
		}
	}
	for p := range known {
		if _, skip := axeSweepSkip[p]; skip {
			continue
		}
		_, isDownload := axeSweepDownloads[p]
		if !isDownload && axeSweepDownloadRE.MatchString(p) {
			t.Errorf("GET %s looks like a download: add it to axeSweepDownloads in a11y_sweep_tables_test.go with its content type", p)
		}
		for _, param := range axeSweepParamRE.FindAllString(p, -1) {
			_, ok := axeSweepParams[p+" "+param]
			if _, ok2 := axeSweepParams[param]; !ok && !ok2 {
				t.Errorf("GET %s has the parameter %s, which the sweep does not know how to fill: "+
					"add a value for %q (or %q) to axeSweepParams in a11y_sweep_tables_test.go", p, param, param, p+" "+param)
			}
		}
	}
	for p := range axeSweepSkip {
		if _, ok := known[p]; !ok {
			t.Errorf("axeSweepSkip names %s, which is not a GET route", p)
		}
	}
	for p := range axeSweepDownloads {
		if _, ok := known[p]; !ok {
			t.Errorf("axeSweepDownloads names %s, which is not a GET route", p)
		}
	}
	for k := range axeSweepParams {
		if p, _, ok := strings.Cut(k, " "); ok {
			if _, ok := known[p]; !ok {
				t.Errorf("axeSweepParams names %s, which is not a GET route", p)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// axeSweepReport logs how many pages were checked, by whom.
func axeSweepReport(t *testing.T, sweepers []*axeSweeper, start time.Time) {
	pages := 0
	for _, r := range handlers.Routes() {
		if _, skip := axeSweepSkip[r.Path]; !skip && r.Method == "GET" && axeSweepDownloads[r.Path] == "" {
			pages++
		}
	}
	t.Logf("the route table has %d GET pages (and %d downloads); with %d extra states that is %d addresses for each role and phase",
		pages, len(axeSweepDownloads), len(axeSweepExtras), pages+len(axeSweepExtras))
	total := 0
	byStatus := map[string]int{}
	for _, s := range sweepers {
		s.mu.Lock()
		total += len(s.pages)
		t.Logf("%-19s %3d pages checked with axe", s.role.name, len(s.pages))
		for _, p := range s.pages {
			st, _, _ := strings.Cut(p, " ")
			byStatus[st]++
		}
		s.mu.Unlock()
	}
	var st []string
	for k, n := range byStatus {
		st = append(st, fmt.Sprintf("%s×%d", k, n))
	}
	slices.Sort(st)
	t.Logf("%d pages checked with axe in %v; statuses %s", total, time.Since(start).Round(time.Millisecond), strings.Join(st, " "))
}

// axeSweepPhone takes Zoë Côté (1005) through her pages at the size of a
// phone (390×844): home, the guidance, a section, the knowledge check, the
// consent notice, the sign form, the review and the certificate, each
// checked with axe and for sideways scrolling (WCAG 1.4.10, reflow).
func axeSweepPhone(t *testing.T, s *axeSweeper) {
	b, tp := s.b, s.tp
	b.do(t, "emulate a 390×844 phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
	if w := evalJS[int](t, b, `window.innerWidth`); w != 390 {
		t.Fatalf("the viewport is %d wide, want 390", w)
	}
	e := s.emp
	modules, questions := tp.Version.ModulesFor(app.AudienceAll), tp.Version.QuestionsFor(app.AudienceAll)
	page := func(t *testing.T, what string, st int64) {
		t.Helper()
		if st != 200 {
			b.fatalf(t, "%s: status %d", what, st)
		}
		if over := evalJS[int](t, b, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
			wide := evalJS[[]string](t, b, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
				.slice(0, 5).map(e => e.tagName.toLowerCase() + (e.getAttribute("class") ? "." + e.getAttribute("class") : "") + " " + Math.round(e.getBoundingClientRect().right) + "px")`)
			t.Errorf("%s at 390px: the page scrolls sideways by %dpx; widest: %q", what, over, wide)
		}
		s.check(t, what+" at 390×844", st)
	}
	page(t, "home", b.open(t, tp.BaseURL+"/"))
	page(t, "guidance index", b.open(t, tp.BaseURL+"/guidance"))
	page(t, "guidance section", b.open(t, tp.BaseURL+"/guidance/"+modules[0].Slug))
	if n := tp.count(t, `SELECT COUNT(*) FROM module_progress p JOIN cycles c ON c.id = p.cycle_id AND c.open = 1 WHERE p.employee_id = ?`, e.ID); n < len(modules) {
		for _, m := range modules { // the desktop sweep reads them when it runs first
			b.open(t, tp.BaseURL+"/guidance/"+m.Slug)
			b.press(t, `form.module-next button[type=submit]`)
		}
	}
	page(t, "knowledge check", b.open(t, tp.BaseURL+"/quiz"))
	answers := tp.answers(e) // starts the check, as its Start button does
	page(t, "knowledge check section", b.open(t, tp.BaseURL+"/quiz/section/1"))
	page(t, "check your answers", b.open(t, tp.BaseURL+"/quiz/check"))
	b.open(t, tp.BaseURL+"/quiz")
	page(t, "passed knowledge check", b.answerQuiz(t, questions, func(q app.Question) string { return answers["q."+q.ID] }))
	b.wantText(t, "passed", "You passed")
	page(t, "consent notice", b.open(t, tp.BaseURL+"/sign"))
	b.do(t, "tick consent", chromedp.Click(chromedp.CSS("#consent")))
	page(t, "sign form", b.press(t, `main form[action="/sign/consent"] button[type=submit]`))
	b.do(t, "type the name", chromedp.SetValue(chromedp.CSS("#typed_name"), e.FullName))
	b.tickIntent(t)
	page(t, "review", b.press(t, `main form[action="/sign/review"] button[type=submit]`))
	page(t, "confirmation", b.press(t, `main form[action="/sign"] button[type=submit]`))
	b.wantText(t, "confirmation", "Acknowledgment signed", "What happens next")
	page(t, "certificate", b.open(t, tp.BaseURL+"/certificates/"+url.PathEscape(tp.codeOf(t, e.ID))))
	b.wantText(t, "certificate", "Certificate of acknowledgment", e.FullName)
	page(t, "home (signed)", b.open(t, tp.BaseURL+"/"))
}

// axeSweepBarePortal starts a portal that has never had a cycle. Its roster
// is written before the portal starts, so the demo data (and its cycle) is
// not seeded: Hannah Roy (1002, HR), who manages François Lévesque (1004),
// who manages Zoë Côté (1005) — the three whose links the demo prints.
func axeSweepBarePortal(t *testing.T) *testPortal {
	t.Helper()
	return startTestPortal(t, testBranding(t), func(cfg *server.Config) {
		ctx := context.Background()
		k := mustKeys(t, cfg)
		db, err := server.OpenDB(cfg, k)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		p, err := server.Wire(ctx, cfg, db, k, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		var manager *int64
		for _, d := range server.DemoRoster {
			if d.Number != "1002" && d.Number != "1004" && d.Number != "1005" {
				continue
			}
			e := &app.Employee{EmployeeNumber: d.Number, FullName: d.Name, Email: server.DemoEmail(d.Number), Agency: d.Agency,
				Department: d.Dept, Title: d.Title, Roles: d.Roles, Active: true, ManagerID: manager,
				HireDate: time.Now().AddDate(0, 0, -d.HiredDaysAgo).Format(app.DateLayout)}
			if err := p.Handler.Employees.CreateEmployee(ctx, e); err != nil {
				t.Fatal(err)
			}
			manager = &e.ID
		}
	})
}

package e2e

// The manager journey in a real headless Chromium (SPEC §3.6, §5): the team
// page and its filters, one person's certificate, the team ZIP, and the
// limits of a manager's reach, with axe-core on every page visited.

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// managerTeamNames are the people who report to François Lévesque (1004).
var managerTeamNames = []string{"Zoë Côté", "José Núñez", "Nguyễn Thị Lan", "Siobhán O'Brien"}

// teamSignIn opens a fresh sign-in link for the demo employee and presses
// Continue, which leads to the home page.
func (b *browser) teamSignIn(t *testing.T, tp *testPortal, number string) {
	t.Helper()
	e := tp.employee(t, number)
	b.open(t, tp.signInLinkFor(t, e))
	b.confirmSignIn(t, e.FullName)
}

// filterTeam chooses a department and a status in the team page's filter
// form (an empty string chooses "All departments" or "Any status"), presses
// Filter and returns the number of people the result announces.
func (b *browser) filterTeam(t *testing.T, department, status string) string {
	t.Helper()
	b.do(t, "choose the filters",
		chromedp.SetValue(chromedp.CSS("#department"), department),
		chromedp.SetValue(chromedp.CSS("#status"), status))
	for id, want := range map[string]string{"department": department, "status": status} {
		if got := evalJS[string](t, b, `document.getElementById("`+id+`").value`); got != want {
			b.fatalf(t, "the %s select has no option %q (it holds %q)", id, want, got)
		}
	}
	if st := b.press(t, `main form.filters button[type=submit]`); st != 200 {
		b.fatalf(t, "Filter (department %q, status %q): status %d", department, status, st)
	}
	b.wantPath(t, "/team")
	for id, want := range map[string]string{"department": department, "status": status} {
		if got := evalJS[string](t, b, `document.getElementById("`+id+`").value`); got != want {
			b.fatalf(t, "after Filter the %s select shows %q, want %q", id, got, want)
		}
	}
	return evalJS[string](t, b, `document.querySelector('main p[role="status"]').textContent.trim()`)
}

// teamRows returns the names in the rows of the team table.
func (b *browser) teamRows(t *testing.T) []string {
	t.Helper()
	return evalJS[[]string](t, b, `[...document.querySelectorAll("main table tbody th[scope=row]")].map(th => th.firstChild.textContent.trim())`)
}

// fetch gets href with the browser's cookies and returns the status, the
// headers and the body.
func (b *browser) teamFetch(t *testing.T, href string) (int, http.Header, []byte) {
	t.Helper()
	resp := b.httpGet(t, href)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", href, err)
	}
	return resp.StatusCode, resp.Header, body
}

// TestManagerJourneyInBrowser walks François Lévesque (1004, who manages
// 1005–1008; only 1008 has signed) through his team page, its filters, a
// certificate and the team ZIP, then checks that another manager (2001) and
// an employee without reports (1005) cannot reach his people.
func TestManagerJourneyInBrowser(t *testing.T) {
	b := newBrowser(t, true) // before startTestPortal: a skip must not race its server start
	tp := startTestPortal(t)
	signed := tp.employee(t, "1008")
	var code string // 1008's verification code, from the team page's PDF link

	journeyStep(t, "the manager signs in and opens Your team from the main nav", func(t *testing.T) {
		b.teamSignIn(t, tp, "1004")
		if st := b.press(t, `header nav[aria-label="Main"] a[href="/team"]`); st != 200 {
			b.fatalf(t, "Your team: status %d", st)
		}
		b.wantPath(t, "/team")
		if cur := evalJS[string](t, b, `document.querySelector('header nav a[aria-current="page"]').textContent.trim()`); cur != "Your team" {
			b.fatalf(t, "the nav marks %q as the current page, want Your team", cur)
		}
		b.wantText(t, "team page", append(managerTeamNames, "Your team", "4 people.")...)
		if rows := b.teamRows(t); len(rows) != 4 {
			b.fatalf(t, "the team table has rows %q, want the four reports", rows)
		}
		// The totals agree with the table: one of four signed, and as many
		// overdue and started as the rows say.
		figures := evalJS[[]string](t, b, `[...document.querySelectorAll("main .figures p")].map(p => p.textContent.replace(/\s+/g, " ").trim())`)
		statuses := evalJS[[]string](t, b, `[...document.querySelectorAll("main table tbody tr")].map(tr => tr.cells[3].textContent.trim())`)
		count := func(label string) int {
			return len(slices.DeleteFunc(slices.Clone(statuses), func(s string) bool { return s != label }))
		}
		want := []string{"25% signed", "1 of 4 people", strconv.Itoa(count("Overdue")) + " overdue",
			strconv.Itoa(count("In progress")) + " in progress", strconv.Itoa(count("Not started")) + " not started"}
		if !slices.Equal(figures, want) {
			b.fatalf(t, "the team totals read %q, want %q (statuses %q)", figures, want, statuses)
		}
		for _, outsider := range []string{"Margaret Thibodeau", "Łukasz Wiśniewski", "Robert Pelletier"} {
			if strings.Contains(b.mainText(t), outsider) {
				b.fatalf(t, "the team page shows %s, who is not under 1004", outsider)
			}
		}
		b.axe(t, "team page")
	})

	journeyStep(t, "the filters narrow the team and an empty result is accessible", func(t *testing.T) {
		if got := b.filterTeam(t, "", "signed"); got != "1 person." {
			b.fatalf(t, "status Signed announces %q, want 1 person.", got)
		}
		if rows := b.teamRows(t); len(rows) != 1 || rows[0] != signed.FullName {
			b.fatalf(t, "status Signed lists %q, want only %s", rows, signed.FullName)
		}
		b.axe(t, "team page: status Signed")

		if got := b.filterTeam(t, signed.Department, ""); got != "4 people." {
			b.fatalf(t, "department %s announces %q, want 4 people.", signed.Department, got)
		}
		b.wantText(t, "team page: one department", managerTeamNames...)
		b.axe(t, "team page: department "+signed.Department)

		if got := b.filterTeam(t, signed.Department, "signed"); got != "1 person." {
			b.fatalf(t, "department and status Signed announce %q, want 1 person.", got)
		}
		b.axe(t, "team page: department and status Signed")

		// Four reports, one signed: of the other three statuses one is always
		// empty (1005 and 1006 share a due date, and 1007's is later).
		empty := ""
		for _, status := range []string{"in_progress", "overdue", "not_started"} {
			got := b.filterTeam(t, signed.Department, status)
			b.axe(t, "team page: status "+status+" ("+got+")")
			if got == "0 people." {
				empty = status
				if evalJS[bool](t, b, `document.querySelector("main table") !== null`) {
					b.fatalf(t, "an empty result still draws the table")
				}
				b.wantText(t, "empty team result", "0 people", "Signed certificates")
				break
			}
		}
		if empty == "" {
			b.fatalf(t, "no status filter gave an empty result, so the empty state was not checked")
		}
		t.Logf("empty result: status %s", empty)
	})

	journeyStep(t, "the signed person's PDF and certificate page open", func(t *testing.T) {
		b.filterTeam(t, "", "")
		href := evalJS[string](t, b, `(() => { const a = [...document.querySelectorAll('main table a[href$="/pdf"]')];
  return a.length === 1 ? a[0].href : "found " + a.length + " PDF links" })()`)
		u, err := url.Parse(href)
		if err != nil || !strings.HasPrefix(u.Path, "/certificates/") || !strings.HasSuffix(u.Path, "/pdf") {
			b.fatalf(t, "the team page's PDF link: %q", href)
		}
		label := evalJS[string](t, b, `document.querySelector('main table a[href$="/pdf"]').textContent`)
		if !strings.Contains(label, signed.FullName) {
			b.fatalf(t, "the PDF link reads %q, without the name of %s", label, signed.FullName)
		}
		code = strings.TrimSuffix(strings.TrimPrefix(u.Path, "/certificates/"), "/pdf")
		status, header, body := b.teamFetch(t, href)
		if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "application/pdf") || !strings.HasPrefix(string(body), "%PDF-") {
			t.Fatalf("GET %s: status %d, type %q, starts %q; want 200, application/pdf, %%PDF-",
				href, status, header.Get("Content-Type"), body[:min(len(body), 16)])
		}
		if st := b.open(t, tp.BaseURL+"/certificates/"+code); st != 200 {
			b.fatalf(t, "certificate page: status %d", st)
		}
		b.wantText(t, "certificate page", "Certificate of acknowledgment", signed.FullName, signed.EmployeeNumber, code)
		b.axe(t, "certificate page of a report")
	})

	journeyStep(t, "the team ZIP downloads with a manifest that matches every file", func(t *testing.T) {
		b.open(t, tp.BaseURL+"/team")
		href := evalJS[string](t, b, `document.querySelector('main a[href="/team/certificates.zip"]').href`)
		status, header, body := b.teamFetch(t, href)
		if status != 200 || header.Get("Content-Type") != "application/zip" {
			t.Fatalf("GET %s: status %d, type %q; want 200, application/zip", href, status, header.Get("Content-Type"))
		}
		if cd := header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''") {
			t.Errorf("Content-Disposition %q has no filename*=UTF-8''", cd)
		}
		if got := checkZip(t, body); strings.Join(got, ",") != signed.EmployeeNumber {
			t.Fatalf("the ZIP holds %v, want the one signed report %s", got, signed.EmployeeNumber)
		}
		// The department's link, whose name has spaces, is escaped in the page.
		dept := evalJS[string](t, b, `(() => { const a = document.querySelector('main a[href^="/team/certificates.zip?department="]');
  return a ? a.href : "" })()`)
		if dept == "" {
			b.fatalf(t, "no ZIP link for a department")
		}
		status, header, body = b.teamFetch(t, dept)
		if status != 200 || header.Get("Content-Type") != "application/zip" {
			t.Fatalf("GET %s: status %d, type %q; want 200, application/zip", dept, status, header.Get("Content-Type"))
		}
		if got := checkZip(t, body); strings.Join(got, ",") != signed.EmployeeNumber {
			t.Fatalf("the department ZIP holds %v, want %s", got, signed.EmployeeNumber)
		}
	})

	journeyStep(t, "another manager sees none of these people", func(t *testing.T) {
		o := b.incognito(t)
		o.teamSignIn(t, tp, "2001")
		if st := o.press(t, `header nav[aria-label="Main"] a[href="/team"]`); st != 200 {
			o.fatalf(t, "Your team: status %d", st)
		}
		o.wantPath(t, "/team")
		text := o.mainText(t)
		for _, name := range managerTeamNames {
			if strings.Contains(text, name) {
				o.fatalf(t, "Robert Pelletier's team page shows %s", name)
			}
		}
		o.axe(t, "another manager's team page")
		if st := o.open(t, tp.BaseURL+"/certificates/"+url.PathEscape(code)); st != 404 {
			o.fatalf(t, "another tree's certificate: status %d, want 404", st)
		}
		o.wantText(t, "another tree's certificate", "Page not found")
		if strings.Contains(o.mainText(t), signed.FullName) {
			o.fatalf(t, "the not-found page names %s", signed.FullName)
		}
		o.axe(t, "not-found page for another tree's certificate")
		if status, header, _ := o.teamFetch(t, tp.BaseURL+"/certificates/"+url.PathEscape(code)+"/pdf"); status != 404 || strings.HasPrefix(header.Get("Content-Type"), "application/pdf") {
			t.Errorf("another tree's PDF: status %d, type %q; want 404", status, header.Get("Content-Type"))
		}
	})

	journeyStep(t, "an employee without reports has no team page", func(t *testing.T) {
		e := b.incognito(t)
		e.teamSignIn(t, tp, "1005")
		if evalJS[bool](t, e, `document.querySelector('header nav a[href="/team"]') !== null`) {
			e.fatalf(t, "the nav of someone without reports offers Your team")
		}
		if st := e.open(t, tp.BaseURL+"/team"); st != 403 {
			e.fatalf(t, "/team: status %d, want 403", st)
		}
		e.wantText(t, "forbidden team page", "Not allowed")
		if evalJS[bool](t, e, `document.querySelector('header nav a[href="/team"]') !== null`) {
			e.fatalf(t, "the 403 page's nav offers Your team")
		}
		e.axe(t, "not-allowed page for /team")
	})
}

package e2e

// The HR journey in a real headless Chromium (SPEC §3.5, §5): the dashboard
// and its chart, a roster import through the file input, annual cycles, a
// policy version uploaded as a ZIP and its diff, the audit chain, the people
// list with its search and filters, both exports, agency scopes set by an
// administrator, and the "what changed" page an employee then sees. axe-core
// runs on every page, the error and empty states included.

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// jsString writes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// jsByText is a JavaScript expression for the first element that the CSS
// selector sel finds whose trimmed text is text.
func jsByText(sel, text string) string {
	return `[...document.querySelectorAll(` + jsString(sel) + `)].find(e => e.textContent.trim() === ` + jsString(text) + `)`
}

// pressJS clicks the element that the JavaScript expression expr finds and
// returns the HTTP status of the page it loads. It fails at once, with the
// page, when expr finds nothing.
func (b *browser) pressJS(t *testing.T, what, expr string) int64 {
	t.Helper()
	if !evalJS[bool](t, b, "!!("+expr+")") {
		b.fatalf(t, "press %s: it is not on the page", what)
	}
	return b.navigate(t, "press "+what, chromedp.Click(chromedp.JSPath(expr)))
}

// upload chooses path in the file input sel, as a person would in the file
// dialog, and presses the submit button of its form.
func (b *browser) upload(t *testing.T, sel, path string) int64 {
	t.Helper()
	b.do(t, "choose "+filepath.Base(path), chromedp.SetUploadFiles(chromedp.CSS(sel), []string{path}))
	if n := evalJS[int](t, b, `document.querySelector(`+jsString(sel)+`).files.length`); n != 1 {
		b.fatalf(t, "the file input %s holds %d files after choosing %s", sel, n, path)
	}
	return b.navigate(t, "submit "+filepath.Base(path),
		chromedp.Click(chromedp.JSPath(`document.querySelector(`+jsString(sel)+`).form.querySelector("button[type=submit]")`)))
}

// wantErrorSummary checks the error summary of a refused form: it says what
// is wrong, and site.js has moved focus to it.
func (b *browser) wantErrorSummary(t *testing.T, page string, want ...string) {
	t.Helper()
	b.wantText(t, page, append([]string{"There is a problem"}, want...)...)
	if id := evalJS[string](t, b, `document.activeElement.id`); id != "error-summary" {
		b.fatalf(t, "%s: focus is on %q, want the error summary", page, id)
	}
}

// wantFlash fails unless the page shows a flash message holding want.
func (b *browser) wantFlash(t *testing.T, page, want string) {
	t.Helper()
	flash := evalJS[string](t, b, `(document.querySelector("main .flash[role=status]") || {}).textContent || ""`)
	if !strings.Contains(flash, want) {
		b.fatalf(t, "%s: the flash says %q, want %q", page, flash, want)
	}
}

// writeTemp writes body to a file called name in a fresh temporary folder.
func writeTemp(t *testing.T, name string, body []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The roster files of the journey: one good, with accents and a quoted
// comma, and one with three bad lines among good ones.
const (
	browserRoster = "Employee Number,Full Name,E-mail,Agency,Department,Title\r\n" +
		"9401,Renée Bélanger-Côté,renee.belanger@new.example,Department of Labor,Bureau of Employment Services,Counselor\r\n" +
		"9402,\"Okafor, Chidi\",chidi.okafor@new.example,Department of Labor,Bureau of Employment Services,Analyst\r\n"
	brokenRoster = "employee_number,full_name,email,agency,department,hire_date\n" +
		"9501,Good Person,good.person@new.example,Department of Labor,Bureau of Employment Services,\n" +
		"9502,,missing.name@new.example,Department of Labor,Bureau of Employment Services,\n" +
		"9503,Bad Mail,not-an-address,Department of Labor,Bureau of Employment Services,\n" +
		"9504,Bad Date,bad.date@new.example,Department of Labor,Bureau of Employment Services,2026-02-30\n"
)

// TestHRJourneyInBrowser walks Hannah Roy (1002, HR) through the HR pages,
// then Adam Ouellette (1003, admin) limiting Chloé Thériault (1010, HR) to
// one agency, and Siobhán O'Brien (1008), who signed 2026.2, reading what
// changed in 2099.1.
func TestHRJourneyInBrowser(t *testing.T) {
	b := newBrowser(t, true) // before startTestPortal: a skip must not race its server start
	tp := startTestPortal(t)
	demoCycle := tp.count(t, `SELECT MIN(id) FROM cycles`)
	nextYear := strconv.Itoa(tp.Clock.Now().Year() + 1)

	journeyStep(t, "HR signs in", func(t *testing.T) {
		b.open(t, tp.signInLink(t, "1002"))
		b.confirmSignIn(t, "Hannah Roy")
	})

	journeyStep(t, "the dashboard shows totals, an accessible chart and its table", func(t *testing.T) {
		b.press(t, `header nav a[href="/hr"]`)
		b.wantPath(t, "/hr")
		active := tp.count(t, `SELECT COUNT(*) FROM employees WHERE active = 1`)
		b.wantText(t, "dashboard", "Completion", "signed", "of "+strconv.Itoa(active)+" people", "Overdue", "In progress", "Completion by agency")
		b.checkChart(t, "dashboard", "Share signed by agency")
		b.axe(t, "HR dashboard")
		if st := b.pressJS(t, "the Department of Labor row", jsByText("main table tbody th a", "Department of Labor")); st != 200 {
			b.fatalf(t, "drill into an agency: status %d", st)
		}
		b.wantPath(t, "/hr")
		b.wantText(t, "agency dashboard", "All agencies", "Department of Labor", "Completion by department", "Bureau of Employment Services")
		b.checkChart(t, "agency dashboard", "Share signed by department")
		b.axe(t, "HR dashboard for one agency (departments)")
	})

	journeyStep(t, "a roster file is uploaded, previewed and applied", func(t *testing.T) {
		b.press(t, `nav.subnav a[href="/hr/roster"]`)
		b.wantPath(t, "/hr/roster")
		b.wantText(t, "roster import", "Import the roster", "Roster file")
		b.axe(t, "roster import form")
		before := tp.count(t, `SELECT COUNT(*) FROM employees`)
		file := writeTemp(t, "roster-ä.csv", []byte(browserRoster))
		if st := b.upload(t, "#file", file); st != 200 {
			b.fatalf(t, "preview: status %d", st)
		}
		b.wantText(t, "roster preview", "Preview of roster-ä.csv", "The file is valid", "Nothing has changed yet")
		if got := evalJS[string](t, b, `[...document.querySelectorAll("dl.review dt")].find(e => e.textContent === "Added").nextElementSibling.textContent`); got != "2" {
			b.fatalf(t, "the preview adds %q people, want 2", got)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM employees`); n != before {
			t.Fatalf("the preview changed the roster: %d employees, was %d", n, before)
		}
		b.axe(t, "roster preview")
		if st := b.pressJS(t, "Apply these changes", jsByText("main form button[type=submit]", "Apply these changes")); st != 200 {
			b.fatalf(t, "apply: status %d", st)
		}
		b.wantPath(t, "/hr/roster")
		b.wantFlash(t, "roster applied", "Roster imported: 2 added, 0 updated, 0 reactivated, 0 deactivated, 0 unchanged.")
		b.axe(t, "roster import with the result")
		for number, name := range map[string]string{"9401": "Renée Bélanger-Côté", "9402": "Okafor, Chidi"} {
			if e := tp.employee(t, number); e.FullName != name {
				t.Errorf("employee %s is stored as %q, want %q", number, e.FullName, name)
			}
		}
	})

	journeyStep(t, "the same file again has nothing to apply", func(t *testing.T) {
		if st := b.upload(t, "#file", writeTemp(t, "roster.csv", []byte(browserRoster))); st != 200 {
			b.fatalf(t, "preview again: status %d", st)
		}
		b.wantText(t, "roster preview again", "The file is valid", "nothing to apply")
		b.axe(t, "roster preview with nothing to apply")
	})

	journeyStep(t, "a broken roster lists every bad line and changes nothing", func(t *testing.T) {
		b.press(t, `nav.subnav a[href="/hr/roster"]`)
		before := tp.count(t, `SELECT COUNT(*) FROM employees`)
		if st := b.upload(t, "#file", writeTemp(t, "broken.csv", []byte(brokenRoster))); st != 422 {
			b.fatalf(t, "broken roster: status %d, want 422", st)
		}
		b.wantErrorSummary(t, "broken roster", "nothing was imported", "Problems to correct")
		lines := evalJS[[]string](t, b, `[...document.querySelectorAll("main table tbody tr td:first-child")].map(e => e.textContent.trim())`)
		lines = slices.Compact(lines)
		if !slices.Equal(lines, []string{"3", "4", "5"}) {
			b.fatalf(t, "the problems are on lines %q, want 3, 4 and 5", lines)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM employees`); n != before {
			t.Fatalf("a broken file changed the roster: %d employees, was %d", n, before)
		}
		b.axe(t, "roster import with problems (422)")
	})

	journeyStep(t, "a cycle with its dates the wrong way round is refused, then next year's opens", func(t *testing.T) {
		b.press(t, `nav.subnav a[href="/hr/cycles"]`)
		b.wantPath(t, "/hr/cycles")
		b.wantText(t, "cycles", "Annual cycles", "Open a cycle")
		b.axe(t, "cycles")
		b.do(t, "fill in a cycle due before it opens",
			chromedp.SetValue(chromedp.CSS("#name"), nextYear+" annual acknowledgment"),
			chromedp.SetValue(chromedp.CSS("#opens_on"), nextYear+"-03-01"),
			chromedp.SetValue(chromedp.CSS("#due_on"), nextYear+"-02-01"))
		if st := b.press(t, `main form[action="/hr/cycles"] button[type=submit]`); st != 422 {
			b.fatalf(t, "due before opening: status %d, want 422", st)
		}
		b.wantErrorSummary(t, "cycle error", "The due date must come after the opening date.")
		if v := evalJS[string](t, b, `document.getElementById("opens_on").value`); v != nextYear+"-03-01" {
			b.fatalf(t, "the refused form lost its opening date: %q", v)
		}
		b.axe(t, "cycles with an error (422)")
		b.do(t, "correct the dates",
			chromedp.SetValue(chromedp.CSS("#opens_on"), nextYear+"-01-15"),
			chromedp.SetValue(chromedp.CSS("#due_on"), nextYear+"-03-15"))
		if st := b.press(t, `main form[action="/hr/cycles"] button[type=submit]`); st != 200 {
			b.fatalf(t, "open the cycle: status %d", st)
		}
		b.wantPath(t, "/hr/cycles")
		b.wantFlash(t, "cycle opened", "Cycle “"+nextYear+" annual acknowledgment” is open.")
		b.wantText(t, "cycles", nextYear+" annual acknowledgment")
		b.axe(t, "cycles after opening one")
	})

	journeyStep(t, "a policy version is uploaded as a ZIP and shows its diff", func(t *testing.T) {
		b.press(t, `nav.subnav a[href="/hr/versions"]`)
		b.wantPath(t, "/hr/versions")
		b.wantText(t, "versions", "Policy versions", "2026.1", "2026.2", "Publish a new version")
		b.axe(t, "policy versions")
		if st := b.upload(t, "#bundle", writeTemp(t, "junk.zip", []byte("not a zip"))); st != 422 {
			b.fatalf(t, "a file that is not a ZIP: status %d, want 422", st)
		}
		b.wantErrorSummary(t, "junk bundle")
		b.axe(t, "policy versions with an error (422)")
		if st := b.upload(t, "#bundle", writeTemp(t, "2099.1.zip", zipDir(t, "../app/content/testdata/2099.1"))); st != 200 {
			b.fatalf(t, "publish: status %d", st)
		}
		b.wantUnder(t, "/hr/versions/")
		b.wantFlash(t, "version published", "Version 2099.1 (material) is published.")
		b.wantText(t, "version page", "2099.1", "material", "Changes since 2026.2", "Added:")
		if n := evalJS[int](t, b, `document.querySelectorAll("main section.change").length`); n == 0 {
			b.fatalf(t, "the version page shows no changed section")
		}
		b.axe(t, "policy version 2099.1 with its diff")
	})

	journeyStep(t, "the audit log checks every evidence record", func(t *testing.T) {
		b.press(t, `nav.subnav a[href="/hr/audit"]`)
		b.wantPath(t, "/hr/audit")
		b.wantText(t, "audit", "Audit log", "published policy version", "imported the roster", "opened cycle")
		b.axe(t, "audit log")
		if st := b.press(t, `main form[action="/hr/audit/check"] button[type=submit]`); st != 200 {
			b.fatalf(t, "check every record: status %d", st)
		}
		b.wantPath(t, "/hr/audit")
		// The check runs in the background: the page says so until it is
		// done, and its reload link brings the result.
		eventually(t, "the evidence check to finish", func() bool {
			if !strings.Contains(b.mainText(t), "for its result") {
				return true
			}
			b.press(t, `main a[href="/hr/audit"]`)
			return false
		})
		b.wantText(t, "audit verified", "nothing has been changed or removed since it was written", "records were compared", "Asked for by")
		b.axe(t, "audit log, evidence checked")
	})

	var filtered, csvHref, xlsxHref string
	journeyStep(t, "the overdue list is searched and filtered by keyboard and clicks", func(t *testing.T) {
		b.press(t, `nav.subnav a[href="/hr/people?status=overdue"]`)
		b.wantPath(t, "/hr/people")
		rows := evalJS[int](t, b, `document.querySelectorAll("main table tbody tr").length`)
		b.wantText(t, "overdue list", "People", strconv.Itoa(rows)+" people in", "Zoë Côté")
		if listed := evalJS[[]string](t, b, `[...document.querySelectorAll("main table tbody tr td:last-child")].map(e => e.textContent.trim())`); slices.ContainsFunc(listed, func(s string) bool { return s != "Overdue" }) {
			b.fatalf(t, "the overdue list shows the statuses %q", listed)
		}
		if v := evalJS[string](t, b, `document.getElementById("status").value`); v != "overdue" {
			b.fatalf(t, "the status filter shows %q, want overdue", v)
		}
		b.axe(t, "overdue list")

		// A search that finds nobody, typed and sent with Enter.
		b.do(t, "type a search", chromedp.Click(chromedp.CSS("#q")), chromedp.KeyEvent("no such person"))
		if st := b.navigate(t, "press Enter in the search box", chromedp.KeyEvent(kb.Enter)); st != 200 {
			b.fatalf(t, "search: status %d", st)
		}
		b.wantText(t, "empty search", "0 people", "Nobody matches these filters.")
		if q := evalJS[string](t, b, `document.getElementById("q").value`); q != "no such person" {
			b.fatalf(t, "the search box shows %q after the search", q)
		}
		b.axe(t, "people list with no match")

		// Clear it, search by a name with accents, then Tab to the agency
		// filter, pick the first agency with the arrow key and press Filter.
		b.do(t, "type over the search", chromedp.Click(chromedp.CSS("#q")),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("q").select()`),
			chromedp.KeyEvent("Zoë"), chromedp.KeyEvent(kb.Tab))
		if id := evalJS[string](t, b, `document.activeElement.id`); id != "agency" {
			b.fatalf(t, "Tab from the search box reached %q, want the agency filter", id)
		}
		b.do(t, "choose the first agency", chromedp.KeyEvent(kb.ArrowDown))
		if v := evalJS[string](t, b, `document.getElementById("agency").value`); v != dafs {
			b.fatalf(t, "the agency filter shows %q after the arrow key, want %q", v, dafs)
		}
		if st := b.pressJS(t, "Filter", jsByText("main form.filters button[type=submit]", "Filter")); st != 200 {
			b.fatalf(t, "filter: status %d", st)
		}
		b.wantText(t, "filtered list", "1 person in", "Zoë Côté")
		for id, want := range map[string]string{"q": "Zoë", "agency": dafs, "status": "overdue"} {
			if v := evalJS[string](t, b, `document.getElementById(`+jsString(id)+`).value`); v != want {
				b.fatalf(t, "after filtering, #%s shows %q, want %q", id, v, want)
			}
		}
		b.axe(t, "people list filtered")
		filtered = evalJS[string](t, b, `location.href`)
		csvHref = evalJS[string](t, b, `document.querySelector('main a[href^="/hr/export.csv"]').href`)
		xlsxHref = evalJS[string](t, b, `document.querySelector('main a[href^="/hr/export.xlsx"]').href`)
	})

	journeyStep(t, "a bad filter is refused with an accessible error page", func(t *testing.T) {
		if st := b.open(t, tp.BaseURL+"/hr/people?status=bogus"); st != 422 {
			b.fatalf(t, "unknown status filter: status %d, want 422", st)
		}
		b.wantErrorSummary(t, "bad filter", "Unknown status filter. Choose a status from the list.")
		b.axe(t, "people list, unknown filter (422)")
		b.open(t, filtered)
	})

	journeyStep(t, "a person's page has their evidence", func(t *testing.T) {
		if st := b.pressJS(t, "Zoë Côté", jsByText("main table tbody th a", "Zoë Côté")); st != 200 {
			b.fatalf(t, "person: status %d", st)
		}
		b.wantUnder(t, "/hr/people/")
		b.wantText(t, "person", "Zoë Côté", "1005", "François Lévesque", "No acknowledgment signed.")
		b.axe(t, "person page (not signed)")
		b.open(t, tp.BaseURL+"/hr/people/"+itoa(tp.employee(t, "1008").ID))
		b.wantText(t, "signed person", "Siobhán O'Brien", "SMP-", "Passed", "email-link from 127.0.0.1")
		b.axe(t, "person page (signed)")
	})

	journeyStep(t, "both exports download with the browser's session and keep the filters", func(t *testing.T) {
		resp := b.httpGet(t, csvHref)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("GET %s: status %d, type %q; want 200, text/csv", csvHref, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		text := strings.TrimPrefix(string(body), "\ufeff")
		rows := strings.Split(strings.TrimSpace(text), "\n")
		if !strings.HasPrefix(rows[0], "employee_number,full_name,email,agency,department,title,manager,due_on,status") {
			t.Fatalf("the CSV starts %q, want the header row", rows[0])
		}
		if len(rows) != 2 || !strings.Contains(rows[1], "Zoë Côté") || !strings.Contains(rows[1], "overdue") {
			t.Fatalf("the CSV of the filtered list (%s) has %d rows, starting %q; want the header and Zoë Côté", csvHref, len(rows), rows[:min(len(rows), 3)])
		}

		resp = b.httpGet(t, xlsxHref)
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != xlsxType || !strings.HasPrefix(string(body), "PK") {
			t.Fatalf("GET %s: status %d, type %q, starts %q; want 200, %s, PK", xlsxHref, resp.StatusCode,
				resp.Header.Get("Content-Type"), body[:min(len(body), 8)], xlsxType)
		}
	})

	journeyStep(t, "an administrator limits an HR user to one agency", func(t *testing.T) {
		a := b.incognito(t)
		a.open(t, tp.signInLink(t, "1003"))
		a.confirmSignIn(t, "Adam Ouellette")
		a.press(t, `header nav a[href="/admin/roles"]`)
		a.wantPath(t, "/admin/roles")
		a.wantText(t, "roles", "Roles", "never by a roster file", "Hannah Roy", "Adam Ouellette")
		a.axe(t, "roles")
		a.press(t, `nav.subnav a[href="/admin/scopes"]`)
		a.wantPath(t, "/admin/scopes")
		a.wantText(t, "scopes", "HR access by agency", "Chloé Thériault", "Hannah Roy")
		a.axe(t, "HR access by agency")
		form := `main form.scope:has(input[name=employee][value="` + itoa(tp.employee(t, "1010").ID) + `"])`
		box := jsByText(form+" .choice label", dol) + `.control`
		if !evalJS[bool](t, a, "!!("+box+")") {
			a.fatalf(t, "no %s box for Chloé Thériault", dol)
		}
		a.do(t, "tick "+dol, chromedp.Click(chromedp.JSPath(box)))
		if !evalJS[bool](t, a, box+".checked") {
			a.fatalf(t, "the %s box does not tick", dol)
		}
		if st := a.press(t, form+` button[type=submit]`); st != 200 {
			a.fatalf(t, "save: status %d", st)
		}
		a.wantPath(t, "/admin/scopes")
		a.wantFlash(t, "scope saved", "HR access for Chloé Thériault is saved.")
		if !evalJS[bool](t, a, box+".checked") {
			a.fatalf(t, "the saved page does not show %s ticked", dol)
		}
		a.axe(t, "HR access by agency, saved")
	})

	journeyStep(t, "the limited HR user's dashboard says so", func(t *testing.T) {
		s := b.incognito(t)
		s.open(t, tp.signInLink(t, "1010"))
		s.confirmSignIn(t, "Chloé Thériault")
		s.press(t, `header nav a[href="/hr"]`)
		s.wantPath(t, "/hr")
		s.wantText(t, "limited dashboard", "Your access is limited to: "+dol+".", "Completion by agency")
		if text := s.mainText(t); strings.Contains(text, mdot) || strings.Contains(text, dhhs) {
			s.fatalf(t, "the limited dashboard shows another agency")
		}
		s.checkChart(t, "limited dashboard", "Share signed by agency")
		s.axe(t, "HR dashboard limited to one agency")
	})

	journeyStep(t, "HR moves the open cycle to the material version", func(t *testing.T) {
		b.open(t, tp.BaseURL+"/hr/cycles")
		sel := "#version-" + strconv.Itoa(demoCycle)
		v := evalJS[string](t, b, `([...document.querySelectorAll(`+jsString(sel+" option")+`)].find(o => o.textContent.startsWith("2099.1 ")) || {}).value || ""`)
		if v == "" {
			b.fatalf(t, "the open cycle has no 2099.1 option")
		}
		b.do(t, "pick 2099.1", chromedp.SetValue(chromedp.CSS(sel), v))
		if st := b.press(t, `main form[action="/hr/cycles/`+strconv.Itoa(demoCycle)+`/version"] button[type=submit]`); st != 200 {
			b.fatalf(t, "use this version: status %d", st)
		}
		// The move is confirmed on a page that says what it does.
		b.wantText(t, "confirm the move", "people who signed will have to sign again", "in progress will start over")
		b.axe(t, "confirm the move to 2099.1")
		if st := b.press(t, `main form[method="post"][action="/hr/cycles/`+strconv.Itoa(demoCycle)+`/version"] button[type=submit]`); st != 200 {
			b.fatalf(t, "move the cycle: status %d", st)
		}
		b.wantFlash(t, "cycle moved", "The cycle now asks for the new version.")
		b.wantText(t, "cycles", "2099.1 (material)")
		b.axe(t, "cycles after moving to 2099.1")
	})

	journeyStep(t, "an employee who signed 2026.2 sees what changed", func(t *testing.T) {
		e := b.incognito(t)
		e.open(t, tp.signInLink(t, "1008"))
		e.confirmSignIn(t, "Siobhán O'Brien")
		e.press(t, `header nav a[href="/guidance"]`)
		e.wantPath(t, "/guidance")
		e.axe(t, "guidance index after a material change")
		e.wantText(t, "guidance index", "You last signed version 2026.2.", "See what changed since then")
		if st := e.press(t, `main a[href="/guidance/changes"]`); st != 200 {
			e.fatalf(t, "changes: status %d", st)
		}
		e.wantPath(t, "/guidance/changes")
		e.wantText(t, "changes", "What changed since you last signed", "You last signed", "2026.2", "2099.1", "Added:")
		e.axe(t, "what changed since you last signed")
	})
}

// checkChart checks the inline SVG chart of a dashboard: an image with the
// title, one bar per row of the data table under it.
func (b *browser) checkChart(t *testing.T, page, title string) {
	t.Helper()
	got := evalJS[string](t, b, `(() => { const s = document.querySelector("main figure.chart svg[role=img]");
  if (!s) return "no chart";
  const ids = (s.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
  const name = ids.map(id => (document.getElementById(id) || {}).textContent || "").join(" ");
  const bars = s.querySelectorAll("rect.bar").length, rows = document.querySelectorAll("main table tbody tr").length;
  return name.startsWith(`+jsString(title)+`) && bars > 0 && bars === rows ? "ok" : "name " + JSON.stringify(name) + ", " + bars + " bars, " + rows + " rows" })()`)
	if got != "ok" {
		b.fatalf(t, "%s: the chart is wrong: %s", page, got)
	}
}

package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"portal/app"
	"portal/app/content"
	"portal/server"
)

// zipDir packs a version folder as HR would upload it.
func zipDir(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		w, err := zw.Create("bundle/" + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var versionLinkRE = regexp.MustCompile(`^/hr/versions/(\d+)$`)

func TestCyclesAndVersions(t *testing.T) {
	tp := startTestPortal(t)
	c := hrClient(t, tp)
	signed := func() int {
		return tp.count(t, `SELECT COUNT(*) FROM assignments a JOIN cycles c ON c.id = a.cycle_id WHERE c.open = 1 AND a.signed_at IS NOT NULL`)
	}
	before := signed()
	if before == 0 {
		t.Fatal("the demo data has no signatures")
	}

	t.Run("a second open cycle in the same year is refused", func(t *testing.T) {
		c.get("/hr/cycles")
		year := tp.count(t, `SELECT year FROM cycles WHERE open = 1 AND kind = 'personal-use'`)
		r := c.post("/hr/cycles", form("name", "again", "version", "1", "opens_on", itoa(int64(year))+"-12-01",
			"due_on", itoa(int64(year))+"-12-20", "new_hire_days", "30"))
		if r.Status != 422 || !strings.Contains(r.Body, "already open") {
			t.Fatalf("status %d", r.Status)
		}
		wantFieldError(t, r, "opens_on", "already open")
		for name, f := range map[string]struct {
			form         []string
			field, shows string
		}{
			"due before opening": {[]string{"name", "x", "version", "1", "opens_on", "2031-02-01", "due_on", "2031-01-01", "new_hire_days", "30"}, "due_on", "The due date must come after the opening date."},
			"not a date":         {[]string{"name", "x", "version", "1", "opens_on", "01/02/2031", "due_on", "2031-03-01", "new_hire_days", "30"}, "opens_on", "Enter the opening date as YYYY-MM-DD"},
			"unknown version":    {[]string{"name", "x", "version", "999", "opens_on", "2031-02-01", "due_on", "2031-03-01", "new_hire_days", "30"}, "version", "Choose the policy version"},
			"no new-hire window": {[]string{"name", "x", "version", "1", "opens_on", "2031-02-01", "due_on", "2031-03-01", "new_hire_days", "0"}, "new_hire_days", "from 1 to 365"},
			"no name":            {[]string{"name", " ", "version", "1", "opens_on", "2031-02-01", "due_on", "2031-03-01", "new_hire_days", "30"}, "name", "Enter a name for the cycle."},
			"a name too long":    {[]string{"name", strings.Repeat("n", 101), "version", "1", "opens_on", "2031-02-01", "due_on", "2031-03-01", "new_hire_days", "30"}, "name", "100 characters or fewer"},
		} {
			r := c.post("/hr/cycles", form(f.form...))
			wantFieldError(t, r, f.field, f.shows)
			if !strings.Contains(r.Body, `id="due_on" name="due_on" type="date" value="`+f.form[7]+`"`) {
				t.Errorf("%s: the refused form lost the due date", name)
			}
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM cycles WHERE kind = 'personal-use'`); n != 1 {
			t.Fatalf("%d cycles", n)
		}
	})

	var material string
	t.Run("a material version is published once and is immutable", func(t *testing.T) {
		c.get("/hr/versions")
		bundle := zipDir(t, "../app/content/testdata/2099.1")
		r := c.upload("/hr/versions", "bundle", "2099.1.zip", bundle, nil)
		if r.Status != 303 || !versionLinkRE.MatchString(r.Location) {
			t.Fatalf("publish: status %d location %q", r.Status, r.Location)
		}
		material = versionLinkRE.FindStringSubmatch(r.Location)[1]
		page := c.get(r.Location)
		mustContain(t, page.Body, "2099.1", "material", "Changes since 2026.2", "Added:")
		versions := tp.count(t, `SELECT COUNT(*) FROM policy_versions`)
		wantFieldErrorStatus(t, c.upload("/hr/versions", "bundle", "2099.1.zip", bundle, nil), 409, "bundle", "already published with exactly this content")
		r = c.upload("/hr/versions", "bundle", "junk.zip", []byte("not a zip"), nil)
		wantFieldError(t, r, "bundle", "The file is not a ZIP archive, or it is damaged.")
		wantFieldError(t, c.upload("/hr/versions", "other", "x.zip", []byte("x"), nil), "bundle", "Choose a ZIP file with the new version.")
		if n := tp.count(t, `SELECT COUNT(*) FROM policy_versions`); n != versions {
			t.Fatalf("refused uploads changed the versions: %d, was %d", n, versions)
		}
	})

	t.Run("moving the cycle to a material version asks everyone to sign again", func(t *testing.T) {
		c.get("/hr/cycles")
		cycle := tp.count(t, `SELECT id FROM cycles WHERE open = 1 AND kind = 'personal-use'`)
		current := tp.count(t, `SELECT policy_version_id FROM cycles WHERE id = ?`, cycle)
		before := signed()
		r := c.post("/hr/cycles/"+itoa(int64(cycle))+"/version", form("version", itoa(int64(current))))
		wantFieldError(t, r, "version-"+itoa(int64(cycle)), "Choose a version published after the one the cycle uses now.")
		if tp.count(t, `SELECT policy_version_id FROM cycles WHERE id = ?`, cycle) != current || signed() != before {
			t.Fatal("a refused change of version changed the cycle")
		}
		r = c.post("/hr/cycles/"+itoa(int64(cycle))+"/version", form("version", material))
		if r.Status != 303 {
			t.Fatalf("status %d", r.Status)
		}
		if n := signed(); n != 0 {
			t.Fatalf("%d still signed", n)
		}
		if tp.count(t, `SELECT COUNT(*) FROM acknowledgments`) == 0 {
			t.Fatal("earlier acknowledgments were lost")
		}
		// 1008 signed 2026.2: now superseded, and shown what changed.
		e := newClient(t, tp.BaseURL)
		e.signIn(tp.signInLink(t, "1008"))
		mustContain(t, e.get("/").Body, "Overdue", "0 of 8 sections read")
		mustContain(t, e.get("/guidance").Body, "See what changed")
		mustContain(t, e.get("/guidance/changes").Body, "You last signed", "2026.2", "Added:")
		if r := newClient(t, tp.BaseURL).get("/verify/" + tp.codeOf(t, tp.employee(t, "1008").ID)); !strings.Contains(r.Body, "Superseded") {
			t.Fatal("the old certificate is not shown as superseded")
		}
	})

	t.Run("a minor version keeps signatures", func(t *testing.T) {
		// Sign 2099.1 as 1008, then move the cycle to a minor 2099.1.1.
		e := newClient(t, tp.BaseURL)
		e.signIn(tp.signInLink(t, "1008"))
		readAll(t, tp, e, "1008")
		passQuizFor(t, tp, e, "1008", "2099.1")
		if strings.Contains(e.get("/sign").Body, "Consent") { // consent is once per cycle
			consent(t, e)
		}
		e.get("/sign")
		if r := e.post("/sign", form("typed_name", "Siobhán O'Brien", "intent", "yes")); r.Status != 303 {
			t.Fatalf("sign 2099.1: %d", r.Status)
		}
		minor := minorOf(t, "../app/content/testdata/2099.1")
		c.get("/hr/versions")
		r := c.upload("/hr/versions", "bundle", "minor.zip", minor, nil)
		if r.Status != 303 {
			t.Fatalf("publish minor: %d %s", r.Status, r.Body)
		}
		id := versionLinkRE.FindStringSubmatch(r.Location)[1]
		c.get("/hr/cycles")
		cycle := tp.count(t, `SELECT id FROM cycles WHERE open = 1 AND kind = 'personal-use'`)
		if r := c.post("/hr/cycles/"+itoa(int64(cycle))+"/version", form("version", id)); r.Status != 303 {
			t.Fatalf("status %d", r.Status)
		}
		if n := signed(); n != 1 {
			t.Fatalf("%d signed after a minor version, want 1", n)
		}
		mustContain(t, e.get("/").Body, "Signed")
	})

	t.Run("every HR action is in the evidence log, and the audit page checks it", func(t *testing.T) {
		for _, action := range []string{"policy.published", "cycle.version_changed"} {
			if tp.count(t, `SELECT COUNT(*) FROM audit_events v JOIN log_entries l ON l.kind = 'audit_event' AND l.ref_id = v.id
				WHERE v.action = ? AND v.actor_id IS NOT NULL`, action) == 0 {
				t.Errorf("%s not in the log with its actor", action)
			}
		}
		if tp.count(t, `SELECT COUNT(*) FROM cycle_versions v JOIN log_entries l ON l.kind = 'cycle_version' AND l.ref_id = v.id
			WHERE v.material = 1 AND v.actor_id IS NOT NULL`) != 1 {
			t.Error("the material version change is not a logged record with its actor")
		}
		if tp.count(t, `SELECT COUNT(*) FROM policy_versions p JOIN log_entries l ON l.kind = 'policy_version' AND l.ref_id = p.id
			WHERE p.published_by IS NOT NULL`) != 2 {
			t.Error("the uploaded versions are not logged records naming who published them")
		}
		if r := c.post("/hr/audit/check", form()); r.Status != 303 {
			t.Fatalf("check every record: %d", r.Status)
		}
		r := waitForCheck(t, c)
		mustContain(t, r.Body, "nothing has been changed or removed since it was written", "Asked for by Hannah Roy", "Hannah Roy published policy version")
	})
}

// passQuizFor passes the knowledge check of the version uploaded from the
// folder dir of app/content/testdata, with the answers the test knows it uploaded.
func passQuizFor(t *testing.T, tp *testPortal, c *client, number, dir string) {
	t.Helper()
	v, err := content.LoadVersion(os.DirFS("../app/content/testdata"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.post("/quiz/start", form()); r.Status != 303 { // draws the check for the cycle's version
		t.Fatalf("start the knowledge check: %d", r.Status)
	}
	e := tp.employee(t, number)
	d, err := tp.Handler.Acks.FindQuizDraft(context.Background(), e.ID,
		int64(tp.count(t, `SELECT policy_version_id FROM quiz_drafts WHERE employee_id = ? ORDER BY created_at DESC LIMIT 1`, e.ID)), "personal-use")
	if err != nil {
		t.Fatal(err)
	}
	f := form("draw", app.DrawID(d.Shown))
	for _, s := range d.Shown {
		f.Set("q."+s.ID, v.Question(s.ID).Answer)
	}
	if r := c.post("/quiz", f); r.Status != 303 {
		t.Fatalf("quiz: %d", r.Status)
	}
}

// minorOf zips a copy of a version folder as a minor version with one typo fixed.
func minorOf(t *testing.T, dir string) []byte {
	t.Helper()
	tmp := t.TempDir()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(tmp, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s := string(b)
		if rel == "policy.md" {
			s = strings.Replace(s, "code: 2099.1", "code: 2099.1.1", 1)
			s = strings.Replace(s, "kind: material", "kind: minor", 1)
			s += "\nA typo fixed.\n"
		}
		return os.WriteFile(filepath.Join(tmp, rel), []byte(s), 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return zipDir(t, tmp)
}

func TestDashboardAndExports(t *testing.T) {
	tp := startTestPortal(t)
	c := hrClient(t, tp)
	// A name that a spreadsheet would run as a formula.
	if r := importCSV(t, tp, "employee_number,full_name,email,agency,department\n"+
		"9301,\"=HYPERLINK(\"\"http://evil.example\"\")\",formula@new.example,Department of Labor,Bureau of Employment Services\n"); r != nil {
		t.Fatal(r)
	}
	t.Run("completion numbers match the assignments", func(t *testing.T) {
		r := c.get("/hr")
		total := tp.count(t, `SELECT COUNT(*) FROM employees WHERE active = 1`)
		signed := tp.count(t, `SELECT COUNT(*) FROM acknowledgments`)
		mustContain(t, r.Body, "<svg role=\"img\"", ">Completion by agency</caption>",
			">"+itoa(int64(signed))+"</span> of "+itoa(int64(total))+" people")
		d := c.get("/hr?agency=" + urlEscape("Department of Labor"))
		mustContain(t, d.Body, "Completion by department", "Bureau of Employment Services")
	})
	t.Run("the overdue list filters, searches and pages", func(t *testing.T) {
		r := c.get("/hr/people?status=overdue")
		// Overdue is judged by the portal's day in its time zone, not by
		// SQLite's UTC date('now'), which runs ahead in the evening.
		today := tp.DB.Now().In(tp.Config.TimeZone).Format("2006-01-02")
		overdue := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE active = 1 AND signed_at IS NULL AND due_on < ?`, today)
		mustContain(t, r.Body, itoa(int64(overdue))+" people")
		mustContain(t, c.get("/hr/people?q=Zo%C3%AB").Body, "Zoë Côté", "1 person")
		mustContain(t, c.get("/hr/people?q=1005").Body, "Zoë Côté")
		r = c.get("/hr/people?status=bogus&q=Zo%C3%AB")
		wantFieldError(t, r, "status", "Unknown status filter. Choose a status from the list.")
		if strings.Contains(r.Body, "Zoë Côté") || !strings.Contains(r.Body, `value="Zoë"`) {
			t.Error("a refused filter still listed people, or lost the search typed with it")
		}
		r = c.get("/hr/people?q=" + strings.Repeat("z", 201))
		wantFieldError(t, r, "q", "The search must be 200 characters or fewer.")
		if !strings.Contains(r.Body, `value="`+strings.Repeat("z", 201)+`"`) {
			t.Error("the refused search was not kept in its field")
		}
		if r := c.get("/hr/people?q=%25"); r.Status != 200 || strings.Contains(r.Body, "Zoë Côté") {
			t.Fatal("a % search matched everyone")
		}
	})
	t.Run("a person's page has the evidence", func(t *testing.T) {
		r := c.get("/hr/people/" + itoa(tp.employee(t, "1008").ID))
		mustContain(t, r.Body, "Siobhán O&#39;Brien", "SMP-", "Passed", "email-link from 127.0.0.1")
	})
	t.Run("CSV export is formula-safe", func(t *testing.T) {
		r := c.get("/hr/export.csv")
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("status %d", r.Status)
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != tp.count(t, `SELECT COUNT(*) FROM employees WHERE active = 1`)+1 {
			t.Fatalf("%d rows", len(rows))
		}
		found := false
		for _, row := range rows {
			if strings.Contains(row[1], "HYPERLINK") {
				found = true
				if !strings.HasPrefix(row[1], "'=") {
					t.Errorf("formula not neutralised: %q", row[1])
				}
			}
		}
		if !found {
			t.Fatal("the formula name is missing from the export")
		}
	})
	t.Run("XLSX export is a real spreadsheet with the dashboard's filters", func(t *testing.T) {
		r := c.get("/hr/export.xlsx?agency=" + urlEscape("Department of Labor") + "&status=signed")
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		x, err := excelize.OpenReader(strings.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		rows, err := x.GetRows("Completion")
		if err != nil {
			t.Fatal(err)
		}
		want := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE agency = 'Department of Labor' AND signed_at IS NOT NULL`)
		if len(rows) != want+1 || rows[0][0] != "Employee number" {
			t.Fatalf("%d rows, want %d", len(rows), want+1)
		}
		for _, row := range rows[1:] {
			if row[3] != "Department of Labor" || row[8] != "Signed" || row[9] != "signed" {
				t.Fatalf("row outside the filter: %v", row)
			}
		}
	})
	t.Run("exports enter the evidence log", func(t *testing.T) {
		if tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'report.exported'`) != 2 {
			t.Fatal("exports not recorded")
		}
	})
	t.Run("an HR user limited to one agency sees only it", func(t *testing.T) {
		admin := newClient(t, tp.BaseURL)
		admin.signIn(tp.signInLink(t, "1003"))
		admin.get("/admin/scopes")
		hr2 := tp.employee(t, "1010")
		scopes := tp.count(t, `SELECT COUNT(*) FROM hr_scopes`)
		wantFieldError(t, admin.post("/admin/scopes", form("employee", itoa(hr2.ID), "agency", "Ministry of Nothing")),
			"s-"+itoa(hr2.ID)+"-0", "Tick agencies from the list: Ministry of Nothing is not one of them.")
		for _, who := range []string{"x", itoa(tp.employee(t, "1005").ID)} {
			r := admin.post("/admin/scopes", form("employee", who, "agency", "Department of Labor"))
			if r.Status != 422 || !strings.Contains(r.Body, "<title>Error: ") || !strings.Contains(r.Body, "Choose an HR user from the list.") {
				t.Errorf("employee %q: status %d, want 422 with the message in the summary", who, r.Status)
			}
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM hr_scopes`); n != scopes {
			t.Fatalf("refused scopes changed hr_scopes: %d rows, was %d", n, scopes)
		}
		if r := admin.post("/admin/scopes", form("employee", itoa(hr2.ID), "agency", "Department of Labor")); r.Status != 303 {
			t.Fatalf("set scope: %d", r.Status)
		}
		s := newClient(t, tp.BaseURL)
		s.signIn(tp.signInLink(t, "1010"))
		d := s.get("/hr")
		mustContain(t, d.Body, "limited to: Department of Labor")
		if strings.Contains(d.Body, "Department of Transportation") {
			t.Error("the dashboard shows another agency")
		}
		if r := s.get("/hr/people/" + itoa(tp.employee(t, "3003").ID)); r.Status != 404 {
			t.Errorf("person in another agency: %d", r.Status)
		}
		if r := s.get("/hr/people?agency=" + urlEscape("Department of Transportation")); r.Status != 404 {
			t.Errorf("filter on another agency: %d", r.Status)
		}
		csvBody := s.get("/hr/export.csv").Body
		if strings.Contains(csvBody, "Department of Transportation") || !strings.Contains(csvBody, "Department of Labor") {
			t.Error("the export leaves the scope")
		}
		if r := s.get("/hr/roster"); r.Status != 403 {
			t.Errorf("a scoped HR user may import: %d", r.Status)
		}
	})
}

// importCSV applies a roster file through the store, as the CLI does.
func importCSV(t *testing.T, tp *testPortal, body string) error {
	t.Helper()
	tp.commandEnv(t)
	p := t.TempDir() + "/r.csv"
	if err := writeFile(p, body); err != nil {
		return err
	}
	var out bytes.Buffer
	return server.Run(t.Context(), []string{"import-roster", p}, &out, &out)
}

// waitForCheck reloads the audit page until the evidence check asked for has
// finished (it runs in the background) and returns that page.
func waitForCheck(t *testing.T, c *client) response {
	t.Helper()
	var r response
	eventually(t, "the evidence check to finish", func() bool {
		r = c.get("/hr/audit")
		return r.Status == 200 && !strings.Contains(r.Body, "Reload this page</a> for its result")
	})
	return r
}

// TestNewCycleFormSuggestsAFreeYear: the demo's cycle opened this year, so
// the form suggests next year's name opening on its first day, never the
// name and dates of the cycle that is open.
func TestNewCycleFormSuggestsAFreeYear(t *testing.T) {
	tp := startTestPortal(t)
	c := hrClient(t, tp)
	var opens string
	db := readFile(t, tp.DB.Path)
	defer db.Close()
	if err := db.QueryRow(`SELECT opens_on FROM cycles WHERE open = 1 AND kind = 'personal-use'`).Scan(&opens); err != nil {
		t.Fatal(err)
	}
	year, _ := strconv.Atoi(opens[:4])
	next := strconv.Itoa(year + 1)
	body := c.get("/hr/cycles").Body
	mustContain(t, body, `value="`+next+` annual acknowledgment"`, `id="opens_on" name="opens_on" type="date" value="`+next+`-01-01"`,
		"year-month-day")
}

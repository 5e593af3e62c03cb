package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"portal/app"
	"portal/app/roster"
	"portal/server"
)

// pageText is a page's text without its tags, white space collapsed.
func pageText(body string) string {
	return strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, " ")), " ")
}

var previewNumberRE = regexp.MustCompile(`<th scope="row">[^<]*<br><span class="meta">([^<]+)</span></th>`)

// previewNumbers are the employee numbers a preview page lists, in order.
func previewNumbers(body string) []string {
	var out []string
	for _, m := range previewNumberRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// newHires are roster rows (rosterColumns) of n new people numbered from first.
func newHires(first, n int) string {
	var b strings.Builder
	for k := first; k < first+n; k++ {
		fmt.Fprintf(&b, "%d,New Hire %d,hire%d@new.example,%s,%s,Clerk,4001,,,\n", k, k, k, dol, bes)
	}
	return b.String()
}

func TestRosterPreviewByPerson(t *testing.T) {
	tp := startTestPortal(t)
	hr := hrClient(t, tp) // Hannah Roy, HR for every agency
	var keep []string
	for _, e := range tp.employees(t, `active = 1`) {
		if e.EmployeeNumber != "3003" && e.EmployeeNumber != "3005" && e.EmployeeNumber != "4012" {
			keep = append(keep, e.EmployeeNumber)
		}
	}
	// A full roster: Brian Levesque, Olivia Bernier and Beatriz Alves are
	// left out, José moves to HR under Hannah, Priya loses the roster's
	// poster value (Zoë is a poster by authorization, not by the roster), Dmitri
	// has a new address, and 61 people are new.
	file := string(tp.rosterFile(t, keep, map[string]map[string]string{
		"1006": {"department": bhr, "manager_employee_number": "1002"},
		"2009": {"roles": ""},
		"1011": {"email": "dmitri.new@new.example"},
	})) + newHires(9100, 60) + "9200,Renée Lévesque,renee@new.example," + dol + "," + bes + ",Clerk,4001,2026-11-02,,\n"
	r := hr.upload("/hr/roster", "file", "full.csv", []byte(file), map[string]string{"deactivate_missing": "yes"})
	if r.Status != 200 {
		t.Fatalf("preview: %d", r.Status)
	}
	m := applyRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatal("no apply form")
	}
	preview := strings.TrimSuffix(m[1], "/apply")
	employees := tp.count(t, `SELECT COUNT(*) FROM employees WHERE active = 1`)

	t.Run("the counts stay at the top, deactivations in the error colour", func(t *testing.T) {
		for _, body := range []string{r.Body, hr.get(preview + "?kind=changed&page=1").Body} {
			mustContain(t, body, "<dt>Added</dt><dd>61</dd>", "<dt>Updated</dt><dd>2</dd>",
				`<dt>Deactivated</dt><dd><strong class="roster-danger">3</strong></dd>`,
				`<div class="roster-warning">`, "3 people are not in this full roster and will be deactivated",
				`href="`+preview+`?kind=deactivated"`, `class="roster-danger">Deactivated: 3</a>`,
				"Added: 61", "Changed: 3", "Reactivated: 0")
		}
		if tp.count(t, `SELECT COUNT(*) FROM employees WHERE active = 1`) != employees {
			t.Fatal("the preview changed the roster")
		}
	})
	t.Run("each change by person: old and new value of every changed field", func(t *testing.T) {
		body := hr.get(preview + "?kind=changed").Body
		text := pageText(body)
		for _, want := range []string{
			"José Núñez 1006 Changed Department: Office of Information Technology → changes to Bureau of Human Resources",
			"Manager: François Lévesque (1004) → changes to Hannah Roy (1002)",
			"Priya Natarajan 2009 Changed Roles: poster → changes to (none)",
			"Dmitri Volkov 1011 Changed E-mail: " + tp.employee(t, "1011").Email + " → changes to dmitri.new@new.example (waits for a second person's approval)",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("the changes do not say %q:\n%s", want, text)
			}
		}
		if got := previewNumbers(body); !slices.Equal(got, []string{"1011", "1006", "2009"}) {
			t.Errorf("changed people %v", got)
		}
	})
	t.Run("a new person's fields", func(t *testing.T) {
		text := pageText(hr.get(preview + "?q=9200").Body)
		mustContain(t, text, "Renée Lévesque 9200 Added E-mail: renee@new.example Agency: "+dol+" Department: "+bes+
			" Title: Clerk Manager: Steven Paradis (4001) Hired: 2026-11-02")
	})
	t.Run("paged, 50 to a page, every person once", func(t *testing.T) {
		first := hr.get(preview + "?kind=added")
		mustContain(t, first.Body, "Page 1 of 2", `href="`+preview+`?kind=added&amp;page=2"`)
		second := hr.get(preview + "?kind=added&page=2")
		mustContain(t, second.Body, "Page 2 of 2", `href="`+preview+`?kind=added&amp;page=1"`)
		a, b := previewNumbers(first.Body), previewNumbers(second.Body)
		if len(a) != 50 || len(b) != 11 {
			t.Fatalf("pages of %d and %d people", len(a), len(b))
		}
		all := append(a, b...)
		slices.Sort(all)
		if len(slices.Compact(all)) != 61 {
			t.Error("a person is listed twice across the pages")
		}
	})
	t.Run("filtered by kind: the deactivated, and only them", func(t *testing.T) {
		body := hr.get(preview + "?kind=deactivated").Body
		got := previewNumbers(body)
		slices.Sort(got)
		if !slices.Equal(got, []string{"3003", "3005", "4012"}) {
			t.Errorf("deactivated %v", got)
		}
		mustContain(t, pageText(body), "Brian Levesque 3003 Deactivated Not in the full roster: deactivated, records kept.")
	})
	t.Run("searched by name ignoring accents, or by number", func(t *testing.T) {
		got := previewNumbers(hr.get(preview + "?q=LEVESQUE").Body)
		slices.Sort(got)
		if !slices.Equal(got, []string{"3003", "9200"}) { // François Lévesque (1004) is unchanged
			t.Errorf("levesque finds %v", got)
		}
		if got := previewNumbers(hr.get(preview + "?q=9105").Body); !slices.Equal(got, []string{"9105"}) {
			t.Errorf("9105 finds %v", got)
		}
		r := hr.get(preview + "?kind=deactivated&q=hire")
		mustContain(t, r.Body, "0 people match", "Nobody matches these filters")
	})
	t.Run("a bad filter is a form error and lists nobody", func(t *testing.T) {
		r := hr.get(preview + "?kind=deleted")
		wantFieldError(t, r, "kind", "Unknown kind of change. Choose one from the list.")
		if len(previewNumbers(r.Body)) != 0 {
			t.Error("a list beside a refused filter")
		}
		wantFieldError(t, hr.get(preview+"?q="+strings.Repeat("x", 201)), "q", "The search must be 200 characters or fewer.")
	})
	t.Run("only the HR user who uploaded it sees it; a scoped HR user never", func(t *testing.T) {
		other := newClient(t, tp.BaseURL)
		other.signIn(tp.signInLink(t, "1010")) // Chloé, HR for every agency, for now
		if r := other.get(preview); r.Status != 404 || strings.Contains(r.Body, "Renée") {
			t.Errorf("another HR user's preview: %d", r.Status)
		}
		admin := newClient(t, tp.BaseURL)
		admin.signIn(tp.signInLink(t, "1003"))
		admin.get("/admin/scopes")
		if r := admin.post("/admin/scopes", form("employee", itoa(tp.employee(t, "1010").ID), "agency", dol)); r.Status != 303 {
			t.Fatalf("set scope: %d", r.Status)
		}
		for _, path := range []string{preview, preview + "?kind=deactivated", "/hr/roster/template.csv"} {
			if r := other.get(path); r.Status != 403 || strings.Contains(r.Body, "Brian Levesque") || strings.Contains(r.Body, "Renée") {
				t.Errorf("the scoped HR user gets %s: %d", path, r.Status)
			}
		}
		emp := newClient(t, tp.BaseURL)
		emp.signIn(tp.signInLink(t, "1005"))
		if r := emp.get(preview); r.Status != 403 {
			t.Errorf("an employee gets the preview: %d", r.Status)
		}
	})
	t.Run("applying invites the new people at once, and the reminder pass not again", func(t *testing.T) {
		invited := func() (rows, people int) {
			q := `FROM outbox o JOIN employees e ON e.id = o.employee_id WHERE o.kind = 'invitation' AND e.employee_number >= '9100'`
			return tp.count(t, `SELECT COUNT(*) `+q), tp.count(t, `SELECT COUNT(DISTINCT o.employee_id) `+q)
		}
		if n, _ := invited(); n != 0 {
			t.Fatalf("%d invitations before the file is applied", n)
		}
		mustContain(t, r.Body, "Applying invites the people it adds or reactivates to "+tp.text(t, `SELECT name FROM cycles WHERE open = 1 AND kind = 'personal-use'`)+" at once")
		if r := hr.post(m[1], form("sha256", m[2])); r.Status != 303 {
			t.Fatalf("apply: %d", r.Status)
		}
		mustContain(t, hr.get("/hr/roster").Body, "Roster imported: 61 added", "61 invitations are being sent now.")
		if rows, people := invited(); rows != 61 || people != 61 {
			t.Fatalf("%d invitations to %d new people right after applying, want 61", rows, people)
		}
		if inv, _, _, _ := tp.pass(t); inv == 0 {
			t.Error("the pass invited nobody, not even the demo's people it had not yet invited: it proves nothing")
		}
		if rows, _ := invited(); rows != 61 {
			t.Errorf("%d invitations after the reminder pass, want 61", rows)
		}
		after := hr.get(preview)
		mustContain(t, after.Body, "This file was imported on")
		if applyRE.MatchString(after.Body) {
			t.Error("an applied upload still offers to apply it")
		}
	})
}

func TestRosterPreviewIsWhatIsApplied(t *testing.T) {
	tp := startTestPortal(t)
	hr := hrClient(t, tp)
	// Hannah previews a move of José; before she applies it, another file
	// gives him a new title: hers, which holds his old title, would now
	// take that title back, which its preview does not show.
	first := previewRoster(t, hr, "move.csv", tp.rosterFile(t, []string{"1006"}, map[string]map[string]string{"1006": {"department": bhr}}))
	mustContain(t, pageText(first), "Department: "+oit+" → changes to "+bhr)
	applyRoster(t, hr, previewRoster(t, hr, "title.csv", tp.rosterFile(t, []string{"1006"}, map[string]map[string]string{"1006": {"title": "Lead Developer"}})))
	before := tp.identityState(t)
	m := applyRE.FindStringSubmatch(first)
	r := hr.post(m[1], form("sha256", m[2]))
	if r.Status != 409 || !strings.Contains(r.Body, "The roster changed since this preview") {
		t.Fatalf("stale preview applied: %d", r.Status)
	}
	if tp.identityState(t) != before || tp.employee(t, "1006").Department != oit {
		t.Error("a stale preview changed the roster")
	}
	// Uploaded again, its preview shows what it does now, and applies.
	again := previewRoster(t, hr, "move.csv", tp.rosterFile(t, []string{"1006"}, map[string]map[string]string{"1006": {"department": bhr}}))
	if text := pageText(again); !strings.Contains(text, "Department: "+oit+" → changes to "+bhr) || strings.Contains(text, "Title:") {
		t.Errorf("the new preview: %s", text)
	}
	mustContain(t, applyRoster(t, hr, again), "Roster imported: 0 added, 1 updated")
	if e := tp.employee(t, "1006"); e.Department != bhr || e.Title != "Lead Developer" {
		t.Errorf("after applying the new preview: %s, %s", e.Department, e.Title)
	}
}

func TestRosterTemplate(t *testing.T) {
	tp := startTestPortal(t)
	hr := hrClient(t, tp)
	// The columns SPEC §3.5 documents, in its order, and the signature name.
	accepted := []string{"employee_number", "full_name", "email", "agency", "department", "title",
		"manager_employee_number", "hire_date", "roles", "bargaining_unit", "signature_name"}
	r := hr.get("/hr/roster/template.csv")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), `attachment; filename="roster-template.csv"`) {
		t.Fatalf("template: %d %v", r.Status, r.Header)
	}
	if !strings.HasPrefix(r.Body, "\ufeff") {
		t.Fatal("no byte-order mark: a spreadsheet would garble accents")
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("the template does not parse as CSV: %v", err)
	}
	if len(recs) != 2 || !slices.Equal(recs[0], accepted) {
		t.Fatalf("template records %q", recs)
	}

	t.Run("the upload page links to it and describes every column", func(t *testing.T) {
		body := hr.get("/hr/roster").Body
		mustContain(t, body, `<a href="/hr/roster/template.csv" download>`)
		for _, c := range accepted {
			mustContain(t, body, "<dt><code>"+c+"</code>")
		}
		mustContain(t, body, "<dt><code>email</code> <span class=\"meta\">required</span>", "<dt><code>hire_date</code> <span class=\"meta\">optional</span>")
	})
	t.Run("uploaded unchanged, it is refused and nothing changes", func(t *testing.T) {
		before := tp.identityState(t)
		r := hr.upload("/hr/roster", "file", "roster-template.csv", []byte(r.Body), nil)
		wantFieldError(t, r, "file", "The file has problems, so nothing was imported.")
		mustContain(t, r.Body, "marks the template&#39;s example row")
		if tp.identityState(t) != before {
			t.Error("the template changed the roster")
		}
	})
	t.Run("filled in, every column is imported", func(t *testing.T) {
		row := []string{"9400", "Zoé Martin", "zoe.martin@new.example", dol, bes, "Analyst", "4001", "2026-10-01", "poster", "Unit 7", "Zoe Martin"}
		var b bytes.Buffer
		b.WriteString("\ufeff")
		w := csv.NewWriter(&b)
		if err := w.WriteAll([][]string{recs[0], row}); err != nil {
			t.Fatal(err)
		}
		r := hr.upload("/hr/roster", "file", "filled.csv", b.Bytes(), nil)
		mustContain(t, r.Body, "<dt>Added</dt><dd>1</dd>")
		mustContain(t, pageText(r.Body), "Zoé Martin 9400 Added E-mail: zoe.martin@new.example Agency: "+dol+" Department: "+bes+
			" Title: Analyst Manager: Steven Paradis (4001) Hired: 2026-10-01 Roles: poster Bargaining unit: Unit 7 Signature name: Zoe Martin")
	})
}

func TestImportRosterCommandInvitesNewPeople(t *testing.T) {
	tp := startTestPortal(t)
	tp.commandEnv(t)
	p := t.TempDir() + "/new.csv"
	if err := writeFile(p, strings.Join(rosterColumns, ",")+"\n"+newHires(9500, 2)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := server.Run(context.Background(), []string{"import-roster", p}, &out, &out); err != nil {
		t.Fatal(err)
	}
	mustContain(t, out.String(), "2 added", "2 invitations queued")
	q := `SELECT COUNT(*) FROM outbox o JOIN employees e ON e.id = o.employee_id WHERE o.kind = 'invitation' AND e.employee_number IN ('9500', '9501')`
	if n := tp.count(t, q); n != 2 {
		t.Fatalf("%d invitations after import-roster, want 2", n)
	}
	tp.pass(t)
	if n := tp.count(t, q); n != 2 {
		t.Errorf("%d invitations after the reminder pass, want 2", n)
	}
}

// previewUploadFor saves, as the HR user e would by uploading it, a full
// roster that adds one person, changes one and deactivates one, and
// returns the upload's id: a preview with every kind of row for the
// accessibility sweep.
func previewUploadFor(t *testing.T, tp *testPortal, e *app.Employee) string {
	t.Helper()
	ctx := context.Background()
	// Whatever the portal's roster (the sweep's bare portal has a smaller
	// one): the first active person is the new hire's manager, the second
	// changes department and the last, who manages nobody, is left out.
	var keep []string
	var leaf string
	for _, p := range tp.employees(t, `active = 1`) {
		if !p.IsManager {
			leaf = p.EmployeeNumber
		}
		keep = append(keep, p.EmployeeNumber)
	}
	keep = slices.DeleteFunc(keep, func(n string) bool { return n == leaf })
	if len(keep) < 2 || keep[0] == leaf {
		t.Fatalf("sweep roster: too few people (%v)", keep)
	}
	boss := tp.employee(t, keep[0])
	content := append(tp.rosterFile(t, keep, map[string]map[string]string{keep[1]: {"department": "Sweep Department"}}),
		fmt.Sprintf("9600,New Hire 9600,hire9600@new.example,%s,%s,Clerk,%s,,,\n", boss.Agency, boss.Department, boss.EmployeeNumber)...)
	rs := tp.Handler.Roster
	existing, err := rs.ActiveManagers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, probs, err := roster.ParseRows(bytes.NewReader(content), existing)
	if err != nil || len(probs) > 0 {
		t.Fatalf("sweep roster: %v %+v", err, probs)
	}
	sum, err := rs.ImportRoster(ctx, rows, app.ImportOptions{DeactivateMissing: true, DryRun: true, FromWeb: true})
	if err != nil || len(sum.Problems) > 0 || sum.Deactivated != 1 {
		t.Fatalf("sweep roster dry run: %v %+v", err, sum)
	}
	up := &app.RosterUpload{SHA256: "sweep", Filename: "full-roster.csv", Content: content, DeactivateMissing: true, UploadedBy: e.ID, Summary: sum}
	if err := rs.SaveUpload(ctx, up); err != nil {
		t.Fatal(err)
	}
	return itoa(up.ID)
}

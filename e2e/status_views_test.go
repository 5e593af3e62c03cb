package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"html"
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

// A roster in every status, and who must be in which. The demo roster gives
// signed people, overdue people who started (read some guidance) and who did
// not, and new hires not yet due; the test adds the rest.
var statusCases = map[string]string{
	"1006": app.StatusOverdue,    // read some guidance, past due: overdue, not "in progress"
	"3004": app.StatusOverdue,    // the same
	"1005": app.StatusOverdue,    // nothing done, past due
	"1007": app.StatusInProgress, // a new hire who started, not yet due
	"2010": app.StatusInProgress, // the same
	"1012": app.StatusNotStarted, // a new hire, not yet due
	"1008": app.StatusSigned,
	"2006": app.StatusPaper,  // signed; the satisfying acknowledgment marked a paper one
	"1010": app.StatusPaper,  // the same
	"1009": app.StatusExempt, // overdue, then excused
	"2004": app.StatusExempt, // started and overdue, then excused
	"1011": app.StatusSigned, // excused, then signed all the same: the signature wins
}

// statusViews reads the four views of one portal.
type statusViews struct {
	t     *testing.T
	tp    *testPortal
	hr    *client
	cycle int64
	names map[string]string // full name -> employee number
}

var (
	figureRE   = regexp.MustCompile(`<span class="figure">(\d+)</span> <a href="/hr/people\?cycle=\d+&amp;status=([a-z_]+)`)
	doneRE     = regexp.MustCompile(`<span class="figure">(\d+)</span> of (\d+) people`)
	rowRE      = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	tagRE      = regexp.MustCompile(`<strong class="tag tag-([a-z_]+)">`)
	totalRE    = regexp.MustCompile(`<p role="status">(\d+) (?:person|people)`)
	dashRowRE  = regexp.MustCompile(`(?s)<tr>\s*<th scope="row"><a href="[^"]*">([^<]*)</a></th>(.*?)</tr>`)
	numCellRE  = regexp.MustCompile(`<td class="num">(\d+)</td>`)
	tbodyRE    = regexp.MustCompile(`(?s)<tbody>(.*?)</tbody>`)
	nextPageRE = regexp.MustCompile(`href="([^"]*page=\d+)"[^>]*>\s*Next`)
)

// rows maps each person a list page shows (by employee number) to the status
// its tag says, following the pages.
func (v *statusViews) rows(c *client, path string) (total int, got map[string]string) {
	v.t.Helper()
	got = map[string]string{}
	total = -1
	for path != "" {
		r := c.get(path)
		if r.Status != 200 {
			v.t.Fatalf("GET %s: status %d", path, r.Status)
		}
		if total < 0 {
			m := totalRE.FindStringSubmatch(r.Body)
			if m == nil {
				v.t.Fatalf("GET %s: no count of people", path)
			}
			total, _ = strconv.Atoi(m[1])
		}
		if body := tbodyRE.FindStringSubmatch(r.Body); body != nil {
			for _, row := range rowRE.FindAllStringSubmatch(body[1], -1) {
				tag := tagRE.FindStringSubmatch(row[1])
				who := v.who(row[1])
				if tag == nil || who == "" {
					v.t.Fatalf("GET %s: a row without a status tag or a known name: %s", path, row[1])
				}
				if _, twice := got[who]; twice {
					v.t.Fatalf("GET %s: %s listed twice", path, who)
				}
				got[who] = tag[1]
			}
		}
		path = ""
		if m := nextPageRE.FindStringSubmatch(r.Body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	return total, got
}

// who finds the roster name in a table row.
func (v *statusViews) who(row string) string {
	row = html.UnescapeString(row)
	for name, number := range v.names {
		if strings.Contains(row, ">"+name+"<") || strings.Contains(row, ">"+name+"\n") {
			return number
		}
	}
	return ""
}

// export reads the CSV report for a filter: employee number -> status.
func (v *statusViews) export(query string) map[string]string {
	v.t.Helper()
	r := v.hr.get("/hr/export.csv?" + query)
	if r.Status != 200 {
		v.t.Fatalf("export %s: status %d", query, r.Status)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix([]byte(r.Body), []byte("\ufeff")))).ReadAll()
	if err != nil {
		v.t.Fatal(err)
	}
	head := recs[0]
	num, st := slices.Index(head, "employee_number"), slices.Index(head, "status_code")
	if num < 0 || st < 0 {
		v.t.Fatalf("export header %v", head)
	}
	out := map[string]string{}
	for _, rec := range recs[1:] {
		out[rec[num]] = rec[st]
	}
	return out
}

// dashboard reads the dashboard's figures (one per status and the total)
// and its table (a row per agency or department: status -> figure).
func (v *statusViews) dashboard(agency string) (figures map[string]int, total int, table map[string]map[string]int) {
	v.t.Helper()
	path := "/hr?cycle=" + itoa(v.cycle)
	if agency != "" {
		path += "&agency=" + urlEscape(agency)
	}
	r := v.hr.get(path)
	if r.Status != 200 {
		v.t.Fatalf("GET %s: status %d", path, r.Status)
	}
	figures = map[string]int{}
	for _, m := range figureRE.FindAllStringSubmatch(r.Body, -1) {
		figures[m[2]], _ = strconv.Atoi(m[1])
	}
	if len(figures) != len(app.Statuses) {
		v.t.Fatalf("%s: figures for %v, want one for each of %v", path, figures, app.Statuses)
	}
	done := doneRE.FindStringSubmatch(r.Body)
	if done == nil {
		v.t.Fatalf("%s: no figure of people done", path)
	}
	if d, _ := strconv.Atoi(done[1]); d != figures[app.StatusSigned]+figures[app.StatusPaper] {
		v.t.Errorf("%s: %s done, but %d signed and %d on paper", path, done[1], figures[app.StatusSigned], figures[app.StatusPaper])
	}
	if due, _ := strconv.Atoi(done[2]); due+figures[app.StatusExempt] != sumOf(figures) {
		v.t.Errorf("%s: %d people must sign, %d exempt, %d in all", path, due, figures[app.StatusExempt], sumOf(figures))
	}
	table = map[string]map[string]int{}
	body := tbodyRE.FindStringSubmatch(r.Body)
	if body == nil {
		v.t.Fatalf("%s: no table", path)
	}
	for _, m := range dashRowRE.FindAllStringSubmatch(body[1], -1) {
		cells := numCellRE.FindAllStringSubmatch(m[2], -1)
		if len(cells) != 2+len(app.Statuses) {
			v.t.Fatalf("%s: row %s has %d figures", path, m[1], len(cells))
		}
		row := map[string]int{}
		rowTotal, _ := strconv.Atoi(cells[0][1])
		for i, st := range app.Statuses {
			row[st], _ = strconv.Atoi(cells[2+i][1])
		}
		if sumOf(row) != rowTotal {
			v.t.Errorf("%s: row %s adds up to %d of %d", path, m[1], sumOf(row), rowTotal)
		}
		table[html.UnescapeString(m[1])] = row
	}
	return figures, sumOf(figures), table
}

func sumOf(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// countStatuses counts the people of a list in each status.
func countStatuses(people map[string]string) map[string]int {
	out := map[string]int{}
	for _, st := range app.Statuses {
		out[st] = 0
	}
	for _, st := range people {
		out[st]++
	}
	return out
}

// TestStatusViewsAgree: the dashboard's figures, the people list (its count
// and its rows), a manager's team page and the CSV export say the same about
// every person, for every filter, and the dashboard's figures add up to the
// total. Each person is in exactly one status, in the order of app/cycle.go:
// someone who read some guidance and is past due is overdue everywhere, not
// "started" on one page and "overdue" on another.
func TestStatusViewsAgree(t *testing.T) {
	tp := startTestPortal(t)
	tp.Handler.ExportLimit = handlers.NewRateLimiter(1<<30, time.Minute) // this test exports a hundred times
	ctx := context.Background()
	v := &statusViews{t: t, tp: tp, hr: hrClient(t, tp), cycle: tp.cycleID(t), names: map[string]string{}}
	for _, d := range server.DemoRoster {
		v.names[d.Name] = d.Number
	}

	// The statuses the demo roster lacks.
	for _, number := range []string{"1007", "2010"} {
		e := tp.employee(t, number)
		if err := tp.Handler.Acks.MarkModuleRead(ctx, e.ID, v.cycle, tp.Version.ModulesFor(app.AudienceAll)[0].Slug); err != nil {
			t.Fatal(err)
		}
	}
	for _, number := range []string{"2006", "1010"} {
		// What the paper acknowledgment feature records, set directly.
		tamper(t, tp, `UPDATE assignments SET paper = 1 WHERE cycle_id = ? AND employee_id = ? AND signed_at IS NOT NULL`,
			v.cycle, tp.employee(t, number).ID)
	}
	for _, number := range []string{"1009", "2004", "1011"} {
		tp.exempt(t, v.hr, number, "On leave")
	}
	dmitri := newClient(t, tp.BaseURL)
	dmitri.signIn(tp.signInLink(t, "1011"))
	signAll(t, tp, dmitri, "1011")

	// Everyone, as the export says, and as this test knows them to be.
	all := v.export("cycle=" + itoa(v.cycle))
	if len(all) != len(server.DemoRoster) {
		t.Fatalf("the export has %d people of %d", len(all), len(server.DemoRoster))
	}
	for number, want := range statusCases {
		if all[number] != want {
			t.Errorf("%s is %q in the export, want %q", number, all[number], want)
		}
	}
	for _, st := range app.Statuses {
		if countStatuses(all)[st] == 0 {
			t.Fatalf("nobody is %s: the roster must hold every status", st)
		}
	}

	// The filters of the people list and the export.
	agencies := map[string][]string{}
	for _, d := range server.DemoRoster {
		if !slices.Contains(agencies[d.Agency], d.Dept) {
			agencies[d.Agency] = append(agencies[d.Agency], d.Dept)
		}
	}
	var filters []string
	for _, st := range append([]string{""}, app.Statuses...) {
		base := []string{"cycle=" + itoa(v.cycle)}
		if st != "" {
			base = append(base, "status="+st)
		}
		filters = append(filters, strings.Join(base, "&"), strings.Join(append(base, "q=employee100"), "&"))
		for a, ds := range agencies {
			filters = append(filters, strings.Join(append(base, "agency="+urlEscape(a)), "&"))
			for _, d := range ds {
				filters = append(filters, strings.Join(append(base, "agency="+urlEscape(a), "department="+urlEscape(d)), "&"))
			}
		}
	}

	t.Run("the people list's count and rows equal the export, for every filter", func(t *testing.T) {
		for _, q := range filters {
			total, listed := v.rows(v.hr, "/hr/people?"+q)
			exported := v.export(q)
			if total != len(listed) {
				t.Errorf("%s: the list says %d people and shows %d", q, total, len(listed))
			}
			if !mapsEqual(listed, exported) {
				t.Errorf("%s: the list shows %v, the export holds %v", q, listed, exported)
			}
			for number, st := range listed {
				if all[number] != st {
					t.Errorf("%s: %s is %s here and %s unfiltered", q, number, st, all[number])
				}
			}
		}
	})

	t.Run("the dashboard's figures add up and equal the list, overall and per agency and department", func(t *testing.T) {
		figures, total, table := v.dashboard("")
		if want := countStatuses(all); !mapsEqual(figures, want) || total != len(all) {
			t.Errorf("the dashboard says %v of %d, the people are %v of %d", figures, total, want, len(all))
		}
		for a, ds := range agencies {
			inAgency := v.export("cycle=" + itoa(v.cycle) + "&agency=" + urlEscape(a))
			if want := countStatuses(inAgency); !mapsEqual(table[a], want) {
				t.Errorf("the dashboard's row for %s says %v, its people are %v", a, table[a], want)
			}
			figures, total, depts := v.dashboard(a)
			if want := countStatuses(inAgency); !mapsEqual(figures, want) || total != len(inAgency) {
				t.Errorf("%s: the dashboard says %v of %d, its people are %v", a, figures, total, want)
			}
			for st, n := range figures {
				if listed, _ := v.rows(v.hr, "/hr/people?cycle="+itoa(v.cycle)+"&agency="+urlEscape(a)+"&status="+st); listed != n {
					t.Errorf("%s: the dashboard says %d %s, the list %d", a, n, st, listed)
				}
			}
			for _, d := range ds {
				inDept := v.export("cycle=" + itoa(v.cycle) + "&agency=" + urlEscape(a) + "&department=" + urlEscape(d))
				if want := countStatuses(inDept); !mapsEqual(depts[d], want) {
					t.Errorf("%s, %s: the dashboard says %v, its people are %v", a, d, depts[d], want)
				}
			}
		}
	})

	t.Run("each manager's team page equals the export of their people", func(t *testing.T) {
		for _, manager := range []string{"1001", "2002"} {
			mgr := newClient(t, tp.BaseURL)
			mgr.signIn(tp.signInLink(t, manager))
			team := map[string]string{}
			for _, number := range underManager(manager) {
				team[number] = all[number]
			}
			var depts []string
			for number := range team {
				if d := tp.employee(t, number).Department; !slices.Contains(depts, d) {
					depts = append(depts, d)
				}
			}
			for _, st := range append([]string{""}, app.Statuses...) {
				for _, d := range append([]string{""}, depts...) {
					want := map[string]string{}
					for number, s := range team {
						if (st == "" || s == st) && (d == "" || tp.employee(t, number).Department == d) {
							want[number] = s
						}
					}
					path := "/team?status=" + st + "&department=" + urlEscape(d)
					total, got := v.rows(mgr, path)
					if total != len(got) || !mapsEqual(got, want) {
						t.Errorf("manager %s, %s: the team page says %d and shows %v, want %v", manager, path, total, got, want)
					}
				}
			}
		}
	})
}

// underManager lists everyone under a manager in the demo roster, directly
// or through others.
func underManager(manager string) []string {
	var out []string
	for _, d := range server.DemoRoster {
		for m := d.Manager; m != ""; {
			if m == manager {
				out = append(out, d.Number)
				break
			}
			next := ""
			for _, up := range server.DemoRoster {
				if up.Number == m {
					next = up.Manager
				}
			}
			m = next
		}
	}
	return out
}

func mapsEqual[V comparable](a, b map[string]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// exempt excuses a person from the open cycle through HR's form.
func (tp *testPortal) exempt(t *testing.T, hr *client, number, reason string) {
	t.Helper()
	today := app.Today(tp.DB.Now(), tp.Config.TimeZone)
	r := hr.post("/hr/people/"+itoa(tp.employee(t, number).ID)+"/exempt", form("exempt_from", today, "exempt_reason", reason))
	if r.Status != 303 {
		t.Fatalf("exempt %s: status %d", number, r.Status)
	}
}

// signAll walks a signed-in person through reading, the check, consent and
// signing.
func signAll(t *testing.T, tp *testPortal, c *client, number string) {
	t.Helper()
	readAll(t, tp, c, number)
	passQuiz(t, tp, c, number)
	consent(t, c)
	c.get("/sign")
	if r := c.post("/sign", form("typed_name", tp.employee(t, number).FullName, "intent", "yes")); r.Status != 303 {
		t.Fatalf("%s signs: status %d", number, r.Status)
	}
}

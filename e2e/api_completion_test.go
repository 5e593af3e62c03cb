package e2e

// GET /api/v1/completion: paging by cursor, the dashboard's filters and
// statuses, and bad parameters.

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"portal/app"
)

type apiPage struct {
	Cycle struct {
		ID    int64  `json:"id"`
		DueOn string `json:"due_on"`
	} `json:"cycle"`
	Total  int `json:"total"`
	People []struct {
		EmployeeNumber  string  `json:"employee_number"`
		Agency          string  `json:"agency"`
		Department      string  `json:"department"`
		Name            string  `json:"name"`
		Status          string  `json:"status"`
		StatusLabel     string  `json:"status_label"`
		SignedAt        *string `json:"signed_at"`
		CertificateCode string  `json:"certificate_code"`
	} `json:"people"`
	Next *string `json:"next"`
}

// apiAll pages through /api/v1/completion with the query q and returns
// every person's number → status, the total each page gave, and the pages.
func apiAll(t *testing.T, tp *testPortal, token string, q url.Values, limit int) (map[string]string, int, int) {
	t.Helper()
	seen := map[string]string{}
	total, pages := -1, 0
	q = url.Values(cloneValues(q))
	q.Set("limit", itoa(int64(limit)))
	for cursor := ""; ; {
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var p apiPage
		apiJSON(t, apiGet(t, tp.BaseURL, token, "/api/v1/completion?"+q.Encode()), 200, &p)
		pages++
		if total == -1 {
			total = p.Total
		} else if p.Total != total {
			t.Errorf("total changed between pages: %d then %d", total, p.Total)
		}
		if len(p.People) > limit {
			t.Fatalf("%d people on a page of %d", len(p.People), limit)
		}
		for _, x := range p.People {
			if _, dup := seen[x.EmployeeNumber]; dup {
				t.Errorf("%s is on two pages", x.EmployeeNumber)
			}
			seen[x.EmployeeNumber] = x.Status
			if x.StatusLabel != app.StatusLabel(x.Status) || !slices.Contains(app.Statuses, x.Status) {
				t.Errorf("%s: status %q %q", x.EmployeeNumber, x.Status, x.StatusLabel)
			}
		}
		if p.Next == nil {
			break
		}
		if len(p.People) != limit {
			t.Errorf("a page of %d before the last, want %d", len(p.People), limit)
		}
		cursor = *p.Next
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
	}
	return seen, total, pages
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func TestAPICompletion(t *testing.T) {
	tp := startTestPortal(t)
	token := cliToken(t, tp, "HR system", "completion:read")
	ctx := t.Context()
	cycle := tp.cycleID(t)
	today := func() string { return app.Today(tp.DB.Now(), tp.Config.TimeZone) }
	everyone := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND active = 1`, cycle)
	if everyone < 20 {
		t.Fatalf("only %d people in the demo cycle", everyone)
	}
	// Every status has someone: 1011 signed on paper, 1009 is excused.
	azPaperFixture(t, tp)
	hr := newClient(t, tp.BaseURL)
	hr.signIn(tp.signInLink(t, "1002"))
	hr.get("/hr")
	if r := hr.post("/hr/people/"+itoa(tp.employee(t, "1009").ID)+"/exempt", form("exempt_from", today(), "exempt_reason", "leave")); r.Status != 303 {
		t.Fatalf("exempt 1009: status %d", r.Status)
	}

	t.Run("paging through everyone returns each person exactly once", func(t *testing.T) {
		for _, limit := range []int{1, 7, everyone, 500} {
			seen, total, pages := apiAll(t, tp, token, nil, limit)
			if len(seen) != everyone || total != everyone {
				t.Errorf("limit %d: %d people, total %d, want %d", limit, len(seen), total, everyone)
			}
			if want := (everyone + limit - 1) / limit; pages != want {
				t.Errorf("limit %d: %d pages, want %d", limit, pages, want)
			}
		}
	})

	t.Run("a person whose status changes between pages is still listed once", func(t *testing.T) {
		var first apiPage
		apiJSON(t, apiGet(t, tp.BaseURL, token, "/api/v1/completion?limit=5"), 200, &first)
		// Someone on a later page changes status (is excused) meanwhile.
		seen := map[string]bool{}
		for _, p := range first.People {
			seen[p.EmployeeNumber] = true
		}
		all, _, _ := apiAll(t, tp, token, nil, 100)
		var later string
		for n, st := range all {
			if !seen[n] && st == app.StatusNotStarted {
				later = n
				break
			}
		}
		if later == "" {
			t.Fatal("nobody not started past the first page")
		}
		if r := hr.post("/hr/people/"+itoa(tp.employee(t, later).ID)+"/exempt", form("exempt_from", today(), "exempt_reason", "leave")); r.Status != 303 {
			t.Fatalf("exempt %s: status %d", later, r.Status)
		}
		for cursor := *first.Next; cursor != ""; {
			var p apiPage
			apiJSON(t, apiGet(t, tp.BaseURL, token, "/api/v1/completion?limit=5&cursor="+url.QueryEscape(cursor)), 200, &p)
			for _, x := range p.People {
				if seen[x.EmployeeNumber] {
					t.Errorf("%s twice", x.EmployeeNumber)
				}
				seen[x.EmployeeNumber] = true
			}
			cursor = ""
			if p.Next != nil {
				cursor = *p.Next
			}
		}
		if len(seen) != everyone || !seen[later] {
			t.Errorf("%d people seen, want %d, %s among them", len(seen), everyone, later)
		}
	})

	// The API's figures are the dashboard's, status by status, today and
	// once the due date has passed (when the unsigned are overdue).
	sameAsDashboard := func(t *testing.T) {
		_, dash, err := tp.Handler.Dashboard.Completion(ctx, cycle, nil, "", today())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range app.Statuses {
			seen, total, _ := apiAll(t, tp, token, url.Values{"status": {s}}, 4)
			if total != dash.Of(s) || len(seen) != total {
				t.Errorf("status %s: the API says %d (listing %d), the dashboard %d", s, total, len(seen), dash.Of(s))
			}
			for n, got := range seen {
				if got != s {
					t.Errorf("status %s lists %s, whose status is %s", s, n, got)
				}
			}
		}
		if dash.Total != everyone {
			t.Errorf("dashboard total %d, want %d", dash.Total, everyone)
		}
	}
	t.Run("each status's count is the dashboard's", func(t *testing.T) {
		sameAsDashboard(t)
		_, dash, err := tp.Handler.Dashboard.Completion(ctx, cycle, nil, "", today())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{app.StatusSigned, app.StatusPaper, app.StatusExempt, app.StatusNotStarted} {
			if dash.Of(s) == 0 {
				t.Errorf("nobody is %s: the check proves little", s)
			}
		}
	})

	t.Run("filters: agency, department, search", func(t *testing.T) {
		seen, total, _ := apiAll(t, tp, token, url.Values{"agency": {dafs}}, 5)
		if want := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND active = 1 AND agency = ?`, cycle, dafs); total != want || len(seen) != want || want == 0 {
			t.Errorf("agency: %d (%d listed), want %d", total, len(seen), want)
		}
		for n := range seen {
			if !strings.HasPrefix(n, "1") {
				t.Errorf("agency %s lists %s", dafs, n)
			}
		}
		seen, total, _ = apiAll(t, tp, token, url.Values{"agency": {dafs}, "department": {"Bureau of Human Resources"}}, 5)
		if want := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND active = 1 AND department = 'Bureau of Human Resources'`, cycle); total != want || len(seen) != want || want == 0 {
			t.Errorf("department: %d (%d listed), want %d", total, len(seen), want)
		}
		var p apiPage
		apiJSON(t, apiGet(t, tp.BaseURL, token, "/api/v1/completion?q=Hannah"), 200, &p)
		if p.Total != 1 || len(p.People) != 1 || p.People[0].EmployeeNumber != "1002" || p.People[0].Status != app.StatusSigned ||
			p.People[0].SignedAt == nil || p.People[0].CertificateCode != tp.codeOf(t, tp.employee(t, "1002").ID) {
			t.Errorf("q=Hannah: %+v", p)
		}
		apiJSON(t, apiGet(t, tp.BaseURL, token, "/api/v1/completion?cycle="+itoa(cycle)+"&limit=2"), 200, &p)
		if p.Cycle.ID != cycle || p.Total != everyone {
			t.Errorf("cycle=%d: cycle %d total %d", cycle, p.Cycle.ID, p.Total)
		}
	})

	t.Run("bad parameters: 400 with a clear message", func(t *testing.T) {
		var p apiPage
		apiJSON(t, apiGet(t, tp.BaseURL, token, "/api/v1/completion?limit=3&status=signed"), 200, &p)
		other := *p.Next
		for _, c := range []struct{ query, status, words string }{
			{"cursor=nonsense", "400", "cursor"},
			{"cursor=" + url.QueryEscape(other), "400", "these filters"}, // a cursor of the signed people, used for everyone
			{"cursor=" + url.QueryEscape(other[:len(other)-2]+"AA"), "400", "cursor"},
			{"status=done", "400", "Unknown status"},
			{"status=Signed", "400", "Unknown status"},
			{"limit=0", "400", "limit"},
			{"limit=501", "400", "from 1 to 500"},
			{"limit=ten", "400", "limit"},
			{"cycle=abc", "400", "cycle"},
			{"cycle=99999", "404", "No cycle has id 99999"},
			{"agency=Nowhere", "400", `No agency named "Nowhere"`},
			{"agency=" + url.QueryEscape(dafs) + "&department=Nowhere", "400", "no department"},
			{"department=Nowhere", "400", "No department"},
			{"q=" + strings.Repeat("a", 201), "400", "200 characters"},
			{"stauts=signed", "400", `Unknown parameter "stauts"`},
		} {
			r := apiGet(t, tp.BaseURL, token, "/api/v1/completion?"+c.query)
			code := map[string]string{"400": "bad_request", "404": "not_found"}[c.status]
			t.Run(c.query[:min(len(c.query), 30)], func(t *testing.T) { wantAPIError(t, r, mustAtoi(t, c.status), code, c.words) })
		}
	})

	t.Run("past the due date, the unsigned are overdue, as on the dashboard", func(t *testing.T) {
		var p apiPage
		apiJSON(t, apiGet(t, tp.BaseURL, token, "/api/v1/completion?limit=1"), 200, &p)
		due, err := time.ParseInLocation(app.DateLayout, p.Cycle.DueOn, tp.Config.TimeZone)
		if err != nil {
			t.Fatal(err)
		}
		tp.Clock.Advance(due.Sub(tp.DB.Now()) + 72*time.Hour)
		_, dash, err := tp.Handler.Dashboard.Completion(ctx, cycle, nil, "", today())
		if err != nil {
			t.Fatal(err)
		}
		if dash.Overdue == 0 {
			t.Fatal("nobody overdue after the due date")
		}
		sameAsDashboard(t)
	})
}

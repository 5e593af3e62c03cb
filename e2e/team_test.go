package e2e

// The manager's team page over HTTP (issue 15 point 7): its order, each
// person's progress, and the reminders a manager sends, with their limits.

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"portal/app"
)

// teamRow is one row of the team table as a person reads it.
type teamRowText struct {
	ID       string // the employee id, from the id of the row's heading
	Name     string
	Cells    []string // the text of each cell after the name
	AriaSort map[string]string
}

// teamTable reads the rows of the team table and the aria-sort of its headers.
func teamTable(t *testing.T, body string) ([]teamRowText, map[string]string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var rows []teamRowText
	sorts := map[string]string{}
	var text func(n *html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == "br" {
				b.WriteString(" | ")
			}
			b.WriteString(text(c))
		}
		return b.String()
	}
	attr := func(n *html.Node, k string) string {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val
			}
		}
		return ""
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "th" && attr(n, "scope") == "col" {
			label := strings.TrimSpace(strings.SplitN(text(n), "(", 2)[0])
			sorts[label] = attr(n, "aria-sort")
		}
		if n.Type == html.ElementNode && n.Data == "tr" && n.Parent != nil && n.Parent.Data == "tbody" {
			r := teamRowText{}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type != html.ElementNode {
					continue
				}
				s := strings.Join(strings.Fields(text(c)), " ")
				if c.Data == "th" {
					r.ID = strings.TrimPrefix(attr(c, "id"), "person-") // the row's heading is the error summary's target
					r.Name = strings.TrimSpace(strings.Split(s, "|")[0])
				} else {
					r.Cells = append(r.Cells, s)
				}
			}
			rows = append(rows, r)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return rows, sorts
}

func teamNames(rows []teamRowText) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Name)
	}
	return out
}

// TestTeamSorting: the team page sorts by name, status and due date, both
// ways, from the links in its headers and from its form, without
// JavaScript; the order comes from the store (the page only shows it).
func TestTeamSorting(t *testing.T) {
	tp := startTestPortal(t)
	// Nguyễn Thị Lan (1007) starts reading: in progress, not yet due. Zoë
	// Côté (1005) has not started and José Núñez (1006) has read two
	// sections: both are overdue. Siobhán O'Brien (1008) has signed.
	lan := newClient(t, tp.BaseURL)
	lan.signIn(tp.signInLink(t, "1007"))
	m := tp.Version.ModulesFor(app.AudienceAll)[0]
	lan.get("/guidance/" + m.Slug)
	if r := lan.post("/guidance/"+m.Slug+"/read", nil); r.Status != 303 {
		t.Fatalf("1007 reads a section: %d", r.Status)
	}
	mgr := newClient(t, tp.BaseURL)
	mgr.signIn(tp.signInLink(t, "1004"))
	const jose, lanName, siobhan, zoe = "José Núñez", "Nguyễn Thị Lan", "Siobhán O'Brien", "Zoë Côté"
	cases := []struct {
		sort, header, ariaSort string
		want                   []string
	}{
		{"name", "Name", "ascending", []string{jose, lanName, siobhan, zoe}},
		{"-name", "Name", "descending", []string{zoe, siobhan, lanName, jose}},
		// signed, in progress, not started, overdue; within a status the earliest due, then by name
		{"status", "Status", "ascending", []string{siobhan, lanName, jose, zoe}},
		{"-status", "Status", "descending", []string{jose, zoe, lanName, siobhan}},
		// 1005, 1006 and 1008 are due on the cycle's date, 1007 (a new hire) later; then by employee
		{"due", "Due", "ascending", []string{zoe, jose, siobhan, lanName}},
		{"-due", "Due", "descending", []string{lanName, siobhan, jose, zoe}},
		{"", "Due", "ascending", []string{zoe, jose, siobhan, lanName}}, // the default
	}
	for _, c := range cases {
		t.Run("sort="+c.sort, func(t *testing.T) {
			r := mgr.get("/team?sort=" + urlEscape(c.sort))
			if r.Status != 200 {
				t.Fatalf("status %d", r.Status)
			}
			rows, sorts := teamTable(t, r.Body)
			if got := teamNames(rows); !slices.Equal(got, c.want) {
				t.Errorf("order %q, want %q", got, c.want)
			}
			for _, h := range []string{"Name", "Status", "Due"} {
				want := ""
				if h == c.header {
					want = c.ariaSort
				}
				if sorts[h] != want {
					t.Errorf("aria-sort of %s is %q, want %q", h, sorts[h], want)
				}
			}
			if sorts["Department"] != "" || sorts["Progress"] != "" {
				t.Error("a column that does not sort has aria-sort")
			}
		})
	}
	t.Run("the header links sort, then reverse, and keep the filters", func(t *testing.T) {
		body := mgr.get("/team?status=overdue&sort=name").Body
		for _, want := range []string{
			`<a href="/team?sort=-name&amp;status=overdue">Name`,     // sorted by name: the link reverses it
			`<a href="/team?sort=due&amp;status=overdue">Due`,        // earliest first
			`<a href="/team?sort=-status&amp;status=overdue">Status`, // overdue first
		} {
			if !strings.Contains(body, want) {
				t.Errorf("no header link %s", want)
			}
		}
		rows, _ := teamTable(t, body)
		if got := teamNames(rows); !slices.Equal(got, []string{jose, zoe}) {
			t.Errorf("overdue by name: %q", got)
		}
		if !strings.Contains(body, `<option value="name" selected>Name, A to Z</option>`) {
			t.Error("the Sort by select does not show the order")
		}
		// The pager's links keep the order.
		if !strings.Contains(mgr.get("/team?sort=-name").Body, `name="sort"`) {
			t.Error("no Sort by select")
		}
	})
	t.Run("an unknown order is refused beside the select, with no list", func(t *testing.T) {
		r := mgr.get("/team?sort=" + urlEscape("full_name; DROP TABLE employees"))
		wantFieldError(t, r, "sort", "Unknown order. Choose an order from the list.")
		if rows, _ := teamTable(t, r.Body); len(rows) != 0 {
			t.Errorf("a refused order still listed %d people", len(rows))
		}
	})
}

// homeProgress reads "N of M sections read" from a person's own home page.
func homeProgress(t *testing.T, tp *testPortal, number string) string {
	t.Helper()
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, number))
	m := regexp.MustCompile(`\d+ of \d+ sections read`).FindString(c.get("/").Body)
	if m == "" {
		t.Fatalf("no progress on %s's home page", number)
	}
	return m
}

// TestTeamProgress: each person's progress on the team page is what their
// own home page says (sections read of those they must read), and whether
// they passed the knowledge check of the cycle's version.
func TestTeamProgress(t *testing.T) {
	tp := startTestPortal(t)
	// Nguyễn Thị Lan (1007) reads everything and passes the knowledge check.
	lan := newClient(t, tp.BaseURL)
	lan.signIn(tp.signInLink(t, "1007"))
	readAll(t, tp, lan, "1007")
	passQuiz(t, tp, lan, "1007")
	mgr := newClient(t, tp.BaseURL)
	mgr.signIn(tp.signInLink(t, "1004"))
	rows, _ := teamTable(t, mgr.get("/team").Body)
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
	total := func(number string) string { return itoa(int64(len(tp.Version.ModulesFor(app.AudienceAll)))) }
	want := map[string][2]string{
		// Zoë Côté is an authorized poster: the annual acknowledgment has
		// the same sections for her (hers for posting are another one's).
		"1005": {"0 of " + total("1005") + " sections read", "Knowledge check not passed"},
		"1006": {"2 of " + total("1006") + " sections read", "Knowledge check not passed"}, // the demo's "reading": two sections
		"1007": {total("1007") + " of " + total("1007") + " sections read", "Knowledge check passed"},
		"1008": {"", "Knowledge check passed"}, // signed: read and passed in the demo
	}
	for _, r := range rows {
		number := tp.employeeByID(t, int64(mustAtoi(t, r.ID))).EmployeeNumber
		progress := r.Cells[3] // Department, Due, Status, Progress, Reminder, Certificate
		w := want[number]
		if w[0] == "" {
			w[0] = homeProgress(t, tp, number)
		}
		if home := homeProgress(t, tp, number); home != w[0] {
			t.Errorf("%s: the home page says %q, the test expects %q", number, home, w[0])
		}
		if !strings.Contains(progress, w[0]) || !strings.Contains(progress, w[1]) {
			t.Errorf("%s (%s): progress %q, want %q and %q", number, r.Name, progress, w[0], w[1])
		}
		if strings.Contains(progress, "not passed") && w[1] == "Knowledge check passed" {
			t.Errorf("%s: %q", number, progress)
		}
	}
	// The figures are in words, beside a status tag, and the e-mail is a link.
	body := mgr.get("/team").Body
	mustContain(t, body, `<a href="mailto:`+tp.employee(t, "1005").Email+`">`, `class="tag tag-overdue"`)
}

// remindForm posts the team page's "Send a reminder" form for one person.
func remindForm(c *client, tp *testPortal, t *testing.T, number, back string) response {
	t.Helper()
	c.get("/team")
	return c.post("/team/people/"+itoa(tp.employee(t, number).ID)+"/remind", form("back", back))
}

// TestTeamReminders: a manager reminds one person, or everyone overdue
// after a confirmation page, through the outbox, with an audit event each;
// never someone who has signed, never twice a day, never past the daily
// cap, never someone outside their tree.
func TestTeamReminders(t *testing.T) {
	tp := startTestPortal(t)
	cycleID := tp.cycleID(t)
	mgr := newClient(t, tp.BaseURL)
	mgr.signIn(tp.signInLink(t, "1004"))
	fran := tp.employee(t, "1004")
	reminders := func(number string) int {
		return tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'reminder' AND employee_id = ? AND cycle_id = ? AND about_id = ?`,
			tp.employee(t, number).ID, cycleID, fran.ID)
	}
	events := func(number string) int {
		return tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'team.reminder_sent' AND actor_id = ? AND subject_id = ?`,
			fran.ID, tp.employee(t, number).ID)
	}
	allRows := func() int {
		return tp.count(t, `SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM audit_events)`)
	}

	t.Run("one person: queued in the outbox, audited, named in the message", func(t *testing.T) {
		r := remindForm(mgr, tp, t, "1005", "sort=name&status=overdue&evil=https://x.example")
		if r.Status != 303 || r.Location != "/team?sort=name&status=overdue" {
			t.Fatalf("status %d location %q", r.Status, r.Location)
		}
		if reminders("1005") != 1 || events("1005") != 1 {
			t.Fatalf("%d reminders, %d audit events", reminders("1005"), events("1005"))
		}
		page := mgr.get(r.Location).Body
		mustContain(t, page, "A reminder to Zoë Côté is on its way")
		rows, _ := teamTable(t, page)
		for _, row := range rows {
			if row.Name == "Zoë Côté" && (!strings.Contains(row.Cells[4], "Last reminded") || strings.Contains(row.Cells[4], "Send a reminder")) {
				t.Errorf("Zoë's reminder cell: %q", row.Cells[4])
			}
		}
		sent := tp.sentTo(t, tp.employee(t, "1005").Email, app.MailReminder)
		if len(sent) != 1 {
			t.Fatalf("%d reminders delivered", len(sent))
		}
		if !strings.Contains(sent[0].Text, "François Lévesque asked the portal to send you this reminder") ||
			!strings.Contains(sent[0].Subject, "(from François Lévesque)") {
			t.Errorf("the reminder does not say who asked: %q / %q", sent[0].Subject, sent[0].Text)
		}
	})
	t.Run("the same person twice in a day is refused politely", func(t *testing.T) {
		before := allRows()
		r := remindForm(mgr, tp, t, "1005", "")
		if r.Status != 409 || !strings.Contains(r.Body, "Zoë Côté was already reminded today, at ") {
			t.Fatalf("status %d", r.Status)
		}
		mustContain(t, r.Body, `<a href="#person-`+itoa(tp.employee(t, "1005").ID)+`">`, "<title>Error: Reminder not sent")
		if allRows() != before {
			t.Error("the refusal changed rows")
		}
	})
	t.Run("someone who has signed gets no reminder", func(t *testing.T) {
		before := allRows()
		r := remindForm(mgr, tp, t, "1008", "")
		if r.Status != 409 || !strings.Contains(r.Body, "Siobhán O&#39;Brien has already signed: no reminder is needed.") {
			t.Fatalf("status %d", r.Status)
		}
		if allRows() != before || reminders("1008") != 0 {
			t.Error("a reminder to a signed person")
		}
		if rows, _ := teamTable(t, mgr.get("/team").Body); len(rows) == 4 {
			for _, row := range rows {
				if row.Name == "Siobhán O'Brien" && strings.Contains(row.Cells[4], "Send a reminder") {
					t.Error("the page offers to remind a signed person")
				}
			}
		}
	})
	t.Run("another manager's report, their own manager and nobody are not found", func(t *testing.T) {
		other := newClient(t, tp.BaseURL)
		other.signIn(tp.signInLink(t, "2001"))
		before := allRows()
		for _, number := range []string{"2003", "1001", "1004"} {
			if r := remindForm(mgr, tp, t, number, ""); r.Status != 404 {
				t.Errorf("%s: status %d, want 404", number, r.Status)
			}
		}
		for _, path := range []string{"/team/people/999999/remind", "/team/people/abc/remind"} {
			if r := mgr.post(path, nil); r.Status != 404 {
				t.Errorf("%s: status %d", path, r.Status)
			}
		}
		if r := remindForm(other, tp, t, "1006", ""); r.Status != 404 {
			t.Errorf("2001 reminds 1004's report: status %d", r.Status)
		}
		if r := remindForm(other, tp, t, "2003", ""); r.Status != 303 {
			t.Errorf("2001 reminds their own indirect report 2003: status %d", r.Status)
		}
		if allRows() != before+2 { // 2003's reminder and its audit event
			t.Errorf("%d rows written, want 2", allRows()-before)
		}
	})
	t.Run("everyone overdue: a confirmation page with the number, then all at once", func(t *testing.T) {
		// Overdue: Zoë Côté (reminded today already) and José Núñez.
		page := mgr.get("/team/remind-overdue")
		if page.Status != 200 {
			t.Fatalf("status %d", page.Status)
		}
		mustContain(t, page.Body, "1 person of your team is overdue and will get a reminder", "Send 1 reminder")
		if reminders("1006") != 0 {
			t.Fatal("the confirmation page sent something")
		}
		before := allRows()
		if r := mgr.post("/team/remind-overdue", form("count", "2")); r.Status != 409 ||
			!strings.Contains(r.Body, "The number of people to remind has changed") {
			t.Fatalf("a stale count: status %d", r.Status)
		}
		if allRows() != before {
			t.Fatal("a stale count sent reminders")
		}
		r := mgr.post("/team/remind-overdue", form("count", "1"))
		if r.Status != 303 || r.Location != "/team" {
			t.Fatalf("status %d location %q", r.Status, r.Location)
		}
		mustContain(t, mgr.get("/team").Body, "A reminder is on its way to the one person overdue")
		if reminders("1006") != 1 || events("1006") != 1 || reminders("1005") != 1 || reminders("1007") != 0 {
			t.Errorf("reminders 1005 %d, 1006 %d, 1007 %d (not overdue)", reminders("1005"), reminders("1006"), reminders("1007"))
		}
		mustContain(t, mgr.get("/team/remind-overdue").Body, "Nobody overdue in your team is waiting for a reminder today")
		if r := mgr.post("/team/remind-overdue", form("count", "0")); r.Status != 303 {
			t.Errorf("nobody left: status %d", r.Status)
		}
		if reminders("1006") != 1 {
			t.Error("a second reminder the same day")
		}
	})
	t.Run("past the manager's daily cap, nothing is sent", func(t *testing.T) {
		// The manager has used the day's reminders (rows as the outbox
		// would hold them, already sent).
		raw := evRaw(t, tp.DB.Path)
		now := tp.DB.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
		for i := reminders("1005") + reminders("1006"); i < app.ManagerRemindersPerDay; i++ {
			evExec(t, raw, `INSERT INTO outbox (dedupe_key, kind, employee_id, cycle_id, about_id, to_addr, to_name, subject,
				text_body, html_body, status, next_attempt_at, created_at) VALUES (?, 'reminder', ?, ?, ?, 'x@test.invalid', 'X', '', 'sent', '', 'sent', ?, ?)`,
				"cap-test:"+itoa(int64(i)), tp.employee(t, "1005").ID, cycleID, fran.ID, now, now)
		}
		raw.Close()
		before := allRows()
		// 1007 is not overdue but may still be reminded one at a time: the cap refuses.
		r := remindForm(mgr, tp, t, "1007", "")
		if r.Status != 429 || !strings.Contains(r.Body, "the most a manager may send in a day") {
			t.Fatalf("status %d", r.Status)
		}
		if allRows() != before {
			t.Error("a refused reminder changed rows")
		}
		mustContain(t, mgr.get("/team").Body, "you may send 0 more today")
	})
	t.Run("the cap is per day: tomorrow the manager may send again", func(t *testing.T) {
		tp.Clock.Advance(24 * time.Hour)
		mgr := newClient(t, tp.BaseURL)
		mgr.signIn(tp.signInLink(t, "1004"))
		if r := remindForm(mgr, tp, t, "1006", ""); r.Status != 303 {
			t.Fatalf("the next day: status %d", r.Status)
		}
	})
	t.Run("people without reports cannot remind anyone", func(t *testing.T) {
		e := newClient(t, tp.BaseURL)
		e.signIn(tp.signInLink(t, "1005"))
		before := allRows()
		if r := remindForm(e, tp, t, "1006", ""); r.Status != 403 {
			t.Errorf("status %d", r.Status)
		}
		if r := e.post("/team/remind-overdue", form("count", "1")); r.Status != 403 {
			t.Errorf("status %d", r.Status)
		}
		if allRows() != before {
			t.Error("refused requests changed rows")
		}
	})
}

package e2e

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"portal/app"
)

// Issue 14, point 3: the knowledge check draws its questions for each
// attempt, one section a page, and keeps what it showed as evidence.

var (
	fieldsetRE = regexp.MustCompile(`<fieldset class="question" id="q-([^"]+)"`)
	radioRE    = regexp.MustCompile(`<input type="radio" id="q-[^"]+" name="q\.([^"]+)" value="([^"]+)"`)
	drawIDRE   = regexp.MustCompile(`name="draw" value="([^"]+)"`)
)

// sectionOrder is what a section page shows: each question and its option
// keys, in the order on the page.
func sectionOrder(body string) []string {
	var out []string
	for _, m := range radioRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1]+"="+m[2])
	}
	return out
}

func TestPagedKnowledgeCheckOverHTTP(t *testing.T) {
	tp := startTestPortal(t)
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, "1005"))
	readAll(t, tp, c, "1005")
	emp := tp.employee(t, "1005")
	draft := func() *app.QuizDraft {
		t.Helper()
		d, err := tp.Handler.Acks.FindQuizDraft(context.Background(), emp.ID, tp.Version.ID, "personal-use")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	if r := c.get("/quiz/section/1"); r.Status != 303 || r.Location != "/quiz" {
		t.Fatalf("a section before starting: %d %q", r.Status, r.Location)
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM quiz_drafts`); n != 0 {
		t.Fatalf("looking drew a check: %d drafts", n)
	}
	mustContain(t, c.get("/quiz").Body, "Start the knowledge check")
	r := c.post("/quiz/start", form())
	if r.Status != 303 || r.Location != "/quiz/section/1" {
		t.Fatalf("start: %d %q", r.Status, r.Location)
	}
	d := draft()
	modules := tp.Version.ModulesFor(app.AudienceAll)
	drawn := tp.drawn(emp)
	first := c.get("/quiz/section/1")
	t.Run("a section page names the section and numbers the questions over the whole check", func(t *testing.T) {
		title := tp.Version.Module(drawn[0].Module).Title
		mustContain(t, first.Body, "Section 1 of "+strconv.Itoa(len(modules))+": "+title,
			"Question 1 of "+strconv.Itoa(len(drawn)), "<legend>", `name="go" value="back"`)
		ids := fieldsetRE.FindAllStringSubmatch(first.Body, -1)
		if len(ids) == 0 || len(ids) > app.QuestionsPerModule || ids[0][1] != d.Shown[0].ID {
			t.Fatalf("section 1 shows %v, the draw starts %v", ids, d.Shown[0])
		}
		for _, opts := range d.Shown[:len(ids)] {
			for _, k := range opts.Options {
				if !slices.Contains(sectionOrder(first.Body), opts.ID+"="+k) {
					t.Fatalf("%s's option %s is not shown", opts.ID, k)
				}
			}
		}
	})
	t.Run("the draw and its order stay the same across reloads and a second start", func(t *testing.T) {
		if again := c.get("/quiz/section/1"); !slices.Equal(sectionOrder(again.Body), sectionOrder(first.Body)) {
			t.Fatalf("reload changed the page: %v, then %v", sectionOrder(first.Body), sectionOrder(again.Body))
		}
		if r := c.post("/quiz/start", form()); r.Status != 303 || app.DrawID(draft().Shown) != app.DrawID(d.Shown) {
			t.Fatalf("starting again replaced the draw in progress: %d", r.Status)
		}
	})
	draw := drawIDRE.FindStringSubmatch(first.Body)[1]
	q1 := drawn[0]
	t.Run("Continue saves a partial page; Back saves and goes back", func(t *testing.T) {
		r := c.post("/quiz/section/1", form("draw", draw, "go", "next", "q."+q1.ID, q1.Answer))
		if r.Status != 303 || r.Location != "/quiz/section/2" {
			t.Fatalf("continue: %d %q", r.Status, r.Location)
		}
		if got := draft().Answers; !maps1(got, q1.ID, q1.Answer) {
			t.Fatalf("saved %v", got)
		}
		body := c.get("/quiz/section/1").Body
		if !strings.Contains(body, `value="`+q1.Answer+`" checked>`) {
			t.Fatal("the saved answer is not ticked on the way back")
		}
		r = c.post("/quiz/section/1", form("draw", draw, "go", "back"))
		if r.Status != 303 || r.Location != "/quiz" {
			t.Fatalf("back from section 1: %d %q", r.Status, r.Location)
		}
	})
	t.Run("a stale or forged page is refused with a message and saves nothing", func(t *testing.T) {
		later := drawn[len(drawn)-1]
		notDrawn := ""
		for _, q := range tp.Version.QuestionsFor(app.AudienceAll) {
			if !slices.ContainsFunc(drawn, func(x app.Question) bool { return x.ID == q.ID }) {
				notDrawn = q.ID
			}
		}
		cases := map[string]struct {
			form []string
			msg  string
		}{
			"an earlier draw":            {[]string{"draw", "0123456789abcdef01234567", "q." + q1.ID, wrongOptionOf(q1)}, "from an earlier knowledge check"},
			"no draw named":              {[]string{"q." + q1.ID, wrongOptionOf(q1)}, "from an earlier knowledge check"},
			"an option not offered":      {[]string{"draw", draw, "q." + q1.ID, "zz"}, "not one of the choices offered"},
			"another section's question": {[]string{"draw", draw, "q." + later.ID, later.Answer}, "not on this page"},
			"a question answered twice":  {[]string{"draw", draw, "q." + q1.ID, "a", "q." + q1.ID, "b"}, "answered twice"},
		}
		if notDrawn != "" {
			cases["a question not drawn"] = struct {
				form []string
				msg  string
			}{[]string{"draw", draw, "q." + notDrawn, "a"}, "not in your knowledge check"}
		}
		for name, tc := range cases {
			r := c.post("/quiz/section/1", form(tc.form...))
			if r.Status != 422 || !strings.Contains(r.Body, tc.msg) || !strings.Contains(r.Body, "There is a problem") {
				t.Errorf("%s: status %d, want 422 saying %q", name, r.Status, tc.msg)
			}
			if got := draft().Answers; !maps1(got, q1.ID, q1.Answer) {
				t.Fatalf("%s changed the saved answers: %v", name, got)
			}
		}
		if r := c.get("/quiz/section/99"); r.Status != 404 {
			t.Errorf("section 99: status %d", r.Status)
		}
	})
	t.Run("submitting with gaps lists each unanswered question and records nothing", func(t *testing.T) {
		check := c.get("/quiz/check")
		mustContain(t, check.Body, "Check your answers", "Not answered", `href="/quiz/section/1#q-`+q1.ID+`"`)
		r := c.post("/quiz", form("draw", draw))
		if r.Status != 422 {
			t.Fatalf("status %d", r.Status)
		}
		mustContain(t, r.Body, "There is a problem", `href="#q-`+drawn[1].ID+`"`, "Answer question 2 (section ")
		if strings.Contains(r.Body, `href="#q-`+q1.ID+`"`) {
			t.Error("the answered question is listed as unanswered")
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM quiz_attempts WHERE employee_id = ?`, emp.ID); n != 0 {
			t.Fatalf("%d attempts recorded", n)
		}
	})
	t.Run("a complete check records what was shown and the next attempt draws anew", func(t *testing.T) {
		f := form()
		for k, v := range tp.answers(emp) {
			f.Set(k, v)
		}
		r := c.post("/quiz", f)
		if r.Status != 303 || !strings.HasPrefix(r.Location, "/quiz/attempts/") {
			t.Fatalf("submit: %d %q", r.Status, r.Location)
		}
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.Location, "/quiz/attempts/"), 10, 64)
		a, err := tp.Handler.Acks.FindQuizAttempt(context.Background(), id)
		if err != nil || !a.Passed || app.DrawID(a.Shown) != app.DrawID(d.Shown) || a.Total != len(d.Shown) {
			t.Fatalf("attempt %+v %v", a, err)
		}
		// Zoë posts for her agency, but the annual check is the part for
		// everyone: the posters' questions are her agency-use
		// acknowledgment's own check.
		for _, sq := range a.Shown {
			if m := tp.Version.Module(tp.Version.Question(sq.ID).Module); m.Audience == app.AudiencePosters {
				t.Fatalf("a poster's annual check asked %s, of the posters' section %s", sq.ID, m.Slug)
			}
		}
		result := c.get(r.Location).Body
		mustContain(t, result, "You passed")
		if strings.Contains(result, "On the sections for agency posting") {
			t.Fatal("the annual result speaks of the agency posting sections")
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM quiz_drafts WHERE employee_id = ?`, emp.ID); n != 0 {
			t.Fatal("the draft outlived its attempt")
		}
		if r := c.post("/quiz/section/1", form("draw", draw, "q."+q1.ID, q1.Answer)); r.Status != 422 {
			t.Fatalf("a page of the finished check: status %d", r.Status)
		}
	})
	t.Run("HR sees how often each question was shown and answered wrongly", func(t *testing.T) {
		hr := newClient(t, tp.BaseURL)
		hr.signIn(tp.signInLink(t, "1002"))
		body := hr.get("/hr/versions/" + strconv.FormatInt(tp.Version.ID, 10)).Body
		mustContain(t, body, "How each question is answered", "<code>"+q1.ID+"</code>", "% wrong")
	})
}

// maps1 reports whether m holds exactly one answer, k=v.
func maps1(m map[string]string, k, v string) bool { return len(m) == 1 && m[k] == v }

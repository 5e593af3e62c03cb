package e2e

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"portal/app"
)

// readAll marks every module the employee must read.
func readAll(t *testing.T, tp *testPortal, c *client, number string) {
	t.Helper()
	for _, m := range tp.Version.ModulesFor(app.AudienceAll) {
		c.get("/guidance/" + m.Slug)
		if r := c.post("/guidance/"+m.Slug+"/read", nil); r.Status != 303 {
			t.Fatalf("mark %s read: status %d", m.Slug, r.Status)
		}
	}
}

// passQuiz submits the right answers.
func passQuiz(t *testing.T, tp *testPortal, c *client, number string) {
	t.Helper()
	c.get("/quiz")
	f := url.Values{}
	for k, v := range tp.answers(tp.employee(t, number)) {
		f.Set(k, v)
	}
	r := c.post("/quiz", f)
	if r.Status != 303 || !strings.HasPrefix(r.Location, "/quiz/attempts/") {
		t.Fatalf("quiz: status %d location %q", r.Status, r.Location)
	}
	mustContain(t, c.get(r.Location).Body, "You passed")
}

// consent accepts the electronic-records notice.
func consent(t *testing.T, c *client) {
	t.Helper()
	mustContain(t, c.get("/sign").Body, "Consent")
	if r := c.post("/sign/consent", form("consent", "yes")); r.Status != 303 || r.Location != "/sign" {
		t.Fatalf("consent: status %d location %q", r.Status, r.Location)
	}
}

func TestEmployeeJourneyOverHTTP(t *testing.T) {
	tp := startTestPortal(t)
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, "1005"))
	home := c.get("/")
	// The annual acknowledgment's sections: the part for everyone, the
	// same for Zoë, who posts for her agency, as for anyone.
	mustContain(t, home.Body, "Zoë Côté", "Overdue", fmt.Sprintf("0 of %d sections read", len(tp.Version.ModulesFor(app.AudienceAll))))

	t.Run("signing before passing the knowledge check is refused and records nothing", func(t *testing.T) {
		r := c.get("/sign")
		if r.Status != 303 || r.Location != "/guidance" {
			t.Fatalf("GET /sign before reading: %d %q", r.Status, r.Location)
		}
		r = c.post("/sign", form("typed_name", "Zoë Côté", "intent", "yes"))
		if r.Status != 403 {
			t.Fatalf("POST /sign before passing: status %d", r.Status)
		}
		mustContain(t, r.Body, "pass the knowledge check")
		if n := tp.count(t, `SELECT COUNT(*) FROM acknowledgments WHERE employee_id = ?`, tp.employee(t, "1005").ID); n != 0 {
			t.Fatalf("%d acknowledgments recorded", n)
		}
	})

	t.Run("the quiz needs the guidance read first", func(t *testing.T) {
		r := c.post("/quiz", url.Values{})
		if r.Status != 422 {
			t.Fatalf("status %d", r.Status)
		}
	})

	readAll(t, tp, c, "1005")
	emp := tp.employee(t, "1005")
	attempts := func() int { return tp.count(t, `SELECT COUNT(*) FROM quiz_attempts WHERE employee_id = ?`, emp.ID) }

	t.Run("a quiz answer that is not among the options is refused and not recorded", func(t *testing.T) {
		f := url.Values{}
		for k, v := range tp.answers(emp) {
			f.Set(k, v)
		}
		first := tp.drawn(emp)[0].ID
		f.Set("q."+first, "z")
		c.get("/quiz")
		r := c.post("/quiz", f)
		if r.Status != 422 {
			t.Fatalf("status %d", r.Status)
		}
		mustContain(t, r.Body, "not one of the choices")
		f.Set("q."+first, tp.drawn(emp)[0].Answer)
		f.Set("q.no-such-question", "a")
		if r := c.post("/quiz", f); r.Status != 422 {
			t.Fatalf("unknown question: status %d", r.Status)
		}
		f.Del("q.no-such-question")
		f.Del("q." + first)
		if r := c.post("/quiz", f); r.Status != 422 || !strings.Contains(r.Body, "Answer question 1 (section 1).") {
			t.Fatalf("unanswered question: status %d", r.Status)
		}
		if n := attempts(); n != 0 {
			t.Fatalf("%d attempts recorded", n)
		}
	})

	t.Run("a failed attempt names the sections to read again without the answers", func(t *testing.T) {
		qs := tp.drawn(emp)
		wrong := len(qs)/5 + 1
		f := url.Values{}
		for i, q := range qs {
			ans := q.Answer
			if i < wrong { // below the 80 % pass mark
				for _, o := range q.Options {
					if o.Key != q.Answer {
						ans = o.Key
						break
					}
				}
			}
			f.Set("q."+q.ID, ans)
		}
		f.Set("draw", tp.answers(emp)["draw"])
		c.get("/quiz")
		r := c.post("/quiz", f)
		if r.Status != 303 {
			t.Fatalf("status %d", r.Status)
		}
		res := c.get(r.Location)
		mustContain(t, res.Body, "Not passed yet", "Sections to read again")
		for _, q := range qs[:wrong] {
			m := tp.Version.Module(q.Module)
			mustContain(t, res.Body, `<a href="/guidance/`+m.Slug+`">`+template.HTMLEscapeString(m.Title)+`</a>`)
		}
		for _, q := range qs[:wrong] {
			for _, o := range q.Options {
				if o.Key == q.Answer && strings.Contains(res.Body, o.Text) {
					t.Errorf("result page reveals the answer to %s", q.ID)
				}
			}
		}
		if n := attempts(); n != 1 {
			t.Fatalf("%d attempts recorded, want 1", n)
		}
		other := newClient(t, tp.BaseURL)
		other.signIn(tp.signInLink(t, "1006"))
		if r := other.get(r.Location); r.Status != 404 {
			t.Fatalf("another employee sees the attempt: status %d", r.Status)
		}
	})

	passQuiz(t, tp, c, "1005")
	consent(t, c)

	acks := func() int { return tp.count(t, `SELECT COUNT(*) FROM acknowledgments WHERE employee_id = ?`, emp.ID) }
	t.Run("accents, hyphens and apostrophes are optional", func(t *testing.T) {
		if r := c.post("/sign/review", form("typed_name", "zoe  cote", "intent", "yes")); r.Status != 200 {
			t.Errorf("zoe cote for Zoë Côté: review status %d, want 200", r.Status)
		}
	})
	t.Run("a typed name that does not match is refused", func(t *testing.T) {
		for _, name := range []string{"Zoe Cate", "Zoë", "", "Someone Else"} {
			r := c.post("/sign/review", form("typed_name", name, "intent", "yes"))
			if r.Status != 422 {
				t.Errorf("%q: status %d", name, r.Status)
			}
			r = c.post("/sign", form("typed_name", name, "intent", "yes"))
			if r.Status != 422 {
				t.Errorf("%q: sign status %d", name, r.Status)
			}
		}
		if r := c.post("/sign", form("typed_name", "Zoë Côté")); r.Status != 422 || !strings.Contains(r.Body, "Tick the box") {
			t.Errorf("no intent: status %d", r.Status)
		}
		if n := acks(); n != 0 {
			t.Fatalf("%d acknowledgments recorded", n)
		}
	})

	typed := "  " + norm.NFD.String("zoË   CÔTÉ") + " "
	var code string
	t.Run("review then sign records one acknowledgment, whatever the retries", func(t *testing.T) {
		r := c.post("/sign/review", form("typed_name", typed, "intent", "yes", "comment", "Signed <b>with</b> a comment"))
		if r.Status != 200 {
			t.Fatalf("review: status %d", r.Status)
		}
		mustContain(t, r.Body, "Review and sign", "Signed &lt;b&gt;with&lt;/b&gt; a comment")
		var wg sync.WaitGroup
		locs := make([]string, 6)
		token := c.csrf
		for i := range locs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := c.postRaw("/sign", form("_csrf", token, "typed_name", typed, "intent", "yes", "comment", "Signed <b>with</b> a comment"))
				if r.Status != 303 {
					t.Errorf("sign %d: status %d", i, r.Status)
				}
				locs[i] = r.Location
			}()
		}
		wg.Wait()
		for _, l := range locs {
			if l != locs[0] || !strings.HasPrefix(l, "/certificates/") {
				t.Fatalf("retries went to different places: %q", locs)
			}
		}
		if n := acks(); n != 1 {
			t.Fatalf("%d acknowledgments, want exactly 1", n)
		}
		code = signedCode(locs[0])
		if r := c.post("/sign", form("typed_name", typed, "intent", "yes")); r.Status != 303 || r.Location != locs[0] {
			t.Fatalf("a second signature in the same cycle: %d %q", r.Status, r.Location)
		}
		if n := acks(); n != 1 {
			t.Fatalf("%d acknowledgments after a second signature", n)
		}
	})

	t.Run("the record holds the evidence", func(t *testing.T) {
		n := tp.count(t, `SELECT COUNT(*) FROM acknowledgments a JOIN log_entries l ON l.kind = 'acknowledgment' AND l.ref_id = a.id
			WHERE a.employee_id = ? AND a.typed_name = ? AND a.policy_sha256 = ? AND a.consent_version = '2026-1'
			AND a.intent_text = ? AND a.comment = 'Signed <b>with</b> a comment' AND a.auth_method = 'email-link'
			AND a.sign_in_identity = ? AND a.employee_number = '1005' AND a.full_name = 'Zoë Côté' AND a.agency = ?
			AND a.ip = '127.0.0.1' AND a.user_agent LIKE 'Go-http-client%' AND a.quiz_attempt_id > 0 AND a.verify_code = ?`,
			emp.ID, "zoË CÔTÉ", tp.Version.SHA256, tp.Version.Intent, emp.Email, emp.Agency, code)
		if n != 1 {
			t.Fatal("the acknowledgment does not hold the expected evidence")
		}
	})

	t.Run("certificate page and PDF", func(t *testing.T) {
		r := c.get("/certificates/" + code)
		mustContain(t, r.Body, "Certificate of acknowledgment", "Zoë Côté", "1005", code, tp.Version.SHA256, "/verify/"+code)
		pdf1 := c.get("/certificates/" + code + "/pdf")
		if pdf1.Status != 200 || !strings.HasPrefix(pdf1.Body, "%PDF-") || pdf1.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("pdf: status %d type %q", pdf1.Status, pdf1.Header.Get("Content-Type"))
		}
		if cc := pdf1.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("pdf Cache-Control %q", cc)
		}
		if pdf2 := c.get("/certificates/" + code + "/pdf"); pdf2.Body != pdf1.Body {
			t.Error("the PDF is not the same bytes twice")
		}
	})

	t.Run("home shows signed and the history", func(t *testing.T) {
		mustContain(t, c.get("/").Body, "Signed", "/certificates/"+code+"/pdf")
	})

	t.Run("verify shows only name, version, date and status", func(t *testing.T) {
		anon := newClient(t, tp.BaseURL)
		r := anon.get("/verify/" + strings.ToLower(code))
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		mustContain(t, r.Body, "Valid certificate", "Zoë Côté", "2026.2")
		for _, secret := range []string{"1005", emp.Email, "Signed <b>", "127.0.0.1", tp.Version.SHA256} {
			if strings.Contains(r.Body, secret) {
				t.Errorf("verify page shows %q", secret)
			}
		}
		if r := anon.get("/verify/ZZZZZ-ZZZZZ"); r.Status != 404 || !strings.Contains(r.Body, "Unknown code") {
			t.Errorf("unknown code: status %d", r.Status)
		}
		r = anon.get("/verify?code=%3Cscript%3E")
		if strings.Contains(r.Body, "<script>") {
			t.Error("bad code: shown unescaped")
		}
		wantFieldError(t, r, "code", "Enter the code as printed on the certificate: ten letters and digits, for example 7K2QD-M9XRA.")
		if strings.Contains(r.Body, "Unknown code") {
			t.Error("a code of the wrong shape is called unknown rather than mistyped")
		}
	})
}

func TestCertificateAccess(t *testing.T) {
	tp := startTestPortal(t)
	// 1008 signed in the demo data; 1004 manages 1008; 1002 is HR; 1006 is a peer;
	// 2001 manages another tree.
	code := tp.codeOf(t, tp.employee(t, "1008").ID)
	if code == "" {
		t.Fatal("no demo acknowledgment of 1008")
	}
	for _, tc := range []struct {
		who    string
		status int
	}{{"1008", 200}, {"1004", 200}, {"1001", 200}, {"1002", 200}, {"1006", 404}, {"2001", 404}} {
		t.Run(fmt.Sprintf("employee %s gets %d", tc.who, tc.status), func(t *testing.T) {
			c := newClient(t, tp.BaseURL)
			c.signIn(tp.signInLink(t, tc.who))
			for _, path := range []string{"/certificates/" + code, "/certificates/" + code + "/pdf"} {
				if r := c.get(path); r.Status != tc.status {
					t.Errorf("%s: status %d", path, r.Status)
				}
			}
		})
	}
	t.Run("signed out is sent to sign in", func(t *testing.T) {
		r := newClient(t, tp.BaseURL).get("/certificates/" + code)
		if r.Status != 303 || !strings.HasPrefix(r.Location, "/signin?next=") {
			t.Fatalf("status %d location %q", r.Status, r.Location)
		}
	})
}

func TestSessionLifetime(t *testing.T) {
	tp := startTestPortal(t)
	c := newClient(t, tp.BaseURL)
	c.get("/signin")
	before := c.cookie("portal_csrf")
	c.signIn(tp.signInLink(t, "1006"))
	sid := c.cookie("portal_session")
	if sid == "" || c.cookie("portal_csrf") == before {
		t.Fatal("sign-in did not issue a new session and CSRF key")
	}
	t.Run("signing in again replaces the session id", func(t *testing.T) {
		c.signIn(tp.signInLink(t, "1006"))
		if c.cookie("portal_session") == sid {
			t.Fatal("session id not regenerated")
		}
		stale := newClient(t, tp.BaseURL)
		stale.http.Jar.SetCookies(mustURL(t, tp.BaseURL), cookiesOf("portal_session", sid))
		if r := stale.get("/guidance"); r.Status != 303 {
			t.Fatalf("old session still works: status %d", r.Status)
		}
	})
	t.Run("sign out ends the session on the server", func(t *testing.T) {
		sid := c.cookie("portal_session")
		if r := c.post("/signout", nil); r.Status != 303 {
			t.Fatalf("sign out: status %d", r.Status)
		}
		replay := newClient(t, tp.BaseURL)
		replay.http.Jar.SetCookies(mustURL(t, tp.BaseURL), cookiesOf("portal_session", sid))
		if r := replay.get("/guidance"); r.Status != 303 || !strings.HasPrefix(r.Location, "/signin") {
			t.Fatalf("replayed cookie: status %d location %q", r.Status, r.Location)
		}
	})
	t.Run("an idle session ends after 30 minutes", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLink(t, "1006"))
		tp.Clock.Advance(31 * time.Minute)
		if r := c.get("/guidance"); r.Status != 303 {
			t.Fatalf("idle session still works: status %d", r.Status)
		}
	})
}

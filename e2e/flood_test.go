package e2e

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/app"
	"portal/server"
)

// Issue 11, point 5: evidence is kept for good, so nobody may add it
// without end. Past a per-person limit the answer is a 429 page and
// nothing is recorded: no row, no log entry.

// floodWrongAnswers is a complete submission of the knowledge check drawn
// for e that fails.
func floodWrongAnswers(tp *testPortal, e *app.Employee) url.Values {
	f := url.Values{"draw": {tp.answers(e)["draw"]}}
	for _, q := range tp.drawn(e) {
		for _, o := range q.Options {
			if o.Key != q.Answer {
				f.Set("q."+q.ID, o.Key)
				break
			}
		}
	}
	return f
}

func TestEvidenceCannotBeFlooded(t *testing.T) {
	t.Run("the knowledge check past ten attempts an hour gets a 429 page and records nothing, and works again an hour later", func(t *testing.T) {
		tp := startTestPortal(t)
		e := tp.employee(t, "1005")
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLink(t, "1005"))
		readAll(t, tp, c, "1005")
		attempts := func() int { return tp.count(t, `SELECT COUNT(*) FROM quiz_attempts WHERE employee_id = ?`, e.ID) }
		entries := func() int { return tp.count(t, `SELECT COUNT(*) FROM log_entries`) }
		for i := 0; i < app.MaxQuizAttempts; i++ {
			c.get("/quiz")
			if r := c.post("/quiz", floodWrongAnswers(tp, e)); r.Status != 303 || !strings.HasPrefix(r.Location, "/quiz/attempts/") {
				t.Fatalf("attempt %d: status %d %q", i+1, r.Status, r.Location)
			}
		}
		if n := attempts(); n != app.MaxQuizAttempts {
			t.Fatalf("%d attempts recorded", n)
		}
		rows, logged := attempts(), entries()
		c.get("/quiz")
		r := c.post("/quiz", floodWrongAnswers(tp, e))
		if r.Status != 429 {
			t.Fatalf("attempt %d: status %d", app.MaxQuizAttempts+1, r.Status)
		}
		mustContain(t, r.Body, "Too many requests", "10 times in the last hour", "try once more in an hour")
		if attempts() != rows || entries() != logged {
			t.Fatalf("the refused attempt recorded %d attempts and %d log entries", attempts()-rows, entries()-logged)
		}
		// An hour on (the session kept alive meanwhile), the next attempt counts again.
		for i := 0; i < 3; i++ {
			tp.Clock.Advance(20 * time.Minute)
			if r := c.get("/quiz"); r.Status != 200 {
				t.Fatalf("quiz page: status %d", r.Status)
			}
		}
		if r := c.post("/quiz", floodWrongAnswers(tp, e)); r.Status != 303 {
			t.Fatalf("an hour later: status %d", r.Status)
		}
		if attempts() != rows+1 || entries() != logged+1 {
			t.Fatalf("an hour later: %d attempts and %d log entries added", attempts()-rows, entries()-logged)
		}
	})

	t.Run("with SSO, 200 cookie-less requests start at most ten sessions and record at most ten sign-ins", func(t *testing.T) {
		tp := startTestPortal(t, func(c *server.Config) {
			c.SSOHeader = "X-Remote-Email"
			c.SSOProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		})
		e := tp.employee(t, "1006")
		sessions := func() int { return tp.count(t, `SELECT COUNT(*) FROM sessions WHERE employee_id = ?`, e.ID) }
		signIns := func() int {
			return tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'session.signed_in' AND subject_id = ?`, e.ID)
		}
		entries := func() int { return tp.count(t, `SELECT COUNT(*) FROM log_entries`) }
		s0, e0, l0 := sessions(), signIns(), entries()
		if e0 != 0 {
			t.Fatalf("the demo has %d sign-ins for %s already", e0, e.FullName)
		}
		// Eight at a time, as a script would: the limit holds under concurrency.
		var mu sync.Mutex
		status := map[int]int{}
		var refusal string
		work := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range work {
					r := ssoGet(t, tp, e.Email)
					mu.Lock()
					status[r.Status]++
					if r.Status == 429 {
						refusal = r.Body
					}
					mu.Unlock()
				}
			}()
		}
		for i := 0; i < 200; i++ {
			work <- struct{}{}
		}
		close(work)
		wg.Wait()
		if status[200] != app.MaxSignIns || status[429] != 200-app.MaxSignIns {
			t.Fatalf("answers by status: %v; want %d signed in and the rest refused", status, app.MaxSignIns)
		}
		mustContain(t, refusal, "Too many requests", "You have signed in 10 times in the last 15 minutes")
		if ds, de, dl := sessions()-s0, signIns()-e0, entries()-l0; ds != app.MaxSignIns || de != app.MaxSignIns || dl != app.MaxSignIns {
			t.Fatalf("added %d sessions, %d sign-in events and %d log entries; want %d each", ds, de, dl, app.MaxSignIns)
		}
		tp.Clock.Advance(app.SignInWindow + time.Second)
		if r := ssoGet(t, tp, e.Email); r.Status != 200 || !strings.Contains(r.Body, "Sign out") {
			t.Fatalf("after the window: status %d", r.Status)
		}
	})

	t.Run("posting the consent twice, or eight times at once, records one consent", func(t *testing.T) {
		tp := startTestPortal(t)
		ready := func(number string) (*app.Employee, *client) {
			c := newClient(t, tp.BaseURL)
			c.signIn(tp.signInLink(t, number))
			readAll(t, tp, c, number)
			passQuiz(t, tp, c, number)
			mustContain(t, c.get("/sign").Body, "Consent")
			return tp.employee(t, number), c
		}
		consents := func(e *app.Employee) (rows, logged int) {
			return tp.count(t, `SELECT COUNT(*) FROM consents WHERE employee_id = ?`, e.ID),
				tp.count(t, `SELECT COUNT(*) FROM log_entries l JOIN consents c ON l.kind = 'consent' AND l.ref_id = c.id
				WHERE c.employee_id = ?`, e.ID)
		}
		e, c := ready("1005")
		for i := 0; i < 2; i++ {
			if r := c.post("/sign/consent", form("consent", "yes")); r.Status != 303 || r.Location != "/sign" {
				t.Fatalf("consent %d: status %d %q", i+1, r.Status, r.Location)
			}
			if rows, logged := consents(e); rows != 1 || logged != 1 {
				t.Fatalf("after consent %d: %d rows, %d log entries", i+1, rows, logged)
			}
		}
		mustContain(t, c.get("/sign").Body, "typed_name") // straight on to signing
		// A double click can send the second before the first is stored, so
		// the store, not the page, must hold the line: eight presses at once
		// from the same browser record one (app/storetest checks the store
		// alone too).
		e, c = ready("1009")
		body := form("consent", "yes", "_csrf", c.csrf).Encode()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				req, err := http.NewRequest("POST", tp.BaseURL+"/sign/consent", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := c.http.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 303 {
					t.Errorf("a press at once: status %d", resp.StatusCode)
				}
			})
		}
		wg.Wait()
		if rows, logged := consents(e); rows != 1 || logged != 1 {
			t.Fatalf("eight at once: %d rows, %d log entries", rows, logged)
		}
	})
}

// ssoGet asks for the home page as the SSO proxy would, with no cookie.
func ssoGet(t *testing.T, tp *testPortal, email string) response {
	req, err := http.NewRequest("GET", tp.BaseURL+"/", nil)
	if err != nil {
		t.Error(err)
		return response{}
	}
	req.Header.Set("X-Remote-Email", email)
	r, err := newClient(t, tp.BaseURL).tryDo(req)
	if err != nil {
		t.Error(err)
	}
	return r
}

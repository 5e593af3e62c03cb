package e2e

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"portal/server"
)

// sessionWorks reports whether a browser holding only the session cookie
// sid is signed in (a fresh client each time: an ended session's answer
// may clear the cookie).
func sessionWorks(t *testing.T, tp *testPortal, sid string) bool {
	t.Helper()
	c := newClient(t, tp.BaseURL)
	c.http.Jar.SetCookies(mustURL(t, tp.BaseURL), cookiesOf("portal_session", sid))
	r := c.get("/guidance")
	if r.Status != 200 && r.Status != 303 {
		t.Fatalf("guidance: status %d", r.Status)
	}
	return r.Status == 200
}

// Issue 13, point 12: a clock set back used to revive expired sign-in
// links and sessions not yet deleted.
func TestClockGoingBackRevivesNothing(t *testing.T) {
	tp := startTestPortal(t)
	t.Run("a link expired stays expired when the clock goes back into its life", func(t *testing.T) {
		link := tp.signInLink(t, "1006")
		c := newClient(t, tp.BaseURL)
		if r := c.get(link); r.Status != 200 {
			t.Fatalf("the new link: status %d", r.Status)
		}
		tp.Clock.Advance(16 * time.Minute)
		if r := c.get(link); r.Status != 401 {
			t.Fatalf("16 minutes on: status %d", r.Status)
		}
		tp.Clock.Advance(-11 * time.Minute) // five minutes into its life
		if r := c.get(link); r.Status != 401 || !strings.Contains(r.Body, "expired or has already been used") {
			t.Fatalf("the clock set back: status %d", r.Status)
		}
		if r := c.post(link, nil); r.Status != 401 || c.cookie("portal_session") != "" {
			t.Fatalf("signing in with the clock set back: status %d", r.Status)
		}
		tp.Clock.Advance(11 * time.Minute)
	})
	t.Run("a session expired stays expired when the clock goes back into its life", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLink(t, "1006"))
		sid := c.cookie("portal_session")
		if !sessionWorks(t, tp, sid) {
			t.Fatal("the new session does not work")
		}
		tp.Clock.Advance(31 * time.Minute)
		if sessionWorks(t, tp, sid) {
			t.Fatal("idle 31 minutes, the session still works")
		}
		tp.Clock.Advance(-26 * time.Minute)
		if sessionWorks(t, tp, sid) {
			t.Fatal("the clock set back to five minutes after sign-in, the session works again")
		}
		tp.Clock.Advance(26 * time.Minute)
	})
	t.Run("a link and a session made before the clock jumps back to before they were made are refused", func(t *testing.T) {
		tp.Clock.Advance(time.Hour) // a clock running an hour ahead
		link := tp.signInLink(t, "1007")
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLink(t, "1007"))
		sid := c.cookie("portal_session")
		tp.Clock.Advance(-time.Hour - time.Minute) // put right
		if r := newClient(t, tp.BaseURL).get(link); r.Status != 401 {
			t.Fatalf("the link: status %d", r.Status)
		}
		if sessionWorks(t, tp, sid) {
			t.Fatal("the session still works")
		}
		// What is made now works: sign-in is not stopped until the clock catches up.
		fresh := newClient(t, tp.BaseURL)
		fresh.signIn(tp.signInLink(t, "1007"))
		if !sessionWorks(t, tp, fresh.cookie("portal_session")) {
			t.Fatal("a session made after the clock was put right does not work")
		}
	})
}

// Issue 13, point 11: expired sessions and links are removed by a
// background loop, not by each sign-in.
func TestExpiredSessionsAreSweptInTheBackground(t *testing.T) {
	tp := startTestPortal(t, func(c *server.Config) { c.SweepEvery = 20 * time.Millisecond })
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, "1006"))
	tp.signInLink(t, "1006") // a link never used
	if n := tp.count(t, `SELECT COUNT(*) FROM sessions`) + tp.count(t, `SELECT COUNT(*) FROM login_tokens`); n < 3 {
		t.Fatalf("%d sessions and links before", n)
	}
	tp.Clock.Advance(13 * time.Hour)
	after := tp.Sweeps() + 2 // a whole round after the clock moved
	eventually(t, "two rounds of the sweep", func() bool { return tp.Sweeps() >= after })
	if s, l := tp.count(t, `SELECT COUNT(*) FROM sessions`), tp.count(t, `SELECT COUNT(*) FROM login_tokens`); s != 0 || l != 0 {
		t.Fatalf("%d sessions and %d links left", s, l)
	}
	if mark := tp.text(t, `SELECT high_water FROM clock`); mark < tp.Clock.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05") {
		t.Fatalf("the clock's mark %s was not kept", mark)
	}
}

// TestSignInTimeWithManySessions measures the median time of a sign-in
// (using a link) with few live sessions and with 56,000, for the closing
// note of issue 13 (it used to go from 0.96 ms to 8.9 ms, every sign-in
// scanning the sessions table). It asserts nothing, so it runs only when
// asked: PORTAL_MEASURE_SESSIONS=1 go test -run TestSignInTimeWithManySessions -v ./e2e/
func TestSignInTimeWithManySessions(t *testing.T) {
	if os.Getenv("PORTAL_MEASURE_SESSIONS") == "" {
		t.Skip("a measurement: set PORTAL_MEASURE_SESSIONS=1 to run it")
	}
	for _, n := range []int{0, 56000} {
		t.Run(fmt.Sprint(n, " live sessions"), func(t *testing.T) {
			tp := startTestPortal(t)
			people := tp.employees(t, "active = 1")
			raw := evRaw(t, tp.DB.Path)
			defer raw.Close()
			tx, err := raw.Begin()
			if err != nil {
				t.Fatal(err)
			}
			now := tp.Clock.Now().UTC()
			at := func(d time.Duration) string { return now.Add(d).Format("2006-01-02T15:04:05.000000Z") }
			for i := 0; i < n; i++ {
				if _, err := tx.Exec(`INSERT INTO sessions (id_hash, employee_id, auth_method, identity, created_at, last_seen_at, expires_at, ends_at)
					VALUES (?, ?, 'email-link', '', ?, ?, ?, ?)`, fmt.Sprintf("live-%d", i), people[i%len(people)].ID,
					at(0), at(0), at(30*time.Minute), at(12*time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			var took []time.Duration
			for i := 0; i < 200; i++ { // five each for 40 people: under the ten sign-ins a person may make in 15 minutes
				link := tp.signInLinkFor(t, people[i%40])
				c := newClient(t, tp.BaseURL)
				c.get(link)
				start := time.Now()
				if r := c.post(link, nil); r.Status != 303 {
					t.Fatalf("sign-in %d: status %d", i, r.Status)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			t.Logf("%d live sessions: median sign-in %v, p90 %v", n, took[len(took)/2], took[len(took)*9/10])
		})
	}
}

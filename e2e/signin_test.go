package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"portal/handlers"
	"portal/server"
)

func TestSignInByEmailLink(t *testing.T) {
	tp := startTestPortal(t)
	emp := tp.employee(t, "1006")

	t.Run("known and unknown addresses get the same answer", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		c.get("/signin")
		known := c.post("/signin", form("email", strings.ToUpper(emp.Email)))
		unknown := c.post("/signin", form("email", "nobody@elsewhere.example"))
		if known.Status != 303 || unknown.Status != 303 || known.Location != unknown.Location {
			t.Fatalf("known %d %q, unknown %d %q", known.Status, known.Location, unknown.Status, unknown.Location)
		}
		if k, u := c.get(known.Location).Body, c.get(unknown.Location).Body; stripVolatile(k) != stripVolatile(u) {
			t.Fatal("the pages after a known and an unknown address differ")
		}
		if links := tp.mailedLinks(t, emp.Email); len(links) != 1 {
			t.Fatalf("%d links mailed to the known address", len(links))
		}
		if links := tp.mailedLinks(t, "nobody@elsewhere.example"); len(links) != 0 {
			t.Fatal("mail sent to an unknown address")
		}
	})

	t.Run("a malformed address gets a clear message", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		c.get("/signin")
		for _, bad := range []string{"", "not-an-address", "a@b@c", "x@y.example\r\nBcc: z@z.example", strings.Repeat("a", 300) + "@x.example"} {
			r := c.post("/signin", form("email", bad))
			if r.Status != 422 || !strings.Contains(r.Body, "Enter your work e-mail address") {
				t.Errorf("%q: status %d", bad, r.Status)
			}
		}
	})

	t.Run("the mailed link signs in once", func(t *testing.T) {
		link := tp.mailedLinks(t, emp.Email)[0]
		c := newClient(t, tp.BaseURL)
		mustContain(t, c.get(link).Body, "Continue as", emp.FullName)
		c.get(link) // opening the page again (as a mail scanner would) does not use the link
		if r := c.post(link, nil); r.Status != 303 || r.Location != "/" {
			t.Fatalf("first use: status %d location %q", r.Status, r.Location)
		}
		mustContain(t, c.get("/").Body, emp.FullName)
		token := link[strings.LastIndex(link, "/")+1:]
		for _, line := range strings.Split(tp.Logs.String(), "\n") {
			// Without SMTP the development mailbox logs messages by design; nothing else may.
			if strings.Contains(line, token) && !strings.Contains(line, "development mailbox") {
				t.Fatalf("the sign-in token is in the log: %s", line)
			}
		}
		again := newClient(t, tp.BaseURL)
		if r := again.get(link); r.Status != 401 || !strings.Contains(r.Body, "expired or has already been used") {
			t.Fatalf("reused link page: status %d", r.Status)
		}
		again.get("/signin")
		if r := again.post(link, nil); r.Status != 401 {
			t.Fatalf("reused link: status %d", r.Status)
		}
		if again.cookie("portal_session") != "" {
			t.Fatal("a reused link set a session")
		}
	})

	t.Run("an expired link does not sign in", func(t *testing.T) {
		link := tp.signInLink(t, "1006")
		c := newClient(t, tp.BaseURL)
		c.get(link)
		tp.Clock.Advance(16 * time.Minute)
		if r := c.post(link, nil); r.Status != 401 {
			t.Fatalf("expired link: status %d", r.Status)
		}
	})

	t.Run("a next address elsewhere is ignored", func(t *testing.T) {
		link := tp.signInLink(t, "1006")
		c := newClient(t, tp.BaseURL)
		c.get(link)
		if r := c.post(link, form("next", "//evil.example/")); r.Location != "/" {
			t.Fatalf("redirected to %q", r.Location)
		}
	})
}

// stripVolatile removes the parts of a page that differ per request.
func stripVolatile(s string) string {
	return csrfRE.ReplaceAllString(s, "")
}

func TestCSRF(t *testing.T) {
	tp := startTestPortal(t)
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, "1006"))
	emp := tp.employee(t, "1006")
	slug := tp.Version.ModulesFor(emp)[0].Slug
	progress := func() int {
		return tp.count(t, `SELECT COUNT(*) FROM module_progress WHERE employee_id = ? AND slug = ?`, emp.ID, slug)
	}
	before := progress()
	for name, token := range map[string]string{"missing": "", "forged": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "from another browser": ""} {
		t.Run(name+" token is refused and changes nothing", func(t *testing.T) {
			f := form("_csrf", token)
			if name == "from another browser" {
				other := newClient(t, tp.BaseURL)
				other.get("/signin")
				f.Set("_csrf", other.csrf)
			}
			r := c.postRaw("/guidance/"+slug+"/read", f)
			if r.Status != 403 || !strings.Contains(r.Body, "This form has expired") {
				t.Fatalf("status %d", r.Status)
			}
			if progress() != before {
				t.Fatal("state changed")
			}
		})
	}
	t.Run("sign-in request without a token sends no mail", func(t *testing.T) {
		anon := newClient(t, tp.BaseURL)
		if r := anon.postRaw("/signin", form("email", emp.Email)); r.Status != 403 {
			t.Fatalf("status %d", r.Status)
		}
		if n := len(tp.mailedLinks(t, emp.Email)); n != 0 {
			t.Fatalf("%d links mailed", n)
		}
	})
	t.Run("the session cookie is HttpOnly and SameSite=Lax", func(t *testing.T) {
		link := tp.signInLink(t, "1006")
		anon := newClient(t, tp.BaseURL)
		anon.get(link)
		r := anon.post(link, nil)
		var found bool
		for _, sc := range r.Header.Values("Set-Cookie") {
			if strings.HasPrefix(sc, "portal_session=") {
				found = true
				if !strings.Contains(sc, "HttpOnly") || !strings.Contains(strings.ToLower(sc), "samesite=lax") {
					t.Errorf("session cookie %q", sc)
				}
			}
		}
		if !found {
			t.Fatal("no session cookie set")
		}
	})
}

func TestInternalErrorsAreNotShown(t *testing.T) {
	tp := startTestPortal(t)
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, "1006"))
	tp.DB.Close() // every query now fails inside database/sql
	r := c.get("/guidance")
	if r.Status != 500 {
		t.Fatalf("status %d", r.Status)
	}
	mustContain(t, r.Body, "Internal error", r.Header.Get("X-Request-ID"))
	for _, leak := range []string{"sql", "database", "closed", ".go"} {
		if strings.Contains(strings.ToLower(r.Body), leak) {
			t.Errorf("error page shows %q", leak)
		}
	}
	if !strings.Contains(tp.Logs.String(), "database is closed") {
		t.Error("the internal error was not logged")
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	tp := startTestPortal(t)
	tp.commandEnv(t)
	var out bytes.Buffer
	if err := server.Run(context.Background(), []string{"audit-verify"}, &out, &out); err != nil {
		t.Fatalf("audit-verify on a good log: %v", err)
	}
	mustContain(t, out.String(), "evidence log verified", "seal checked")

	var ackID int64
	raw := evRaw(t, tp.DB.Path)
	defer raw.Close()
	if err := raw.QueryRow(`SELECT id FROM acknowledgments ORDER BY id LIMIT 1 OFFSET 3`).Scan(&ackID); err != nil {
		t.Fatal(err)
	}
	t.Run("the database refuses to change a signed acknowledgment", func(t *testing.T) {
		if _, err := raw.Exec(`UPDATE acknowledgments SET typed_name = 'Someone Else' WHERE id = ?`, ackID); err == nil {
			t.Fatal("update allowed")
		}
		if _, err := raw.Exec(`DELETE FROM acknowledgments WHERE id = ?`, ackID); err == nil {
			t.Fatal("delete allowed")
		}
	})
	t.Run("an altered row is caught and named", func(t *testing.T) {
		// Someone with the file drops the guard and rewrites a signature.
		if _, err := raw.Exec(`DROP TRIGGER acknowledgments_immutable_u`); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(`UPDATE acknowledgments SET signed_at = '2020-01-01T00:00:00.000000Z' WHERE id = ?`, ackID); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		err := server.Run(context.Background(), []string{"audit-verify"}, &out, &out)
		if err == nil {
			t.Fatal("audit-verify passed a tampered chain")
		}
		want := "(acknowledgment " + itoa(ackID) + ")"
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "changed after it was logged") {
			t.Fatalf("error %q does not name %q", err, want)
		}
	})
}

func TestSignInRateLimits(t *testing.T) {
	tp := startTestPortal(t)
	emp := tp.employee(t, "1006")
	c := newClient(t, tp.BaseURL)
	c.get("/signin")
	t.Run("per address, known or not", func(t *testing.T) {
		for _, addr := range []string{emp.Email, "nobody@elsewhere.example"} {
			for i := 0; i < 3; i++ {
				if r := c.post("/signin", form("email", addr)); r.Status != 303 {
					t.Fatalf("%s request %d: %d", addr, i+1, r.Status)
				}
			}
			r := c.post("/signin", form("email", strings.ToUpper(addr)))
			if r.Status != 429 || !strings.Contains(r.Body, "Please wait 15 minutes") {
				t.Fatalf("%s fourth request: %d", addr, r.Status)
			}
		}
		if n := len(tp.mailedLinks(t, emp.Email)); n != 3 {
			t.Fatalf("%d links mailed, want 3", n)
		}
	})
	t.Run("per client address", func(t *testing.T) {
		for i := 0; i < 30; i++ {
			r := c.post("/signin", form("email", "probe"+itoa(int64(i))+"@elsewhere.example"))
			if i < 22 && r.Status != 303 { // 8 requests (each refused one too) were used above
				t.Fatalf("request %d: %d", i, r.Status)
			}
			if i >= 22 && r.Status != 429 {
				t.Fatalf("request %d past the limit: %d", i, r.Status)
			}
		}
	})
	t.Run("the limit lifts after the window", func(t *testing.T) {
		lim := handlers.NewRateLimiter(1, time.Minute)
		now := time.Now()
		lim.Now = func() time.Time { return now }
		if !lim.Allow("k") || lim.Allow("k") {
			t.Fatal("limit of 1 not applied")
		}
		now = now.Add(61 * time.Second)
		if !lim.Allow("k") {
			t.Fatal("the limit did not lift")
		}
	})
}

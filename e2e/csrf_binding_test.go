package e2e

// Issue 13, point 5: the CSRF token is bound to the session (before sign-in,
// to the pre-session cookie), is taken only from the form body or the
// X-CSRF-Token header, cookies are __Host- prefixed over HTTPS, and a
// request carrying the session or CSRF cookie twice is refused.

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"portal/app"
	"portal/server"
)

func TestCSRFTokenBoundToSession(t *testing.T) {
	tp := startTestPortal(t)
	victim := newClient(t, tp.BaseURL)
	victim.signIn(tp.signInLink(t, "1005")) // Zoë, who has read nothing yet
	emp := tp.employee(t, "1005")
	modules := tp.Version.ModulesFor(app.AudienceAll)
	read := func(slug string) int {
		return tp.count(t, `SELECT COUNT(*) FROM module_progress WHERE employee_id = ? AND slug = ?`, emp.ID, slug)
	}
	slug := modules[0].Slug
	path := "/guidance/" + slug + "/read"
	refused := func(t *testing.T, r response) {
		t.Helper()
		if r.Status != 403 || !strings.Contains(r.Body, "This form has expired") {
			t.Fatalf("status %d, want 403 and the expired-form page", r.Status)
		}
		if read(slug) != 0 {
			t.Fatal("the refused request marked the module read")
		}
	}

	t.Run("a token made for the attacker's own session is refused with the victim's", func(t *testing.T) {
		attacker := newClient(t, tp.BaseURL)
		attacker.signIn(tp.signInLink(t, "1006"))
		refused(t, victim.postRaw(path, form("_csrf", attacker.csrf)))
	})

	t.Run("a token made for a CSRF cookie the attacker chose is refused with the victim's session", func(t *testing.T) {
		attacker := newClient(t, tp.BaseURL)
		attacker.get("/signin")
		key, token := attacker.cookie("portal_csrf"), attacker.csrf
		if key == "" || token == "" {
			t.Fatal("the attacker got no CSRF cookie and token")
		}
		// Planted in the victim's browser (from a sibling host, say): before,
		// the token matched the cookie and nothing else was asked.
		victim.http.Jar.SetCookies(mustURL(t, tp.BaseURL), cookiesOf("portal_csrf", key))
		refused(t, victim.postRaw(path, form("_csrf", token)))
	})

	t.Run("the victim's own token in the query string is refused", func(t *testing.T) {
		victim.get("/guidance/" + slug)
		refused(t, victim.postRaw(path+"?_csrf="+url.QueryEscape(victim.csrf), url.Values{}))
	})

	t.Run("the session or CSRF cookie sent twice is refused, and changes nothing", func(t *testing.T) {
		other := newClient(t, tp.BaseURL)
		other.signIn(tp.signInLink(t, "1006"))
		sid, otherSID := victim.cookie("portal_session"), other.cookie("portal_session")
		victim.get("/guidance/" + slug)
		for name, cookies := range map[string]string{
			"session, victim's first":   "portal_session=" + sid + "; portal_session=" + otherSID,
			"session, attacker's first": "portal_session=" + otherSID + "; portal_session=" + sid,
			"CSRF":                      "portal_session=" + sid + "; portal_csrf=" + victim.cookie("portal_csrf") + "; portal_csrf=" + strings.Repeat("a", 32),
		} {
			for _, method := range []string{"GET", "POST"} {
				var body *strings.Reader
				if method == "POST" {
					body = strings.NewReader(form("_csrf", victim.csrf).Encode())
				} else {
					body = strings.NewReader("")
				}
				req, err := http.NewRequest(method, tp.BaseURL+map[string]string{"GET": "/", "POST": path}[method], body)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Cookie", cookies)
				r := newClient(t, tp.BaseURL).do(req) // a client without a jar of its own cookies
				if r.Status != 400 || !strings.Contains(r.Body, "two copies of one of this portal") {
					t.Errorf("%s, %s: status %d, want 400 and the duplicate-cookie page", name, method, r.Status)
				}
			}
		}
		if read(slug) != 0 {
			t.Fatal("a refused request marked the module read")
		}
	})

	t.Run("the victim's own token is taken from the form body and from the header", func(t *testing.T) {
		victim.get("/guidance/" + slug)
		if r := victim.post(path, nil); r.Status != 303 || read(slug) != 1 {
			t.Fatalf("form body: status %d", r.Status)
		}
		next := modules[1].Slug
		req, err := http.NewRequest("POST", tp.BaseURL+"/guidance/"+next+"/read", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-CSRF-Token", victim.csrf)
		if r := victim.do(req); r.Status != 303 {
			t.Fatalf("header: status %d", r.Status)
		}
	})
}

// anyJar keeps every cookie and sends it everywhere, Secure or not: the
// test's plain-http requests stand in for a browser's HTTPS ones.
type anyJar struct {
	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

func (j *anyJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cookies == nil {
		j.cookies = map[string]*http.Cookie{}
	}
	for _, c := range cs {
		if c.MaxAge < 0 {
			delete(j.cookies, c.Name)
			continue
		}
		j.cookies[c.Name] = c
	}
}

func (j *anyJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for _, c := range j.cookies {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}

func TestHostPrefixedCookiesOverHTTPS(t *testing.T) {
	tp := startTestPortal(t, func(c *server.Config) { c.BaseURL = "https://portal.agency.example" })
	c := newClient(t, tp.BaseURL)
	jar := &anyJar{}
	c.http.Jar = jar
	checkSetCookies := func(t *testing.T, r response) {
		t.Helper()
		if len(r.Header.Values("Set-Cookie")) == 0 {
			t.Fatal("no cookie set")
		}
		for _, sc := range r.Header.Values("Set-Cookie") {
			lower := strings.ToLower(sc)
			if !strings.HasPrefix(sc, "__Host-portal_") || !strings.Contains(lower, "; secure") ||
				!strings.Contains(lower, "; path=/;") && !strings.HasSuffix(lower, "; path=/") || strings.Contains(lower, "domain=") {
				t.Errorf("cookie %q: want a __Host- name, Secure, Path=/ and no Domain", sc)
			}
		}
	}
	checkSetCookies(t, c.get("/signin"))
	link := tp.signInLink(t, "1006")
	c.get(link)
	r := c.post(link, nil)
	if r.Status != 303 {
		t.Fatalf("sign-in: status %d", r.Status)
	}
	checkSetCookies(t, r)
	sid := jar.cookies["__Host-portal_session"]
	if sid == nil {
		t.Fatal("no __Host-portal_session cookie")
	}
	mustContain(t, c.get("/").Body, "Sign out")
	slug := tp.Version.ModulesFor(app.AudienceAll)[0].Slug
	c.get("/guidance/" + slug)
	if r := c.post("/guidance/"+slug+"/read", nil); r.Status != 303 {
		t.Fatalf("a form over HTTPS: status %d", r.Status)
	}
	// The unprefixed name means nothing here: it is what a sibling host or
	// a plain-http page could set.
	plain := newClient(t, tp.BaseURL)
	plain.http.Jar.SetCookies(mustURL(t, tp.BaseURL), cookiesOf("portal_session", sid.Value))
	if r := plain.get("/guidance"); r.Status != 303 || !strings.HasPrefix(r.Location, "/signin") {
		t.Fatalf("the session under its unprefixed name: status %d location %q", r.Status, r.Location)
	}
}

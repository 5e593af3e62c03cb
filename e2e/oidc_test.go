package e2e

import (
	"crypto/rsa"
	"net/url"
	"strings"
	"testing"
	"time"

	"portal/handlers"
	"portal/server"
)

// withOIDC points the portal at the test's provider, as the PORTAL_OIDC_*
// variables do (with their defaults: the email claim, openid email profile).
func withOIDC(op *testOP, claim string) func(*server.Config) {
	return func(cfg *server.Config) {
		cfg.OIDC = handlers.OIDCConfig{Issuer: op.URL, ClientID: op.ClientID, ClientSecret: op.Secret, Claim: claim,
			Scopes: []string{"openid", "email", "profile"}}
	}
}

// oidcAuthorize starts an agency-account sign-in in the client's browser
// and takes it to the provider, who signs the test's User in at once. It
// returns the callback address the provider sent the browser back to,
// not yet opened.
func oidcAuthorize(t *testing.T, tp *testPortal, op *testOP, c *client, next string) string {
	t.Helper()
	path := "/signin/oidc"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	r := c.get(path)
	if r.Status != 303 || !strings.HasPrefix(r.Location, op.URL+"/authorize?") {
		t.Fatalf("GET %s: status %d location %q", path, r.Status, r.Location)
	}
	r = c.get(r.Location)
	if r.Status != 302 || !strings.HasPrefix(r.Location, tp.BaseURL+"/signin/oidc/callback?") {
		t.Fatalf("provider: status %d location %q", r.Status, r.Location)
	}
	return r.Location
}

func (tp *testPortal) sessionsOf(t *testing.T, employeeID int64) int {
	t.Helper()
	return tp.count(t, `SELECT COUNT(*) FROM sessions WHERE employee_id = ?`, employeeID)
}

// wantNoSession checks that the client is not signed in and that the
// person has no session in the database.
func wantNoSession(t *testing.T, tp *testPortal, c *client, employeeID int64, before int) {
	t.Helper()
	if v := c.cookie("portal_session"); v != "" {
		t.Errorf("the browser holds a session cookie %q", v)
	}
	if r := c.get("/guidance"); r.Status != 303 || !strings.HasPrefix(r.Location, "/signin") {
		t.Errorf("GET /guidance: status %d location %q, want a redirect to sign in", r.Status, r.Location)
	}
	if n := tp.sessionsOf(t, employeeID); n != before {
		t.Errorf("%d sessions stored for the person, %d before", n, before)
	}
}

func wantRefused(t *testing.T, r response, status int, words string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d", r.Status, status)
	}
	mustContain(t, r.Body, "You could not be signed in", words, "You have not been signed in to the portal.")
	if strings.Contains(r.Body, "oidc:") || strings.Contains(r.Body, "go-jose") || strings.Contains(r.Body, "invalid_grant") {
		t.Errorf("the page shows internal error text:\n%s", r.Body)
	}
}

func TestOIDCSignIn(t *testing.T) {
	op := startTestOP(t, nil)
	tp := startTestPortal(t, withOIDC(op, "email"))
	emp := tp.employee(t, "1007")
	who := func() map[string]any {
		return map[string]any{"sub": "entra-oid-1007", "email": strings.ToUpper(emp.Email), "email_verified": true}
	}
	op.set(func(op *testOP) { op.User = who() })

	t.Run("the sign-in page offers the agency account first", func(t *testing.T) {
		body := newClient(t, tp.BaseURL).get("/signin").Body
		a, f := strings.Index(body, "Sign in with your agency account"), strings.Index(body, `action="/signin"`)
		if a < 0 || f < 0 || a > f {
			t.Fatalf("agency account at %d, e-mail form at %d", a, f)
		}
	})

	t.Run("the full flow signs in and the session works", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		cb := oidcAuthorize(t, tp, op, c, "/guidance")
		authorized, _, _ := op.seen()
		q := authorized[len(authorized)-1]
		if q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("nonce") == "" ||
			q.Get("redirect_uri") != tp.BaseURL+"/signin/oidc/callback" || q.Get("scope") != "openid email profile" {
			t.Fatalf("authorization request %v", q)
		}
		r := c.get(cb)
		if r.Status != 303 || r.Location != "/guidance" {
			t.Fatalf("callback: status %d location %q\n%s", r.Status, r.Location, r.Body)
		}
		_, redeemed, _ := op.seen()
		if f := redeemed[len(redeemed)-1]; f.Get("code_verifier") == "" {
			t.Fatalf("the code was redeemed without the PKCE verifier: %v", f)
		}
		if r := c.get("/guidance"); r.Status != 200 {
			t.Fatalf("GET /guidance after signing in: status %d", r.Status)
		}
		mustContain(t, c.get("/").Body, emp.FullName)
		if got := tp.text(t, `SELECT auth_method || ' ' || identity || ' ' || issuer FROM sessions WHERE employee_id = ?`, emp.ID); got != "oidc entra-oid-1007 "+op.URL {
			t.Fatalf("session recorded %q", got)
		}
		if got := tp.text(t, `SELECT detail FROM audit_events WHERE action = 'session.signed_in' AND subject_id = ? ORDER BY id DESC LIMIT 1`, emp.ID); got != "oidc entra-oid-1007 at "+op.URL {
			t.Fatalf("audit event says %q", got)
		}
		if strings.Contains(tp.Logs.String(), op.Secret) {
			t.Fatal("the client secret is in the log")
		}
	})

	t.Run("the next address is kept and checked as the sign-in form does", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		r := c.get(oidcAuthorize(t, tp, op, c, "//evil.example/"))
		if r.Status != 303 || r.Location != "/" {
			t.Fatalf("callback: status %d location %q", r.Status, r.Location)
		}
	})

	refusals := []struct {
		name   string
		token  func(claims map[string]any) *rsa.PrivateKey
		status int
		words  string
	}{
		{"a token with a bad signature", func(map[string]any) *rsa.PrivateKey { return op.otherKey }, 400, "could not be checked"},
		{"a foreign audience", func(c map[string]any) *rsa.PrivateKey { c["aud"] = "another-client"; return nil }, 400, "could not be checked"},
		{"an expiry in the past", func(c map[string]any) *rsa.PrivateKey {
			c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
			return nil
		}, 400, "could not be checked"},
		{"another issuer", func(c map[string]any) *rsa.PrivateKey { c["iss"] = "https://idp.elsewhere.example"; return nil }, 400, "could not be checked"},
		{"a wrong nonce", func(c map[string]any) *rsa.PrivateKey { c["nonce"] = "not-the-one-sent"; return nil }, 400, "was not made for this sign-in"},
		{"no nonce", func(c map[string]any) *rsa.PrivateKey { delete(c, "nonce"); return nil }, 400, "was not made for this sign-in"},
		{"an unverified e-mail address", func(c map[string]any) *rsa.PrivateKey { c["email_verified"] = false; return nil }, 403, "has not been verified"},
		{"the claim missing", func(c map[string]any) *rsa.PrivateKey { delete(c, "email"); return nil }, 403, "it sent no “email”"},
		{"someone not on the roster", func(c map[string]any) *rsa.PrivateKey { c["email"] = "nobody@elsewhere.example"; return nil }, 403, "not on the portal’s list of current employees"},
	}
	for _, tc := range refusals {
		t.Run(tc.name+" is refused with a clear page and no session", func(t *testing.T) {
			before := tp.sessionsOf(t, emp.ID)
			op.set(func(op *testOP) { op.Token = tc.token })
			defer op.set(func(op *testOP) { op.Token = nil })
			c := newClient(t, tp.BaseURL)
			wantRefused(t, c.get(oidcAuthorize(t, tp, op, c, "")), tc.status, tc.words)
			wantNoSession(t, tp, c, emp.ID, before)
		})
	}

	t.Run("a replayed code is refused", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		cb := oidcAuthorize(t, tp, op, c, "")
		flow := c.cookie("oidc_flow")
		if r := c.get(cb); r.Status != 303 {
			t.Fatalf("first use: status %d", r.Status)
		}
		before := tp.sessionsOf(t, emp.ID)
		// The same answer again, in a browser holding the same flow cookie
		// (copied by whoever watched the first one go by).
		thief := newClient(t, tp.BaseURL)
		thief.http.Jar.SetCookies(mustURL(t, tp.BaseURL), cookiesOf("oidc_flow", flow))
		wantRefused(t, thief.get(cb), 400, "the code was used already")
		wantNoSession(t, tp, thief, emp.ID, before)
	})

	t.Run("a code without its PKCE verifier is refused", func(t *testing.T) {
		before := tp.sessionsOf(t, emp.ID)
		victim, thief := newClient(t, tp.BaseURL), newClient(t, tp.BaseURL)
		stolen := mustURL(t, oidcAuthorize(t, tp, op, victim, "")).Query().Get("code")
		// Redeemed at the provider with no verifier, it gives nothing.
		r := newClient(t, op.URL).postRaw(op.URL+"/token", form("grant_type", "authorization_code", "code", stolen,
			"redirect_uri", tp.BaseURL+"/signin/oidc/callback", "client_id", op.ClientID, "client_secret", op.Secret))
		if r.Status != 400 || !strings.Contains(r.Body, "invalid_grant") {
			t.Fatalf("token without a verifier: status %d %s", r.Status, r.Body)
		}
		// Injected into another browser's sign-in (its own state, its own
		// verifier), the portal sends a verifier that does not match.
		own := mustURL(t, oidcAuthorize(t, tp, op, thief, ""))
		injected := tp.BaseURL + "/signin/oidc/callback?" + url.Values{"code": {stolen}, "state": {own.Query().Get("state")}}.Encode()
		wantRefused(t, thief.get(injected), 400, "did not accept this sign-in")
		wantNoSession(t, tp, thief, emp.ID, before)
	})

	t.Run("a wrong state is refused and the code is not redeemed", func(t *testing.T) {
		before := tp.sessionsOf(t, emp.ID)
		c := newClient(t, tp.BaseURL)
		cb := mustURL(t, oidcAuthorize(t, tp, op, c, ""))
		q := cb.Query()
		q.Set("state", "forged-state")
		cb.RawQuery = q.Encode()
		_, redeemed, _ := op.seen()
		wantRefused(t, c.get(cb.String()), 400, "does not belong to the sign-in this browser started")
		wantNoSession(t, tp, c, emp.ID, before)
		if _, now, _ := op.seen(); len(now) != len(redeemed) {
			t.Fatal("the code was redeemed despite the wrong state")
		}
	})

	t.Run("a callback with no sign-in started in the browser is refused", func(t *testing.T) {
		before := tp.sessionsOf(t, emp.ID)
		c := newClient(t, tp.BaseURL)
		cb := oidcAuthorize(t, tp, op, newClient(t, tp.BaseURL), "")
		wantRefused(t, c.get(cb), 400, "was not started in this browser")
		wantNoSession(t, tp, c, emp.ID, before)
	})

	t.Run("the provider's refusal is a clear page", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		cb := mustURL(t, oidcAuthorize(t, tp, op, c, ""))
		cb.RawQuery = url.Values{"error": {"access_denied"}, "state": {cb.Query().Get("state")}}.Encode()
		wantRefused(t, c.get(cb.String()), 400, "did not sign you in")
	})
}

package e2e

import (
	"bytes"
	"net"
	"regexp"
	"strings"
	"testing"

	"portal/app"
	"portal/server"
)

// oidcSignedIn signs the demo person in with their agency account.
func oidcSignedIn(t *testing.T, tp *testPortal, op *testOP, claims map[string]any) *client {
	t.Helper()
	op.set(func(op *testOP) { op.User = claims })
	c := newClient(t, tp.BaseURL)
	if r := c.get(oidcAuthorize(t, tp, op, c, "")); r.Status != 303 || r.Location != "/" {
		t.Fatalf("callback: status %d location %q\n%s", r.Status, r.Location, r.Body)
	}
	c.get("/")
	return c
}

func TestOIDCSignatureRecordsTheMethod(t *testing.T) {
	op := startTestOP(t, nil)
	tp := startTestPortal(t, withOIDC(op, "email"))
	emp := tp.employee(t, "1007")
	c := oidcSignedIn(t, tp, op, map[string]any{"sub": "00u-okta-1007", "email": emp.Email, "email_verified": true})
	readAll(t, tp, c, "1007")
	passQuiz(t, tp, c, "1007")
	consent(t, c)
	c.get("/sign")
	r := c.post("/sign", form("typed_name", emp.FullName, "intent", "yes"))
	if r.Status != 303 || !strings.HasPrefix(r.Location, "/certificates/") {
		t.Fatalf("sign: status %d location %q", r.Status, r.Location)
	}
	code := tp.text(t, `SELECT verify_code FROM acknowledgments WHERE employee_id = ?`, emp.ID)
	want := "OpenID Connect as 00u-okta-1007 at " + op.URL

	t.Run("the acknowledgment records oidc, the subject and the issuer", func(t *testing.T) {
		got := tp.text(t, `SELECT auth_method || '|' || sign_in_identity || '|' || sign_in_issuer FROM acknowledgments WHERE verify_code = ?`, code)
		if got != "oidc|00u-okta-1007|"+op.URL {
			t.Fatalf("stored %q", got)
		}
	})

	t.Run("the evidence log entry names the issuer, last, and the log verifies", func(t *testing.T) {
		a, hash := evAckLeaf(t, tp.DB.Path, code)
		if a.SignInIssuer != op.URL {
			t.Fatalf("read back issuer %q", a.SignInIssuer)
		}
		var stored []byte
		db := evRaw(t, tp.DB.Path)
		defer db.Close()
		if err := db.QueryRow(`SELECT hash FROM log_entries WHERE kind = 'acknowledgment' AND ref_id = ?`, a.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(stored, hash[:]) {
			t.Fatal("the logged entry is not the acknowledgment's canonical form with its issuer")
		}
		out, err := evAuditVerify(t, evCopy(t, tp), tp.Config.LogKeyFile)
		if err != nil {
			t.Fatalf("audit-verify: %v\n%s", err, out)
		}
	})

	t.Run("the person page and the certificate say how the signer signed in", func(t *testing.T) {
		hr := signedIn(t, tp, "1002")
		mustContain(t, hr.get("/hr/people/"+itoa(emp.ID)).Body, want)
		mustContain(t, c.get("/certificates/"+code).Body, "Signed in with", want)
		if r := c.get("/certificates/" + code + "/pdf"); r.Status != 200 || !strings.HasPrefix(r.Body, "%PDF") {
			t.Fatalf("certificate PDF: status %d", r.Status)
		}
	})

	t.Run("a signature after a sign-in link still says email-link, with no issuer", func(t *testing.T) {
		other := evSign(t, tp, "1009")
		a := tp.ackByCode(t, other)
		if a.AuthMethod != app.AuthEmailLink || a.SignInIssuer != "" || a.SignInMethodText() != "email-link as "+a.SignInIdentity {
			t.Fatalf("method %q issuer %q text %q", a.AuthMethod, a.SignInIssuer, a.SignInMethodText())
		}
		if r := c.get("/certificates/" + code); !strings.Contains(r.Body, "Signed in with") {
			t.Fatal("lost the OIDC line")
		}
	})
}

func TestOIDCSignOut(t *testing.T) {
	op := startTestOP(t, nil)
	tp := startTestPortal(t, withOIDC(op, "email"))
	emp := tp.employee(t, "1007")
	claims := map[string]any{"sub": "sub-1007", "email": emp.Email, "email_verified": true}

	t.Run("with the provider's end-session address, the page offers it", func(t *testing.T) {
		c := oidcSignedIn(t, tp, op, claims)
		hint := c.cookie("oidc_hint")
		if hint == "" {
			t.Fatal("no ID token kept for the end-session hint")
		}
		r := c.post("/signout", nil)
		if r.Status != 200 {
			t.Fatalf("sign out: status %d location %q", r.Status, r.Location)
		}
		mustContain(t, r.Body, "You have signed out of the portal.", "Sign out of your agency account")
		m := regexp.MustCompile(`href="(` + regexp.QuoteMeta(op.URL) + `/logout\?[^"]+)"`).FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("no end-session link:\n%s", r.Body)
		}
		href := m[1]
		u := mustURL(t, strings.ReplaceAll(href, "&amp;", "&"))
		if q := u.Query(); q.Get("id_token_hint") != hint || q.Get("post_logout_redirect_uri") != tp.BaseURL || q.Get("client_id") != op.ClientID {
			t.Fatalf("end-session address %v", q)
		}
		if c.cookie("oidc_hint") != "" {
			t.Fatal("the ID token stays in the browser after signing out")
		}
		if r := c.get("/guidance"); r.Status != 303 {
			t.Fatalf("the portal session survived sign-out: %d", r.Status)
		}
		if n := tp.sessionsOf(t, emp.ID); n != 0 {
			t.Fatalf("%d sessions left", n)
		}
	})

	t.Run("without one, sign-out is as before", func(t *testing.T) {
		op2 := startTestOP(t, nil)
		op2.set(func(op *testOP) { op.EndSession = false })
		tp2 := startTestPortal(t, withOIDC(op2, "email"))
		c := oidcSignedIn(t, tp2, op2, claims)
		if r := c.post("/signout", nil); r.Status != 303 || r.Location != "/signin" {
			t.Fatalf("sign out: status %d location %q", r.Status, r.Location)
		}
	})

	t.Run("a sign-in link session signs out as before", func(t *testing.T) {
		c := signedIn(t, tp, "1009")
		if r := c.post("/signout", nil); r.Status != 303 || r.Location != "/signin" {
			t.Fatalf("sign out: status %d location %q", r.Status, r.Location)
		}
	})
}

func TestOIDCEmailLinksOff(t *testing.T) {
	op := startTestOP(t, nil)
	tp := startTestPortal(t, withOIDC(op, "email"), func(cfg *server.Config) { cfg.EmailLinksOff = true })
	emp := tp.employee(t, "1007")

	t.Run("the sign-in page offers only the agency account", func(t *testing.T) {
		body := newClient(t, tp.BaseURL).get("/signin").Body
		mustContain(t, body, "Sign in with your agency account", "sign-in links by e-mail are turned off")
		if strings.Contains(body, `action="/signin"`) || strings.Contains(body, `name="email"`) {
			t.Fatal("the e-mail form is still offered")
		}
	})

	t.Run("POST /signin refuses with a clear page and mails nothing", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		// The page has no form now; a form token from another page this
		// browser opened (a sign-in link's) is as one loaded before the switch.
		c.get(tp.signInLink(t, "1008"))
		r := c.post("/signin", form("email", emp.Email))
		if r.Status != 403 {
			t.Fatalf("status %d", r.Status)
		}
		mustContain(t, r.Body, "Sign-in links by e-mail are turned off", "Sign in with your agency account")
		if links := tp.mailedLinks(t, emp.Email); len(links) != 0 {
			t.Fatalf("%d links mailed", len(links))
		}
	})

	t.Run("a link mailed before the switch no longer signs in", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		link := tp.signInLink(t, "1007")
		c.get(link)
		r := c.post(link, nil)
		if r.Status != 403 || !strings.Contains(r.Body, "Sign-in links by e-mail are turned off") {
			t.Fatalf("status %d", r.Status)
		}
		wantNoSession(t, tp, c, emp.ID, 0)
	})

	t.Run("the agency account still signs in", func(t *testing.T) {
		oidcSignedIn(t, tp, op, map[string]any{"sub": "s", "email": emp.Email})
	})
}

func TestOIDCEmployeeNumberClaim(t *testing.T) {
	op := startTestOP(t, nil)
	tp := startTestPortal(t, withOIDC(op, "employeeid"))
	emp := tp.employee(t, "1007")

	t.Run("the person is found by the number in the claim", func(t *testing.T) {
		c := oidcSignedIn(t, tp, op, map[string]any{"sub": "s-1007", "employeeid": emp.EmployeeNumber, "email": "unrelated@elsewhere.example"})
		mustContain(t, c.get("/").Body, emp.FullName)
	})
	t.Run("a number sent as a JSON number works too", func(t *testing.T) {
		c := oidcSignedIn(t, tp, op, map[string]any{"sub": "s-1007", "employeeid": mustAtoi(t, emp.EmployeeNumber)})
		mustContain(t, c.get("/").Body, emp.FullName)
	})
	t.Run("a number not on the roster is refused", func(t *testing.T) {
		before := tp.sessionsOf(t, emp.ID)
		op.set(func(op *testOP) { op.User = map[string]any{"sub": "s-x", "employeeid": "999999", "email": emp.Email} })
		c := newClient(t, tp.BaseURL)
		wantRefused(t, c.get(oidcAuthorize(t, tp, op, c, "")), 403, "not on the portal’s list of current employees")
		wantNoSession(t, tp, c, emp.ID, before)
	})
}

// A provider down when the portal starts does not stop it: the log says
// so, a sign-in meanwhile gets a clear page, and the next one after the
// provider is back works.
func TestOIDCProviderDownAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there yet
	down := &testOP{URL: "http://" + addr, ClientID: "portal-client", Secret: "s3cret-not-logged"}
	tp := startTestPortal(t, withOIDC(down, "email"))
	mustContain(t, tp.Logs.String(), "openid connect provider not reachable at start")
	c := newClient(t, tp.BaseURL)
	r := c.get("/signin/oidc")
	wantRefused(t, r, 503, "cannot be reached at the moment")

	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on the provider's address: %v", err)
	}
	op := startTestOP(t, ln)
	emp := tp.employee(t, "1007")
	c = oidcSignedIn(t, tp, op, map[string]any{"sub": "s", "email": emp.Email, "email_verified": true})
	mustContain(t, c.get("/").Body, emp.FullName)
	if strings.Contains(tp.Logs.String(), down.Secret) {
		t.Fatal("the client secret is in the log")
	}
}

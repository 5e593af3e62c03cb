package e2e

// Issue 13, point 3: behind PORTAL_TRUSTED_PROXIES, the client's address is
// the right-most X-Forwarded-For entry that is not a trusted proxy; what a
// client writes to the left of it is never recorded nor used for a limit.
// The test portal listens on 127.0.0.1, so with 127.0.0.1/32 trusted the
// test's requests come "through the proxy", and the header they carry is
// what the proxy would send: the client's list with the proxy's entry added.

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"portal/server"
)

// forwardingTransport adds X-Forwarded-For to every request, as a proxy does.
type forwardingTransport struct {
	base http.RoundTripper
	xff  string
}

func (f *forwardingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.xff)
	return f.base.RoundTrip(r)
}

// behind returns a new client whose requests carry xff.
func behind(t *testing.T, tp *testPortal, xff string) *client {
	c := newClient(t, tp.BaseURL)
	c.http.Transport = &forwardingTransport{base: testTransport, xff: xff}
	return c
}

func trustLoopback(c *server.Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
}

func TestClientAddressBehindTrustedProxy(t *testing.T) {
	t.Run("a forged left part is not recorded: consent, acknowledgment and audit event hold the address the proxy saw", func(t *testing.T) {
		tp := startTestPortal(t, trustLoopback)
		const forged = "6.6.6.6, 203.0.113.7"
		c := behind(t, tp, forged)
		c.signIn(tp.signInLink(t, "1005"))
		readAll(t, tp, c, "1005")
		passQuiz(t, tp, c, "1005")
		consent(t, c)
		e := tp.employee(t, "1005")
		c.get("/sign")
		if r := c.post("/sign", form("typed_name", e.FullName, "intent", "yes")); r.Status != 303 || !strings.HasPrefix(r.Location, "/certificates/") {
			t.Fatalf("sign: status %d location %q", r.Status, r.Location)
		}
		hr := behind(t, tp, forged)
		hr.signIn(tp.signInLink(t, "1002"))
		if r := hr.get("/hr/export.csv"); r.Status != 200 {
			t.Fatalf("export: status %d", r.Status)
		}
		for what, query := range map[string]string{
			"consent":        `SELECT ip FROM consents WHERE employee_id = ?`,
			"acknowledgment": `SELECT ip FROM acknowledgments WHERE employee_id = ?`,
			"audit event":    `SELECT ip FROM audit_events WHERE action = 'report.exported' AND actor_id = ?`,
		} {
			id := e.ID
			if what == "audit event" {
				id = tp.employee(t, "1002").ID
			}
			if ip := tp.text(t, query, id); ip != "203.0.113.7" {
				t.Errorf("%s recorded from %q, want 203.0.113.7", what, ip)
			}
		}
	})

	t.Run("the per-address sign-in limit holds whatever the client writes on the left, and each client behind the proxy has its own", func(t *testing.T) {
		tp := startTestPortal(t, trustLoopback)
		ask := func(c *client, i int) response {
			t.Helper()
			c.get("/signin")
			return c.post("/signin", form("email", "probe"+itoa(int64(i))+"@elsewhere.example"))
		}
		for i := 0; i < 30; i++ {
			// A fresh browser each time, with a new made-up address on the left.
			c := behind(t, tp, "10.9."+itoa(int64(i))+".1, 203.0.113.9")
			if r := ask(c, i); r.Status != 303 {
				t.Fatalf("request %d: status %d", i+1, r.Status)
			}
		}
		if r := ask(behind(t, tp, "10.9.99.1, 198.51.100.1, 203.0.113.9"), 30); r.Status != 429 {
			t.Fatalf("the 31st request from 203.0.113.9 with another forged left part: status %d, want 429", r.Status)
		}
		if r := ask(behind(t, tp, "203.0.113.10"), 31); r.Status != 303 {
			t.Fatalf("another client behind the same proxy: status %d, want 303 (its own limit)", r.Status)
		}
		// An entry that is not an address ends the walk at the last good one:
		// here the proxy itself, which nobody else shares with 203.0.113.9.
		if r := ask(behind(t, tp, "203.0.113.9:4711"), 32); r.Status != 303 {
			t.Fatalf("an unparsable entry: status %d, want 303 (the proxy's own limit)", r.Status)
		}
	})

	t.Run("from a peer that is not a trusted proxy the header is ignored", func(t *testing.T) {
		tp := startTestPortal(t, func(c *server.Config) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
		})
		for i := 0; i < 30; i++ {
			c := behind(t, tp, "203.0.113."+itoa(int64(i)))
			c.get("/signin")
			if r := c.post("/signin", form("email", "probe"+itoa(int64(i))+"@elsewhere.example")); r.Status != 303 {
				t.Fatalf("request %d: status %d", i+1, r.Status)
			}
		}
		c := behind(t, tp, "203.0.113.200")
		c.get("/signin")
		if r := c.post("/signin", form("email", "last@elsewhere.example")); r.Status != 429 {
			t.Fatalf("the 31st request from 127.0.0.1 under another forged address: status %d, want 429", r.Status)
		}
	})

	t.Run("PORTAL_TRUSTED_PROXIES refuses an entry that is not an address or range", func(t *testing.T) {
		t.Setenv("PORTAL_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")
		_, err := server.LoadConfig(true)
		if err == nil || !strings.Contains(err.Error(), "PORTAL_TRUSTED_PROXIES") || !strings.Contains(err.Error(), "proxy.internal") {
			t.Fatalf("err = %v", err)
		}
		t.Setenv("PORTAL_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7, 2001:db8::/32")
		cfg, err := server.LoadConfig(true)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(cfg.TrustedProxies); got != 3 {
			t.Fatalf("%d proxies read: %v", got, cfg.TrustedProxies)
		}
	})
}

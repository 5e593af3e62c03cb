package e2e

// CSRF checks on every state-changing route of the route table (the matrix's table is in authz_matrix_test.go and the files beside it, its helpers in authz_matrix_helpers_test.go).

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"portal/handlers"
)

// TestCSRFOnEveryStateChange: every POST of the route table refuses a
// missing, forged or foreign CSRF token — as a user allowed to use the route
// — and changes no row; no other method changes anything; no GET changes
// anything but the audit record of an export.
func TestCSRFOnEveryStateChange(t *testing.T) {
	routes := handlers.Routes()
	for _, r := range routes {
		switch r.Method {
		case "GET", "POST":
		default:
			if azTable[azKey(r)].api != "" {
				break // the API: bearer tokens, never cookies, so no CSRF (TestAPIRoutesAreTokenOnly)
			}
			t.Errorf("route %s: state changes must be POSTs and reads GETs; the CSRF check lets %s through", azKey(r), r.Method)
		}
		if _, ok := azTable[azKey(r)]; !ok {
			t.Fatalf("route %s has no entry in azTable (authz_matrix_test.go)", azKey(r))
		}
	}

	for _, r := range routes {
		if r.Method != "POST" {
			continue
		}
		t.Run(azKey(r), func(t *testing.T) {
			t.Parallel()
			e := azPortal(t)
			exp := azTable[azKey(r)]
			stranger := e.client(azAnon).csrf // another browser's valid token
			colleague := e.client(azManager).csrf
			if exp.allow.has(azManager) {
				colleague = e.client(azAdmin).csrf
			}
			for _, who := range azRoles {
				if !exp.allow.has(who) {
					continue
				}
				c := e.client(who)
				forged := strings.Repeat("A", len(c.csrf))
				for _, bad := range []struct {
					name  string
					token *string
				}{
					{"missing", nil},
					{"empty", new(string)},
					{"forged", &forged},
					{"another anonymous browser's", &stranger},
					{"another signed-in browser's", &colleague},
				} {
					q := e.request(r, who) // a fresh sign-in token for each request
					before := e.counts()
					res := azSend(c, r.Method, q, bad.token)
					if res.Status != 403 || !strings.Contains(res.Body, azMsgExpired) {
						t.Errorf("as %s, %s token: status %d, want 403 %q", who, bad.name, res.Status, azMsgExpired)
					}
					if d := azDelta(before, e.counts()); len(d) > 0 {
						t.Errorf("as %s, %s token: rows changed %v", who, bad.name, d)
					}
					if strings.HasPrefix(r.Path, "/signin/link/") {
						if r := c.get(q.path); r.Status != 200 {
							t.Errorf("as %s, %s token: the sign-in link was used up (%d)", who, bad.name, r.Status)
						}
					}
				}
				// A forged token in the header instead of the form.
				q := e.request(r, who)
				before := e.counts()
				hres := azSendHeader(c, r.Method, q, forged)
				if hres.Status != 403 {
					t.Errorf("as %s, forged X-CSRF-Token: status %d", who, hres.Status)
				}
				if d := azDelta(before, e.counts()); len(d) > 0 {
					t.Errorf("as %s, forged X-CSRF-Token: rows changed %v", who, d)
				}
				// Still signed in: the refused sign-out did not sign out.
				if who != azAnon && !strings.Contains(c.get("/").Body, "Sign out") {
					t.Errorf("as %s: signed out by a refused request", who)
				}
				// Other methods on the same address reach nothing.
				for _, m := range []string{"PUT", "PATCH", "DELETE"} {
					q := e.request(r, who)
					before := e.counts()
					res := azSendHeader(c, m, q, c.csrf)
					if res.Status != 404 && res.Status != 405 {
						t.Errorf("as %s, %s %s: status %d, want 404 or 405", who, m, q.path, res.Status)
					}
					if d := azDelta(before, e.counts()); len(d) > 0 {
						t.Errorf("as %s, %s %s: rows changed %v", who, m, q.path, d)
					}
				}
				// Control: the same request with the right token goes through,
				// so the refusals above were the CSRF check's.
				res := azSend(c, r.Method, e.request(r, who), &c.csrf)
				if !slices.Contains(exp.ok, res.Status) {
					t.Errorf("as %s with a valid token: status %d, want one of %v", who, res.Status, exp.ok)
				}
			}
		})
	}

	t.Run("no GET changes state", func(t *testing.T) {
		t.Parallel()
		e := azPortal(t)
		clients := map[azRole]*client{}
		for _, who := range azRoles {
			clients[who] = e.client(who)
		}
		for _, r := range routes {
			if r.Method != "GET" {
				continue
			}
			exp := azTable[azKey(r)]
			for _, who := range azRoles {
				q := e.request(r, who)
				for _, variant := range []string{"", "?verify=1&page=2&status=signed&cycle=" + itoa(e.cycle)} {
					before := e.counts()
					res := clients[who].get(q.path + variant)
					got := azDelta(before, e.counts())
					want := map[string]int{}
					if exp.writes != nil && exp.allow.has(who) && res.Status == 200 {
						want = exp.writes
					}
					if !azSameDelta(got, want) {
						t.Errorf("GET %s%s as %s (status %d): rows changed %v, want %v", q.path, variant, who, res.Status, got, want)
					}
				}
			}
		}
	})
}

// azSendHeader sends a urlencoded request with the CSRF token in the header only.
func azSendHeader(c *client, method string, q azReq, token string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url(q.path), strings.NewReader(q.form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", token)
	return c.do(req)
}

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"portal/app"
	"portal/handlers"
)

// azAPITokens tries the API routes with tokens, one of each scope (part of
// TestAuthorizationMatrix): each gets in where the route needs its scope
// and 403 elsewhere; no token, a made-up one and a revoked one get 401, and
// those refusals write no row at all.
func azAPITokens(t *testing.T, routes []handlers.Route) {
	e := azPortal(t)
	admin := e.client(azAdmin)
	tokens := map[string]string{}
	for _, s := range app.APIScopes {
		tokens[s] = pageToken(t, admin, "Matrix "+s, s)
	}
	revoked := pageToken(t, admin, "Matrix revoked", app.APIScopes...)
	id := e.tp.count(t, `SELECT id FROM api_tokens WHERE name = 'Matrix revoked'`)
	if r := admin.post("/admin/api-tokens/"+itoa(int64(id))+"/revoke", nil); r.Status != 303 {
		t.Fatalf("revoke: status %d", r.Status)
	}
	apiRoutes := 0
	for _, r := range routes {
		exp := azTable[azKey(r)]
		if exp.api == "" {
			continue
		}
		apiRoutes++
		q := e.request(r, azAnon)
		for _, s := range app.APIScopes {
			res := azAPISend(t, e.tp.BaseURL, tokens[s], r.Method, q) // a write's body too (authz_roster_test.go)
			switch {
			case s == exp.api && !slices.Contains(exp.ok, res.Status):
				t.Errorf("%s with a %s token: status %d, want one of %v: %s", azKey(r), s, res.Status, exp.ok, res.Body)
			case s != exp.api && res.Status != 403:
				t.Errorf("%s with a %s token: status %d, want 403", azKey(r), s, res.Status)
			}
		}
		before := e.counts()
		for name, tok := range map[string]string{"no": "", "a made-up": "smp_" + strings.Repeat("x", 43), "a revoked": revoked} {
			if res := azAPISend(t, e.tp.BaseURL, tok, r.Method, q); res.Status != 401 {
				t.Errorf("%s with %s token: status %d, want 401", azKey(r), name, res.Status)
			}
		}
		if d := azDelta(before, e.counts()); len(d) > 0 {
			t.Errorf("%s: refused calls changed rows: %v", azKey(r), d)
		}
	}
	if apiRoutes == 0 {
		t.Error("no API route in the table")
	}
}

// randomName is a name no other token of the test has.
func randomName() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

package handlers

import "testing"

// TestAPIRoutesAreTokenOnly: the session and CSRF middleware step aside on
// API paths (IsAPIPath), so every route there must be a bearer-token route
// (or a public read), and every bearer-token route must be there. A
// cookie-authenticated route under /api/ would go unchecked for CSRF.
func TestAPIRoutesAreTokenOnly(t *testing.T) {
	api := 0
	for _, r := range Routes() {
		token := r.Access.APIScope() != ""
		switch {
		case IsAPIPath(r.Path) && !token && !(r.Access == Public && r.Method == "GET"):
			t.Errorf("%s %s is under an API prefix but is not a bearer-token route: it would skip the CSRF check", r.Method, r.Path)
		case token && !IsAPIPath(r.Path):
			t.Errorf("%s %s needs a bearer token but is not under an API prefix: sessions and CSRF would apply", r.Method, r.Path)
		}
		if token {
			api++
		}
	}
	if api == 0 {
		t.Error("no bearer-token route")
	}
	for _, p := range []string{"/API/v1/completion", "/Api/V1/certificates/x", "/api/"} {
		if !IsAPIPath(p) {
			t.Errorf("%s is not taken for an API path (Fiber matches routes regardless of case)", p)
		}
	}
	for _, p := range []string{"/apis", "/hr/api/x", "/", "/admin/api-tokens"} {
		if IsAPIPath(p) {
			t.Errorf("%s is taken for an API path", p)
		}
	}
}

package e2e

// The administrator's API tokens page, and the OpenAPI document held to
// the route table.

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"portal/handlers"
)

func TestAdminAPITokensPage(t *testing.T) {
	tp := startTestPortal(t)
	admin := newClient(t, tp.BaseURL)
	admin.signIn(tp.signInLink(t, "1003"))
	mustContain(t, admin.get("/admin/api-tokens").Body, "No token yet")

	t.Run("bad input: the error pattern, nothing created", func(t *testing.T) {
		r := admin.post("/admin/api-tokens", form("name", "  "))
		wantFieldError(t, r, "name", "Enter a name for the token")
		wantFieldError(t, r, "scope-0", "Choose at least one scope")
		r = admin.post("/admin/api-tokens", form("name", "Payroll", "scope", "everything"))
		wantFieldError(t, r, "scope-0", `"everything" is not a scope`)
		mustContain(t, r.Body, `value="Payroll"`) // what was typed comes back
		r = admin.post("/admin/api-tokens", form("name", strings.Repeat("n", 81), "scope", "completion:read"))
		wantFieldError(t, r, "name", "at most 80 characters")
		if n := tp.count(t, `SELECT COUNT(*) FROM api_tokens`); n != 0 {
			t.Errorf("%d tokens made", n)
		}
	})

	var token string
	t.Run("created: shown once, with the warning, and audited", func(t *testing.T) {
		f := form("name", "Learning system", "scope", "certificates:read")
		f.Add("scope", "completion:read")
		r := admin.post("/admin/api-tokens", f)
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		token = tokenRE.FindString(r.Body)
		if token == "" {
			t.Fatal("no token on the page")
		}
		mustContain(t, r.Body, "API token created", "It will not be shown again", "completion:read</code>, <code>certificates:read")
		if !strings.Contains(r.Header.Get("Cache-Control"), "no-store") {
			t.Error("the page with the token may be cached")
		}
		list := admin.get("/admin/api-tokens").Body
		mustContain(t, list, "Learning system", "Adam Ouellette", "Never", "In use")
		if strings.Contains(list, token) {
			t.Error("the list shows the token")
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'api_token.created' AND actor_id = ?
			AND detail = 'Learning system: completion:read certificates:read'`, tp.employee(t, "1003").ID); n != 1 {
			t.Errorf("%d creation events by the admin", n)
		}
		// A second token of the same name is refused while the first lives.
		wantFieldError(t, admin.post("/admin/api-tokens", form("name", "Learning system", "scope", "completion:read")), "name", "already in use")
	})

	t.Run("used: the list says when", func(t *testing.T) {
		if r := apiGet(t, tp.BaseURL, token, "/api/v1/completion?limit=1"); r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		if strings.Contains(admin.get("/admin/api-tokens").Body, "Never") {
			t.Error("still never used")
		}
	})

	t.Run("revoked: refused from then on, audited, not twice", func(t *testing.T) {
		id := itoa(int64(tp.count(t, `SELECT id FROM api_tokens WHERE name = 'Learning system'`)))
		admin.get("/admin/api-tokens")
		r := admin.post("/admin/api-tokens/"+id+"/revoke", nil)
		if r.Status != 303 || r.Location != "/admin/api-tokens" {
			t.Fatalf("status %d to %q", r.Status, r.Location)
		}
		mustContain(t, admin.get("/admin/api-tokens").Body, "is revoked", "Revoked ")
		wantAPIError(t, apiGet(t, tp.BaseURL, token, "/api/v1/completion"), 401, "unauthorized", "revoked")
		if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'api_token.revoked' AND subject_id = ? AND actor_id = ?`,
			id, tp.employee(t, "1003").ID); n != 1 {
			t.Errorf("%d revocation events", n)
		}
		r = admin.post("/admin/api-tokens/"+id+"/revoke", nil)
		if r.Status != 422 || !strings.Contains(r.Body, "already revoked") {
			t.Errorf("second revoke: status %d", r.Status)
		}
		if r := admin.post("/admin/api-tokens/99999/revoke", nil); r.Status != 404 {
			t.Errorf("unknown token: status %d", r.Status)
		}
	})
}

// TestOpenAPIDocumentMatchesRoutes: every /api/v1/ route of the route table
// is in the OpenAPI document with the scope it needs, and the document
// names no route the table does not have.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	tp := startTestPortal(t)
	r := apiGet(t, tp.BaseURL, "", "/api/v1/openapi.json")
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	apiJSON(t, r, 200, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	inTable := map[string]bool{}
	for _, rt := range handlers.Routes() {
		if !strings.HasPrefix(rt.Path, "/api/v1/") {
			continue
		}
		key := strings.ToLower(rt.Method) + " " + handlers.OpenAPIPath(rt.Path)
		inTable[key] = true
		raw, ok := doc.Paths[handlers.OpenAPIPath(rt.Path)][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s %s is in the route table but not in the OpenAPI document", rt.Method, rt.Path)
			continue
		}
		var op struct {
			Security []map[string][]string `json:"security"`
		}
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatal(err)
		}
		var scopes []string
		for _, s := range op.Security {
			scopes = append(scopes, s["bearer"]...)
		}
		if want := rt.Access.APIScope(); want == "" && len(scopes) != 0 || want != "" && (len(scopes) != 1 || scopes[0] != want) {
			t.Errorf("%s: the document asks for scopes %v, the route table for %q", key, scopes, want)
		}
	}
	if len(inTable) < 4 {
		t.Fatalf("only %d API routes in the table", len(inTable))
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !inTable[method+" "+path] {
				t.Errorf("the OpenAPI document names %s %s, which is not in the route table", method, path)
			}
		}
	}
	// Every reference leads to a schema of the document.
	for _, ref := range refRE.FindAllStringSubmatch(r.Body, -1) {
		if _, ok := doc.Components.Schemas[ref[1]]; !ok {
			t.Errorf("$ref to %s, which the document does not define", ref[1])
		}
	}
}

var refRE = regexp.MustCompile(`"\$ref":"#/components/schemas/([A-Za-z]+)"`)

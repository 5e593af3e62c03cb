package e2e

// API tokens and the read API: the tokens (command line and admin page),
// authentication and scopes, the per-token limit, the audit of each call.
// The completion list's paging and filters: api_completion_test.go.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"portal/server"
)

// apiGet calls the API with a bearer token ("" for none).
func apiGet(t testing.TB, base, token, path string) response {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := testTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location"), Header: resp.Header}
}

// apiJSON decodes an API answer's body into v, failing unless the status is want.
func apiJSON(t testing.TB, r response, want int, v any) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON", ct)
	}
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r.Body)
	}
}

// apiErr is the body of an API error.
type apiErr struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// wantAPIError checks an error answer: its status, JSON body and words.
func wantAPIError(t testing.TB, r response, status int, code, words string) {
	t.Helper()
	var e apiErr
	apiJSON(t, r, status, &e)
	if e.Error != code || !strings.Contains(e.Message, words) {
		t.Errorf("error %q %q, want %q containing %q", e.Error, e.Message, code, words)
	}
}

var tokenRE = regexp.MustCompile(`smp_[A-Za-z0-9_-]{43}`)

// apiCommand runs `portal api-token args…` against the portal's database.
func apiCommand(t *testing.T, tp *testPortal, args ...string) (string, error) {
	t.Helper()
	tp.commandEnv(t)
	var out bytes.Buffer
	err := server.Run(context.Background(), append([]string{"api-token"}, args...), &out, &out)
	return out.String(), err
}

// cliToken makes a token on the command line and returns it.
func cliToken(t *testing.T, tp *testPortal, name, scopes string) string {
	t.Helper()
	out, err := apiCommand(t, tp, "create", "--name", name, "--scope", scopes)
	if err != nil {
		t.Fatalf("api-token create: %v: %s", err, out)
	}
	tok := tokenRE.FindString(out)
	if tok == "" {
		t.Fatalf("no token printed: %s", out)
	}
	return tok
}

// pageToken makes a token on the admin page as the signed-in admin c.
func pageToken(t testing.TB, c *client, name string, scopes ...string) string {
	t.Helper()
	c.get("/admin/api-tokens")
	f := form("name", name)
	for _, s := range scopes {
		f.Add("scope", s)
	}
	r := c.post("/admin/api-tokens", f)
	tok := tokenRE.FindString(r.Body)
	if r.Status != 200 || tok == "" {
		t.Fatalf("create token on the page: status %d", r.Status)
	}
	return tok
}

func TestAPITokenCommands(t *testing.T) {
	tp := startTestPortal(t)
	tok := cliToken(t, tp, "Learning system", "completion:read,certificates:read")

	t.Run("the printed token works, and only its hash is stored", func(t *testing.T) {
		if r := apiGet(t, tp.BaseURL, tok, "/api/v1/completion?limit=1"); r.Status != 200 {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		sum := sha256.Sum256([]byte(tok))
		if n := tp.count(t, `SELECT COUNT(*) FROM api_tokens WHERE token_sha256 = ? AND name = 'Learning system'`, sum[:]); n != 1 {
			t.Errorf("%d tokens stored by their SHA-256", n)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM api_tokens WHERE instr(name || scopes || CAST(token_sha256 AS TEXT), ?) > 0`, tok[4:20]); n != 0 {
			t.Error("the token is stored in the clear")
		}
		if strings.Contains(tp.Logs.String(), tok) {
			t.Error("the token is in the server's log")
		}
	})

	t.Run("creation is an audit event naming the token and its scopes", func(t *testing.T) {
		if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'api_token.created' AND subject_type = 'api_token'
			AND detail = 'Learning system: completion:read certificates:read' AND actor_id IS NULL`); n != 1 {
			t.Errorf("%d creation events", n)
		}
	})

	t.Run("list shows it", func(t *testing.T) {
		out, err := apiCommand(t, tp, "list")
		if err != nil {
			t.Fatal(err)
		}
		mustContain(t, out, "Learning system", "completion:read,certificates:read", "in use")
		if strings.Contains(out, tok) {
			t.Error("list prints the token")
		}
	})

	t.Run("bad input is refused and writes nothing", func(t *testing.T) {
		rows := tp.count(t, `SELECT COUNT(*) FROM api_tokens`)
		for _, c := range []struct {
			args  []string
			words string
		}{
			{[]string{"create", "--name", "X", "--scope", "completion:write"}, `"completion:write" is not a scope`},
			{[]string{"create", "--name", "  ", "--scope", "completion:read"}, "Enter a name"},
			{[]string{"create", "--name", "X"}, "give --name NAME and --scope"},
			{[]string{"create", "--name", "X", "--scope", ""}, "at least one scope"},
			{[]string{"create", "--name", "Learning system", "--scope", "completion:read"}, "already in use"},
			{[]string{"create", "--name", "X", "--scope"}, "needs a value"},
			{[]string{"revoke", "abc"}, "is not a token's id"},
			{[]string{"revoke", "999"}, "No API token has that id"},
		} {
			out, err := apiCommand(t, tp, c.args...)
			if err == nil || !strings.Contains(err.Error()+out, c.words) {
				t.Errorf("%v: err %v, out %q; want an error saying %q", c.args, err, out, c.words)
			}
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM api_tokens`); n != rows {
			t.Errorf("tokens %d → %d", rows, n)
		}
	})

	t.Run("revoke: the token stops working, for good", func(t *testing.T) {
		id := itoa(int64(tp.count(t, `SELECT id FROM api_tokens WHERE name = 'Learning system'`)))
		out, err := apiCommand(t, tp, "revoke", id)
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		mustContain(t, out, "revoked")
		wantAPIError(t, apiGet(t, tp.BaseURL, tok, "/api/v1/completion"), 401, "unauthorized", "revoked")
		if _, err := apiCommand(t, tp, "revoke", id); err == nil || !strings.Contains(err.Error(), "already revoked") {
			t.Errorf("second revoke: %v", err)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'api_token.revoked' AND subject_id = ?`, id); n != 1 {
			t.Errorf("%d revocation events", n)
		}
		out, _ = apiCommand(t, tp, "list")
		mustContain(t, out, "revoked 20")
		// The database itself refuses to bring it back.
		raw := evRaw(t, tp.DB.Path)
		defer raw.Close()
		for _, q := range []string{`UPDATE api_tokens SET revoked_at = NULL WHERE id = ?`, `UPDATE api_tokens SET scopes = 'roster:write' WHERE id = ?`,
			`DELETE FROM api_tokens WHERE id = ?`} {
			if _, err := raw.Exec(q, id); err == nil {
				t.Errorf("%s: allowed", q)
			}
		}
		// A new token may take the name of the revoked one.
		if tok2 := cliToken(t, tp, "Learning system", "completion:read"); tok2 == tok {
			t.Error("the same token twice")
		}
	})
}

func TestAPIAuthentication(t *testing.T) {
	tp := startTestPortal(t)
	completion := cliToken(t, tp, "HR system", "completion:read")
	certs := cliToken(t, tp, "Records system", "certificates:read")
	code := tp.codeOf(t, tp.employee(t, "1002").ID)
	calls := func() int { return tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'api.called'`) }

	t.Run("no token, a bad one, an unknown one: 401 in JSON, nothing recorded", func(t *testing.T) {
		before := calls()
		for _, c := range []struct{ name, header string }{
			{"none", ""},
			{"not bearer", "Basic dXNlcjpwYXNz"},
			{"bearer without a token", "Bearer "},
			{"not a token", "Bearer hello"},
			{"unknown", "Bearer smp_" + strings.Repeat("A", 43)},
			{"one letter changed", "Bearer " + completion[:len(completion)-1] + flip(completion[len(completion)-1])},
		} {
			req, _ := http.NewRequest("GET", tp.BaseURL+"/api/v1/completion", nil)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			resp, err := testTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := response{Status: resp.StatusCode, Body: string(b), Header: resp.Header}
			wantAPIError(t, r, 401, "unauthorized", "token")
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: WWW-Authenticate %q", c.name, r.Header.Get("WWW-Authenticate"))
			}
			if r.Header.Get("Set-Cookie") != "" {
				t.Errorf("%s: the API set a cookie: %s", c.name, r.Header.Get("Set-Cookie"))
			}
		}
		if n := calls(); n != before {
			t.Errorf("refused calls were recorded: %d → %d", before, n)
		}
	})

	t.Run("a signed-in browser without a token: 401, whatever the role", func(t *testing.T) {
		for _, number := range []string{"1002", "1003"} { // HR, admin
			c := newClient(t, tp.BaseURL)
			c.signIn(tp.signInLink(t, number))
			wantAPIError(t, c.get("/api/v1/completion"), 401, "unauthorized", "API token")
			wantAPIError(t, c.get("/api/v1/certificates/"+code), 401, "unauthorized", "API token")
		}
	})

	t.Run("outside the token's scope: 403, recorded", func(t *testing.T) {
		before := calls()
		r := apiGet(t, tp.BaseURL, completion, "/api/v1/certificates/"+code)
		wantAPIError(t, r, 403, "forbidden", "certificates:read")
		if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
			t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
		}
		wantAPIError(t, apiGet(t, tp.BaseURL, certs, "/api/v1/completion"), 403, "forbidden", "completion:read")
		wantAPIError(t, apiGet(t, tp.BaseURL, certs, "/api/v1/people/1002/acknowledgments"), 403, "forbidden", "completion:read")
		if n := calls(); n != before+3 {
			t.Errorf("calls recorded %d → %d, want 3 more", before, n)
		}
	})

	t.Run("within scope: every call an audit event with the token, route and status", func(t *testing.T) {
		r := apiGet(t, tp.BaseURL, certs, "/api/v1/certificates/"+code)
		if r.Status != 200 || !strings.HasPrefix(r.Body, "%PDF-") || r.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("certificate: status %d %q", r.Status, r.Header.Get("Content-Type"))
		}
		id := tp.count(t, `SELECT id FROM api_tokens WHERE name = 'Records system'`)
		if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'api.called' AND subject_type = 'api_token' AND subject_id = ?
			AND detail = ?`, id, "GET /api/v1/certificates/"+code+" 200"); n != 1 {
			t.Errorf("%d audit events of the certificate call", n)
		}
		wantAPIError(t, apiGet(t, tp.BaseURL, certs, "/api/v1/certificates/AAAAA-AAAAA"), 404, "not_found", "No certificate")
		if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'api.called' AND subject_id = ? AND detail LIKE '% 404'`, id); n != 1 {
			t.Errorf("%d audit events of the 404", n)
		}
		if tp.text(t, `SELECT last_used_at FROM api_tokens WHERE id = ?`, id) == "" {
			t.Error("last use not noted")
		}
		// The audit log shows the calls in words, under the token's name.
		admin := newClient(t, tp.BaseURL)
		admin.signIn(tp.signInLink(t, "1003"))
		mustContain(t, admin.get("/hr/audit?action=api.called").Body, "API token “Records system”")
	})

	t.Run("bad certificate code: 400", func(t *testing.T) {
		wantAPIError(t, apiGet(t, tp.BaseURL, certs, "/api/v1/certificates/nope"), 400, "bad_request", "ten letters and digits")
	})

	t.Run("an unknown API address: 404 in JSON", func(t *testing.T) {
		wantAPIError(t, apiGet(t, tp.BaseURL, certs, "/api/v1/nothing"), 404, "not_found", "")
	})

	t.Run("one person's acknowledgments", func(t *testing.T) {
		var got struct {
			EmployeeNumber  string `json:"employee_number"`
			Name            string `json:"name"`
			Acknowledgments []struct {
				Cycle struct {
					ID   int64  `json:"id"`
					Name string `json:"name"`
				} `json:"cycle"`
				PolicyVersion   string `json:"policy_version"`
				Kind            string `json:"kind"`
				SignedAt        string `json:"signed_at"`
				Method          string `json:"method"`
				CertificateCode string `json:"certificate_code"`
			} `json:"acknowledgments"`
		}
		apiJSON(t, apiGet(t, tp.BaseURL, completion, "/api/v1/people/1002/acknowledgments"), 200, &got)
		if got.EmployeeNumber != "1002" || got.Name != "Hannah Roy" || len(got.Acknowledgments) != 1 {
			t.Fatalf("got %+v", got)
		}
		a := got.Acknowledgments[0]
		if a.CertificateCode != code || a.Cycle.ID != tp.cycleID(t) || a.PolicyVersion != tp.Version.Code || a.Method == "" || a.SignedAt == "" || a.Kind == "" {
			t.Errorf("acknowledgment %+v", a)
		}
		var none struct {
			Acknowledgments []any `json:"acknowledgments"`
		}
		apiJSON(t, apiGet(t, tp.BaseURL, completion, "/api/v1/people/1005/acknowledgments"), 200, &none)
		if none.Acknowledgments == nil || len(none.Acknowledgments) != 0 {
			t.Errorf("1005 has signed nothing: %+v", none)
		}
		wantAPIError(t, apiGet(t, tp.BaseURL, completion, "/api/v1/people/99999/acknowledgments"), 404, "not_found", "99999")
	})
}

// flip is another character of the token alphabet than b.
func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestAPIRateLimitPerToken(t *testing.T) {
	tp := startTestPortal(t, func(c *server.Config) { c.APIRatePerMinute = 3 })
	a := cliToken(t, tp, "A", "completion:read")
	b := cliToken(t, tp, "B", "completion:read")
	for i := 0; i < 3; i++ {
		if r := apiGet(t, tp.BaseURL, a, "/api/v1/completion?limit=1"); r.Status != 200 {
			t.Fatalf("call %d: status %d", i+1, r.Status)
		}
	}
	before := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'api.called'`)
	r := apiGet(t, tp.BaseURL, a, "/api/v1/completion?limit=1")
	wantAPIError(t, r, 429, "too_many_requests", "too many calls")
	if ra := mustAtoi(t, r.Header.Get("Retry-After")); ra < 1 || ra > 61 {
		t.Errorf("Retry-After %d", ra)
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'api.called'`); n != before {
		t.Error("a refused call was written to the audit log")
	}
	// The limit is the token's own: another token is not held back.
	if r := apiGet(t, tp.BaseURL, b, "/api/v1/completion?limit=1"); r.Status != 200 {
		t.Errorf("token B: status %d", r.Status)
	}
}

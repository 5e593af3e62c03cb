package store

import (
	"path/filepath"
	"strings"
	"testing"

	"portal/app"
)

func TestAPITokenLifecycle(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "tokens.db"), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	s := NewAPITokenService(db)
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	tok, secret, err := s.CreateAPIToken(ctx, "  LMS  ", []string{"certificates:read", "completion:read", "completion:read"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Name != "LMS" || strings.Join(tok.Scopes, " ") != "completion:read certificates:read" || !strings.HasPrefix(secret, "smp_") || len(secret) != 47 {
		t.Fatalf("token %+v %q", tok, secret)
	}

	t.Run("authenticates by its hash only", func(t *testing.T) {
		got, err := s.AuthenticateAPIToken(ctx, secret)
		if err != nil || got.ID != tok.ID {
			t.Fatalf("got %+v, %v", got, err)
		}
		for _, bad := range []string{"", secret[:46], secret + "x", strings.ToUpper(secret), "smp_" + strings.Repeat("A", 43)} {
			if _, err := s.AuthenticateAPIToken(ctx, bad); app.ErrorCode(err) != app.EUNAUTHORIZED {
				t.Errorf("%q: %v", bad, err)
			}
		}
	})

	t.Run("a live name is taken; bad input is refused with both fields", func(t *testing.T) {
		if _, _, err := s.CreateAPIToken(ctx, "LMS", []string{"roster:write"}, nil); app.ErrorCode(err) != app.EINVALID {
			t.Errorf("same name: %v", err)
		}
		_, _, err := s.CreateAPIToken(ctx, "", nil, nil)
		fe := []string{}
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			fe = append(fe, e.(*app.Error).Field)
		}
		if strings.Join(fe, ",") != "name,scope" {
			t.Errorf("fields %v", fe)
		}
		if n := count(`SELECT COUNT(*) FROM api_tokens`); n != 1 {
			t.Errorf("%d tokens", n)
		}
	})

	t.Run("a call is an audit event and notes the last use", func(t *testing.T) {
		if err := s.RecordAPICall(ctx, app.APICall{TokenID: tok.ID, Method: "GET", Route: "/api/v1/completion", Status: 200, IP: "10.0.0.1"}); err != nil {
			t.Fatal(err)
		}
		if n := count(`SELECT COUNT(*) FROM audit_events WHERE action = 'api.called' AND subject_type = 'api_token' AND subject_id = ?
			AND detail = 'GET /api/v1/completion 200' AND ip = '10.0.0.1'`, tok.ID); n != 1 {
			t.Errorf("%d call events", n)
		}
		if n := count(`SELECT COUNT(*) FROM log_entries l JOIN audit_events a ON l.kind = 'audit_event' AND l.ref_id = a.id WHERE a.action = 'api.called'`); n != 1 {
			t.Errorf("%d call events in the evidence log", n)
		}
		ts, err := s.APITokens(ctx)
		if err != nil || len(ts) != 1 || ts[0].LastUsedAt == nil {
			t.Errorf("tokens %+v, %v", ts, err)
		}
	})

	t.Run("revoked: refused, for good; its name is free again", func(t *testing.T) {
		r, err := s.RevokeAPIToken(ctx, tok.ID, nil)
		if err != nil || r.RevokedAt == nil {
			t.Fatalf("%+v, %v", r, err)
		}
		if _, err := s.AuthenticateAPIToken(ctx, secret); app.ErrorCode(err) != app.EUNAUTHORIZED {
			t.Errorf("revoked token: %v", err)
		}
		if _, err := s.RevokeAPIToken(ctx, tok.ID, nil); app.ErrorCode(err) != app.ECONFLICT {
			t.Errorf("second revoke: %v", err)
		}
		if _, err := s.RevokeAPIToken(ctx, 999, nil); app.ErrorCode(err) != app.ENOTFOUND {
			t.Errorf("unknown: %v", err)
		}
		if _, _, err := s.CreateAPIToken(ctx, "LMS", []string{"roster:write"}, nil); err != nil {
			t.Errorf("the name of a revoked token: %v", err)
		}
		if n := count(`SELECT COUNT(*) FROM audit_events WHERE action IN ('api_token.created', 'api_token.revoked')`); n != 3 {
			t.Errorf("%d token events", n)
		}
	})
}

// BenchmarkRecordAPICall is the cost every API call adds: its audit event,
// its evidence log entry and the token's last use, in one transaction.
func BenchmarkRecordAPICall(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "calls.db"), testOptions(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s := NewAPITokenService(db)
	tok, _, err := s.CreateAPIToken(b.Context(), "bench", []string{app.ScopeCompletionRead}, nil)
	if err != nil {
		b.Fatal(err)
	}
	call := app.APICall{TokenID: tok.ID, Method: "GET", Route: "/api/v1/completion", Status: 200, IP: "10.0.0.1"}
	b.ResetTimer()
	for b.Loop() {
		if err := s.RecordAPICall(b.Context(), call); err != nil {
			b.Fatal(err)
		}
	}
}

package handlers

import (
	"strings"
	"testing"
	"time"
)

// The flow cookie is the only thing that ties a provider's answer to the
// browser that asked: one altered, signed with another key, or too old is
// no sign-in in progress.
func TestOIDCFlowCookie(t *testing.T) {
	h := &Handler{Config: Config{Secret: []byte("0123456789abcdef0123456789abcdef")}}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	f := oidcFlow{State: "st", Nonce: "no", Verifier: "ve", Next: "/guidance", Expires: now.Add(oidcFlowTTL).Unix()}
	sealed, err := h.sealFlow(f)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := h.openFlow(sealed, now); err != nil || got != f {
		t.Fatalf("open: %+v, %v", got, err)
	}
	other := &Handler{Config: Config{Secret: []byte("another secret, another portal..")}}
	otherSealed, err := other.sealFlow(f)
	if err != nil {
		t.Fatal(err)
	}
	payload, sig, _ := strings.Cut(sealed, ".")
	forged, err := h.sealFlow(oidcFlow{State: "attacker", Nonce: "no", Verifier: "ve", Expires: f.Expires})
	if err != nil {
		t.Fatal(err)
	}
	forgedPayload, _, _ := strings.Cut(forged, ".")
	for name, v := range map[string]string{
		"empty":                        "",
		"no signature":                 payload,
		"another portal's key":         otherSealed,
		"a payload with another's MAC": forgedPayload + "." + sig,
		"a signature cut short":        payload + "." + sig[:10],
	} {
		if _, err := h.openFlow(v, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := h.openFlow(sealed, now.Add(oidcFlowTTL+time.Second)); err == nil {
		t.Error("a flow older than its 10 minutes: accepted")
	}
}

func TestClaimString(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{{" a@b.example ", "a@b.example"}, {float64(1007), "1007"}, {1.5, ""}, {nil, ""}, {true, ""}, {[]any{"x"}, ""}} {
		if got := claimString(tc.in); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.in, got, tc.want)
		}
	}
	if !emailUnverified(map[string]any{"email_verified": false}) || !emailUnverified(map[string]any{"email_verified": "false"}) ||
		emailUnverified(map[string]any{}) || emailUnverified(map[string]any{"email_verified": true}) {
		t.Error("email_verified read wrongly")
	}
}

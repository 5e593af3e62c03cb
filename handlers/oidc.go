package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCConfig is the OpenID Connect configuration, read once in main.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string // never logged, never stored
	// Claim names the person: "email" (looked up as the sign-in form looks
	// up an address) or a claim holding the employee number.
	Claim  string
	Scopes []string
}

// OIDC is the portal as an OpenID Connect relying party. Discovery is done
// on first use and, when the provider could not be reached, again on the
// next sign-in: a provider that is down at start does not stop the portal.
type OIDC struct {
	Config      OIDCConfig
	RedirectURL string       // PORTAL_BASE_URL + /signin/oidc/callback
	HTTPClient  *http.Client // for discovery, the provider's keys and the code exchange
	Logger      *slog.Logger

	mu         sync.Mutex
	provider   *oidc.Provider
	endSession string // the provider's end_session_endpoint, "" when it publishes none
}

// Discover reads the provider's discovery document unless it has been read.
func (o *OIDC) Discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	// The provider keeps the client for fetching its keys later, so the
	// request's cancellation must not reach it.
	ctx, cancel := context.WithTimeout(oidc.ClientContext(context.WithoutCancel(ctx), o.client()), 15*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, o.Config.Issuer)
	if err != nil {
		return nil, fmt.Errorf("openid connect discovery at %s: %w", o.Config.Issuer, err)
	}
	var doc struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&doc); err != nil {
		return nil, fmt.Errorf("openid connect discovery document: %w", err)
	}
	if u, err := url.Parse(doc.EndSession); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		o.endSession = doc.EndSession
	}
	o.provider = p
	return p, nil
}

// EndSessionURL is the provider's end-session address for a sign-out, or
// "" when its discovery document publishes none (or it was never read).
func (o *OIDC) EndSessionURL(idToken, postLogout string) string {
	o.mu.Lock()
	end := o.endSession
	o.mu.Unlock()
	if end == "" {
		return ""
	}
	u, err := url.Parse(end)
	if err != nil {
		return ""
	}
	q := u.Query()
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	q.Set("client_id", o.Config.ClientID)
	q.Set("post_logout_redirect_uri", postLogout)
	u.RawQuery = q.Encode()
	return u.String()
}

func (o *OIDC) client() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return &http.Client{Timeout: 15 * time.Second}
}

func (o *OIDC) oauth2(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: o.Config.ClientID, ClientSecret: o.Config.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: o.RedirectURL, Scopes: o.Config.Scopes}
}

// oidcFlow is what the start of a sign-in leaves in the browser for its
// callback: the state, nonce and PKCE verifier, the page to go to after,
// and when it stops being valid. It travels in a short-lived cookie signed
// with a key derived from PORTAL_SECRET, so it is bound to the browser that
// started the sign-in and nothing is stored on the server until it ends.
type oidcFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
	Expires  int64  `json:"e"`
}

const (
	oidcFlowCookie = "oidc_flow"
	oidcHintCookie = "oidc_hint" // the ID token, for the provider's end-session address at sign-out
	oidcFlowTTL    = 10 * time.Minute
)

func (h *Handler) oidcFlowMAC(payload string) []byte {
	m := hmac.New(sha256.New, h.Config.Secret)
	m.Write([]byte("oidc-flow\x00" + payload))
	return m.Sum(nil)
}

func (h *Handler) sealFlow(f oidcFlow) (string, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(h.oidcFlowMAC(payload)), nil
}

var errFlowInvalid = errors.New("no valid sign-in in progress in this browser")

func (h *Handler) openFlow(v string, now time.Time) (oidcFlow, error) {
	var f oidcFlow
	payload, sig, ok := strings.Cut(v, ".")
	if !ok {
		return f, errFlowInvalid
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, h.oidcFlowMAC(payload)) {
		return f, errFlowInvalid
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(b, &f) != nil || f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return f, errFlowInvalid
	}
	if now.Unix() > f.Expires {
		return f, errFlowInvalid
	}
	return f, nil
}

// claimString reads a claim as text: a string, or a number (an employee
// number some providers send as one) written without a fraction.
func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
	case json.Number:
		return x.String()
	}
	return ""
}

// emailUnverified reports whether the provider says the e-mail address is
// not verified (a boolean false, or the string "false" some send).
func emailUnverified(claims map[string]any) bool {
	switch v := claims["email_verified"].(type) {
	case bool:
		return !v
	case string:
		return strings.EqualFold(v, "false")
	}
	return false
}

package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// testOP is a small OpenID provider inside the test, on 127.0.0.1: the
// discovery document, its keys (JWKS), /authorize, /token and an
// end-session address, with ID tokens really signed (RS256, go-jose). It
// is as strict as a real provider where the portal's side is tested: a
// code works once, for the client and redirect address it was made for,
// and only with the PKCE verifier whose S256 challenge /authorize was
// given. Who signs in is set by the test (User), as if they had typed
// their password; Token changes the next ID tokens' claims or key, so the
// tests can send what an attacker or a broken provider would.
type testOP struct {
	URL, ClientID, Secret string

	key, otherKey *rsa.PrivateKey
	srv           *http.Server

	mu    sync.Mutex
	User  map[string]any // the claims of who signs in: sub, email, email_verified, ...
	Token func(claims map[string]any) *rsa.PrivateKey
	// EndSession publishes an end_session_endpoint in discovery.
	EndSession bool
	codes      map[string]*opCode
	Authorized []url.Values // each /authorize request's query, in order
	Redeemed   []url.Values // each /token request's form, in order
	LoggedOut  []url.Values // each end-session request's query, in order
}

type opCode struct {
	challenge, redirect, nonce string
	used                       bool
}

func startTestOP(t testing.TB, ln net.Listener) *testOP {
	t.Helper()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &testOP{URL: "http://" + ln.Addr().String(), ClientID: "portal-client", Secret: "s3cret-not-logged",
		key: key, otherKey: other, codes: map[string]*opCode{}, EndSession: true}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.jwks)
	mux.HandleFunc("GET /authorize", op.authorize)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /logout", op.logout)
	op.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go op.srv.Serve(ln) //nolint:errcheck // ends with Close below
	t.Cleanup(func() { op.srv.Close() })
	return op
}

func (op *testOP) set(f func(op *testOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

// seen returns copies of what the provider has been sent so far.
func (op *testOP) seen() (authorized, redeemed, loggedOut []url.Values) {
	op.mu.Lock()
	defer op.mu.Unlock()
	return slices.Clone(op.Authorized), slices.Clone(op.Redeemed), slices.Clone(op.LoggedOut)
}

func (op *testOP) discovery(w http.ResponseWriter, _ *http.Request) {
	op.mu.Lock()
	doc := map[string]any{"issuer": op.URL, "authorization_endpoint": op.URL + "/authorize",
		"token_endpoint": op.URL + "/token", "jwks_uri": op.URL + "/jwks",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"}}
	if op.EndSession {
		doc["end_session_endpoint"] = op.URL + "/logout"
	}
	op.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc) //nolint:errcheck
}

func (op *testOP) jwks(w http.ResponseWriter, _ *http.Request) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &op.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(set) //nolint:errcheck
}

// authorize signs the test's User in at once and sends the browser back
// with a code, as a provider does once the person has typed their password.
func (op *testOP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	op.mu.Lock()
	defer op.mu.Unlock()
	op.Authorized = append(op.Authorized, q)
	if q.Get("client_id") != op.ClientID || q.Get("response_type") != "code" || q.Get("redirect_uri") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := url.Values{"state": {q.Get("state")}}
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		v.Set("error", "invalid_request") // PKCE is required here, as a careful provider requires it
	} else {
		code := randomID()
		op.codes[code] = &opCode{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), nonce: q.Get("nonce")}
		v.Set("code", code)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (op *testOP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	op.Redeemed = append(op.Redeemed, r.PostForm)
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != op.ClientID || secret != op.Secret {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	c := op.codes[r.PostForm.Get("code")]
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code" || c == nil || c.used || c.redirect != r.PostForm.Get("redirect_uri"):
		if c != nil {
			c.used = true // a replayed code also ends what it gave, as RFC 6749 10.5 advises
		}
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	case r.PostForm.Get("code_verifier") == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge:
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	c.used = true
	now := time.Now()
	claims := map[string]any{"iss": op.URL, "aud": op.ClientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": c.nonce}
	for k, v := range op.User {
		claims[k] = v
	}
	key := op.key
	if op.Token != nil {
		if k := op.Token(claims); k != nil {
			key = k
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": randomID(), "token_type": "Bearer", "expires_in": 300, //nolint:errcheck
		"id_token": signJWT(key, claims)})
}

// logout ends the provider's session and sends the browser back to the
// address the portal gave, as RP-initiated logout does.
func (op *testOP) logout(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	op.LoggedOut = append(op.LoggedOut, r.URL.Query())
	op.mu.Unlock()
	back := r.URL.Query().Get("post_logout_redirect_uri")
	if back == "" {
		w.Write([]byte("signed out")) //nolint:errcheck
		return
	}
	http.Redirect(w, r, back, http.StatusFound)
}

func tokenError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code}) //nolint:errcheck
}

func signJWT(key *rsa.PrivateKey, claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		panic(err)
	}
	b, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	jws, err := signer.Sign(b)
	if err != nil {
		panic(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return s
}

func randomID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

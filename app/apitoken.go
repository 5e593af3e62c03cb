package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// API scopes: what a bearer token may do. Each API route needs exactly one.
const (
	ScopeCompletionRead   = "completion:read"   // completion per person, one person's acknowledgments
	ScopeCertificatesRead = "certificates:read" // certificate PDFs by code
	ScopeRosterWrite      = "roster:write"      // roster sync from the directory
)

// APIScopes lists every scope, in the order they are shown and stored.
var APIScopes = []string{ScopeCompletionRead, ScopeCertificatesRead, ScopeRosterWrite}

// APITokenPrefix starts every API token, so that a token pasted where it
// should not be (a ticket, a repository) is recognisable to people and to
// secret scanners.
const APITokenPrefix = "smp_"

// MaxAPITokenName is the longest name a token may have, in characters.
const MaxAPITokenName = 80

// APIToken is a bearer token for the API, as stored: never the token itself.
type APIToken struct {
	ID          int64
	Name        string
	Scopes      []string
	CreatedAt   time.Time
	CreatedBy   *int64 // nil: made on the command line
	CreatorName string // joined from the roster, for display
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
	RevokedBy   *int64
	RevokerName string // joined, for display
}

// HasScope reports whether the token may use routes that need scope.
func (t *APIToken) HasScope(scope string) bool { return slices.Contains(t.Scopes, scope) }

// NewAPITokenSecret returns a new token: the prefix and 256 random bits.
func NewAPITokenSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("token randomness: %w", err)
	}
	return APITokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashAPIToken is what is stored of a token and looked up: its SHA-256. A
// token has 256 random bits, so a plain hash is enough (nothing to guess).
func HashAPIToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// ValidateAPIToken checks a new token's name and scopes and returns them
// tidied: the name trimmed, the scopes known, once each, in APIScopes order.
// A bad name and bad scopes are both reported (errors.Join), each about its field.
func ValidateAPIToken(name string, scopes []string) (string, []string, error) {
	name = strings.TrimSpace(name)
	var nameErr, scopeErr error
	switch {
	case name == "":
		nameErr = Invalid("name", "Enter a name for the token, for example the system that will use it.")
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxAPITokenName:
		nameErr = Invalid("name", "Enter a name of at most %d characters.", MaxAPITokenName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		nameErr = Invalid("name", "Enter a name without tabs or line breaks.")
	}
	var out []string
	for _, s := range scopes {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(APIScopes, s) {
			scopeErr = Invalid("scope", "%q is not a scope. Choose from %s.", s, strings.Join(APIScopes, ", "))
			break
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 && scopeErr == nil {
		scopeErr = Invalid("scope", "Choose at least one scope: %s.", strings.Join(APIScopes, ", "))
	}
	if err := errors.Join(nameErr, scopeErr); err != nil {
		return "", nil, err
	}
	slices.SortFunc(out, func(a, b string) int { return slices.Index(APIScopes, a) - slices.Index(APIScopes, b) })
	return name, out, nil
}

// APICall is one call of the API by a token, for the audit log.
type APICall struct {
	TokenID int64
	Method  string
	Route   string // the path called, without the query
	Status  int
	IP      string
}

// APITokenService keeps the API's bearer tokens.
type APITokenService interface {
	// CreateAPIToken stores a new token (name and scopes as ValidateAPIToken
	// wants them; ECONFLICT if a live token has the name) with its audit
	// event, and returns it with the token itself: the only time it is known.
	CreateAPIToken(ctx context.Context, name string, scopes []string, actor *int64) (*APIToken, string, error)
	// APITokens lists every token, live ones first, newest first.
	APITokens(ctx context.Context) ([]*APIToken, error)
	// RevokeAPIToken revokes a token for good, with its audit event
	// (ENOTFOUND for no such token, ECONFLICT if already revoked).
	RevokeAPIToken(ctx context.Context, id int64, actor *int64) (*APIToken, error)
	// AuthenticateAPIToken finds the live token whose hash is secret's;
	// EUNAUTHORIZED for any other secret, a revoked one included.
	AuthenticateAPIToken(ctx context.Context, secret string) (*APIToken, error)
	// RecordAPICall appends the call's audit event and notes when the
	// token was last used, in one short transaction.
	RecordAPICall(ctx context.Context, call APICall) error
}

package app

import (
	"context"
	"time"
)

// Session is a signed-in browser. Only the SHA-256 of its id is stored.
type Session struct {
	ID         string // the raw id, known only to the cookie and this request
	EmployeeID int64
	AuthMethod string
	Identity   string // the address the sign-in link went to, the SSO identity, or the OpenID subject
	Issuer     string // the OpenID Connect issuer of Identity; "" for other methods
	CreatedAt  time.Time
	LastSeenAt time.Time
	Employee   *Employee // the signed-in employee, read with the session by FindSession
}

// SignInService issues and takes one-time sign-in links.
type SignInService interface {
	// CreateLoginToken stores the hash of a new one-time token for the
	// employee, to be sent to their address as it is now, and returns the
	// raw token to mail.
	CreateLoginToken(ctx context.Context, employeeID int64, ttl time.Duration) (string, error)
	// PeekLoginToken returns the employee a valid token belongs to without using it.
	PeekLoginToken(ctx context.Context, token string) (*Employee, error)
	// ConsumeLoginToken uses the token once and returns its employee and
	// the address the link was sent to.
	ConsumeLoginToken(ctx context.Context, token string) (*Employee, string, error)
}

// SessionService manages server-side sessions.
type SessionService interface {
	// CreateSession starts a session signed in by method as identity. A
	// person who has started MaxSignIns sessions in SignInWindow gets
	// ETOOMANY and no session.
	CreateSession(ctx context.Context, employeeID int64, method, identity string) (*Session, error)
	// CreateIssuedSession is CreateSession for an identity an issuer
	// vouches for (OpenID Connect: the subject and its issuer).
	CreateIssuedSession(ctx context.Context, employeeID int64, method, identity, issuer string) (*Session, error)
	// FindSession returns the live session for a raw id, touching its last-seen time.
	FindSession(ctx context.Context, id string) (*Session, error)
	DeleteSession(ctx context.Context, id string) error
}

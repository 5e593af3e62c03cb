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
	Identity   string // the address the sign-in link went to, or the SSO identity
	CreatedAt  time.Time
	LastSeenAt time.Time
	Employee   *Employee // the signed-in employee, read with the session by FindSession
}

// SessionService manages server-side sessions and one-time sign-in links.
type SessionService interface {
	// CreateLoginToken stores the hash of a new one-time token for the
	// employee, to be sent to their address as it is now, and returns the
	// raw token to mail.
	CreateLoginToken(ctx context.Context, employeeID int64, ttl time.Duration) (string, error)
	// PeekLoginToken returns the employee a valid token belongs to without using it.
	PeekLoginToken(ctx context.Context, token string) (*Employee, error)
	// ConsumeLoginToken uses the token once and returns its employee and
	// the address the link was sent to.
	ConsumeLoginToken(ctx context.Context, token string) (*Employee, string, error)
	// CreateSession starts a session signed in by method as identity. A
	// person who has started MaxSignIns sessions in SignInWindow gets
	// ETOOMANY and no session.
	CreateSession(ctx context.Context, employeeID int64, method, identity string) (*Session, error)
	// FindSession returns the live session for a raw id, touching its last-seen time.
	FindSession(ctx context.Context, id string) (*Session, error)
	DeleteSession(ctx context.Context, id string) error
}

// AuditEvent is one entry of the audit log. Every event also enters the
// evidence chain.
type AuditEvent struct {
	ID          int64
	At          time.Time
	ActorID     *int64
	Action      string
	SubjectType string
	SubjectID   int64
	Detail      string
	IP          string
	ActorName   string // joined from the roster, for display
}

// EvidenceCheck is the result of checking every evidence record.
type EvidenceCheck struct {
	Entries int64  // evidence log entries checked
	Legacy  int    // records of the chain kept from before the log, checked too
	Problem string // the first problem, naming the record; "" when everything verifies
}

// ChainBreak describes the first record of the evidence chain that does not verify.
type ChainBreak struct {
	Seq    int64
	Kind   string
	RefID  int64
	Reason string
}

// AuditService writes audit events and verifies the evidence chain.
type AuditService interface {
	RecordEvent(ctx context.Context, e *AuditEvent) error
	FindEvents(ctx context.Context, subjectType string, subjectID int64) ([]*AuditEvent, error)
	// ListEvents returns a page of all events, newest first, and the total.
	ListEvents(ctx context.Context, offset, limit int) ([]*AuditEvent, int, error)
	// VerifyEvidence re-hashes every evidence record and checks the log,
	// its seals and its signed checkpoints, and the chain kept from before it.
	VerifyEvidence(ctx context.Context) (*EvidenceCheck, error)
}

// Message kinds.
const (
	MailSignIn      = "signin"      // a one-time sign-in link (rendered when enqueued)
	MailInvitation  = "invitation"  // the cycle is open for you
	MailReminder    = "reminder"    // a scheduled reminder; Step says which
	MailEscalation  = "escalation"  // to a manager: one of their people is overdue
	MailDigest      = "digest"      // to a manager: this week's overdue people
	MailCertificate = "certificate" // a copy of the signed certificate, attached
	// MailAddressChange tells the old and the new address of a change of
	// address asked for, approved or refused.
	MailAddressChange = "address_change"
	MailRoleChange    = "role_change" // to every administrator: a role was granted or removed
	MailCheckpoint    = "checkpoint"  // to a witness: the day's signed checkpoint of the evidence log
)

// Message is one e-mail in the outbox. Scheduled messages are stored with
// their kind and subjects only, and rendered when sent.
type Message struct {
	ID          int64
	DedupeKey   string
	Kind        string
	EmployeeID  *int64 // the recipient, when an employee
	CycleID     *int64
	AboutID     *int64 // the overdue employee (escalation) or acknowledgment (certificate)
	Attachments []Attachment
	ToAddr      string
	ToName      string
	Subject     string
	Text        string
	HTML        string
	Sealed      []byte // a sign-in message's link, encrypted with a key kept outside the database
	Status      string // queued, sent, failed, skipped
	Attempts    int
	CreatedAt   time.Time
	SentAt      *time.Time
}

// Attachment is a file attached to a message.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Outbox stores messages for the mail worker; handlers only enqueue.
type Outbox interface {
	// Enqueue stores m unless a message with the same dedupe key exists.
	Enqueue(ctx context.Context, m *Message) (bool, error)
	FindMessages(ctx context.Context, limit int) ([]*Message, error)
	// FindMessagesTo returns the newest messages to one address.
	FindMessagesTo(ctx context.Context, addr string, limit int) ([]*Message, error)
}

// Sender delivers one message. A returned *SendError tells the worker
// whether the failure is permanent.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// SendError is a delivery failure; Permanent is true for a 5xx answer.
type SendError struct {
	Permanent bool
	Err       error
}

// Error implements error.
func (e *SendError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *SendError) Unwrap() error { return e.Err }

// Sealer encrypts what must not be stored in clear — a sign-in link waiting
// in the outbox — with a key kept outside the database. Label binds the
// sealed text to its message.
type Sealer interface {
	Seal(plain, label string) ([]byte, error)
	Open(sealed []byte, label string) (string, error)
}

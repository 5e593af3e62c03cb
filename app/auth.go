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
	CreatedAt  time.Time
	LastSeenAt time.Time
	Employee   *Employee // the signed-in employee, read with the session by FindSession
}

// SessionService manages server-side sessions and one-time sign-in links.
type SessionService interface {
	// CreateLoginToken stores the hash of a new one-time token for the
	// employee and returns the raw token to mail.
	CreateLoginToken(ctx context.Context, employeeID int64, ttl time.Duration) (string, error)
	// PeekLoginToken returns the employee a valid token belongs to without using it.
	PeekLoginToken(ctx context.Context, token string) (*Employee, error)
	// ConsumeLoginToken uses the token once and returns its employee.
	ConsumeLoginToken(ctx context.Context, token string) (*Employee, error)
	CreateSession(ctx context.Context, employeeID int64, method string) (*Session, error)
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
	// VerifyChain walks the whole chain; it returns the number of records
	// checked and the first break, or nil if the chain verifies.
	VerifyChain(ctx context.Context) (int, *ChainBreak, error)
}

// Message kinds.
const (
	MailSignIn      = "signin"      // a one-time sign-in link (rendered when enqueued)
	MailInvitation  = "invitation"  // the cycle is open for you
	MailReminder    = "reminder"    // a scheduled reminder; Step says which
	MailEscalation  = "escalation"  // to a manager: one of their people is overdue
	MailDigest      = "digest"      // to a manager: this week's overdue people
	MailCertificate = "certificate" // a copy of the signed certificate, attached
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

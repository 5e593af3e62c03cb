package app

import (
	"context"
	"time"
)

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

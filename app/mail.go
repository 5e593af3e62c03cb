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
	// MailAccountReview goes to an agency's Social Media Supervisor: an
	// account is past its review date (AboutID the account, Subject the
	// review date it was queued for).
	MailAccountReview = "account_review"
	// Poster authorizations and Terms of Comment: written in full when
	// queued (the store fills Text; {portal} stands for the portal's address).
	MailTerms        = "terms"         // to a poster: their agency's Terms of Comment, to confirm
	MailPosterEnded  = "poster_ended"  // to the supervisor: authorizations the roster ended; change the passwords
	MailPosterEnding = "poster_ending" // to a poster and the supervisor: an authorization ends soon
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
	// MailFault returns the mail server's refusal of the portal while it
	// lasts, or ENOTFOUND when mail is going out.
	MailFault(ctx context.Context) (*MailFault, error)
	// Unreachable returns when and why the mail server refused addr, or
	// ENOTFOUND when it is not marked.
	Unreachable(ctx context.Context, addr string) (*UnreachableAddress, error)
	// RetryAddress clears addr's unreachable mark and records e in the same
	// transaction; ENOTFOUND when addr is not marked.
	RetryAddress(ctx context.Context, addr string, e *AuditEvent) error
}

// Lanes of the outbox. Each lane is claimed and sent apart, over its own
// connection, so that a slow or failing mail server cannot hold a sign-in
// link up behind a batch of reminders. Sign-in links are the only messages
// someone is waiting for at the screen: a certificate copy follows a page
// that already shows and downloads the certificate, and everything else is
// scheduled.
const (
	LaneSignIn = "signin" // sign-in links
	LaneOther  = "other"  // every other kind
)

// Claim asks for up to Limit due messages of one lane, leased to Owner
// until Until. Leases are measured on the wall clock (Now), not the
// portal's clock: they say whether a process is still alive.
type Claim struct {
	Owner string
	Lane  string
	Limit int
	Now   time.Time // leases that ended before Now are free to take
	Until time.Time // the new lease's end
}

// Sender delivers one message. A returned *SendError says what the failure
// means for the message and for the outbox.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// SendFailure says what a failed delivery means.
type SendFailure int

// Failures, by what the server refused.
const (
	// SendTemporary is a 4xx answer, a timeout or a dropped connection:
	// the message is retried with back-off.
	SendTemporary SendFailure = iota
	// SendRecipient is a 5xx answer to RCPT TO: the server refuses that
	// address, which is marked unreachable.
	SendRecipient
	// SendRejected is a 5xx answer to the message itself (DATA): it is
	// given up, and its address is not marked.
	SendRejected
	// SendConfig is the server refusing the portal itself — a 5xx on
	// connection, EHLO, STARTTLS, AUTH or MAIL FROM, or TLS or
	// authentication it does not offer: no message can go until the
	// set-up is fixed, so delivery stops and every message stays queued.
	SendConfig
)

// SendError is a delivery failure.
type SendError struct {
	Failure SendFailure
	Stage   string // where in the SMTP transaction: connect, ehlo, starttls, auth, mail, rcpt, data
	Reply   string // the server's answer, such as "530 5.7.0 Authentication required"; "" when it gave none
	Err     error
}

// Error implements error.
func (e *SendError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *SendError) Unwrap() error { return e.Err }

// MailFault is the mail server refusing the portal (SendConfig), kept while
// it lasts so that HR's dashboard can say so; it holds the server's answer,
// never the portal's credentials.
type MailFault struct {
	Since time.Time // the first refusal
	Last  time.Time // the latest
	Stage string
	Reply string
}

// Step names the SMTP step the server refused, for people.
func (f *MailFault) Step() string {
	switch f.Stage {
	case "connect":
		return "on connection"
	case "ehlo":
		return "at EHLO"
	case "starttls":
		return "at STARTTLS"
	case "auth":
		return "at AUTH (the portal's sign-in to the mail server)"
	case "mail":
		return "at MAIL FROM (the portal's sender address)"
	}
	return "at " + f.Stage
}

// UnreachableAddress is an address the mail server refused for good (a 5xx
// to RCPT TO). A later delivery to it, or HR trying it again, clears it.
type UnreachableAddress struct {
	Email  string
	At     time.Time
	Reason string
}

// Sealer encrypts what must not be stored in clear — a sign-in link waiting
// in the outbox — with a key kept outside the database. Label binds the
// sealed text to its message.
type Sealer interface {
	Seal(plain, label string) ([]byte, error)
	Open(sealed []byte, label string) (string, error)
}

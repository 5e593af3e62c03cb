package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// TermsOfComment is one published version of an agency's Terms of Comment:
// the rules the agency posts for the public commenting on its accounts,
// which each authorized poster is given. Markdown; immutable once
// published (the SHA256 of Body is stored with it). The version in force
// is the agency's highest.
type TermsOfComment struct {
	ID            int64
	Agency        string
	Version       int
	Body          string
	SHA256        string
	PublishedBy   *int64
	PublisherName string // joined from the roster, for display
	PublishedAt   time.Time
}

// MaxTermsBytes bounds a Terms of Comment text.
const MaxTermsBytes = 64 << 10

// TermsDigest is the hex SHA-256 of a Terms of Comment body as stored.
func TermsDigest(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// NormalizeTerms is the body as it is published: line endings made "\n",
// trailing blanks of the whole text removed.
func NormalizeTerms(body string) string {
	return strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n")) + "\n"
}

// ValidateTermsBody checks a text about to be published.
func ValidateTermsBody(body string) error {
	switch {
	case strings.TrimSpace(body) == "":
		return Invalid("body", "Enter the text of the Terms of Comment.")
	case len(body) > MaxTermsBytes:
		return Invalid("body", "The text is longer than %d KB; shorten it.", MaxTermsBytes>>10)
	case !utf8.ValidString(body):
		return Invalid("body", "The text is not valid UTF-8 text.")
	}
	return nil
}

// TermsTask is a Terms of Comment version delivered to a person and, once
// they confirm it in the portal, received.
type TermsTask struct {
	TermsID     int64
	Agency      string
	Version     int
	DeliveredAt time.Time
	ReceivedAt  *time.Time
}

// TermsReceipt is a person's confirmation that they have a Terms of
// Comment version (evidence), with where it came from.
type TermsReceipt struct {
	TermsID    int64
	EmployeeID int64
	IP         string
	UserAgent  string
	ReceivedAt time.Time
}

// TermsService publishes Terms of Comment and records their delivery to
// posters and their receipt.
type TermsService interface {
	// PublishTerms publishes body as the agency's next version, with an
	// audit event, and delivers it to everyone authorized on one of the
	// agency's accounts today or later (a mail with the text, once).
	PublishTerms(ctx context.Context, t *TermsOfComment, ip string) error
	// FindTerms lists an agency's versions, newest first.
	FindTerms(ctx context.Context, agency string) ([]*TermsOfComment, error)
	// FindTermsByID returns one version.
	FindTermsByID(ctx context.Context, id int64) (*TermsOfComment, error)
	// TermsTasks lists the versions delivered to a person, newest first,
	// with their receipts.
	TermsTasks(ctx context.Context, employeeID int64) ([]*TermsTask, error)
	// ReceiveTerms records the person's receipt of a version delivered to
	// them, with an audit event; ENOTFOUND when it was not delivered to
	// them, ECONFLICT when already received.
	ReceiveTerms(ctx context.Context, r *TermsReceipt) error
}

package app

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Account statuses: an account in use, one kept but not posted on, and one
// the agency has closed (kept in the registry as a record).
const (
	AccountActive  = "active"
	AccountDormant = "dormant"
	AccountClosed  = "closed"
)

// AccountStatuses lists the statuses in the order the pages offer them.
var AccountStatuses = []string{AccountActive, AccountDormant, AccountClosed}

// AccountStatusLabel names an account status in words.
func AccountStatusLabel(s string) string {
	switch s {
	case AccountActive:
		return "Active"
	case AccountDormant:
		return "Dormant"
	case AccountClosed:
		return "Closed"
	}
	return "Unknown"
}

// SocialAccount is one account held in an agency's name: where it is, what
// it is for, who accepted the site's terms of use for the agency and when,
// how its posts and comments are kept as public records, its status and
// when its supervisor next reviews it.
type SocialAccount struct {
	ID              int64
	Agency          string
	Platform        string
	Handle          string
	URL             string
	Purpose         string
	TermsAcceptedBy string // a name: that person may have left
	TermsAcceptedOn string // YYYY-MM-DD
	ArchiveMethod   string
	Status          string
	ReviewOn        string // YYYY-MM-DD
	CreatedAt       time.Time
	UpdatedAt       time.Time
	// The agency's Social Media Supervisor now (joined; "" for none).
	SupervisorName  string
	SupervisorEmail string
}

// ReviewOverdue reports whether an account still held (not closed) is past
// its review date on today (YYYY-MM-DD).
func (a *SocialAccount) ReviewOverdue(today string) bool {
	return a.Status != AccountClosed && a.ReviewOn < today
}

// StatusLabel names the account's status in words.
func (a *SocialAccount) StatusLabel() string { return AccountStatusLabel(a.Status) }

// Validate checks every field and returns each problem as an EINVALID
// error about its field (errors.Join), or nil. today bounds the date the
// terms were accepted on.
func (a *SocialAccount) Validate(today string) error {
	var errs []error
	bad := func(field, msg string) { errs = append(errs, Invalid(field, "%s", msg)) }
	text := func(field, v, empty string, max int) {
		switch {
		case v == "":
			bad(field, empty)
		case len(v) > max:
			bad(field, "Use at most "+strconv.Itoa(max)+" characters.")
		case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
			bad(field, "Remove the control characters.")
		}
	}
	if a.Agency == "" {
		bad("agency", "Choose the agency that holds the account.")
	}
	text("platform", a.Platform, "Enter the platform, for example Facebook.", 60)
	text("handle", a.Handle, "Enter the account's handle or name on the platform.", 100)
	if a.Handle != "" && strings.ContainsFunc(a.Handle, unicode.IsSpace) {
		bad("handle", "Enter the handle without spaces.")
	}
	if a.URL == "" {
		bad("url", "Enter the account's address, beginning with https://.")
	} else if u, err := url.Parse(a.URL); err != nil || u.Scheme != "https" || u.Host == "" || len(a.URL) > 500 || u.User != nil {
		bad("url", "Enter the account's address as a full https:// address, for example https://www.facebook.com/AgencyName.")
	}
	text("purpose", a.Purpose, "Say what the agency uses the account for.", 1000)
	text("terms_accepted_by", a.TermsAcceptedBy, "Enter who accepted the site's terms of use for the agency.", 200)
	if a.TermsAcceptedOn == "" {
		bad("terms_accepted_on", "Enter the date the site's terms of use were accepted.")
	} else if _, err := time.Parse(DateLayout, a.TermsAcceptedOn); err != nil {
		bad("terms_accepted_on", "Enter the date the terms were accepted as a real date, for example 2026-03-01.")
	} else if a.TermsAcceptedOn > today {
		bad("terms_accepted_on", "The date the terms were accepted cannot be in the future.")
	}
	text("archive_method", a.ArchiveMethod, "Say how posts and comments are kept as public records (the tool or method).", 500)
	switch a.Status {
	case AccountActive, AccountDormant, AccountClosed:
	default:
		bad("status-active", "Choose the account's status: active, dormant or closed.")
	}
	if a.ReviewOn == "" {
		bad("review_on", "Enter the date of the account's next review.")
	} else if _, err := time.Parse(DateLayout, a.ReviewOn); err != nil {
		bad("review_on", "Enter the review date as a real date, for example 2027-03-01.")
	}
	return errors.Join(errs...)
}

// AccountFieldLabels names the fields of an account in words, for its
// change history.
var AccountFieldLabels = map[string]string{
	"agency": "Agency", "platform": "Platform", "handle": "Handle", "url": "Address", "purpose": "Purpose",
	"terms_accepted_by": "Terms of use accepted by", "terms_accepted_on": "Terms of use accepted on",
	"archive_method": "How posts and comments are kept", "status": "Status", "review_on": "Next review",
}

// AccountDiff lists the fields that differ from old to a, as
// [field, old, new]; with old nil, every field of a as new.
func AccountDiff(old, a *SocialAccount) [][3]string {
	fields := func(x *SocialAccount) [][2]string {
		if x == nil {
			x = &SocialAccount{}
		}
		return [][2]string{{"agency", x.Agency}, {"platform", x.Platform}, {"handle", x.Handle}, {"url", x.URL},
			{"purpose", x.Purpose}, {"terms_accepted_by", x.TermsAcceptedBy}, {"terms_accepted_on", x.TermsAcceptedOn},
			{"archive_method", x.ArchiveMethod}, {"status", x.Status}, {"review_on", x.ReviewOn}}
	}
	was, now := fields(old), fields(a)
	var out [][3]string
	for i := range now {
		if was[i][1] != now[i][1] {
			out = append(out, [3]string{now[i][0], was[i][1], now[i][1]})
		}
	}
	return out
}

// AccountChange is one recorded change of an account (evidence).
type AccountChange struct {
	ID        int64
	AccountID int64
	ActorID   *int64
	ActorName string
	At        time.Time
	Changes   [][3]string // [field, old, new]
}

// AccountFilter selects accounts. Agencies limits them to these agencies
// unless All; Agency and Status narrow further ("" for any).
type AccountFilter struct {
	All      bool
	Agencies []string
	Agency   string
	Status   string
}

// AccountService keeps the registry of accounts. Every create and change
// writes a change row and an audit event in the same transaction.
type AccountService interface {
	FindAccounts(ctx context.Context, f AccountFilter) ([]*SocialAccount, error)
	FindAccountByID(ctx context.Context, id int64) (*SocialAccount, error)
	// CreateAccount adds a to the registry and sets its ID.
	CreateAccount(ctx context.Context, a *SocialAccount, actorID int64) error
	// UpdateAccount saves a's fields (its agency never changes); a change
	// of nothing records nothing.
	UpdateAccount(ctx context.Context, a *SocialAccount, actorID int64) error
	// AccountChanges is an account's history, oldest first.
	AccountChanges(ctx context.Context, id int64) ([]*AccountChange, error)
}

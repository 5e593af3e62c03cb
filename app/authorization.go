package app

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// Authorization is a Social Media Supervisor's authorization of one person
// to post for the agency on one account (an evidence record, never changed
// nor deleted). It ends on EndsOn, or earlier when an AuthorizationEnd
// record ends it: a supervisor's revocation, or the roster deactivating the
// person or moving them to another agency.
type Authorization struct {
	ID             int64
	EmployeeID     int64
	EmployeeNumber string // joined from the roster, for display
	EmployeeName   string
	EmployeeEmail  string
	AccountID      int64
	Platform       string // joined from the account registry
	Handle         string
	Agency         string
	Scope          string // what the person may do on the account
	StartsOn       string // YYYY-MM-DD
	EndsOn         string // YYYY-MM-DD, "" until revoked
	TermsID        *int64 // the Terms of Comment version in force when given
	TermsVersion   int    // its number, 0 for none
	GrantedBy      *int64
	GrantedByName  string
	GrantedAt      time.Time
	// Ended is the early end, nil while the authorization runs its course.
	Ended *AuthorizationEnd
	// TermsReceived reports whether the person has confirmed receipt of
	// the agency's Terms of Comment version in force today (filled by
	// FindAuthorizations; false when the agency has none).
	TermsReceived bool
	// TermsInForce is the number of that version, 0 for none.
	TermsInForce int
}

// Reasons an authorization ends early.
const (
	EndRevoked     = "revoked"     // by a supervisor, with a note
	EndDeactivated = "deactivated" // the roster deactivated the person
	EndTransferred = "transferred" // the roster moved the person to another agency
)

// AuthorizationEnd is the record that ends an authorization early
// (evidence). ActorID is nil when the portal ended it after a roster change.
type AuthorizationEnd struct {
	ID        int64
	Reason    string
	Note      string
	ActorID   *int64
	ActorName string
	At        time.Time
}

// Authorization statuses, as /posters shows them in words.
const (
	AuthActive      = "active"
	AuthEndingSoon  = "ending-soon"
	AuthNotStarted  = "not-started"
	AuthEnded       = "ended"
	AuthEndingSoonN = 14 // days before EndsOn an authorization is "ending soon" and its reminder goes out
)

// Status is the authorization's state on today (YYYY-MM-DD).
func (a *Authorization) Status(today string) string {
	switch {
	case a.Ended != nil || (a.EndsOn != "" && a.EndsOn < today):
		return AuthEnded
	case a.StartsOn > today:
		return AuthNotStarted
	case a.EndsOn != "" && a.EndsOn <= addDays(today, AuthEndingSoonN):
		return AuthEndingSoon
	}
	return AuthActive
}

// ActiveOn reports whether the authorization lets its holder post on today.
func (a *Authorization) ActiveOn(today string) bool {
	s := a.Status(today)
	return s == AuthActive || s == AuthEndingSoon
}

// AuthorizationStatusLabel is a status in words.
func AuthorizationStatusLabel(s string) string {
	switch s {
	case AuthActive:
		return "Active"
	case AuthEndingSoon:
		return "Ending soon"
	case AuthNotStarted:
		return "Not yet started"
	case AuthEnded:
		return "Ended"
	}
	return s
}

// EndReasonLabel says in words why an authorization ended early.
func EndReasonLabel(r string) string {
	switch r {
	case EndRevoked:
		return "Revoked by the supervisor"
	case EndDeactivated:
		return "Ended: the person left the roster"
	case EndTransferred:
		return "Ended: the person moved to another agency"
	}
	return r
}

func addDays(day string, n int) string {
	t, err := time.Parse(DateLayout, day)
	if err != nil {
		return day
	}
	return t.AddDate(0, 0, n).Format(DateLayout)
}

// maxScope bounds an authorization's scope: a short text.
const maxScope = 300

// AuthorizationRequest is a supervisor authorizing one person on one or
// more of the agency's active accounts, all at once.
type AuthorizationRequest struct {
	Agency         string // the supervisor's agency: the person and every account must be of it
	EmployeeNumber string
	AccountIDs     []int64
	StartsOn       string
	EndsOn         string // "" for until revoked
	Scope          string
	ActorID        int64
	IP             string
}

// Validate checks the request's own fields (the store checks the person
// and the accounts): every problem, each at its field.
func (r *AuthorizationRequest) Validate() error {
	r.EmployeeNumber, r.Scope = strings.TrimSpace(r.EmployeeNumber), strings.TrimSpace(r.Scope)
	r.StartsOn, r.EndsOn = strings.TrimSpace(r.StartsOn), strings.TrimSpace(r.EndsOn)
	var errs []error
	if r.EmployeeNumber == "" {
		errs = append(errs, Invalid("employee", "Enter the employee number of the person to authorize, or find them by name."))
	}
	if len(r.AccountIDs) == 0 {
		errs = append(errs, Invalid("accounts", "Choose at least one account they may post on."))
	}
	startOK := validDate(r.StartsOn)
	if !startOK {
		errs = append(errs, Invalid("starts_on", "Enter the start date as a date, for example 2026-12-01."))
	}
	if r.EndsOn != "" {
		switch {
		case !validDate(r.EndsOn):
			errs = append(errs, Invalid("ends_on", "Enter the end date as a date, for example 2027-06-30, or leave it empty."))
		case startOK && r.EndsOn <= r.StartsOn:
			errs = append(errs, Invalid("ends_on", "The end date must be after the start date."))
		}
	}
	switch {
	case r.Scope == "":
		errs = append(errs, Invalid("scope", "Say what they may do on these accounts, for example \"post news and answer comments\"."))
	case utf8.RuneCountInString(r.Scope) > maxScope:
		errs = append(errs, Invalid("scope", "The scope must be at most %d characters.", maxScope))
	}
	return errors.Join(errs...)
}

func validDate(s string) bool {
	t, err := time.Parse(DateLayout, s)
	return err == nil && t.Format(DateLayout) == s
}

// Revocation is a supervisor ending an authorization early.
type Revocation struct {
	AuthorizationID int64
	Agency          string // the supervisor's agency: another agency's authorization is not found
	Note            string // why
	ActorID         int64
	IP              string
}

// Validate checks the revocation's reason.
func (r *Revocation) Validate() error {
	r.Note = strings.TrimSpace(r.Note)
	switch {
	case r.Note == "":
		return Invalid("reason", "Say why the authorization ends.")
	case utf8.RuneCountInString(r.Note) > maxReason:
		return Invalid("reason", "The reason must be at most %d characters.", maxReason)
	}
	return nil
}

// CommittedError is an error of the work that follows a committed write
// (OnPostersChanged): what was recorded stands, so the caller reports
// success and logs Err.
type CommittedError struct{ Err error }

func (e *CommittedError) Error() string { return "after commit: " + e.Err.Error() }

// Unwrap returns the follow-up's error.
func (e *CommittedError) Unwrap() error { return e.Err }

// PosterAccount is an account of the registry as authorizations need it.
type PosterAccount struct {
	ID       int64
	Agency   string
	Platform string
	Handle   string
	Status   string // active, dormant, closed
}

// Name is how the account is named: "Facebook StateDAFSNews".
func (a *PosterAccount) Name() string { return a.Platform + " " + a.Handle }

// AuthorizationFilter selects authorizations; empty fields do not filter.
type AuthorizationFilter struct {
	Agencies   []string // of these agencies only (nil: every agency)
	EmployeeID *int64
	AccountID  *int64 // on this account only
	Today      string // for TermsReceived: the version in force
}

// PersonChoice is one person a supervisor may authorize, for the search.
type PersonChoice struct {
	EmployeeNumber string
	FullName       string
	Title          string
}

// AuthorizationService gives and ends poster authorizations.
type AuthorizationService interface {
	// Authorize records one authorization per account, all in one
	// transaction with an audit event each, and delivers the Terms of
	// Comment in force to the person.
	Authorize(ctx context.Context, r *AuthorizationRequest) ([]*Authorization, error)
	// Revoke ends an authorization of r.Agency early; ENOTFOUND for
	// another agency's, ECONFLICT for one already ended.
	Revoke(ctx context.Context, r *Revocation) error
	// FindAuthorizations lists authorizations, newest first.
	FindAuthorizations(ctx context.Context, f AuthorizationFilter) ([]*Authorization, error)
	// PosterAccounts lists an agency's accounts of the registry.
	PosterAccounts(ctx context.Context, agency string) ([]*PosterAccount, error)
	// FindPeople finds active people of the agency by name or number, for
	// the authorization form's search (at most limit).
	FindPeople(ctx context.Context, agency, query string, limit int) ([]*PersonChoice, error)
}

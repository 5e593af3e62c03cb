package app

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// DueExtension is HR moving one person's due date later in a cycle, and
// why: an evidence record, never changed nor deleted.
type DueExtension struct {
	ID         int64
	CycleID    int64
	EmployeeID int64
	OldDueOn   string // YYYY-MM-DD
	NewDueOn   string // YYYY-MM-DD
	Reason     string
	ActorID    *int64
	ActorName  string // joined from the roster, for display
	CreatedAt  time.Time
}

// Exemption actions: HR excuses someone from a cycle, or ends that.
const (
	ExemptionStart = "start"
	ExemptionEnd   = "end"
)

// Exemption is HR excusing one person from a cycle (Action start, with the
// period it covers: FromOn, and ToOn or "" when open-ended) or ending that
// (Action end). An evidence record, never changed nor deleted: ending an
// exemption is a new record.
type Exemption struct {
	ID         int64
	CycleID    int64
	EmployeeID int64
	Action     string
	FromOn     string
	ToOn       string
	Reason     string
	ActorID    *int64
	ActorName  string // joined from the roster, for display
	CreatedAt  time.Time
}

// ResendEvery is how soon an invitation may be sent again to one person.
const ResendEvery = 10 * time.Minute

// maxReason bounds a reason HR writes.
const maxReason = 500

// PersonActionService is what HR does about one person in the open cycle.
// Each action is one transaction with its evidence record and audit event.
type PersonActionService interface {
	// ExtendDue moves the person's due date to x.NewDueOn (later than the
	// current one, not in the past) and records x.
	ExtendDue(ctx context.Context, x *DueExtension, ip string) error
	// Exempt excuses the person from the cycle and records x.
	Exempt(ctx context.Context, x *Exemption, ip string) error
	// EndExemption makes an exempt person due again and records x.
	EndExemption(ctx context.Context, x *Exemption, ip string) error
	// ResendInvitation queues the invitation again, at once; ETOOMANY
	// within ResendEvery of the last time.
	ResendInvitation(ctx context.Context, cycleID, employeeID int64, actor *int64, ip string) error
	// Extensions and Exemptions list a person's records, oldest first.
	Extensions(ctx context.Context, employeeID int64) ([]*DueExtension, error)
	Exemptions(ctx context.Context, employeeID int64) ([]*Exemption, error)
}

// checkReason reports a missing or overlong reason for field.
func checkReason(field, reason string) error {
	switch {
	case strings.TrimSpace(reason) == "":
		return Invalid(field, "Enter the reason, for the record.")
	case utf8.RuneCountInString(reason) > maxReason:
		return Invalid(field, "The reason must be %d characters or fewer.", maxReason)
	}
	return nil
}

// Validate checks an extension's own fields against today (YYYY-MM-DD);
// the store checks it against the current due date.
func (x *DueExtension) Validate(today string) error {
	x.Reason = strings.TrimSpace(x.Reason)
	var errs []error
	d, err := time.Parse(DateLayout, x.NewDueOn)
	switch {
	case err != nil:
		errs = append(errs, Invalid("extend_due_on", "Enter the new due date as YYYY-MM-DD, for example 2026-03-15."))
	case x.NewDueOn < today:
		errs = append(errs, Invalid("extend_due_on", "The new due date must be today or later."))
	case d.After(mustDate(today).AddDate(1, 0, 0)):
		errs = append(errs, Invalid("extend_due_on", "The new due date must be within a year from today."))
	}
	if err := checkReason("extend_reason", x.Reason); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Validate checks an exemption's fields: a reason, and for a start a
// period (the end optional, not before the start).
func (x *Exemption) Validate() error {
	x.Reason = strings.TrimSpace(x.Reason)
	if x.Action == ExemptionEnd {
		return checkReason("end_reason", x.Reason)
	}
	var errs []error
	_, errFrom := time.Parse(DateLayout, x.FromOn)
	if errFrom != nil {
		errs = append(errs, Invalid("exempt_from", "Enter the date the exemption starts as YYYY-MM-DD, for example 2026-03-15."))
	}
	if x.ToOn != "" {
		if _, err := time.Parse(DateLayout, x.ToOn); err != nil {
			errs = append(errs, Invalid("exempt_to", "Enter the date the exemption ends as YYYY-MM-DD, or leave it empty."))
		} else if errFrom == nil && x.ToOn < x.FromOn {
			errs = append(errs, Invalid("exempt_to", "The end date must be on or after the start date."))
		}
	}
	if err := checkReason("exempt_reason", x.Reason); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// mustDate parses a date already known to be well formed.
func mustDate(s string) time.Time {
	t, _ := time.Parse(DateLayout, s)
	return t
}

package app

import (
	"context"
	"errors"
	"time"
)

// DateLayout is the layout of calendar dates (hire dates, cycle dates).
const DateLayout = "2006-01-02"

// Today is the calendar date at now in loc: the one "today" that cycles, due
// dates, reminders and pages all use (loc is the portal's PORTAL_TIMEZONE).
func Today(now time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return now.In(loc).Format(DateLayout)
}

// Cycle is one annual acknowledgment round: a policy version everyone must
// sign between OpensOn and DueOn. People hired after the cycle opened are due
// NewHireDays after their hire date instead.
type Cycle struct {
	ID              int64
	Year            int
	Name            string
	PolicyVersionID int64
	OpensOn         string // YYYY-MM-DD
	DueOn           string // YYYY-MM-DD
	NewHireDays     int
	Open            bool
	CreatedAt       time.Time
	OpenedBy        *int64 // the HR user who opened it, for the audit log
	// Kind is the acknowledgment kind's code (acknowledgment_kinds): what
	// people sign in this cycle. "" when created means the first kind HR
	// opens cycles of (assign 'cycle').
	Kind string
}

// Status of an employee in a cycle: exactly one of these, decided in this
// order (see Assignment.Status): signed on paper, signed, exempt, overdue,
// in progress, not started. Every view (dashboard, people list, team page,
// exports, API) uses these and only these.
const (
	StatusPaper      = "paper" // a paper acknowledgment recorded by HR
	StatusSigned     = "signed"
	StatusExempt     = "exempt" // HR excused them for this cycle
	StatusOverdue    = "overdue"
	StatusInProgress = "in_progress" // started, not signed, not past due
	StatusNotStarted = "not_started"
	// StatusUnreachable is a list filter, not a status: people whose mail bounces.
	StatusUnreachable = "unreachable"
)

// StatusLabel returns the words shown for a status.
func StatusLabel(s string) string {
	switch s {
	case StatusNotStarted:
		return "Not started"
	case StatusInProgress:
		return "In progress"
	case StatusSigned:
		return "Signed"
	case StatusPaper:
		return "Signed on paper"
	case StatusExempt:
		return "Exempt"
	case StatusOverdue:
		return "Overdue"
	case StatusUnreachable:
		return "Unreachable by e-mail"
	}
	return s
}

// Statuses lists every status, in the order reports show them.
var Statuses = []string{StatusSigned, StatusPaper, StatusExempt, StatusInProgress, StatusNotStarted, StatusOverdue}

// CycleService finds and opens cycles.
type CycleService interface {
	// CurrentCycle returns the open cycle, or ENOTFOUND when none is open.
	CurrentCycle(ctx context.Context) (*Cycle, error)
	FindCycleByID(ctx context.Context, id int64) (*Cycle, error)
	CreateCycle(ctx context.Context, c *Cycle) error
	FindCycles(ctx context.Context) ([]*Cycle, error)
	CloseCycle(ctx context.Context, id int64, actor *int64) error
	// SetCycleVersion moves an open cycle to a newer version; a material one
	// means everyone signs again.
	SetCycleVersion(ctx context.Context, cycleID, versionID int64, actor *int64) error
	// CloseImpact counts what closing an open cycle does, for the page that
	// asks HR to confirm it.
	CloseImpact(ctx context.Context, cycleID int64) (*CycleImpact, error)
	// VersionImpact counts what SetCycleVersion would do, with the same
	// checks (and errors) and the same conditions as the change itself.
	VersionImpact(ctx context.Context, cycleID, versionID int64) (*CycleImpact, error)
	// SetCycleDueDate moves an open cycle's due date, with an audit event
	// saying why. Everyone due on the old date is due on the new one (new
	// hires never before their own date); a later date someone was given
	// on their own stays. It returns how many people's due dates moved.
	SetCycleDueDate(ctx context.Context, cycleID int64, dueOn, reason string, actor *int64) (int, error)
}

// CycleImpact is what a change to a cycle does, counted before it is made.
type CycleImpact struct {
	// Closing.
	Unsigned   int // people asked to sign who have not: they are reminded no more
	Signatures int // signed acknowledgments of the cycle, which stay as evidence
	// Moving to another version.
	VersionCode string
	Material    bool // a material change since the cycle's version: signatures no longer count
	Resign      int  // people who signed and will have to sign again
	Restart     int  // people who have started reading, not signed, who start again
}

// MaxReasonLength bounds a reason typed for the audit log.
const MaxReasonLength = 500

// Validate checks a cycle before it is stored. It reports every problem
// at once, each naming its form field, so the form can show them together.
func (c *Cycle) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, Invalid("name", "Enter a name for the cycle."))
	} else if len(c.Name) > 100 {
		errs = append(errs, Invalid("name", "The name must be 100 characters or fewer."))
	}
	if c.PolicyVersionID == 0 {
		errs = append(errs, Invalid("version", "Choose the policy version the cycle asks people to sign."))
	}
	opens, err1 := time.Parse(DateLayout, c.OpensOn)
	due, err2 := time.Parse(DateLayout, c.DueOn)
	if err1 != nil {
		errs = append(errs, Invalid("opens_on", "Enter the opening date as YYYY-MM-DD, for example 2026-01-15."))
	}
	if err2 != nil {
		errs = append(errs, Invalid("due_on", "Enter the due date as YYYY-MM-DD, for example 2026-03-15."))
	}
	if err1 == nil && err2 == nil && !due.After(opens) {
		errs = append(errs, Invalid("due_on", "The due date must come after the opening date."))
	}
	if c.NewHireDays < 1 || c.NewHireDays > 365 {
		errs = append(errs, Invalid("new_hire_days", "Enter a number of days from 1 to 365 for new hires to sign."))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if c.Year == 0 {
		c.Year = opens.Year()
	}
	return nil
}

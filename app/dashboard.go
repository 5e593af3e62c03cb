package app

import (
	"context"
	"time"
)

// Assignment is one person's obligation in one cycle.
type Assignment struct {
	CycleID    int64
	EmployeeID int64
	DueOn      string
	Active     bool
	Started    bool
	SignedAt   *time.Time
	AckID      *int64
	Exempt     bool // HR excused them from this cycle
	Paper      bool // the acknowledgment that satisfies the cycle is a paper one HR recorded
}

// Status of the assignment on a day (YYYY-MM-DD), in the one order every
// view uses: signed on paper, signed, exempt, overdue, in progress, not
// started. A signature wins over an exemption (they signed anyway), and an
// exemption over a due date (nobody chases an excused person).
func (a *Assignment) Status(today string) string {
	switch {
	case a.SignedAt != nil && a.Paper:
		return StatusPaper
	case a.SignedAt != nil:
		return StatusSigned
	case a.Exempt:
		return StatusExempt
	case today > a.DueOn:
		return StatusOverdue
	case a.Started:
		return StatusInProgress
	}
	return StatusNotStarted
}

// Completion is the count for one agency or department (or everyone) in a
// cycle, one figure per status (Assignment.Status): Signed + Paper + Exempt
// + InProgress + NotStarted + Overdue == Total, always.
type Completion struct {
	Agency     string
	Department string
	Total      int
	Signed     int // signed in the portal
	Paper      int // signed on paper, recorded by HR
	Exempt     int // excused from the cycle, not signed
	InProgress int // started, not signed, not past due
	NotStarted int // not started, not past due
	Overdue    int // not signed, not exempt, past due
}

// Of returns the figure for one status (0 for anything else).
func (c Completion) Of(status string) int {
	switch status {
	case StatusSigned:
		return c.Signed
	case StatusPaper:
		return c.Paper
	case StatusExempt:
		return c.Exempt
	case StatusInProgress:
		return c.InProgress
	case StatusNotStarted:
		return c.NotStarted
	case StatusOverdue:
		return c.Overdue
	}
	return 0
}

// Done is how many have signed, in the portal or on paper.
func (c Completion) Done() int { return c.Signed + c.Paper }

// Due is how many must sign: everyone but the exempt people.
func (c Completion) Due() int { return c.Total - c.Exempt }

// Started is the people who started and have not signed, not past due (the
// same as InProgress; kept for the views that say "started").
func (c Completion) Started() int { return c.InProgress }

// Percent done: signed in the portal or on paper, out of the people who must
// sign (exempt people count on neither side). Rounded to the nearest whole
// percent (5 of 12 is 42 %), except that it says 100 only when everyone due
// has signed and 0 only when nobody has: 399 of 400 is 99 %, 1 of 400 is 1 %.
func (c Completion) Percent() int {
	done, due := c.Done(), c.Due()
	if due <= 0 || done <= 0 {
		return 0
	}
	if done >= due {
		return 100
	}
	p := (done*200 + due) / (2 * due) // round half up, in integers
	return min(max(p, 1), 99)
}

// PeopleFilter selects people in a cycle for the HR lists and exports.
type PeopleFilter struct {
	CycleID    int64
	Scope      []string // agencies the HR user may see; empty means all
	Agency     string
	Department string
	Status     string // "", one of the Status constants, or StatusUnreachable
	Query      string // name, employee number or e-mail
	ManagerID  *int64 // only people under this manager, directly or indirectly
	Today      string
	Offset     int
	Limit      int    // 0 means all (exports)
	Sort       string // the order of People: one of SortKeys, "" for the due date
	// AfterID pages People by employee id (the API's cursor): when set,
	// only people whose id is above it, in id order; Offset and Sort are
	// ignored. The count People returns is still of the whole filter.
	AfterID *int64
}

// PersonStatus is one row of the HR people list.
type PersonStatus struct {
	EmployeeID     int64
	EmployeeNumber string
	FullName       string
	Email          string
	Agency         string
	Department     string
	Title          string
	ManagerName    string
	DueOn          string
	SignedAt       *time.Time
	VerifyCode     string
	Status         string
	Unreachable    bool // mail to them bounced permanently
}

// DashboardService answers HR's and managers' questions about completion.
type DashboardService interface {
	// Completion returns one row per agency (agency == "") or per department
	// of one agency, and the overall total, for the cycle on the given day.
	Completion(ctx context.Context, cycleID int64, scope []string, agency, today string) ([]Completion, Completion, error)
	// People returns the matching people and how many there are.
	People(ctx context.Context, f PeopleFilter) ([]*PersonStatus, int, error)
	// Counts returns how many matching people are in each status (Status ignored).
	Counts(ctx context.Context, f PeopleFilter) (Completion, error)
	// Assignments returns every cycle assignment of one employee, newest first.
	Assignments(ctx context.Context, employeeID int64) ([]*Assignment, error)
	// UnreachableCount counts active people in scope whose mail bounces.
	UnreachableCount(ctx context.Context, scope []string) (int, error)
	// Agencies lists the agencies and their departments with people in the cycle.
	Agencies(ctx context.Context, cycleID int64, scope []string) (map[string][]string, error)
}

// ExportService streams what the reports and certificate ZIPs hold. fn may
// write to a slow client, so a store calls it between short reads, never
// while holding a connection other requests need.
type ExportService interface {
	// EachPerson calls fn for every matching person, streaming.
	EachPerson(ctx context.Context, f PeopleFilter, fn func(*PersonStatus) error) error
	// EachCertificate calls fn for the acknowledgment that satisfies the
	// cycle for every matching signed person, in agency, department and
	// name order (Status ignored).
	EachCertificate(ctx context.Context, f PeopleFilter, fn func(*Acknowledgment) error) error
}

// ScopeService keeps which agencies each HR user is limited to.
type ScopeService interface {
	// Scope returns the agencies an HR user is limited to (none: all).
	Scope(ctx context.Context, employeeID int64) ([]string, error)
	// SetScope limits an HR user to some agencies (none: all).
	SetScope(ctx context.Context, employeeID int64, agencies []string, actor *int64) error
}

package app

import (
	"context"
	"time"
)

// RosterRow is one valid, normalised line of a roster file.
type RosterRow struct {
	Line           int
	EmployeeNumber string
	FullName       string
	Email          string
	Agency         string
	Department     string
	Title          string
	ManagerNumber  string
	HireDate       string
	Roles          []Role
	BargainingUnit string
}

// RosterProblem is one reason a roster file cannot be imported; Line 0 is
// the file as a whole.
type RosterProblem struct {
	Line    int
	Column  string
	Message string
}

// ImportOptions say how to apply a roster.
type ImportOptions struct {
	DeactivateMissing bool   // active people missing from the file are deactivated (never deleted)
	DryRun            bool   // work out what would change, change nothing
	ActorID           *int64 // the HR user, or nil from the command line
	Source            string // how the file came, for the log: "roster upload people.csv"
	// FromWeb marks an HR user's upload: it never grants or removes the hr
	// and admin roles (an administrator does, on the roles page), and a
	// changed e-mail address waits for a second person's approval. The
	// operator's import-roster applies both directly.
	FromWeb bool
}

// PrivilegedRoles are granted only by an administrator, never by a web upload.
var PrivilegedRoles = []Role{RoleHR, RoleAdmin}

// ImportSummary says what an import did (or, in a dry run, would do).
type ImportSummary struct {
	Rows        int
	Added       int
	Updated     int
	Unchanged   int
	Reactivated int
	Deactivated int
	// AddressChanges are new addresses held for a second person's approval (web uploads).
	AddressChanges int
	// RolesIgnored counts rows whose hr or admin roles differ from the
	// roster's: a web upload leaves those roles as they are.
	RolesIgnored int
	Problems     []RosterProblem // conflicts only the database can see; when any, nothing changed
}

// Changed reports whether the import changes anything.
func (s *ImportSummary) Changed() bool {
	return s.Added+s.Updated+s.Reactivated+s.Deactivated+s.AddressChanges > 0
}

// RosterUpload is a roster file between its preview and its import.
type RosterUpload struct {
	ID                int64
	SHA256            string
	Filename          string
	Content           []byte
	DeactivateMissing bool
	UploadedBy        int64
	CreatedAt         time.Time
	AppliedAt         *time.Time
}

// RosterService applies roster files.
type RosterService interface {
	SaveUpload(ctx context.Context, u *RosterUpload) error
	FindUpload(ctx context.Context, id int64) (*RosterUpload, error)
	MarkUploadApplied(ctx context.Context, id int64) error
	// ActiveManagers maps each active employee number to its manager's number.
	ActiveManagers(ctx context.Context) (map[string]string, error)
	// ImportRoster applies rows atomically: all of it or nothing.
	ImportRoster(ctx context.Context, rows []RosterRow, opts ImportOptions) (*ImportSummary, error)
}

// Assignment is one person's obligation in one cycle.
type Assignment struct {
	CycleID    int64
	EmployeeID int64
	DueOn      string
	Active     bool
	Started    bool
	SignedAt   *time.Time
	AckID      *int64
}

// Status of the assignment on a day (YYYY-MM-DD).
func (a *Assignment) Status(today string) string {
	switch {
	case a.SignedAt != nil:
		return StatusSigned
	case today > a.DueOn:
		return StatusOverdue
	case a.Started:
		return StatusInProgress
	}
	return StatusNotStarted
}

// Completion is the count for one agency or department (or everyone) in a cycle.
type Completion struct {
	Agency     string
	Department string
	Total      int
	Signed     int
	Started    int // started, not signed
	Overdue    int // not signed, past due
}

// Percent signed, in whole percent.
func (c Completion) Percent() int {
	if c.Total == 0 {
		return 0
	}
	return c.Signed * 100 / c.Total
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
	Limit      int // 0 means all (exports)
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

// DashboardService answers HR's questions about completion.
type DashboardService interface {
	// Completion returns one row per agency (agency == "") or per department
	// of one agency, and the overall total, for the cycle on the given day.
	Completion(ctx context.Context, cycleID int64, scope []string, agency, today string) ([]Completion, Completion, error)
	// People returns the matching people and how many there are.
	People(ctx context.Context, f PeopleFilter) ([]*PersonStatus, int, error)
	// EachPerson calls fn for every matching person, streaming (for exports).
	EachPerson(ctx context.Context, f PeopleFilter, fn func(*PersonStatus) error) error
	// Counts returns how many matching people are signed, started, overdue (Status ignored).
	Counts(ctx context.Context, f PeopleFilter) (Completion, error)
	// EachCertificate calls fn for the acknowledgment that satisfies the
	// cycle for every matching signed person, in agency, department and
	// name order (Status ignored).
	EachCertificate(ctx context.Context, f PeopleFilter, fn func(*Acknowledgment) error) error
	// Assignments returns every cycle assignment of one employee, newest first.
	Assignments(ctx context.Context, employeeID int64) ([]*Assignment, error)
	// Scope returns the agencies an HR user is limited to (none: all).
	Scope(ctx context.Context, employeeID int64) ([]string, error)
	// SetScope limits an HR user to some agencies (none: all).
	SetScope(ctx context.Context, employeeID int64, agencies []string, actor *int64) error
	// UnreachableCount counts active people in scope whose mail bounces.
	UnreachableCount(ctx context.Context, scope []string) (int, error)
	// Agencies lists the agencies and their departments with people in the cycle.
	Agencies(ctx context.Context, cycleID int64, scope []string) (map[string][]string, error)
}

// Schedule says when reminders go out.
type Schedule struct {
	Before        []int // days before the due date, e.g. 14, 7, 1 (and always on the day itself)
	OverdueEvery  int   // once overdue, every this many days
	EscalateAfter int   // days overdue before the manager is told
}

// DefaultSchedule: reminders 14, 7 and 1 days before the due date and on it,
// every 7 days overdue, the manager told at 7 days overdue.
var DefaultSchedule = Schedule{Before: []int{14, 7, 1}, OverdueEvery: 7, EscalateAfter: 7}

// PassSummary counts what one reminder pass queued (or would queue).
type PassSummary struct {
	Invitations int
	Reminders   int
	Escalations int
	Digests     int
}

// Total is the number of messages.
func (p *PassSummary) Total() int { return p.Invitations + p.Reminders + p.Escalations + p.Digests }

// ReminderService decides who is due a message and queues it.
type ReminderService interface {
	// RunPass queues every message due at now; a message already queued for
	// the same person, cycle and step is never queued again.
	RunPass(ctx context.Context, now time.Time, loc *time.Location, s Schedule, dryRun bool) (*PassSummary, error)
}

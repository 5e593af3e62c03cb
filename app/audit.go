package app

import (
	"context"
	"time"
)

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
	// SubjectName and SubjectNumber name what the event is about, for
	// display: a person's name and employee number, a cycle's name, a
	// policy version's code (joined from their tables).
	SubjectName   string
	SubjectNumber string
}

// AuditFilter selects events of the audit log. Every field may be empty.
type AuditFilter struct {
	Action string    // one kind of event (an action code)
	Actor  string    // who did it: an employee number, an e-mail address or part of a name
	Person string    // whom it is about, the same way
	Since  time.Time // events at or after (zero: no bound)
	Before time.Time // events before (zero: no bound)
	// Scope limits the events to those about people of these agencies, and
	// the viewer's own actions (ViewerID): what an HR user limited to some
	// agencies may see. Empty: every event.
	Scope    []string
	ViewerID int64
	Offset   int
	Limit    int
}

// AuditCountLimit is how far the audit log counts the events a filter
// selects: 200 pages. Older events are reached by narrowing the dates, and
// the CSV export holds every one.
const AuditCountLimit = 10_000

// MaxPeopleMatched is how many people an actor or person filter may match;
// past it the filter asks for more of the name.
const MaxPeopleMatched = 100

// EvidenceCheck is one check of every evidence record: a background job
// queued by someone (or by the portal each day), run, and its result kept.
type EvidenceCheck struct {
	ID            int64
	RequestedAt   time.Time
	RequestedBy   *int64     // nil for the portal's own daily check
	RequesterName string     // joined from the roster, for display
	StartedAt     *time.Time // nil while queued
	FinishedAt    *time.Time // nil while queued or running
	Entries       int64      // evidence log entries checked
	Legacy        int        // records of the chain kept from before the log, checked too
	Problem       string     // the first problem, naming the record; "" when everything verifies
	Failed        string     // why the check itself could not finish; "" when it did
}

// CheckStale is how long a started check may run before it is taken for
// dead (its process ended mid-check) and a new one may be queued. A check
// of a million records takes about 11 s.
const CheckStale = time.Hour

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
	// FindEvents returns the newest events about one subject, at most limit,
	// newest first, and how many there are.
	FindEvents(ctx context.Context, subjectType string, subjectID int64, limit int) ([]*AuditEvent, int, error)
	// ListEvents returns a page of all events, newest first, and the total.
	ListEvents(ctx context.Context, offset, limit int) ([]*AuditEvent, int, error)
	// FindAuditEvents returns the page of events f selects, newest first
	// (by time, then by order written), and how many it selects, counted
	// up to AuditCountLimit+1 (counting a million rows takes most of a
	// second; past the limit the page says "more than"). An
	// actor or person filter matching more than MaxPeopleMatched people is
	// EINVALID, naming its field.
	FindAuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, int, error)
	// EachAuditEvent calls fn with every event f selects, newest first,
	// reading them in short queries (an export of a million events must
	// not hold the database); f's Offset and Limit are ignored.
	EachAuditEvent(ctx context.Context, f AuditFilter, fn func(*AuditEvent) error) error
	// VerifyEvidence re-hashes every evidence record and checks the log,
	// its seals and its signed checkpoints, and the chain kept from before it.
	VerifyEvidence(ctx context.Context) (*EvidenceCheck, error)
	// RequestCheck queues a check of every evidence record unless one is
	// already queued or running (started less than CheckStale ago); it
	// returns that check and whether this call queued it.
	RequestCheck(ctx context.Context, requestedBy *int64) (*EvidenceCheck, bool, error)
	// EvidenceChecks returns the newest finished check and the one queued or
	// running; either may be nil.
	EvidenceChecks(ctx context.Context) (done, pending *EvidenceCheck, err error)
	// RunQueuedChecks runs the queued checks, oldest first, and returns how
	// many it ran: the background job.
	RunQueuedChecks(ctx context.Context) (int, error)
}

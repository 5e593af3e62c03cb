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
}

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

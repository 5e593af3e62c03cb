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

// EvidenceCheck is the result of checking every evidence record.
type EvidenceCheck struct {
	Entries int64  // evidence log entries checked
	Legacy  int    // records of the chain kept from before the log, checked too
	Problem string // the first problem, naming the record; "" when everything verifies
}

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
	FindEvents(ctx context.Context, subjectType string, subjectID int64) ([]*AuditEvent, error)
	// ListEvents returns a page of all events, newest first, and the total.
	ListEvents(ctx context.Context, offset, limit int) ([]*AuditEvent, int, error)
	// VerifyEvidence re-hashes every evidence record and checks the log,
	// its seals and its signed checkpoints, and the chain kept from before it.
	VerifyEvidence(ctx context.Context) (*EvidenceCheck, error)
}

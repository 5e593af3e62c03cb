package app

import (
	"context"
	"time"
)

// LogHash is a SHA-256 hash in the evidence log: a record's leaf hash, a
// tree's root or a proof step.
type LogHash [32]byte

// SignedCheckpoint is a signed statement of the evidence log's size and
// root hash (a C2SP tlog-checkpoint signed note).
type SignedCheckpoint struct {
	Size     int64
	Root     LogHash
	Note     []byte // the signed note, as served at /log/checkpoint
	SignedAt time.Time
}

// InclusionProof proves that the record with leaf hash Leaf is entry Index
// of the log of Size entries whose root is Root.
type InclusionProof struct {
	Index int64
	Size  int64
	Leaf  LogHash
	Root  LogHash
	Proof []LogHash
}

// RecordCheck is what the log says about one stored record.
type RecordCheck struct {
	Index      int64             // its entry in the log; -1 if it has none
	Matches    bool              // the record as stored hashes to the logged entry
	Checkpoint *SignedCheckpoint // the latest signed checkpoint, which includes the entry
	Proven     bool              // the inclusion proof against Checkpoint was checked
}

// EvidenceLog is the public, append-only log of every evidence record.
type EvidenceLog interface {
	// Checkpoint returns the latest signed checkpoint, signing a new one
	// first if the latest covers fewer than minSize entries.
	Checkpoint(ctx context.Context, minSize int64) (*SignedCheckpoint, error)
	// VerifierKey is the public key that checks checkpoint signatures.
	VerifierKey() string
	// ProveInclusion proves entry index in the tree of size entries.
	ProveInclusion(ctx context.Context, index, size int64) (*InclusionProof, error)
	// ProveConsistency proves that the tree of size from is a prefix of the tree of size to.
	ProveConsistency(ctx context.Context, from, to int64) ([]LogHash, error)
	// CheckAcknowledgment re-hashes a stored acknowledgment, compares it with
	// its log entry and proves the entry's inclusion in the latest checkpoint.
	CheckAcknowledgment(ctx context.Context, a *Acknowledgment) (*RecordCheck, error)
}

// WitnessService keeps the addresses that receive each day's checkpoint.
type WitnessService interface {
	Witnesses(ctx context.Context) ([]string, error)
	// SetWitness adds (add true) or removes an address; actor is the administrator.
	SetWitness(ctx context.Context, email string, add bool, actorID int64) error
}

package evidence

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
)

// StoredEntry is one log entry as a verifier reads it back: what the log
// table holds, and the record re-read from its own table and re-hashed.
type StoredEntry struct {
	Index   int64
	Kind    string
	RefID   int64
	Hash    tlog.Hash // the leaf hash stored with the entry
	Seal    []byte
	Leaf    *Leaf  // the record as stored now; nil when it is missing
	Problem string // a problem the store found in the record itself
}

// Source is what Verify reads from a store, in one consistent snapshot.
type Source interface {
	// Entries calls fn for every entry in index order.
	Entries(ctx context.Context, fn func(e *StoredEntry) error) error
	// StoredHashes calls fn for every stored tree hash in storage order.
	StoredHashes(ctx context.Context, fn func(index int64, h tlog.Hash) error) error
	// Checkpoints returns every checkpoint stored, oldest first.
	Checkpoints(ctx context.Context) ([]*app.SignedCheckpoint, error)
}

// Problem is what is wrong with the log: the first bad entry and why.
type Problem struct {
	Index  int64 // the entry (-1 when the problem is not one entry)
	Last   int64 // when greater than Index, the problem lies somewhere in entries Index to Last
	Kind   string
	RefID  int64
	Reason string
}

// Error describes the problem, naming the record.
func (p *Problem) Error() string {
	if p.Index < 0 {
		return p.Reason
	}
	if p.Last > p.Index {
		return fmt.Sprintf("log entries %d to %d: %s", p.Index, p.Last, p.Reason)
	}
	if p.Kind == "" {
		return fmt.Sprintf("log entry %d: %s", p.Index, p.Reason)
	}
	return fmt.Sprintf("log entry %d (%s %d): %s", p.Index, p.Kind, p.RefID, p.Reason)
}

// VerifyOptions say what Verify checks beyond the records and the tree.
type VerifyOptions struct {
	// Key, when set, checks every entry's seal, which names the first
	// rewritten entry even if every hash was recomputed.
	Key *Key
	// Verifier checks checkpoint signatures (the Key's when Key is set).
	Verifier note.Verifier
	// Checkpoint is a signed checkpoint saved earlier, outside the database.
	Checkpoint []byte
	// More are further checkpoints saved outside the database (a witness's,
	// a PORTAL_CHECKPOINT_DIR's): the more there are, the narrower the range
	// in which a change made with every hash recomputed is placed.
	More [][]byte
}

// Report is the result of a verification.
type Report struct {
	Entries        int64
	Root           tlog.Hash
	Problem        *Problem // the first problem, or nil
	SealsChecked   bool
	Checkpoint     *Checkpoint // the largest external checkpoint, when one was given and its signature verified
	External       int         // external checkpoints given whose signature and root were checked
	StoredVerified int         // stored checkpoints whose signature and root were checked
	// Signed is the size of the largest checkpoint, given or stored, whose
	// signature and root were checked: entries from here on are covered by
	// no signature yet (the portal signs within seconds of the log growing,
	// so on a running portal only the last few seconds' entries should be).
	Signed int64
}

// Verify re-hashes every record from its canonical form, rebuilds the tree
// from those hashes alone, compares it with the stored tree, checks every
// seal when it has the key, and checks every signed checkpoint (the one
// given and those stored) against the rebuilt tree. Someone who edits,
// inserts or removes a record, or cuts the log short, and recomputes every
// hash, is still caught: by the seals, which need the key, and by any
// checkpoint signed before, which needs the key to forge.
func Verify(ctx context.Context, src Source, opts VerifyOptions) (*Report, error) {
	if opts.Verifier == nil && opts.Key != nil {
		opts.Verifier = opts.Key.Verifier
	}
	v := &verifier{opts: opts, t: newMemTree()}
	external, err := v.openGiven()
	if err != nil {
		return nil, err
	}
	v.rep = &Report{SealsChecked: opts.Key != nil, Checkpoint: external}
	if err := v.entries(ctx, src); err != nil {
		return nil, err
	}
	if err := v.storedTree(ctx, src); err != nil {
		return nil, err
	}
	if err := v.checkpoints(ctx, src); err != nil {
		return nil, err
	}
	// A problem found in an entry itself names it exactly, so it wins over
	// one the tree or a checkpoint can only place within a range.
	for _, p := range []*Problem{v.entryProblem, v.treeProblem, v.checkpointProblem} {
		if p != nil {
			v.rep.Problem = p
			break
		}
	}
	if p := v.rep.Problem; p != nil && p.Index >= 0 && p.Index < v.t.size && p.Kind == "" && p.Last <= p.Index {
		p.Kind, p.RefID = v.t.kinds[p.Index], v.t.refs[p.Index]
	}
	return v.rep, nil
}

// verifier is one run of Verify: the tree rebuilt from the records, the
// checkpoints given, and the first problem of each sort.
type verifier struct {
	opts      VerifyOptions
	t         *memTree
	rep       *Report
	externals []Checkpoint
	// Within each sort the earliest problem wins.
	entryProblem, treeProblem, checkpointProblem *Problem
}

// earliest keeps p in *cur unless *cur names an earlier entry.
func earliest(cur **Problem, p *Problem) {
	if *cur == nil || (p.Index >= 0 && ((*cur).Index < 0 || p.Index < (*cur).Index)) {
		*cur = p
	}
}

// openGiven checks the signatures of the checkpoints given and returns the largest.
func (v *verifier) openGiven() (*Checkpoint, error) {
	given := v.opts.More
	if v.opts.Checkpoint != nil {
		given = append([][]byte{v.opts.Checkpoint}, given...)
	}
	var largest *Checkpoint
	for i, msg := range given {
		if v.opts.Verifier == nil {
			return nil, errors.New("checking a checkpoint needs the log's verifier key")
		}
		c, err := OpenCheckpoint(msg, v.opts.Verifier)
		if err != nil {
			if len(given) == 1 {
				return nil, fmt.Errorf("the checkpoint given: %w", err)
			}
			return nil, fmt.Errorf("checkpoint %d of those given: %w", i+1, err)
		}
		v.externals = append(v.externals, c)
		if largest == nil || c.Size > largest.Size {
			largest = &c
		}
	}
	return largest, nil
}

// entries rebuilds the tree from the records themselves, never from the
// stored hashes, and checks each entry's record and seal.
func (v *verifier) entries(ctx context.Context, src Source) error {
	t := v.t
	err := src.Entries(ctx, func(e *StoredEntry) error {
		if e.Index != t.size {
			earliest(&v.entryProblem, &Problem{Index: t.size, Reason: "the log skips from this entry to " + fmt.Sprint(e.Index) + " (entries were removed)"})
			return errStop
		}
		var h tlog.Hash
		p := &Problem{Index: e.Index, Kind: e.Kind, RefID: e.RefID}
		switch {
		case e.Leaf == nil:
			p.Reason = "the record is missing (it was deleted)"
			h = e.Hash
		case e.Problem != "":
			p.Reason = e.Problem
			h = e.Leaf.Hash()
		default:
			h = e.Leaf.Hash()
			if h != e.Hash {
				p.Reason = "the record no longer matches its entry (it was changed after it was logged)"
			}
		}
		if p.Reason == "" && v.opts.Key != nil && !v.opts.Key.CheckSeal(e.Index, e.Hash, e.Seal) {
			p.Reason = "the entry's seal does not match: it was written or rewritten without the log key"
		}
		if p.Reason != "" {
			earliest(&v.entryProblem, p)
		}
		t.kinds = append(t.kinds, kindName(e.Kind))
		t.refs = append(t.refs, e.RefID)
		return t.append(h)
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	v.rep.Entries = t.size
	v.rep.Root, err = t.root(t.size)
	return err
}

// storedTree checks that the stored tree is the one the records make:
// proofs are served from it.
func (v *verifier) storedTree(ctx context.Context, src Source) error {
	t := v.t
	err := src.StoredHashes(ctx, func(i int64, h tlog.Hash) error {
		if i >= int64(len(t.hashes)) {
			earliest(&v.treeProblem, &Problem{Index: t.size, Reason: fmt.Sprintf("the log ends after %d entries but its tree goes on: the entries from here on were removed", t.size)})
			return errStop
		}
		if t.hashes[i] != h {
			level, n := tlog.SplitStoredHashIndex(i)
			earliest(&v.treeProblem, &Problem{Index: n << level, Reason: fmt.Sprintf("the stored tree hash over entries %d to %d does not match the records (the tree was edited)", n<<level, (n+1)<<level-1)})
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	return nil
}

// signedCheckpoint is a checkpoint to check, given or stored.
type signedCheckpoint struct {
	c    Checkpoint
	at   time.Time // zero for one given
	from string    // how the report names it
}

// checkpoints checks that every signed checkpoint, given or stored, is a
// prefix of the rebuilt tree, and places a change between those that match
// and those that do not.
func (v *verifier) checkpoints(ctx context.Context, src Source) error {
	all, err := v.allCheckpoints(ctx, src)
	if err != nil {
		return err
	}
	t := v.t
	var bad []signedCheckpoint
	for _, s := range all {
		if s.c.Size > t.size {
			earliest(&v.checkpointProblem, &Problem{Index: t.size, Reason: fmt.Sprintf("%s covers %d entries but the log has only %d: entries %d to %d were removed", s.from, s.c.Size, t.size, t.size, s.c.Size-1)})
			continue
		}
		root, err := t.root(s.c.Size)
		if err != nil {
			return err
		}
		if root != s.c.Root {
			bad = append(bad, s)
			continue
		}
		if s.at.IsZero() {
			v.rep.External++
		} else {
			v.rep.StoredVerified++
		}
		v.rep.Signed = max(v.rep.Signed, s.c.Size)
	}
	// The smallest checkpoint that does not match bounds the range from above:
	// it goes first, as earliest keeps the first of problems at the same index.
	slices.SortStableFunc(bad, func(a, b signedCheckpoint) int { return cmp.Compare(a.c.Size, b.c.Size) })
	for _, s := range bad {
		// Without the seals, the checkpoints still say where: the change lies
		// after the largest checkpoint that matches.
		lo := int64(0)
		for _, o := range all {
			if o.c.Size < s.c.Size && o.c.Size <= t.size {
				if r, _ := t.root(o.c.Size); r == o.c.Root {
					lo = max(lo, o.c.Size)
				}
			}
		}
		reason := fmt.Sprintf("%s no longer matches the log: one of these entries was changed, inserted or removed and every hash recomputed (the log key, PORTAL_LOG_KEY, names the exact entry; more checkpoints narrow the range)", s.from)
		if lo == s.c.Size-1 {
			reason = fmt.Sprintf("%s no longer matches the log: this entry was changed, inserted or removed and every hash recomputed", s.from)
		}
		earliest(&v.checkpointProblem, &Problem{Index: lo, Last: s.c.Size - 1, Reason: reason})
	}
	return nil
}

// allCheckpoints returns the checkpoints given and those stored whose
// signature verifies; a stored one that does not is a problem.
func (v *verifier) allCheckpoints(ctx context.Context, src Source) ([]signedCheckpoint, error) {
	stored, err := src.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	var all []signedCheckpoint
	for _, c := range v.externals {
		from := "the checkpoint given"
		if len(v.externals) > 1 {
			from = fmt.Sprintf("the checkpoint given of %d entries", c.Size)
		}
		all = append(all, signedCheckpoint{c, time.Time{}, from})
	}
	if v.opts.Verifier == nil {
		return all, nil
	}
	for _, s := range stored {
		c, err := OpenCheckpoint(s.Note, v.opts.Verifier)
		if err != nil {
			earliest(&v.checkpointProblem, &Problem{Index: -1, Reason: fmt.Sprintf("a checkpoint stored in the database (%d entries) is not signed by the log key: %v", s.Size, err)})
			continue
		}
		all = append(all, signedCheckpoint{c, s.SignedAt, "the checkpoint of " + fmt.Sprint(c.Size) + " entries stored in the database"})
	}
	return all, nil
}

var errStop = errors.New("stop")

// kindName returns the constant for a kind, so that a million entries
// share a handful of strings.
func kindName(k string) string {
	for _, c := range Kinds {
		if c == k {
			return c
		}
	}
	return k
}

// memTree is a Merkle tree held in memory, built with tlog's own functions,
// with each entry's kind and record id to name it.
type memTree struct {
	size   int64
	hashes []tlog.Hash // by storage index
	kinds  []string
	refs   []int64
}

func newMemTree() *memTree { return &memTree{} }

func (t *memTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.hashes)) {
			return nil, fmt.Errorf("tree hash %d not stored", x)
		}
		out[i] = t.hashes[x]
	}
	return out, nil
}

func (t *memTree) append(h tlog.Hash) error {
	hs, err := tlog.StoredHashesForRecordHash(t.size, h, t)
	if err != nil {
		return err
	}
	t.hashes = append(t.hashes, hs...)
	t.size++
	return nil
}

func (t *memTree) root(n int64) (tlog.Hash, error) { return tlog.TreeHash(n, t) }

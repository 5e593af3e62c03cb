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
	var externals []Checkpoint
	var external *Checkpoint
	given := opts.More
	if opts.Checkpoint != nil {
		given = append([][]byte{opts.Checkpoint}, given...)
	}
	for i, msg := range given {
		if opts.Verifier == nil {
			return nil, errors.New("checking a checkpoint needs the log's verifier key")
		}
		c, err := OpenCheckpoint(msg, opts.Verifier)
		if err != nil {
			if len(given) == 1 {
				return nil, fmt.Errorf("the checkpoint given: %w", err)
			}
			return nil, fmt.Errorf("checkpoint %d of those given: %w", i+1, err)
		}
		externals = append(externals, c)
		if external == nil || c.Size > external.Size {
			external = &externals[len(externals)-1]
		}
	}
	if external != nil {
		e := *external
		external = &e // not into the slice, which may still grow
	}
	rep := &Report{SealsChecked: opts.Key != nil, Checkpoint: external}
	// A problem found in an entry itself names it exactly, so it wins over
	// one the tree or a checkpoint can only place within a range; within a
	// kind, the earliest wins.
	var entryProblem, treeProblem, checkpointProblem *Problem
	earliest := func(cur **Problem, p *Problem) {
		if *cur == nil || (p.Index >= 0 && ((*cur).Index < 0 || p.Index < (*cur).Index)) {
			*cur = p
		}
	}

	// Leaves from the records themselves, never from the stored hashes.
	t := newMemTree()
	err := src.Entries(ctx, func(e *StoredEntry) error {
		if e.Index != t.size {
			earliest(&entryProblem, &Problem{Index: t.size, Reason: "the log skips from this entry to " + fmt.Sprint(e.Index) + " (entries were removed)"})
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
		if p.Reason == "" && opts.Key != nil && !opts.Key.CheckSeal(e.Index, e.Hash, e.Seal) {
			p.Reason = "the entry's seal does not match: it was written or rewritten without the log key"
		}
		if p.Reason != "" {
			earliest(&entryProblem, p)
		}
		t.kinds = append(t.kinds, kindName(e.Kind))
		t.refs = append(t.refs, e.RefID)
		return t.append(h)
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	rep.Entries = t.size
	if rep.Root, err = t.root(t.size); err != nil {
		return nil, err
	}

	// The stored tree must be the one the records make: proofs are served from it.
	err = src.StoredHashes(ctx, func(i int64, h tlog.Hash) error {
		if i >= int64(len(t.hashes)) {
			earliest(&treeProblem, &Problem{Index: t.size, Reason: fmt.Sprintf("the log ends after %d entries but its tree goes on: the entries from here on were removed", t.size)})
			return errStop
		}
		if t.hashes[i] != h {
			level, n := tlog.SplitStoredHashIndex(i)
			earliest(&treeProblem, &Problem{Index: n << level, Reason: fmt.Sprintf("the stored tree hash over entries %d to %d does not match the records (the tree was edited)", n<<level, (n+1)<<level-1)})
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}

	// Every signed checkpoint must be a prefix of the rebuilt tree.
	stored, err := src.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	type signed struct {
		c    Checkpoint
		at   time.Time
		from string
	}
	var all []signed
	for _, c := range externals {
		all = append(all, signed{c, time.Time{}, "the checkpoint given"})
	}
	if len(externals) > 1 {
		for i := range all {
			all[i].from = fmt.Sprintf("the checkpoint given of %d entries", all[i].c.Size)
		}
	}
	for _, s := range stored {
		if opts.Verifier == nil {
			break
		}
		c, err := OpenCheckpoint(s.Note, opts.Verifier)
		if err != nil {
			earliest(&checkpointProblem, &Problem{Index: -1, Reason: fmt.Sprintf("a checkpoint stored in the database (%d entries) is not signed by the log key: %v", s.Size, err)})
			continue
		}
		all = append(all, signed{c, s.SignedAt, "the checkpoint of " + fmt.Sprint(c.Size) + " entries stored in the database"})
	}
	var bad []signed
	for _, s := range all {
		if s.c.Size > t.size {
			earliest(&checkpointProblem, &Problem{Index: t.size, Reason: fmt.Sprintf("%s covers %d entries but the log has only %d: entries %d to %d were removed", s.from, s.c.Size, t.size, t.size, s.c.Size-1)})
			continue
		}
		root, err := t.root(s.c.Size)
		if err != nil {
			return nil, err
		}
		if root != s.c.Root {
			bad = append(bad, s)
			continue
		}
		if s.at.IsZero() {
			rep.External++
		} else {
			rep.StoredVerified++
		}
		rep.Signed = max(rep.Signed, s.c.Size)
	}
	// The smallest checkpoint that does not match bounds the range from above:
	// it goes first, as earliest keeps the first of problems at the same index.
	slices.SortStableFunc(bad, func(a, b signed) int { return cmp.Compare(a.c.Size, b.c.Size) })
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
		earliest(&checkpointProblem, &Problem{Index: lo, Last: s.c.Size - 1, Reason: reason})
	}
	for _, p := range []*Problem{entryProblem, treeProblem, checkpointProblem} {
		if p != nil {
			rep.Problem = p
			break
		}
	}
	if p := rep.Problem; p != nil && p.Index >= 0 && p.Index < t.size && p.Kind == "" && p.Last <= p.Index {
		p.Kind, p.RefID = t.kinds[p.Index], t.refs[p.Index]
	}
	return rep, nil
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

package evidence

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
)

// Store is what the log needs from a database. Entries are appended by the
// store itself, in the transaction that writes each record.
type Store interface {
	// LogSize is the number of committed entries.
	LogSize(ctx context.Context) (int64, error)
	// ReadHashes returns the tree's stored hashes at tlog storage indexes.
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// Entry returns the index and the stored leaf hash of a record's entry
	// (ENOTFOUND when the record has none).
	Entry(ctx context.Context, kind string, refID int64) (int64, tlog.Hash, error)
	// Seals calls fn for each entry with index in [from, to), in order.
	Seals(ctx context.Context, from, to int64, fn func(index int64, h tlog.Hash, seal []byte) error) error
	// LatestCheckpoint returns the newest stored checkpoint, or nil.
	LatestCheckpoint(ctx context.Context) (*app.SignedCheckpoint, error)
	// SaveCheckpoint stores a signed checkpoint.
	SaveCheckpoint(ctx context.Context, cp *app.SignedCheckpoint) error
}

// Log is the evidence log service: it signs checkpoints over the store's
// tree, keeps copies of them outside the database, and answers proofs. It
// implements app.EvidenceLog.
type Log struct {
	Store  Store
	Key    *Key
	Dir    string // when set, every checkpoint is also written here as a file
	Logger *slog.Logger
	Now    func() time.Time
	// Every is how often Run looks for growth (default 1 s); Refresh is the
	// longest a checkpoint goes unsigned however quiet the log (default 1 h).
	Every, Refresh time.Duration
	// Daily, when set, is called once a day with the latest checkpoint (the
	// witnesses' e-mail).
	Daily func(ctx context.Context, cp *app.SignedCheckpoint) error
	// Location is the time zone whose calendar says when a day begins (the
	// portal's PORTAL_TIMEZONE; default UTC).
	Location *time.Location

	rounds    atomic.Int64 // rounds of Run completed
	mu        sync.Mutex
	latest    *app.SignedCheckpoint
	lastDaily time.Time // when Daily last ran (real time)
	lastDay   string    // and the day it ran for
	lastErr   string    // the last failure logged, so a lasting one is logged once
	loaded    bool      // the checkpoint folder has been read
}

// dailyEvery is how often Daily runs within a day: its messages are one a
// witness and day (the outbox keeps each once), so running again only
// reaches a witness named since.
const dailyEvery = 10 * time.Minute

var _ app.EvidenceLog = (*Log)(nil)

func (l *Log) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Log) reader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return l.Store.ReadHashes(ctx, idx) })
}

// VerifierKey is the public key that checks the log's checkpoints.
func (l *Log) VerifierKey() string { return l.Key.VerifierKey }

// ErrInconsistent is returned when the database's tree does not extend the
// last signed checkpoint: someone rewrote the log, and nothing is signed.
var ErrInconsistent = errors.New("the evidence log in the database does not extend the last signed checkpoint")

// Checkpoint returns the latest signed checkpoint, first signing one when
// the latest covers fewer than minSize entries.
func (l *Log) Checkpoint(ctx context.Context, minSize int64) (*app.SignedCheckpoint, error) {
	l.mu.Lock()
	cp := l.latest
	l.mu.Unlock()
	if cp != nil && cp.Size >= minSize && cp.Size > 0 {
		return cp, nil
	}
	return l.Publish(ctx, false)
}

// Publish signs a checkpoint of the tree as it is now, unless the latest
// already covers it (force signs anyway). Before signing it checks that the
// tree extends the previous checkpoint and that every new entry carries the
// key's seal, so that a log rewritten in the database is never signed.
func (l *Log) Publish(ctx context.Context, force bool) (*app.SignedCheckpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.loaded && l.Dir != "" {
		// The copies outside the database are the baseline a rewritten
		// database cannot change.
		cp, err := latestCheckpointFile(l.Dir, l.Key)
		if err != nil {
			return nil, err
		}
		if cp != nil && (l.latest == nil || cp.Size > l.latest.Size) {
			l.latest = cp
		}
	}
	l.loaded = true
	prev := l.latest
	stored, err := l.Store.LatestCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	if stored != nil && (prev == nil || stored.Size > prev.Size) {
		// Another process (a command, another node) signed a later one: it
		// must be signed by our key and extend ours.
		if _, err := OpenCheckpoint(stored.Note, l.Key.Verifier); err != nil {
			return nil, fmt.Errorf("%w: the checkpoint of %d entries stored in the database: %v", ErrInconsistent, stored.Size, err)
		}
		if prev != nil {
			if err := l.consistent(ctx, prev, stored.Size, tlog.Hash(stored.Root)); err != nil {
				return nil, err
			}
		}
		prev = stored
	}
	size, err := l.Store.LogSize(ctx)
	if err != nil {
		return nil, err
	}
	if prev != nil && size < prev.Size {
		return nil, fmt.Errorf("%w: it has %d entries, the checkpoint signed at %s covers %d", ErrInconsistent, size, prev.SignedAt.Format(time.RFC3339), prev.Size)
	}
	if prev != nil && size == prev.Size && !force {
		l.latest = prev
		return prev, nil
	}
	root, err := tlog.TreeHash(size, l.reader(ctx))
	if err != nil {
		return nil, fmt.Errorf("tree hash: %w", err)
	}
	from := int64(0)
	if prev != nil {
		if err := l.consistent(ctx, prev, size, root); err != nil {
			return nil, err
		}
		from = prev.Size
	}
	err = l.Store.Seals(ctx, from, size, func(i int64, h tlog.Hash, seal []byte) error {
		if !l.Key.CheckSeal(i, h, seal) {
			return fmt.Errorf("%w: entry %d does not carry the log key's seal (it was written without the key)", ErrInconsistent, i)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c := Checkpoint{Origin: l.Key.Origin, Size: size, Root: root}
	msg, err := l.Key.Sign(c)
	if err != nil {
		return nil, err
	}
	cp := &app.SignedCheckpoint{Size: size, Root: app.LogHash(root), Note: msg, SignedAt: l.now().UTC().Truncate(time.Microsecond)}
	if err := l.Store.SaveCheckpoint(ctx, cp); err != nil {
		return nil, err
	}
	if l.Dir != "" {
		if err := writeCheckpointFile(l.Dir, cp); err != nil {
			return nil, err
		}
	}
	l.latest = cp
	return cp, nil
}

// consistent checks that the tree of size with root extends prev.
func (l *Log) consistent(ctx context.Context, prev *app.SignedCheckpoint, size int64, root tlog.Hash) error {
	if prev.Size == 0 {
		return nil
	}
	if size < prev.Size {
		return fmt.Errorf("%w: it has %d entries, the checkpoint covers %d", ErrInconsistent, size, prev.Size)
	}
	p, err := tlog.ProveTree(size, prev.Size, l.reader(ctx))
	if err == nil {
		err = tlog.CheckTree(p, size, root, prev.Size, tlog.Hash(prev.Root))
	}
	if err != nil {
		return fmt.Errorf("%w (checkpoint of %d entries signed at %s): %v", ErrInconsistent, prev.Size, prev.SignedAt.Format(time.RFC3339), err)
	}
	return nil
}

// writeCheckpointFile writes cp to dir as checkpoint-<size>, never leaving
// a half-written file under that name: it goes to a temporary file that is
// synced and then renamed.
func writeCheckpointFile(dir string, cp *app.SignedCheckpoint) error {
	name := filepath.Join(dir, fmt.Sprintf("checkpoint-%012d", cp.Size))
	if _, err := os.Stat(name); err == nil {
		return nil // the same size signs to the same bytes
	}
	tmp, err := os.CreateTemp(dir, ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("checkpoint copy: %w", err)
	}
	_, err = tmp.Write(cp.Note)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		_ = os.Remove(tmp.Name()) // best effort; the error is what matters
		return fmt.Errorf("checkpoint copy: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // #nosec G304 -- the operator's checkpoint folder
		_ = d.Sync() // the rename itself survives a power loss where the file system allows
		_ = d.Close()
	}
	return nil
}

// latestCheckpointFile returns the largest checkpoint in dir that the key
// signed, or nil; a file the key did not sign is an error.
func latestCheckpointFile(dir string, k *Key) (*app.SignedCheckpoint, error) {
	names, err := filepath.Glob(filepath.Join(dir, "checkpoint-*"))
	if err != nil || len(names) == 0 {
		return nil, err
	}
	sort.Strings(names) // zero-padded sizes: the last is the largest
	last := names[len(names)-1]
	msg, err := os.ReadFile(last) // #nosec G304 -- a file in the operator's checkpoint folder
	if err != nil {
		return nil, fmt.Errorf("checkpoint copy: %w", err)
	}
	c, err := OpenCheckpoint(msg, k.Verifier)
	if err != nil {
		return nil, fmt.Errorf("checkpoint copy %s: %w", last, err)
	}
	st, err := os.Stat(last)
	if err != nil {
		return nil, err
	}
	return &app.SignedCheckpoint{Size: c.Size, Root: app.LogHash(c.Root), Note: msg, SignedAt: st.ModTime().UTC()}, nil
}

// Run signs a checkpoint within Every of the tree growing, and at least
// every Refresh, until ctx is done; it calls Daily for each new day, and
// again every few minutes so that a witness named today hears today.
func (l *Log) Run(ctx context.Context) {
	every, refresh := l.Every, l.Refresh
	if every <= 0 {
		every = time.Second
	}
	if refresh <= 0 {
		refresh = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		l.mu.Lock()
		stale := l.latest == nil || l.now().Sub(l.latest.SignedAt) >= refresh
		l.mu.Unlock()
		cp, err := l.Publish(ctx, stale)
		switch {
		case err != nil && ctx.Err() == nil:
			l.logFailure(err)
		case err == nil:
			l.lastErr = ""
			l.daily(ctx, cp)
		}
		l.rounds.Add(1)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Rounds is how many times Run has looked at the log (signed if it grew,
// called Daily if due): a test waits for it to move instead of sleeping.
func (l *Log) Rounds() int64 { return l.rounds.Load() }

func (l *Log) logFailure(err error) {
	if l.Logger == nil || err.Error() == l.lastErr {
		return
	}
	l.lastErr = err.Error()
	if errors.Is(err, ErrInconsistent) {
		l.Logger.Error("evidence log: refusing to sign a checkpoint", "err", err)
		return
	}
	l.Logger.Error("evidence log: sign checkpoint", "err", err)
}

func (l *Log) daily(ctx context.Context, cp *app.SignedCheckpoint) {
	if l.Daily == nil {
		return
	}
	day := app.Today(l.now(), l.Location)
	l.mu.Lock()
	done := l.lastDay == day && time.Since(l.lastDaily) < dailyEvery
	l.mu.Unlock()
	if done {
		return
	}
	if err := l.Daily(ctx, cp); err != nil {
		if l.Logger != nil && ctx.Err() == nil {
			l.Logger.Error("evidence log: queue the witnesses' checkpoint", "err", err)
		}
		return
	}
	l.mu.Lock()
	l.lastDay, l.lastDaily = day, time.Now()
	l.mu.Unlock()
}

// ProveInclusion proves entry index in the tree of size entries.
func (l *Log) ProveInclusion(ctx context.Context, index, size int64) (*app.InclusionProof, error) {
	n, err := l.Store.LogSize(ctx)
	if err != nil {
		return nil, err
	}
	if size < 1 || size > n {
		return nil, app.Errorf(app.EINVALID, "The tree size must be from 1 to %d.", n)
	}
	if index < 0 || index >= size {
		return nil, app.Errorf(app.EINVALID, "The entry index must be from 0 to %d.", size-1)
	}
	r := l.reader(ctx)
	p, err := tlog.ProveRecord(size, index, r)
	if err != nil {
		return nil, err
	}
	leaf, err := r.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
	if err != nil {
		return nil, err
	}
	root, err := tlog.TreeHash(size, r)
	if err != nil {
		return nil, err
	}
	out := &app.InclusionProof{Index: index, Size: size, Leaf: app.LogHash(leaf[0]), Root: app.LogHash(root)}
	for _, h := range p {
		out.Proof = append(out.Proof, app.LogHash(h))
	}
	return out, nil
}

// ProveConsistency proves that the tree of size from is a prefix of the tree of size to.
func (l *Log) ProveConsistency(ctx context.Context, from, to int64) ([]app.LogHash, error) {
	n, err := l.Store.LogSize(ctx)
	if err != nil {
		return nil, err
	}
	if to < 1 || to > n {
		return nil, app.Errorf(app.EINVALID, "The new tree size must be from 1 to %d.", n)
	}
	if from < 1 || from > to {
		return nil, app.Errorf(app.EINVALID, "The old tree size must be from 1 to %d.", to)
	}
	p, err := tlog.ProveTree(to, from, l.reader(ctx))
	if err != nil {
		return nil, err
	}
	out := make([]app.LogHash, len(p))
	for i, h := range p {
		out[i] = app.LogHash(h)
	}
	return out, nil
}

// CheckAcknowledgment re-hashes a as stored, compares the hash with its
// entry and proves the entry's inclusion in the latest checkpoint.
func (l *Log) CheckAcknowledgment(ctx context.Context, a *app.Acknowledgment) (*app.RecordCheck, error) {
	idx, stored, err := l.Store.Entry(ctx, KindAcknowledgment, a.ID)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return &app.RecordCheck{Index: -1}, nil
	}
	if err != nil {
		return nil, err
	}
	rc := &app.RecordCheck{Index: idx, Matches: AcknowledgmentLeaf(a).Hash() == stored}
	cp, err := l.Checkpoint(ctx, idx+1)
	if errors.Is(err, ErrInconsistent) {
		return rc, nil // nothing is proven against a log that was rewritten
	}
	if err != nil {
		return nil, err
	}
	rc.Checkpoint = cp
	if cp.Size <= idx {
		return rc, nil
	}
	p, err := tlog.ProveRecord(cp.Size, idx, l.reader(ctx))
	if err != nil {
		return nil, err
	}
	rc.Proven = rc.Matches && tlog.CheckRecord(p, cp.Size, tlog.Hash(cp.Root), idx, stored) == nil
	return rc, nil
}

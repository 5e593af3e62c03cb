package evidence

// Publishing a checkpoint only when the log extends the last one, the
// proofs, and checking one acknowledgment against the log (memStore).

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
)

// memStore is a Store in memory for the Log service.
type memStore struct {
	log   *fakeLog
	saved []*app.SignedCheckpoint
}

func (s *memStore) LogSize(context.Context) (int64, error) { return int64(len(s.log.entries)), nil }
func (s *memStore) ReadHashes(_ context.Context, idx []int64) ([]tlog.Hash, error) {
	m := newMemTree()
	for _, e := range s.log.entries {
		if err := m.append(e.Hash); err != nil {
			return nil, err
		}
	}
	return m.ReadHashes(idx)
}
func (s *memStore) Entry(_ context.Context, kind string, ref int64) (int64, tlog.Hash, error) {
	for _, e := range s.log.entries {
		if e.Kind == kind && e.RefID == ref {
			return e.Index, e.Hash, nil
		}
	}
	return 0, tlog.Hash{}, app.Errorf(app.ENOTFOUND, "no entry")
}
func (s *memStore) Seals(_ context.Context, from, to int64, fn func(int64, tlog.Hash, []byte) error) error {
	for _, e := range s.log.entries[from:to] {
		if err := fn(e.Index, e.Hash, e.Seal); err != nil {
			return err
		}
	}
	return nil
}
func (s *memStore) LatestCheckpoint(context.Context) (*app.SignedCheckpoint, error) {
	if len(s.saved) == 0 {
		return nil, nil
	}
	return s.saved[len(s.saved)-1], nil
}
func (s *memStore) SaveCheckpoint(_ context.Context, cp *app.SignedCheckpoint) error {
	s.saved = append(s.saved, cp)
	return nil
}

func TestLogPublishesOnlyAnExtension(t *testing.T) {
	ctx := context.Background()
	k := mustKey(t, "portal.example/log")
	dir := t.TempDir()
	newLog := func(s *memStore) *Log { return &Log{Store: s, Key: k, Dir: dir, Now: time.Now} }
	store := &memStore{log: newFakeLog(t, k, 5)}
	l := newLog(store)
	cp, err := l.Publish(ctx, false)
	if err != nil || cp.Size != 5 {
		t.Fatalf("publish: %+v %v", cp, err)
	}
	if c, err := OpenCheckpoint(cp.Note, k.Verifier); err != nil || c.Size != 5 {
		t.Fatalf("the checkpoint: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoint-000000000005")); err != nil {
		t.Fatalf("no copy outside the database: %v", err)
	}
	if again, err := l.Publish(ctx, false); err != nil || again != cp {
		t.Fatalf("an unchanged log signed again: %v", err)
	}
	store.log.append(event(6))
	cp6, err := l.Publish(ctx, false)
	if err != nil || cp6.Size != 6 {
		t.Fatalf("publish 6: %+v %v", cp6, err)
	}

	t.Run("proofs check against the signed root", func(t *testing.T) {
		p, err := l.ProveInclusion(ctx, 2, 6)
		if err != nil {
			t.Fatal(err)
		}
		var proof tlog.RecordProof
		for _, h := range p.Proof {
			proof = append(proof, tlog.Hash(h))
		}
		if err := tlog.CheckRecord(proof, 6, tlog.Hash(cp6.Root), 2, store.log.entries[2].Hash); err != nil {
			t.Fatal(err)
		}
		cons, err := l.ProveConsistency(ctx, 5, 6)
		if err != nil {
			t.Fatal(err)
		}
		var tp tlog.TreeProof
		for _, h := range cons {
			tp = append(tp, tlog.Hash(h))
		}
		if err := tlog.CheckTree(tp, 6, tlog.Hash(cp6.Root), 5, tlog.Hash(cp.Root)); err != nil {
			t.Fatal(err)
		}
		for _, bad := range [][2]int64{{-1, 6}, {6, 6}, {0, 0}, {0, 7}} {
			if _, err := l.ProveInclusion(ctx, bad[0], bad[1]); app.ErrorCode(err) != app.EINVALID {
				t.Errorf("inclusion %v: %v", bad, err)
			}
		}
		if _, err := l.ProveConsistency(ctx, 0, 6); app.ErrorCode(err) != app.EINVALID {
			t.Errorf("consistency from 0: %v", err)
		}
	})

	rewritten := func(t *testing.T, s *memStore) {
		t.Helper()
		saved := len(s.saved)
		_, err := l.Publish(ctx, true)
		if !errors.Is(err, ErrInconsistent) {
			t.Fatalf("publish over a rewritten log: %v", err)
		}
		if len(s.saved) != saved {
			t.Fatal("a checkpoint was signed over a rewritten log")
		}
	}
	t.Run("a log cut short is refused", func(t *testing.T) {
		entries := store.log.entries
		defer func() { store.log.entries = entries }()
		store.log.entries = entries[:4]
		rewritten(t, store)
	})
	t.Run("a log rewritten and re-sealed without the key is refused", func(t *testing.T) {
		entries := append([]*StoredEntry(nil), store.log.entries...)
		defer func() { store.log.entries = entries }()
		store.log.rewrite(3, mustKey(t, k.Origin))
		rewritten(t, store)
	})
	t.Run("new entries without the key's seal are refused", func(t *testing.T) {
		entries := append([]*StoredEntry(nil), store.log.entries...)
		defer func() { store.log.entries = entries }()
		store.log.append(event(7))
		store.log.entries[6].Seal = mustKey(t, k.Origin).Seal(6, store.log.entries[6].Hash)
		rewritten(t, store)
	})
	t.Run("a new process on a database restored from an older backup is refused by the copies outside", func(t *testing.T) {
		old := &memStore{log: &fakeLog{key: k, entries: store.log.entries[:5]}}
		fresh := newLog(old) // it reads the checkpoint folder, which has seen 6
		if _, err := fresh.Publish(ctx, false); !errors.Is(err, ErrInconsistent) {
			t.Fatalf("publish: %v", err)
		}
		if len(old.saved) != 0 {
			t.Fatal("signed over the older backup")
		}
	})
	if hex.EncodeToString(cp6.Root[:]) == hex.EncodeToString(cp.Root[:]) {
		t.Fatal("the root did not move")
	}
}

// published sets up a Log over a store of n entries with one checkpoint
// signed, and returns what a failed Publish must leave as it is.
type published struct {
	l     *Log
	store *memStore
	cp    *app.SignedCheckpoint
	dir   string
}

func publishOnce(t *testing.T, k *Key, n int) *published {
	t.Helper()
	p := &published{store: &memStore{log: newFakeLog(t, k, n)}, dir: t.TempDir()}
	p.l = &Log{Store: p.store, Key: k, Dir: p.dir, Now: func() time.Time { return time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC) }}
	cp, err := p.l.Publish(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	p.cp = cp
	return p
}

// refused checks that Publish returns ErrInconsistent and leaves the
// checkpoint stored, held and copied outside as they were.
func (p *published) refused(t *testing.T, force bool) {
	t.Helper()
	ctx := context.Background()
	_, err := p.l.Publish(ctx, force)
	if !errors.Is(err, ErrInconsistent) {
		t.Fatalf("publish: %v", err)
	}
	if latest, _ := p.store.LatestCheckpoint(ctx); latest != p.cp || len(p.store.saved) != 1 {
		t.Fatalf("the stored checkpoint changed: %d saved", len(p.store.saved))
	}
	if held, err := p.l.Checkpoint(ctx, 0); err != nil || held != p.cp {
		t.Fatalf("the held checkpoint changed: %v", err)
	}
	names, _ := filepath.Glob(filepath.Join(p.dir, "*"))
	if len(names) != 1 || filepath.Base(names[0]) != "checkpoint-"+strings.Repeat("0", 11)+"6" {
		t.Fatalf("the copies outside: %v", names)
	}
}

func TestPublishRefusesWhatDoesNotExtend(t *testing.T) {
	ctx := context.Background()
	k := mustKey(t, "portal.example/log")

	// The first checkpoint is exactly the tree, signed at the log's clock.
	t.Run("the checkpoint signed", func(t *testing.T) {
		p := publishOnce(t, k, 6)
		root, _ := p.store.log.tree(t).root(6)
		c, err := OpenCheckpoint(p.cp.Note, k.Verifier)
		if err != nil || c != (Checkpoint{Origin: k.Origin, Size: 6, Root: root}) || tlog.Hash(p.cp.Root) != root || p.cp.Size != 6 ||
			!p.cp.SignedAt.Equal(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)) {
			t.Fatalf("checkpoint %+v %v", c, err)
		}
		copyText, err := os.ReadFile(filepath.Join(p.dir, "checkpoint-000000000006"))
		if err != nil || !bytes.Equal(copyText, p.cp.Note) {
			t.Fatalf("the copy outside: %v", err)
		}
	})
	// The store now returns a shorter log.
	t.Run("a shorter log", func(t *testing.T) {
		p := publishOnce(t, k, 6)
		p.store.log.entries = p.store.log.entries[:5]
		p.refused(t, false)
		p.refused(t, true)
	})
	// The same size, one record rewritten and even re-sealed with the real
	// key: the tree no longer has the signed root.
	t.Run("a different log of the same size", func(t *testing.T) {
		p := publishOnce(t, k, 6)
		p.store.log.rewrite(2, k)
		p.refused(t, true)
	})
	// A different log that has also grown: the consistency proof fails.
	t.Run("a different log that grew", func(t *testing.T) {
		p := publishOnce(t, k, 6)
		p.store.log.rewrite(2, k)
		p.store.log.append(event(7))
		p.refused(t, false)
	})
	// A later checkpoint in the database not signed by the key.
	t.Run("a forged later checkpoint in the store", func(t *testing.T) {
		p := publishOnce(t, k, 6)
		p.store.log.append(event(7))
		forger := &fakeLog{key: mustKey(t, k.Origin), entries: p.store.log.entries}
		forger.sign(t, 7)
		p.store.saved = append(p.store.saved, forger.cps[0])
		if _, err := p.l.Publish(ctx, false); !errors.Is(err, ErrInconsistent) || !strings.Contains(err.Error(), "stored in the database") {
			t.Fatalf("publish: %v", err)
		}
		if held, _ := p.l.Checkpoint(ctx, 0); held != p.cp {
			t.Fatal("the forged checkpoint was taken")
		}
	})
	// A later checkpoint another process signed with the key is taken, not
	// signed again.
	t.Run("another process's later checkpoint", func(t *testing.T) {
		p := publishOnce(t, k, 6)
		p.store.log.append(event(7))
		other := &Log{Store: p.store, Key: k, Now: time.Now}
		cp7, err := other.Publish(ctx, false)
		if err != nil || cp7.Size != 7 {
			t.Fatalf("the other process: %+v %v", cp7, err)
		}
		if got, err := p.l.Publish(ctx, false); err != nil || got != cp7 || len(p.store.saved) != 2 {
			t.Fatalf("publish: %v (%d saved)", err, len(p.store.saved))
		}
	})
}

// Every inclusion and consistency proof of a 9-entry log checks against
// roots computed apart from the Log, and fails against another root.
func TestProofsCheck(t *testing.T) {
	ctx := context.Background()
	k := mustKey(t, "portal.example/log")
	f := newFakeLog(t, k, 9)
	l := &Log{Store: &memStore{log: f}, Key: k}
	tree := f.tree(t)
	roots := make([]tlog.Hash, 10)
	for n := int64(1); n <= 9; n++ {
		roots[n], _ = tree.root(n)
	}
	for size := int64(1); size <= 9; size++ {
		for i := int64(0); i < size; i++ {
			p, err := l.ProveInclusion(ctx, i, size)
			if err != nil {
				t.Fatal(err)
			}
			if p.Index != i || p.Size != size || tlog.Hash(p.Leaf) != f.entries[i].Hash || tlog.Hash(p.Root) != roots[size] {
				t.Fatalf("inclusion %d in %d: %+v", i, size, p)
			}
			proof := make(tlog.RecordProof, len(p.Proof))
			for j, h := range p.Proof {
				proof[j] = tlog.Hash(h)
			}
			if err := tlog.CheckRecord(proof, size, roots[size], i, f.entries[i].Hash); err != nil {
				t.Fatalf("inclusion %d in %d: %v", i, size, err)
			}
			if tlog.CheckRecord(proof, size, roots[size], i, tlog.RecordHash([]byte("other"))) == nil {
				t.Fatalf("inclusion %d in %d proves another record", i, size)
			}
		}
		for from := int64(1); from <= size; from++ {
			hs, err := l.ProveConsistency(ctx, from, size)
			if err != nil {
				t.Fatal(err)
			}
			proof := make(tlog.TreeProof, len(hs))
			for j, h := range hs {
				proof[j] = tlog.Hash(h)
			}
			if err := tlog.CheckTree(proof, size, roots[size], from, roots[from]); err != nil {
				t.Fatalf("consistency %d to %d: %v", from, size, err)
			}
			if from < size && tlog.CheckTree(proof, size, roots[size], from, tlog.RecordHash([]byte("other"))) == nil {
				t.Fatalf("consistency %d to %d proves another old root", from, size)
			}
		}
	}
	if _, err := l.ProveConsistency(ctx, 5, 4); app.ErrorCode(err) != app.EINVALID {
		t.Errorf("consistency backwards: %v", err)
	}
	if _, err := l.ProveConsistency(ctx, 1, 10); app.ErrorCode(err) != app.EINVALID {
		t.Errorf("consistency past the log: %v", err)
	}
}

// CheckAcknowledgment: a record as logged matches and is proven in a
// checkpoint it signs for the purpose; an edited one matches nothing; a
// record without an entry has index -1.
func TestCheckAcknowledgment(t *testing.T) {
	ctx := context.Background()
	k := mustKey(t, "portal.example/log")
	f := newFakeLog(t, k, 3)
	a := goldenAck(t)
	leaf := AcknowledgmentLeaf(a)
	f.entries = append(f.entries, &StoredEntry{Index: 3, Kind: leaf.Kind, RefID: leaf.RefID, Hash: leaf.Hash(), Seal: k.Seal(3, leaf.Hash()), Leaf: &leaf})
	l := &Log{Store: &memStore{log: f}, Key: k, Now: time.Now}
	rc, err := l.CheckAcknowledgment(ctx, a)
	if err != nil || rc.Index != 3 || !rc.Matches || !rc.Proven || rc.Checkpoint == nil || rc.Checkpoint.Size != 4 {
		t.Fatalf("as logged: %+v %v", rc, err)
	}
	a.Comment += "!"
	if rc, err := l.CheckAcknowledgment(ctx, a); err != nil || rc.Index != 3 || rc.Matches || rc.Proven {
		t.Fatalf("edited: %+v %v", rc, err)
	}
	a.ID = 43
	if rc, err := l.CheckAcknowledgment(ctx, a); err != nil || rc.Index != -1 || rc.Matches {
		t.Fatalf("not logged: %+v %v", rc, err)
	}
}

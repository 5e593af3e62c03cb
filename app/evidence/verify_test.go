package evidence

// Verify on logs made in memory (fakeLog): whole, rewritten, renumbered,
// inserted into and cut.

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
)

// fakeLog is a store's log in memory: entries with their records, seals
// and the checkpoints signed so far.
type fakeLog struct {
	key     *Key
	entries []*StoredEntry
	cps     []*app.SignedCheckpoint
}

func event(id int64) *app.AuditEvent {
	return &app.AuditEvent{ID: id, At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Minute),
		Action: "test.event", SubjectType: "test", SubjectID: id, Detail: fmt.Sprint("event ", id)}
}

func newFakeLog(t *testing.T, k *Key, n int) *fakeLog {
	t.Helper()
	f := &fakeLog{key: k}
	for i := 0; i < n; i++ {
		f.append(event(int64(i + 1)))
	}
	return f
}

func (f *fakeLog) append(e *app.AuditEvent) {
	leaf := AuditEventLeaf(e)
	i := int64(len(f.entries))
	f.entries = append(f.entries, &StoredEntry{Index: i, Kind: leaf.Kind, RefID: leaf.RefID, Hash: leaf.Hash(),
		Seal: f.key.Seal(i, leaf.Hash()), Leaf: &leaf})
}

// tree is the Merkle tree over the stored leaf hashes.
func (f *fakeLog) tree(t *testing.T) *memTree {
	t.Helper()
	m := newMemTree()
	for _, e := range f.entries {
		if err := m.append(e.Hash); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// sign signs a checkpoint of the first size entries and stores it.
func (f *fakeLog) sign(t *testing.T, size int64) []byte {
	t.Helper()
	root, err := f.tree(t).root(size)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := f.key.Sign(Checkpoint{Origin: f.key.Origin, Size: size, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	f.cps = append(f.cps, &app.SignedCheckpoint{Size: size, Root: app.LogHash(root), Note: msg, SignedAt: time.Now()})
	return msg
}

// source is the log as Verify reads it; the stored tree is rebuilt from the
// stored hashes, as a store keeps it.
type fakeSource struct {
	entries []*StoredEntry
	hashes  []tlog.Hash
	cps     []*app.SignedCheckpoint
}

func (f *fakeLog) source(t *testing.T) *fakeSource {
	return &fakeSource{entries: f.entries, hashes: f.tree(t).hashes, cps: f.cps}
}

func (s *fakeSource) Entries(_ context.Context, fn func(e *StoredEntry) error) error {
	for _, e := range s.entries {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeSource) StoredHashes(_ context.Context, fn func(int64, tlog.Hash) error) error {
	for i, h := range s.hashes {
		if err := fn(int64(i), h); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeSource) Checkpoints(context.Context) ([]*app.SignedCheckpoint, error) { return s.cps, nil }

// rewrite replaces entry i's record with a changed one and recomputes its
// hash, seal (with the key given) and the whole tree, as an insider with
// the database file would.
func (f *fakeLog) rewrite(i int, with *Key) {
	e := event(int64(i + 1))
	e.Detail = "rewritten"
	leaf := AuditEventLeaf(e)
	f.entries[i] = &StoredEntry{Index: int64(i), Kind: leaf.Kind, RefID: leaf.RefID, Hash: leaf.Hash(), Seal: with.Seal(int64(i), leaf.Hash()), Leaf: &leaf}
}

func verify(t *testing.T, src Source, opts VerifyOptions) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestVerify(t *testing.T) {
	k := mustKey(t, "portal.example/log")
	attacker := mustKey(t, "portal.example/log")

	t.Run("an untouched log verifies, every checkpoint with it", func(t *testing.T) {
		f := newFakeLog(t, k, 12)
		f.sign(t, 4)
		f.sign(t, 12)
		rep := verify(t, f.source(t), VerifyOptions{Key: k})
		want, _ := f.tree(t).root(12)
		if rep.Problem != nil || rep.Entries != 12 || rep.Root != want || !rep.SealsChecked || rep.StoredVerified != 2 || rep.Signed != 12 {
			t.Fatalf("report %+v, problem %v", rep, rep.Problem)
		}
	})
	t.Run("an edited record is named", func(t *testing.T) {
		f := newFakeLog(t, k, 12)
		f.entries[6].Leaf.Data = bytes.Replace(f.entries[6].Leaf.Data, []byte("event 7"), []byte("event X"), 1)
		rep := verify(t, f.source(t), VerifyOptions{})
		if p := rep.Problem; p == nil || p.Index != 6 || p.Kind != KindAuditEvent || p.RefID != 7 || !strings.Contains(p.Reason, "changed after it was logged") {
			t.Fatalf("problem %v", rep.Problem)
		}
	})
	t.Run("a deleted record is named", func(t *testing.T) {
		f := newFakeLog(t, k, 5)
		f.entries[2].Leaf = nil
		if p := verify(t, f.source(t), VerifyOptions{}).Problem; p == nil || p.Index != 2 || !strings.Contains(p.Reason, "missing") {
			t.Fatalf("problem %v", p)
		}
	})
	t.Run("a removed entry is found where the indexes skip", func(t *testing.T) {
		f := newFakeLog(t, k, 6)
		f.entries = append(f.entries[:3:3], f.entries[4:]...)
		if p := verify(t, f.source(t), VerifyOptions{}).Problem; p == nil || p.Index != 3 || !strings.Contains(p.Reason, "removed") {
			t.Fatalf("problem %v", p)
		}
	})
	t.Run("a rewrite with every hash recomputed", func(t *testing.T) {
		f := newFakeLog(t, k, 12)
		var given [][]byte
		for _, n := range []int64{4, 8, 12} {
			given = append(given, f.sign(t, n))
		}
		f.cps = nil // the insider also deleted the stored checkpoints
		f.rewrite(6, attacker)
		// With the key the seal names the entry.
		if p := verify(t, f.source(t), VerifyOptions{Key: k}).Problem; p == nil || p.Index != 6 || p.RefID != 7 || !strings.Contains(p.Reason, "seal does not match") {
			t.Fatalf("with the key: %v", p)
		}
		// Without the key and without checkpoints, it cannot be seen: the
		// log is consistent with itself.
		if p := verify(t, f.source(t), VerifyOptions{Verifier: k.Verifier}).Problem; p != nil {
			t.Fatalf("nothing to compare with, yet: %v", p)
		}
		// Checkpoints kept outside place it between the last that matches and the first that does not.
		rep := verify(t, f.source(t), VerifyOptions{Verifier: k.Verifier, More: given})
		if p := rep.Problem; p == nil || p.Index != 4 || p.Last != 7 || !strings.HasPrefix(p.Error(), "log entries 4 to 7: ") {
			t.Fatalf("with checkpoints: %v", p)
		}
		if rep.External != 1 || rep.Signed != 4 {
			t.Fatalf("%d checkpoints checked, signed up to %d", rep.External, rep.Signed)
		}
		// With a checkpoint after each entry, the range is one entry.
		f2 := newFakeLog(t, k, 12)
		given = nil
		for n := int64(1); n <= 12; n++ {
			given = append(given, f2.sign(t, n))
		}
		f2.cps = nil
		f2.rewrite(6, attacker)
		if p := verify(t, f2.source(t), VerifyOptions{Verifier: k.Verifier, More: given}).Problem; p == nil || p.Index != 6 || p.Last != 6 || !strings.Contains(p.Reason, "this entry was changed") {
			t.Fatalf("with a checkpoint per entry: %v", p)
		}
	})
	t.Run("a log cut short is caught by a checkpoint signed before", func(t *testing.T) {
		f := newFakeLog(t, k, 10)
		saved := f.sign(t, 10)
		f.entries, f.cps = f.entries[:7], nil
		rep := verify(t, f.source(t), VerifyOptions{Verifier: k.Verifier, Checkpoint: saved})
		if p := rep.Problem; p == nil || p.Index != 7 || !strings.Contains(p.Reason, "entries 7 to 9 were removed") {
			t.Fatalf("problem %v", p)
		}
	})
	t.Run("an edited stored tree is caught", func(t *testing.T) {
		f := newFakeLog(t, k, 8)
		src := f.source(t)
		src.hashes[3] = tlog.RecordHash([]byte("forged"))
		if p := verify(t, src, VerifyOptions{}).Problem; p == nil || !strings.Contains(p.Reason, "tree was edited") {
			t.Fatalf("problem %v", p)
		}
	})
	t.Run("a stored checkpoint not signed by the key is reported", func(t *testing.T) {
		f := newFakeLog(t, k, 3)
		other := &fakeLog{key: attacker, entries: f.entries}
		other.sign(t, 3)
		f.cps = other.cps
		if p := verify(t, f.source(t), VerifyOptions{Key: k}).Problem; p == nil || p.Index != -1 || !strings.Contains(p.Reason, "not signed by the log key") {
			t.Fatalf("problem %v", p)
		}
	})
	t.Run("bad checkpoints given are refused", func(t *testing.T) {
		f := newFakeLog(t, k, 3)
		forged := (&fakeLog{key: attacker, entries: f.entries}).sign(t, 3)
		if _, err := Verify(context.Background(), f.source(t), VerifyOptions{Verifier: k.Verifier, Checkpoint: forged}); err == nil {
			t.Error("a checkpoint signed by another key was taken")
		}
		if _, err := Verify(context.Background(), f.source(t), VerifyOptions{Checkpoint: f.sign(t, 3)}); err == nil {
			t.Error("a checkpoint checked without any verifier")
		}
	})
}

// renumber gives entries from i on their position as index and re-seals
// them with the key given, as an insider rewriting the log table would.
func (f *fakeLog) renumber(from int, with *Key) {
	for i := from; i < len(f.entries); i++ {
		e := *f.entries[i]
		e.Index = int64(i)
		e.Seal = with.Seal(e.Index, e.Hash)
		f.entries[i] = &e
	}
}

// insert puts a record's entry at position i, then renumbers and re-seals
// from there.
func (f *fakeLog) insert(i int, ev *app.AuditEvent, with *Key) {
	leaf := AuditEventLeaf(ev)
	e := &StoredEntry{Kind: leaf.Kind, RefID: leaf.RefID, Hash: leaf.Hash(), Leaf: &leaf}
	f.entries = slices.Insert(f.entries, i, e)
	f.renumber(i, with)
}

func TestVerifyMore(t *testing.T) {
	k := mustKey(t, "portal.example/log")
	attacker := mustKey(t, k.Origin)

	// The exact sentence an operator reads for an edited record, with the key.
	t.Run("an edited record is named with the key", func(t *testing.T) {
		f := newFakeLog(t, k, 10)
		f.sign(t, 10)
		f.entries[6].Leaf.Data = bytes.Replace(f.entries[6].Leaf.Data, []byte("event 7"), []byte("event X"), 1)
		rep := verify(t, f.source(t), VerifyOptions{Key: k})
		p := rep.Problem
		if p == nil || p.Error() != "log entry 6 (audit_event 7): the record no longer matches its entry (it was changed after it was logged)" {
			t.Fatalf("problem %v", p)
		}
		// The tree is rebuilt from the records, so the checkpoint no longer
		// matches either; the entry's own problem is the one reported.
		if rep.StoredVerified != 0 || rep.Signed != 0 || rep.Entries != 10 {
			t.Fatalf("report %+v", rep)
		}
	})
	// A problem the store found in a record is passed on as it is.
	t.Run("a store's problem is reported", func(t *testing.T) {
		f := newFakeLog(t, k, 4)
		f.entries[1].Problem = "the record's policy content does not hash to its sha256"
		if p := verify(t, f.source(t), VerifyOptions{Key: k}).Problem; p == nil || p.Index != 1 || p.RefID != 2 || p.Reason != "the record's policy content does not hash to its sha256" {
			t.Fatalf("problem %v", p)
		}
	})
	// An inserted entry, every later index, seal and tree hash recomputed
	// with another key: the key's seals name the inserted entry.
	t.Run("an inserted entry", func(t *testing.T) {
		f := newFakeLog(t, k, 10)
		for _, n := range []int64{4, 8, 10} {
			f.sign(t, n)
		}
		f.insert(5, event(99), attacker)
		rep := verify(t, f.source(t), VerifyOptions{Key: k})
		if p := rep.Problem; p == nil || p.Index != 5 || p.RefID != 99 || !strings.Contains(p.Reason, "seal does not match") {
			t.Fatalf("with the key: %v", p)
		}
		if rep.Entries != 11 {
			t.Fatalf("%d entries", rep.Entries)
		}
		// Without the key, the stored checkpoints place it after the last
		// that still matches (4) and before the first that does not (8).
		rep = verify(t, f.source(t), VerifyOptions{Verifier: k.Verifier})
		if p := rep.Problem; p == nil || p.Index != 4 || p.Last != 7 || p.Kind != "" ||
			!strings.HasPrefix(p.Error(), "log entries 4 to 7: the checkpoint of 8 entries stored in the database no longer matches the log") {
			t.Fatalf("without the key: %v", p)
		}
		if rep.StoredVerified != 1 || rep.Signed != 4 || rep.SealsChecked {
			t.Fatalf("report %+v", rep)
		}
	})
	// An insert that keeps the old seals (the insider has no key at all)
	// fails at the first shifted entry's seal: a seal binds its index.
	t.Run("an inserted entry with the old seals kept", func(t *testing.T) {
		f := newFakeLog(t, k, 6)
		seals := make([][]byte, len(f.entries))
		for i, e := range f.entries {
			seals[i] = e.Seal
		}
		f.insert(2, event(99), attacker)
		for i := 3; i < len(f.entries); i++ {
			f.entries[i].Seal = seals[i-1]
		}
		f.entries[2].Seal = nil
		if p := verify(t, f.source(t), VerifyOptions{Key: k}).Problem; p == nil || p.Index != 2 || p.RefID != 99 {
			t.Fatalf("problem %v", p)
		}
		f.entries[2].Seal = seals[2] // the seal of the entry once at 2
		if p := verify(t, f.source(t), VerifyOptions{Key: k}).Problem; p == nil || p.Index != 2 {
			t.Fatalf("a seal moved to another record: %v", p)
		}
	})
	// An entry removed and the rest renumbered and re-sealed: the key names
	// the position, a stored checkpoint places it.
	t.Run("a removed entry with the rest renumbered", func(t *testing.T) {
		f := newFakeLog(t, k, 10)
		f.sign(t, 3)
		f.sign(t, 10)
		f.entries = slices.Delete(f.entries, 4, 5)
		f.renumber(4, attacker)
		if p := verify(t, f.source(t), VerifyOptions{Key: k}).Problem; p == nil || p.Index != 4 || p.RefID != 6 || !strings.Contains(p.Reason, "seal does not match") {
			t.Fatalf("with the key: %v", p)
		}
		// The 10-entry checkpoint is first caught as longer than the log.
		if p := verify(t, f.source(t), VerifyOptions{Verifier: k.Verifier}).Problem; p == nil || p.Index != 9 || p.Last != 0 ||
			p.Reason != "the checkpoint of 10 entries stored in the database covers 10 entries but the log has only 9: entries 9 to 9 were removed" {
			t.Fatalf("without the key: %v", p)
		}
	})
	// The insider also appends one entry so that the sizes agree: the range
	// is then from the last checkpoint that matches.
	t.Run("a removed entry hidden by an appended one", func(t *testing.T) {
		f := newFakeLog(t, k, 10)
		f.sign(t, 3)
		f.sign(t, 10)
		f.entries = slices.Delete(f.entries, 4, 5)
		f.append(event(11))
		f.renumber(4, attacker)
		if p := verify(t, f.source(t), VerifyOptions{Verifier: k.Verifier}).Problem; p == nil || p.Index != 3 || p.Last != 9 {
			t.Fatalf("problem %v", p)
		}
	})
	// A tail cut with the tree left as it was: the tree goes on.
	t.Run("a tail cut, the tree left", func(t *testing.T) {
		f := newFakeLog(t, k, 10)
		src := f.source(t)
		src.entries = src.entries[:7]
		if p := verify(t, src, VerifyOptions{Key: k}).Problem; p == nil || p.Index != 7 ||
			p.Reason != "the log ends after 7 entries but its tree goes on: the entries from here on were removed" {
			t.Fatalf("problem %v", p)
		}
	})
	// A tail cut with the tree rebuilt: the checkpoint stored in the database
	// (which the insider left) says the log was longer; with no checkpoint at
	// all nothing can say so, which is why checkpoints are kept outside.
	t.Run("a tail cut, the tree rebuilt", func(t *testing.T) {
		f := newFakeLog(t, k, 10)
		f.sign(t, 10)
		f.entries = f.entries[:7]
		rep := verify(t, f.source(t), VerifyOptions{Key: k})
		if p := rep.Problem; p == nil || p.Index != 7 ||
			p.Reason != "the checkpoint of 10 entries stored in the database covers 10 entries but the log has only 7: entries 7 to 9 were removed" {
			t.Fatalf("problem %v", p)
		}
		f.cps = nil
		if rep := verify(t, f.source(t), VerifyOptions{Key: k}); rep.Problem != nil || rep.Entries != 7 || rep.Signed != 0 {
			t.Fatalf("with nothing to compare: %+v %v", rep, rep.Problem)
		}
	})
	// An edited stored tree hash is placed at the entries it covers.
	t.Run("an edited tree hash is placed", func(t *testing.T) {
		f := newFakeLog(t, k, 8)
		for idx, want := range map[int64]string{
			tlog.StoredHashIndex(0, 2): "log entry 2 (audit_event 3): the stored tree hash over entries 2 to 2 does not match",
			tlog.StoredHashIndex(1, 2): "log entry 4 (audit_event 5): the stored tree hash over entries 4 to 5 does not match",
			tlog.StoredHashIndex(3, 0): "log entry 0 (audit_event 1): the stored tree hash over entries 0 to 7 does not match",
		} {
			src := f.source(t)
			src.hashes[idx] = tlog.RecordHash([]byte("forged"))
			if p := verify(t, src, VerifyOptions{}).Problem; p == nil || !strings.HasPrefix(p.Error(), want) {
				t.Errorf("hash %d: %v", idx, p)
			}
		}
	})
	// The largest external checkpoint is reported back.
	t.Run("the checkpoint given is reported", func(t *testing.T) {
		f := newFakeLog(t, k, 6)
		small, large := f.sign(t, 2), f.sign(t, 6)
		rep := verify(t, f.source(t), VerifyOptions{Key: k, Checkpoint: small, More: [][]byte{large}})
		if rep.Problem != nil || rep.Checkpoint == nil || rep.Checkpoint.Size != 6 || rep.External != 2 || rep.StoredVerified != 2 || rep.Signed != 6 {
			t.Fatalf("report %+v %v", rep, rep.Problem)
		}
		root, _ := f.tree(t).root(6)
		if rep.Checkpoint.Root != root {
			t.Fatal("the checkpoint's root")
		}
	})
	// The range is the same whatever order the checkpoints come in: from the
	// largest that matches to the smallest that does not.
	t.Run("the narrowest range whatever the order", func(t *testing.T) {
		f := newFakeLog(t, k, 12)
		cp4, cp8, cp12 := f.sign(t, 4), f.sign(t, 8), f.sign(t, 12)
		f.cps = nil
		f.rewrite(2, attacker) // within the first 4
		for name, opts := range map[string]VerifyOptions{
			"oldest first": {Verifier: k.Verifier, More: [][]byte{cp4, cp8, cp12}},
			"newest first": {Verifier: k.Verifier, More: [][]byte{cp12, cp8, cp4}},
			"given first":  {Verifier: k.Verifier, Checkpoint: cp8, More: [][]byte{cp4}},
		} {
			if p := verify(t, f.source(t), opts).Problem; p == nil || p.Index != 0 || p.Last != 3 {
				t.Errorf("%s: %v", name, p)
			}
		}
		// One checkpoint given, a smaller one stored in the database.
		f.cps = []*app.SignedCheckpoint{{Size: 4, Note: cp4}}
		if p := verify(t, f.source(t), VerifyOptions{Verifier: k.Verifier, Checkpoint: cp12}).Problem; p == nil || p.Index != 0 || p.Last != 3 {
			t.Errorf("given and stored: %v", p)
		}
	})
}

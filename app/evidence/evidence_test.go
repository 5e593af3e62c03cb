package evidence

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
)

// The canonical form of a record is fixed byte for byte: a change to it
// would make every entry written before fail to verify.
func TestCanonicalFormIsFixed(t *testing.T) {
	signed := time.Date(2026, 3, 1, 14, 5, 6, 123456789, time.UTC)
	actor := int64(7)
	ev := AuditEventLeaf(&app.AuditEvent{ID: 3, At: signed, ActorID: &actor, Action: "policy.published",
		SubjectType: "policy_version", SubjectID: 2, Detail: "Zoë\nline two", IP: "10.0.0.1"})
	want := "portal/evidence/1\n" +
		"kind 11:audit_event\n" +
		"id 1:3\n" +
		"at 27:2026-03-01T14:05:06.123456Z\n" +
		"actor_id 1:7\n" +
		"action 16:policy.published\n" +
		"subject_type 14:policy_version\n" +
		"subject_id 1:2\n" +
		"detail 13:Zoë\nline two\n" + // 13 bytes: ë is two
		"ip 8:10.0.0.1\n"
	if string(ev.Data) != want {
		t.Fatalf("canonical form:\n%q\nwant\n%q", ev.Data, want)
	}
	if ev.Kind != KindAuditEvent || ev.RefID != 3 {
		t.Fatalf("leaf %s %d", ev.Kind, ev.RefID)
	}
	// The leaf hash is RFC 6962's: SHA-256 over 0x00 and the data.
	if got, want := ev.Hash(), tlog.RecordHash([]byte(want)); got != want {
		t.Fatalf("hash %x, want %x", got, want)
	}
	noActor := AuditEventLeaf(&app.AuditEvent{ID: 3, At: signed, Action: "policy.published"})
	if !bytes.Contains(noActor.Data, []byte("\nactor_id 0:\n")) {
		t.Fatalf("an absent actor is the empty value:\n%s", noActor.Data)
	}
}

// The same instant written in any time zone, with nanoseconds below the
// microsecond, is the same record.
func TestCanonicalTimesIgnoreTheZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	utc := time.Date(2026, 11, 1, 5, 30, 0, 1_000_999, time.UTC) // the night New York's clocks go back
	a := &app.Acknowledgment{ID: 1, SignedAt: utc}
	b := &app.Acknowledgment{ID: 1, SignedAt: utc.In(ny).Add(-999 * time.Nanosecond)}
	if !bytes.Equal(AcknowledgmentLeaf(a).Data, AcknowledgmentLeaf(b).Data) {
		t.Fatalf("zones differ:\n%s\n%s", AcknowledgmentLeaf(a).Data, AcknowledgmentLeaf(b).Data)
	}
	if got := FormatTime(utc.In(ny)); got != "2026-11-01T05:30:00.001000Z" {
		t.Fatalf("FormatTime: %s", got)
	}
}

// Every field of an acknowledgment is in its entry: changing any one
// changes the entry's bytes.
func TestEveryAcknowledgmentFieldCounts(t *testing.T) {
	base := func() *app.Acknowledgment {
		return &app.Acknowledgment{ID: 1, EmployeeID: 2, EmployeeNumber: "1005", EmployeeName: "Zoë Côté", EmployeeAgency: "A",
			EmployeeDept: "D", CycleID: 3, PolicyVersionID: 4, PolicySHA256: "ab", TypedName: "Zoë Côté", ConsentID: 5,
			ConsentVersion: "2026-1", ConsentSHA256: "cd", IntentText: "I agree.", Comment: "", SignedAt: time.Unix(1e9, 0),
			IP: "10.0.0.1", UserAgent: "UA", AuthMethod: app.AuthEmailLink, SignInIdentity: "zoe@x.example", QuizAttemptID: 6,
			CertificateNo: "SMP-2026-000001", VerifyCode: "ABCDE-FGHIJ"}
	}
	orig := AcknowledgmentLeaf(base()).Data
	for name, change := range map[string]func(a *app.Acknowledgment){
		"id": func(a *app.Acknowledgment) { a.ID++ }, "employee": func(a *app.Acknowledgment) { a.EmployeeID++ },
		"number": func(a *app.Acknowledgment) { a.EmployeeNumber += "x" }, "name": func(a *app.Acknowledgment) { a.EmployeeName += "x" },
		"agency": func(a *app.Acknowledgment) { a.EmployeeAgency += "x" }, "department": func(a *app.Acknowledgment) { a.EmployeeDept += "x" },
		"cycle": func(a *app.Acknowledgment) { a.CycleID++ }, "version": func(a *app.Acknowledgment) { a.PolicyVersionID++ },
		"policy hash": func(a *app.Acknowledgment) { a.PolicySHA256 += "x" }, "typed name": func(a *app.Acknowledgment) { a.TypedName += "x" },
		"consent": func(a *app.Acknowledgment) { a.ConsentID++ }, "consent version": func(a *app.Acknowledgment) { a.ConsentVersion += "x" },
		"consent hash": func(a *app.Acknowledgment) { a.ConsentSHA256 += "x" }, "intent": func(a *app.Acknowledgment) { a.IntentText += "x" },
		"comment":   func(a *app.Acknowledgment) { a.Comment += "x" },
		"signed at": func(a *app.Acknowledgment) { a.SignedAt = a.SignedAt.Add(time.Microsecond) },
		"ip":        func(a *app.Acknowledgment) { a.IP += "x" }, "user agent": func(a *app.Acknowledgment) { a.UserAgent += "x" },
		"method": func(a *app.Acknowledgment) { a.AuthMethod += "x" }, "identity": func(a *app.Acknowledgment) { a.SignInIdentity += "x" },
		"attempt": func(a *app.Acknowledgment) { a.QuizAttemptID++ }, "certificate": func(a *app.Acknowledgment) { a.CertificateNo += "x" },
		"code": func(a *app.Acknowledgment) { a.VerifyCode += "x" },
	} {
		a := base()
		change(a)
		if bytes.Equal(AcknowledgmentLeaf(a).Data, orig) {
			t.Errorf("changing the %s leaves the entry unchanged", name)
		}
	}
}

// A value holding what looks like the next field cannot pass for it: each
// value carries its length.
func TestCanonicalValuesCannotForgeFields(t *testing.T) {
	honest := ConsentLeaf(&app.ConsentRecord{ID: 1, Version: "1", SHA256: "ab", IP: "10.0.0.1", UserAgent: "UA"})
	forged := ConsentLeaf(&app.ConsentRecord{ID: 1, Version: "1\nsha256 2:ab", SHA256: "", IP: "10.0.0.1", UserAgent: "UA"})
	if bytes.Equal(honest.Data, forged.Data) || honest.Hash() == forged.Hash() {
		t.Fatal("a value spelling out the next field made the same entry")
	}
	// Quiz answers are ordered by question, whatever the map's order.
	q1 := QuizAttemptLeaf(&app.QuizAttempt{ID: 1, Answers: map[string]string{"b": "2", "a": "1", "c": "3"}})
	for i := 0; i < 20; i++ {
		if q := QuizAttemptLeaf(&app.QuizAttempt{ID: 1, Answers: map[string]string{"c": "3", "a": "1", "b": "2"}}); !bytes.Equal(q.Data, q1.Data) {
			t.Fatal("a quiz attempt's entry depends on map order")
		}
	}
	if !bytes.Contains(q1.Data, []byte("answers 1:3\nanswer.question 1:a\nanswer.option 1:1\nanswer.question 1:b\n")) {
		t.Fatalf("answers not in question order:\n%s", q1.Data)
	}
}

func TestCheckpointText(t *testing.T) {
	var root tlog.Hash
	copy(root[:], bytes.Repeat([]byte{0xab}, 32))
	c := Checkpoint{Origin: "portal.example/log", Size: 42, Root: root}
	text := c.Text()
	if want := "portal.example/log\n42\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n"; string(text) != want {
		t.Fatalf("text %q, want %q", text, want)
	}
	got, err := ParseCheckpoint(text)
	if err != nil || got != c {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if got, err := ParseCheckpoint(append(text, "extension line\n"...)); err != nil || got != c {
		t.Fatalf("an extension line is allowed: %+v %v", got, err)
	}
	b64 := "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="
	for name, bad := range map[string]string{
		"empty":              "",
		"no final newline":   "o\n42\n" + b64,
		"two lines":          "o\n42\n",
		"empty origin":       "\n42\n" + b64 + "\n",
		"size not a number":  "o\nx\n" + b64 + "\n",
		"negative size":      "o\n-1\n" + b64 + "\n",
		"size with a plus":   "o\n+42\n" + b64 + "\n",
		"size with zeros":    "o\n042\n" + b64 + "\n",
		"root not base64":    "o\n42\n!!!\n",
		"root too short":     "o\n42\nq6urq6ur\n",
		"root not canonical": "o\n42\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6t=\n",
		"empty extension":    "o\n42\n" + b64 + "\n\n",
		"too long":           "o\n42\n" + b64 + "\n" + strings.Repeat("x", 1<<16) + "\n",
	} {
		if _, err := ParseCheckpoint([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func mustKey(t *testing.T, origin string) *Key {
	t.Helper()
	k, err := NewKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignedCheckpoints(t *testing.T) {
	k := mustKey(t, "portal.example/log")
	c := Checkpoint{Origin: k.Origin, Size: 3, Root: tlog.RecordHash([]byte("x"))}
	msg, err := k.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := OpenCheckpoint(msg, k.Verifier); err != nil || got != c {
		t.Fatalf("open: %+v %v", got, err)
	}
	if _, err := k.Sign(Checkpoint{Origin: "other/log", Size: 1}); err == nil {
		t.Error("signed a checkpoint of another log")
	}
	other := mustKey(t, "portal.example/log") // same name, another key
	if _, err := OpenCheckpoint(msg, other.Verifier); err == nil {
		t.Error("a checkpoint opened with another key of the same name")
	}
	if _, err := OpenCheckpoint(msg, mustKey(t, "elsewhere/log").Verifier); err == nil {
		t.Errorf("another log's key: %v", err)
	}
	tampered := bytes.Replace(msg, []byte("\n3\n"), []byte("\n4\n"), 1)
	if bytes.Equal(tampered, msg) {
		t.Fatal("the test did not tamper")
	}
	if _, err := OpenCheckpoint(tampered, k.Verifier); err == nil {
		t.Error("a tampered checkpoint opened")
	}
}

func TestKeys(t *testing.T) {
	for origin, ok := range map[string]bool{"portal.example/log": true, "a": true, "": false, "has space": false,
		"has+plus": false, "é": false, strings.Repeat("a", 201): false, "tab\there": false} {
		if ValidOrigin(origin) != ok {
			t.Errorf("ValidOrigin(%q) = %v", origin, !ok)
		}
	}
	if _, _, err := GenerateKey("bad name"); err == nil {
		t.Error("a key for a bad name")
	}
	skey, vkey, err := GenerateKey("portal.example/log")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(skey)
	if err != nil || k.VerifierKey != vkey || k.Origin != "portal.example/log" {
		t.Fatalf("parse: %+v %v (want %s)", k, err, vkey)
	}
	if _, err := ParseVerifierKey(vkey); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "nonsense", vkey, "PRIVATE+KEY+x+00000000+AAAA"} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	if _, err := ParseVerifierKey(skey); err == nil {
		t.Error("a private key taken as a verifier key")
	}

	t.Run("key files are private and never overwritten", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "log.key")
		vkey, err := WriteKeyFile(path, "portal.example/log")
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v %v", st.Mode().Perm(), err)
		}
		before, _ := os.ReadFile(path)
		if _, err := WriteKeyFile(path, "portal.example/log"); err == nil {
			t.Fatal("an existing key file was overwritten")
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Fatal("the key file changed")
		}
		k, err := LoadKeyFile(path)
		if err != nil || k.VerifierKey != vkey {
			t.Fatalf("load: %v", err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("a key others can read: %v", err)
		}
		if _, err := LoadKeyFile(filepath.Join(t.TempDir(), "missing")); err == nil {
			t.Fatal("a missing key file loaded")
		}
		garbage := filepath.Join(t.TempDir(), "garbage.key")
		if err := os.WriteFile(garbage, []byte("not a key\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKeyFile(garbage); err == nil {
			t.Fatal("a garbage key file loaded")
		}
	})

	t.Run("seals bind the index and the hash to the key", func(t *testing.T) {
		h := tlog.RecordHash([]byte("record"))
		seal := k.Seal(5, h)
		if !k.CheckSeal(5, h, seal) {
			t.Fatal("the seal does not check")
		}
		if k.CheckSeal(6, h, seal) || k.CheckSeal(5, tlog.RecordHash([]byte("other")), seal) ||
			k.CheckSeal(5, h, seal[:len(seal)-1]) || k.CheckSeal(5, h, nil) {
			t.Fatal("a seal checked for another index, hash, or cut short")
		}
		if mustKey(t, k.Origin).CheckSeal(5, h, seal) {
			t.Fatal("another key accepted the seal")
		}
	})
}

func TestVerifierFromFileOrText(t *testing.T) {
	k := mustKey(t, "portal.example/log")
	files := map[string][]byte{"/etc/portal/log.pub": []byte(k.VerifierKey + "\n")}
	read := func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return b, nil
		}
		return nil, os.ErrNotExist
	}
	for _, s := range []string{k.VerifierKey, "/etc/portal/log.pub"} {
		v, _, err := VerifierFromFileOrText(s, read)
		if err != nil || v.Name() != k.Origin {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, bad := range []string{"garbage", "/etc/portal/missing.pub", ""} {
		if _, _, err := VerifierFromFileOrText(bad, read); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

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

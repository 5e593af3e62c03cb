package evidence

// More unit tests of the evidence package, beside evidence_test.go (whose
// helpers mustKey, fakeLog, fakeSource, memStore, event and verify they
// use): golden vectors for an acknowledgment, a consent and a seal, the
// parser's and the signature checks' remaining edges, and Verify and
// Publish on inserted, renumbered and cut logs.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
)

func newYork(t *testing.T) *time.Location {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return ny
}

// goldenAck is an acknowledgment with every field set, its time given in
// New York with nanoseconds below the microsecond.
func goldenAck(t *testing.T) *app.Acknowledgment {
	return &app.Acknowledgment{ID: 42, EmployeeID: 1005, EmployeeNumber: "E-1005", EmployeeName: "Zoë Côté",
		EmployeeAgency: "Finance", EmployeeDept: "Payroll", CycleID: 3, PolicyVersionID: 17,
		PolicySHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", TypedName: "Zoë Côté",
		ConsentID: 8, ConsentVersion: "2026-1", ConsentSHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		IntentText: "I have read and agree to this policy.", Comment: "line one\nline two",
		SignedAt: time.Date(2026, 3, 1, 9, 5, 6, 123456789, newYork(t)), // 14:05:06.123456789 UTC
		IP:       "2001:db8::1", UserAgent: "Mozilla/5.0 (X11)", AuthMethod: app.AuthEmailLink, SignInIdentity: "zoe@agency.example",
		QuizAttemptID: 0, CertificateNo: "SMP-2026-000042", VerifyCode: "ABCDE-FGHIJ",
		// Display fields, not evidence: they must not reach the entry.
		LogIndex: 9, PolicyCode: "HR-1", PolicyTitle: "Conduct", CycleName: "2026", Superseded: true}
}

// An acknowledgment's entry, byte for byte (the lengths are in bytes: ë, ô
// and é are two each), and its leaf hash, SHA-256(0x00 || data), written out.
func TestAcknowledgmentGolden(t *testing.T) {
	leaf := AcknowledgmentLeaf(goldenAck(t))
	want := "portal/evidence/1\n" +
		"kind 14:acknowledgment\n" +
		"id 2:42\n" +
		"employee_id 4:1005\n" +
		"employee_number 6:E-1005\n" +
		"full_name 11:Zoë Côté\n" +
		"agency 7:Finance\n" +
		"department 7:Payroll\n" +
		"cycle_id 1:3\n" +
		"policy_version_id 2:17\n" +
		"policy_sha256 64:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n" +
		"typed_name 11:Zoë Côté\n" +
		"consent_id 1:8\n" +
		"consent_version 6:2026-1\n" +
		"consent_sha256 64:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
		"intent_text 37:I have read and agree to this policy.\n" +
		"comment 17:line one\nline two\n" +
		"signed_at 27:2026-03-01T14:05:06.123456Z\n" +
		"ip 11:2001:db8::1\n" +
		"user_agent 17:Mozilla/5.0 (X11)\n" +
		"auth_method 10:email-link\n" +
		"sign_in_identity 18:zoe@agency.example\n" +
		"quiz_attempt_id 1:0\n" +
		"certificate_no 15:SMP-2026-000042\n" +
		"verify_code 11:ABCDE-FGHIJ\n"
	if string(leaf.Data) != want {
		t.Fatalf("acknowledgment entry:\n%q\nwant\n%q", leaf.Data, want)
	}
	if leaf.Kind != KindAcknowledgment || leaf.RefID != 42 {
		t.Fatalf("leaf %s %d", leaf.Kind, leaf.RefID)
	}
	h := leaf.Hash()
	if got := hex.EncodeToString(h[:]); got != "06f6f0cf1e092e3b9359ce024513ccd536bb31aa761e21ad3135edf7bd07c7f1" {
		t.Fatalf("leaf hash %s", got)
	}
}

// A consent's entry, byte for byte: a CR LF and quotes in a value are
// written raw, the length says where the value ends.
func TestConsentGolden(t *testing.T) {
	c := &app.ConsentRecord{ID: 7, EmployeeID: 1005, CycleID: 3, Version: "2026-1", SHA256: "abc",
		AcceptedAt: time.Date(2026, 7, 4, 9, 0, 0, 1999, newYork(t)), // EDT: 13:00:00.000001999 UTC
		IP:         "10.0.0.1", UserAgent: "UA/1.0 \"q\"\r\n"}
	leaf := ConsentLeaf(c)
	want := "portal/evidence/1\n" +
		"kind 7:consent\n" +
		"id 1:7\n" +
		"employee_id 4:1005\n" +
		"cycle_id 1:3\n" +
		"version 6:2026-1\n" +
		"sha256 3:abc\n" +
		"accepted_at 27:2026-07-04T13:00:00.000001Z\n" +
		"ip 8:10.0.0.1\n" +
		"user_agent 12:UA/1.0 \"q\"\r\n\n"
	if string(leaf.Data) != want {
		t.Fatalf("consent entry:\n%q\nwant\n%q", leaf.Data, want)
	}
	h := leaf.Hash()
	if got := hex.EncodeToString(h[:]); got != "7d778688d797249e5fa2c6863190791639324d60598b01f32084564d80c1c860" {
		t.Fatalf("leaf hash %s", got)
	}
	// The same instant in UTC, truncated to the microsecond, is the same entry.
	c.AcceptedAt = time.Date(2026, 7, 4, 13, 0, 0, 1000, time.UTC)
	if !bytes.Equal(ConsentLeaf(c).Data, leaf.Data) {
		t.Fatal("the consent's time zone or nanoseconds changed its entry")
	}
	// One microsecond later is another entry.
	c.AcceptedAt = c.AcceptedAt.Add(time.Microsecond)
	if bytes.Equal(ConsentLeaf(c).Data, leaf.Data) {
		t.Fatal("a microsecond's change left the entry unchanged")
	}
}

// The golden acknowledgment's instant given in UTC, in New York and in a
// zone with a half-hour offset is one entry.
func TestAcknowledgmentZoneAndNanoseconds(t *testing.T) {
	want := AcknowledgmentLeaf(goldenAck(t)).Data
	kolkata := time.FixedZone("IST", 5*3600+1800)
	for _, at := range []time.Time{
		time.Date(2026, 3, 1, 14, 5, 6, 123456000, time.UTC),
		time.Date(2026, 3, 1, 14, 5, 6, 123456999, time.UTC),
		time.Date(2026, 3, 1, 19, 35, 6, 123456500, kolkata),
	} {
		a := goldenAck(t)
		a.SignedAt = at
		if got := AcknowledgmentLeaf(a).Data; !bytes.Equal(got, want) {
			t.Errorf("%v: the entry differs", at)
		}
	}
}

// Every consent field is in its entry.
func TestEveryConsentFieldCounts(t *testing.T) {
	base := func() *app.ConsentRecord {
		return &app.ConsentRecord{ID: 1, EmployeeID: 2, CycleID: 3, Version: "v", SHA256: "s",
			AcceptedAt: time.Unix(1e9, 0), IP: "ip", UserAgent: "ua"}
	}
	orig := ConsentLeaf(base()).Data
	for name, change := range map[string]func(c *app.ConsentRecord){
		"id":          func(c *app.ConsentRecord) { c.ID++ },
		"employee":    func(c *app.ConsentRecord) { c.EmployeeID++ },
		"cycle":       func(c *app.ConsentRecord) { c.CycleID++ },
		"version":     func(c *app.ConsentRecord) { c.Version += "x" },
		"sha256":      func(c *app.ConsentRecord) { c.SHA256 += "x" },
		"accepted at": func(c *app.ConsentRecord) { c.AcceptedAt = c.AcceptedAt.Add(time.Microsecond) },
		"ip":          func(c *app.ConsentRecord) { c.IP += "x" },
		"user agent":  func(c *app.ConsentRecord) { c.UserAgent += "x" },
	} {
		c := base()
		change(c)
		if bytes.Equal(ConsentLeaf(c).Data, orig) {
			t.Errorf("changing the %s leaves the entry unchanged", name)
		}
	}
}

// Pairs of different acknowledgments that an unprefixed or separator-based
// encoding would write alike: the length prefixes keep them apart.
func TestCanonicalCraftedPairsDiffer(t *testing.T) {
	ack := func(intent, comment, ip, ua string) *app.Acknowledgment {
		return &app.Acknowledgment{ID: 1, IntentText: intent, Comment: comment, IP: ip, UserAgent: ua, SignedAt: time.Unix(0, 0)}
	}
	for name, pair := range map[string][2]*app.Acknowledgment{
		// bytes moved from one value to the next
		"shifted boundary": {ack("ab", "c", "", ""), ack("a", "bc", "", "")},
		// a comment spelling out the rest of the entry, including signed_at
		"forged tail": {
			ack("I agree.", "x", "", ""),
			ack("I agree.", "x\nsigned_at 27:2026-01-01T00:00:00.000000Z\nip 0:\nuser_agent 0:\nauth_method 0:", "", ""),
		},
		// a newline in a value against the same bytes across two fields
		"newline vs field break": {ack("", "", "1.2.3.4\nuser_agent 2:UA", ""), ack("", "", "1.2.3.4", "UA")},
		// an empty value against a value holding what an empty field looks like
		"empty vs literal empty field": {ack("", "", "", ""), ack("", "\ncomment 0:", "", "")},
	} {
		a, b := AcknowledgmentLeaf(pair[0]), AcknowledgmentLeaf(pair[1])
		if bytes.Equal(a.Data, b.Data) || a.Hash() == b.Hash() {
			t.Errorf("%s: two different records made the same entry:\n%q", name, a.Data)
		}
	}
}

// The parser's remaining edges, rule by rule.
func TestParseCheckpointEdges(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	for name, text := range map[string]string{
		"CR LF line ends":   "o\r\n42\r\n" + b64 + "\r\n",
		"size overflows":    "o\n9223372036854775808\n" + b64 + "\n",
		"size with a space": "o\n 42\n" + b64 + "\n",
		"root too long":     "o\n42\n" + base64.StdEncoding.EncodeToString(make([]byte, 33)) + "\n",
		"root unpadded":     "o\n42\n" + strings.TrimRight(b64, "=") + "\n",
		"root URL base64":   "o\n42\n" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)) + "\n",
		"one line":          "o\n",
		"blank size line":   "o\n\n" + b64 + "\n",
	} {
		if c, err := ParseCheckpoint([]byte(text)); err == nil {
			t.Errorf("%s: accepted as %+v", name, c)
		}
	}
	// Accepted: size 0, the largest int64, and several extension lines.
	for text, want := range map[string]Checkpoint{
		"o\n0\n" + b64 + "\n":                       {Origin: "o", Size: 0, Root: tlog.Hash(bytes.Repeat([]byte{1}, 32))},
		"o\n9223372036854775807\n" + b64 + "\n":     {Origin: "o", Size: 1<<63 - 1, Root: tlog.Hash(bytes.Repeat([]byte{1}, 32))},
		"log/x\n7\n" + b64 + "\next one\next two\n": {Origin: "log/x", Size: 7, Root: tlog.Hash(bytes.Repeat([]byte{1}, 32))},
	} {
		if got, err := ParseCheckpoint([]byte(text)); err != nil || got != want {
			t.Errorf("%q: %+v %v", text, got, err)
		}
	}
	// The largest text allowed, 64 KiB, is read; one byte more is not.
	head := "o\n42\n" + b64 + "\n"
	ext := strings.Repeat("x", 1<<16-len(head)-1) + "\n"
	if _, err := ParseCheckpoint([]byte(head + ext)); err != nil {
		t.Errorf("a 64 KiB checkpoint: %v", err)
	}
	if _, err := ParseCheckpoint([]byte(head + "x" + ext)); err == nil {
		t.Error("a checkpoint over 64 KiB was read")
	}
}

// A note signed by the log key whose first line names another log is still
// refused: the origin is checked after the signature.
func TestOpenCheckpointChecksTheOrigin(t *testing.T) {
	k := mustKey(t, "portal.example/log")
	body := Checkpoint{Origin: "other.example/log", Size: 1, Root: tlog.RecordHash([]byte("x"))}.Text()
	msg, err := note.Sign(&note.Note{Text: string(body)}, k.Signer) // Key.Sign refuses this; an insider's tool need not
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCheckpoint(msg, k.Verifier); err == nil || !strings.Contains(err.Error(), `names the log "other.example/log"`) {
		t.Fatalf("another origin: %v", err)
	}
	// Another key, of another name or of the same name, is told apart from
	// a tampered body: the operator learns whether to look at the key or at
	// the checkpoint.
	good, err := k.Sign(Checkpoint{Origin: k.Origin, Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCheckpoint(good, mustKey(t, "elsewhere/log").Verifier); err == nil || err.Error() != "the checkpoint is not signed by the log key elsewhere/log" {
		t.Fatalf("another log's key: %v", err)
	}
	if _, err := OpenCheckpoint(good, mustKey(t, k.Origin).Verifier); err == nil || err.Error() != "the checkpoint is not signed by the log key portal.example/log" {
		t.Fatalf("another key of the same name: %v", err)
	}
	tampered := bytes.Replace(good, []byte("\n1\n"), []byte("\n2\n"), 1)
	if _, err := OpenCheckpoint(tampered, k.Verifier); err == nil || !strings.HasPrefix(err.Error(), "the checkpoint's signature does not verify: ") {
		t.Fatalf("a tampered body: %v", err)
	}
	// A signed note whose text is no checkpoint is refused.
	junk, err := note.Sign(&note.Note{Text: "portal.example/log\nnot a size\n"}, k.Signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCheckpoint(junk, k.Verifier); !errors.Is(err, errMalformedCheckpoint) {
		t.Fatalf("a signed note that is no checkpoint: %v", err)
	}
}

// goldenSeed is a fixed Ed25519 seed whose key's base64 holds a + and a /.
var goldenSeed, _ = hex.DecodeString("0d141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6")

// A key written out from a known seed parses to the verifier key the
// standard library derives, and seals exactly as specified: an HMAC-SHA-256
// keyed by SHA-256("portal/evidence-log/seal-key/1\n" || seed) over
// "portal/evidence-log/entry/1\n" || uint64be(index) || hash. A change here
// would make every stored seal fail.
func TestSealGolden(t *testing.T) {
	const origin = "portal.example/log"
	pub := ed25519.NewKeyFromSeed(goldenSeed).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(origin, pub)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(vkey, "+", 3) // name, hash, key
	b64 := base64.StdEncoding.EncodeToString(append([]byte{1}, goldenSeed...))
	if b64 != "AQ0UGyIpMDc+RUxTWmFob3Z9hIuSmaCnrrW8w8rR2N/m" {
		t.Fatalf("seed encodes as %s", b64)
	}
	k, err := ParseKey("PRIVATE+KEY+" + origin + "+" + parts[1] + "+" + b64)
	if err != nil {
		t.Fatal(err)
	}
	if k.Origin != origin || k.VerifierKey != vkey {
		t.Fatalf("key %s %s, want %s", k.Origin, k.VerifierKey, vkey)
	}
	seal := k.Seal(5, tlog.RecordHash([]byte("record")))
	if got := hex.EncodeToString(seal); got != "d6088646becca88cdeb0c414a5df4edf41116f6a47722b6e3c525f59121a7c5c" {
		t.Fatalf("seal %s", got)
	}
	// The checkpoint it signs opens with the verifier key's text alone.
	msg, err := k.Sign(Checkpoint{Origin: origin, Size: 1, Root: tlog.RecordHash([]byte("record"))})
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseVerifierKey(" " + vkey + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := OpenCheckpoint(msg, v); err != nil || c.Size != 1 {
		t.Fatalf("open with the parsed verifier: %+v %v", c, err)
	}
	// Seals are the same from one load to the next (a restart must not
	// invalidate the log), and differ for index 0 and a huge index.
	k2, err := ParseKey("PRIVATE+KEY+" + origin + "+" + parts[1] + "+" + b64)
	if err != nil || !bytes.Equal(k2.Seal(5, tlog.RecordHash([]byte("record"))), seal) {
		t.Fatalf("a second parse seals differently: %v", err)
	}
	h := tlog.RecordHash([]byte("record"))
	if bytes.Equal(k.Seal(0, h), k.Seal(1<<40, h)) {
		t.Fatal("the index's high bytes are not sealed")
	}
	// A private key with a wrong key hash is garbage.
	if _, err := ParseKey("PRIVATE+KEY+" + origin + "+00000000+" + b64); err == nil {
		t.Fatal("a key with a wrong hash parsed")
	}
}

// Only a key file its owner alone can read or write is loaded; WriteKeyFile
// makes one in a missing folder fail without creating anything.
func TestKeyFileModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log.key")
	vkey, err := WriteKeyFile(path, "portal.example/log")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !strings.HasPrefix(string(b), "PRIVATE+KEY+portal.example/log+") || !strings.HasSuffix(string(b), "\n") {
		t.Fatalf("key file %q", b)
	}
	for mode, ok := range map[os.FileMode]bool{0o600: true, 0o400: true, 0o700: true, 0o640: false, 0o604: false, 0o660: false, 0o602: false} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		k, err := LoadKeyFile(path)
		if ok && (err != nil || k.VerifierKey != vkey) {
			t.Errorf("mode %v: %v", mode, err)
		}
		if !ok && err == nil {
			t.Errorf("mode %v: loaded", mode)
		}
	}
	if _, err := WriteKeyFile(filepath.Join(dir, "missing", "log.key"), "portal.example/log"); err == nil {
		t.Error("a key file in a missing folder")
	}
	if _, err := WriteKeyFile(filepath.Join(dir, "bad.key"), "bad name"); err == nil {
		t.Error("a key file for a bad log name")
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused key file was created: %v", err)
	}
}

// A verifier key given as text is taken as it is (the file is not read);
// a file's content is trimmed; a file holding garbage is an error.
func TestVerifierFromFileOrTextReturnsTheKey(t *testing.T) {
	k := mustKey(t, "portal.example/log")
	reads := 0
	read := func(p string) ([]byte, error) {
		reads++
		switch p {
		case "log.pub":
			return []byte("\n  " + k.VerifierKey + "\r\n"), nil
		case "garbage.pub":
			return []byte("not a key\n"), nil
		}
		return nil, os.ErrNotExist
	}
	v, s, err := VerifierFromFileOrText("  "+k.VerifierKey+"\n", read)
	if err != nil || s != k.VerifierKey || v.Name() != k.Origin || v.KeyHash() != k.Verifier.KeyHash() || reads != 0 {
		t.Fatalf("text: %q %v (%d reads)", s, err, reads)
	}
	v, s, err = VerifierFromFileOrText("log.pub", read)
	if err != nil || s != k.VerifierKey || v.KeyHash() != k.Verifier.KeyHash() || reads != 1 {
		t.Fatalf("file: %q %v (%d reads)", s, err, reads)
	}
	if v, _, err := VerifierFromFileOrText("garbage.pub", read); err == nil || v != nil {
		t.Fatal("a file holding garbage was taken")
	}
	if _, _, err := VerifierFromFileOrText("missing.pub", read); err == nil || !strings.Contains(err.Error(), "neither a verifier key nor a file") {
		t.Fatalf("a missing file: %v", err)
	}
	// A private key is not a verifier key, as text or in a file.
	skey, _, err := GenerateKey("portal.example/log")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := VerifierFromFileOrText(skey, read); err == nil {
		t.Fatal("a private key was taken for a verifier key")
	}
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

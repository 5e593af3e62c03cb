package evidence

// Checkpoints, keys and seals: the signed note's text and its parser's
// edges, the origin check, key files and the verifier key.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

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

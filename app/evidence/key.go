package evidence

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Key is the log's private key, read from a file outside the database. It
// signs checkpoints and seals each entry (an HMAC keyed from it), so that
// someone who can write the database but does not hold the key can neither
// sign a rewritten log nor re-seal an edited entry.
type Key struct {
	Origin   string      // the log's name: the checkpoint's first line and the key's name
	Signer   note.Signer // signs checkpoints
	Verifier note.Verifier
	// VerifierKey is the public key in the note format
	// ("<origin>+<hash>+<base64>"), served at /log/key.
	VerifierKey string
	mac         []byte
}

// ValidOrigin reports whether s can name a log: printable ASCII with no
// spaces and no plus sign (the note format's rule for key names).
func ValidOrigin(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r > '~' || r == '+' {
			return false
		}
	}
	return true
}

// GenerateKey makes a new key for the log named origin and returns the
// signer key (secret) and the verifier key (public), in the note format.
func GenerateKey(origin string) (skey, vkey string, err error) {
	if !ValidOrigin(origin) {
		return "", "", fmt.Errorf("log name %q: use letters, digits and punctuation other than +, with no spaces", origin)
	}
	return note.GenerateKey(rand.Reader, origin)
}

// WriteKeyFile creates path (mode 0600, never overwriting) holding a new
// key for origin, and returns the verifier key.
func WriteKeyFile(path, origin string) (string, error) {
	skey, vkey, err := GenerateKey(origin)
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the operator names the key file
	if err != nil {
		return "", fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		_ = f.Close()
		_ = os.Remove(path) // a half-written key is worth nothing
		return "", fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return "", fmt.Errorf("write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("write key file: %w", err)
	}
	return vkey, nil
}

// LoadKeyFile reads a key file written by WriteKeyFile. A file that other
// users may read is refused: the key is what makes the log trustworthy.
func LoadKeyFile(path string) (*Key, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("log key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("log key %s can be read by other users (mode %v): run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path) // #nosec G304 -- the operator names the key file
	if err != nil {
		return nil, fmt.Errorf("log key: %w", err)
	}
	k, err := ParseKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("log key %s: %w", path, err)
	}
	return k, nil
}

// ParseKey reads a signer key in the note format.
func ParseKey(skey string) (*Key, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, errors.New("not a log key (expected PRIVATE+KEY+name+hash+key, as log-keygen writes)")
	}
	// The seed is the last part; the note package keeps it private, so it is
	// decoded again here to derive the public key and the sealing key.
	parts := strings.SplitN(skey, "+", 5) // PRIVATE, KEY, name, hash, key (whose base64 may hold a +)
	raw, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return nil, errors.New("not an Ed25519 log key")
	}
	seed := raw[1:]
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(signer.Name(), pub)
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	m := sha256.New()
	m.Write([]byte("portal/evidence-log/seal-key/1\n"))
	m.Write(seed)
	return &Key{Origin: signer.Name(), Signer: signer, Verifier: verifier, VerifierKey: vkey, mac: m.Sum(nil)}, nil
}

// ParseVerifierKey reads a verifier key in the note format.
func ParseVerifierKey(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, errors.New("not a log verifier key (expected name+hash+key, as GET /log/key serves)")
	}
	return v, nil
}

// Seal returns the seal of entry index with leaf hash h: an HMAC-SHA-256
// keyed from the log key over the index and the hash.
func (k *Key) Seal(index int64, h tlog.Hash) []byte {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte("portal/evidence-log/entry/1\n"))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(index)) // #nosec G115 -- an index is never negative
	m.Write(n[:])
	m.Write(h[:])
	return m.Sum(nil)
}

// CheckSeal reports whether seal is entry index's seal for leaf hash h.
func (k *Key) CheckSeal(index int64, h tlog.Hash, seal []byte) bool {
	return hmac.Equal(k.Seal(index, h), seal)
}

// NewKey makes a key held only in memory, for a log that lives as long as
// the process (tests, benchmarks); a portal reads its key from a file.
func NewKey(origin string) (*Key, error) {
	skey, _, err := GenerateKey(origin)
	if err != nil {
		return nil, err
	}
	return ParseKey(skey)
}

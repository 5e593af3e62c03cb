// Package secret holds the portal's own secret (PORTAL_SECRET), which is
// never kept in the database: the key of CSRF tokens and the key that seals
// what the outbox must not hold in clear (a sign-in link waiting to be sent).
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"portal/app"
)

// MinLength is the shortest secret accepted, in bytes.
const MinLength = 32

// Keys are the keys derived from the secret, one for each use.
type Keys struct {
	CSRF  []byte // signs CSRF tokens
	links cipher.AEAD
}

var _ app.Sealer = (*Keys)(nil)

// New derives the keys from a secret of at least MinLength bytes.
func New(secret []byte) (*Keys, error) {
	if len(secret) < MinLength {
		return nil, fmt.Errorf("the secret must be at least %d characters", MinLength)
	}
	csrf, err := hkdf.Key(sha256.New, secret, nil, "portal/csrf/1", 32)
	if err != nil {
		return nil, err
	}
	seal, err := hkdf.Key(sha256.New, secret, nil, "portal/outbox-seal/1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(seal)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keys{CSRF: csrf, links: aead}, nil
}

// Seal encrypts plain, bound to label (the message's key), with AES-GCM.
func (k *Keys) Seal(plain, label string) ([]byte, error) {
	nonce := make([]byte, k.links.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.links.Seal(nonce, nonce, []byte(plain), []byte(label)), nil
}

// Open decrypts what Seal made for the same label.
func (k *Keys) Open(sealed []byte, label string) (string, error) {
	n := k.links.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed text too short")
	}
	plain, err := k.links.Open(nil, sealed[:n], sealed[n:], []byte(label))
	if err != nil {
		return "", errors.New("cannot open the sealed text: it was sealed with another PORTAL_SECRET, or altered")
	}
	return string(plain), nil
}

// ReadFile reads a secret from a file that only its owner may read.
func ReadFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secret file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret file %s can be read by other users (mode %v): run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path) // #nosec G304 -- the operator names the secret file
	if err != nil {
		return nil, fmt.Errorf("secret file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) < MinLength {
		return nil, fmt.Errorf("secret file %s holds fewer than %d characters", path, MinLength)
	}
	return []byte(s), nil
}

// WriteFile creates path (mode 0600, never overwriting) holding a new random secret.
func WriteFile(path string) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the operator names the secret file
	if err != nil {
		return fmt.Errorf("create secret file: %w", err)
	}
	_, err = f.WriteString(base64.RawURLEncoding.EncodeToString(b) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path) // a half-written secret is worth nothing
		return fmt.Errorf("write secret file: %w", err)
	}
	return nil
}

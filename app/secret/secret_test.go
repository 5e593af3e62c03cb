package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	testSecret  = "a-secret-of-more-than-32-characters-for-tests"
	otherSecret = "another-secret-of-more-than-32-characters-too"
)

func mustNew(t *testing.T, s string) *Keys {
	t.Helper()
	k, err := New([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealAndOpen(t *testing.T) {
	k := mustNew(t, testSecret)
	const link, label = "https://portal.example/signin/link/abc123", "signin:0011223344556677"
	sealed, err := k.Seal(link, label)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("what is sealed opens with the same secret and label, and is not readable sealed", func(t *testing.T) {
		got, err := mustNew(t, testSecret).Open(sealed, label) // keys derived again, as after a restart
		if err != nil || got != link {
			t.Fatalf("Open: %q %v", got, err)
		}
		if bytes.Contains(sealed, []byte("abc123")) || bytes.Contains(sealed, []byte("signin/link")) {
			t.Fatal("the sealed text holds the link in clear")
		}
		again, err := k.Seal(link, label)
		if err != nil || bytes.Equal(again, sealed) {
			t.Fatal("sealing the same link twice gives the same bytes")
		}
	})

	t.Run("another secret cannot open it", func(t *testing.T) {
		if got, err := mustNew(t, otherSecret).Open(sealed, label); err == nil || got != "" {
			t.Fatalf("opened with another secret: %q", got)
		} else if !strings.Contains(err.Error(), "another PORTAL_SECRET") {
			t.Errorf("the error does not say why: %v", err)
		}
	})

	t.Run("another label cannot open it", func(t *testing.T) {
		if got, err := k.Open(sealed, "signin:ffffffffffffffff"); err == nil || got != "" {
			t.Fatalf("opened with another label: %q", got)
		}
	})

	t.Run("an altered or cut sealed text does not open", func(t *testing.T) {
		altered := bytes.Clone(sealed)
		altered[len(altered)-1] ^= 1
		for name, s := range map[string][]byte{"altered": altered, "cut": sealed[:8], "empty": nil} {
			if _, err := k.Open(s, label); err == nil {
				t.Errorf("%s: opened", name)
			}
		}
	})

	t.Run("keys for CSRF and for sealing differ, and depend on the secret", func(t *testing.T) {
		other := mustNew(t, otherSecret)
		if len(k.CSRF) != 32 || bytes.Equal(k.CSRF, other.CSRF) || bytes.Contains(k.CSRF, []byte(testSecret)[:16]) {
			t.Fatal("the CSRF key is not derived from the secret")
		}
	})
}

func TestNewRefusesAShortSecret(t *testing.T) {
	for _, s := range []string{"", "short", strings.Repeat("x", MinLength-1)} {
		if _, err := New([]byte(s)); err == nil || !strings.Contains(err.Error(), "at least 32") {
			t.Errorf("%d characters: %v", len(s), err)
		}
	}
	if _, err := New([]byte(strings.Repeat("x", MinLength))); err != nil {
		t.Errorf("%d characters: %v", MinLength, err)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()

	t.Run("WriteFile makes a mode-0600 file that ReadFile reads, and never overwrites one", func(t *testing.T) {
		path := filepath.Join(dir, "secret.key")
		if err := WriteFile(path); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%v %v", st, err)
		}
		first, err := ReadFile(path)
		if err != nil || len(first) < MinLength {
			t.Fatalf("ReadFile: %d bytes, %v", len(first), err)
		}
		if err := WriteFile(path); err == nil {
			t.Fatal("WriteFile overwrote a secret")
		}
		if again, err := ReadFile(path); err != nil || !bytes.Equal(again, first) {
			t.Fatal("the secret changed")
		}
		other := filepath.Join(dir, "other.key")
		if err := WriteFile(other); err != nil {
			t.Fatal(err)
		}
		if second, _ := ReadFile(other); bytes.Equal(second, first) {
			t.Fatal("two new secrets are the same")
		}
	})

	t.Run("ReadFile refuses a file other users can read, and says how to fix it", func(t *testing.T) {
		path := filepath.Join(dir, "readable.key")
		if err := os.WriteFile(path, []byte(testSecret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := ReadFile(path); err != nil || string(got) != testSecret {
			t.Fatalf("mode 0600: %q %v", got, err)
		}
		for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			got, err := ReadFile(path)
			if err == nil || got != nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
				t.Errorf("mode %v: %q %v", mode, got, err)
			}
		}
	})

	t.Run("ReadFile refuses a short secret and a missing file", func(t *testing.T) {
		path := filepath.Join(dir, "short.key")
		if err := os.WriteFile(path, []byte("  short  \n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "fewer than 32") {
			t.Errorf("short: %v", err)
		}
		if _, err := ReadFile(filepath.Join(dir, "missing.key")); err == nil {
			t.Error("a missing file was read")
		}
	})
}

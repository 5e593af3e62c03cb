package e2e

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"portal/app/evidence"
	"portal/app/secret"
	"portal/server"
)

// TestPortalSecretLivesOutsideTheDatabase: PORTAL_SECRET (or the file
// PORTAL_SECRET_FILE names) keys CSRF tokens and sealed links; neither it
// nor what is derived from it is stored, and its files are the owner's only.
func TestPortalSecretLivesOutsideTheDatabase(t *testing.T) {
	t.Run("neither the secret, the CSRF key, the sealing key nor the log key is anywhere in the database", func(t *testing.T) {
		tp := startTestPortal(t)
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLink(t, "1005")) // a CSRF-checked POST
		secAskForLink(t, tp.BaseURL, tp.employee(t, "1006").Email)
		tp.mailedLinks(t, tp.employee(t, "1006").Email)
		needles := secForms("the CSRF key", tp.Handler.Config.Secret)
		// The sealing key as package secret derives it (HKDF-SHA256, its label).
		seal, err := hkdf.Key(sha256.New, []byte(testSecret), nil, "portal/outbox-seal/1", 32)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range secForms("the sealing key", seal) {
			needles[k] = v
		}
		logKey, err := os.ReadFile(tp.Config.LogKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		needles["PORTAL_SECRET"], needles["the log key"], needles["a private key"] = testSecret, strings.TrimSpace(string(logKey)), "PRIVATE+KEY"
		dump := secDump(t, tp.DB.Path)
		if !strings.Contains(dump, "== settings ==") || !strings.Contains(dump, "Zoë Côté") {
			t.Fatal("the dump read nothing")
		}
		for what, n := range needles {
			if strings.Contains(dump, n) {
				t.Errorf("%s is in the database", what)
			}
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM settings WHERE key LIKE '%secret%' OR key LIKE '%csrf%'`); n != 0 {
			t.Errorf("%d secret settings", n)
		}
	})

	t.Run("PORTAL_SECRET_FILE is read and keys the CSRF tokens", func(t *testing.T) {
		path := t.TempDir() + "/secret.key"
		if err := secret.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		tp := startTestPortal(t, func(c *server.Config) { c.Secret, c.SecretFile = "", path })
		raw, err := secret.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := secret.New(raw)
		if err != nil {
			t.Fatal(err)
		}
		fromEnv, err := secret.New([]byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(tp.Handler.Config.Secret, want.CSRF) || bytes.Equal(want.CSRF, fromEnv.CSRF) {
			t.Fatal("the CSRF key is not the one derived from the file")
		}
		secAskForLink(t, tp.BaseURL, tp.employee(t, "1006").Email) // the CSRF token is accepted
		secSignInWith(t, tp, tp.mailedLinks(t, tp.employee(t, "1006").Email)[0])
		if strings.Contains(secDump(t, tp.DB.Path), string(raw)) {
			t.Error("the secret file's content is in the database")
		}
	})

	t.Run("a secret file other users can read is refused before anything is created", func(t *testing.T) {
		secClearEnv(t)
		dir := t.TempDir()
		path := dir + "/secret.key"
		if err := secret.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o640); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PORT", secFreePort(t))
		t.Setenv("PORTAL_DB", dir+"/serve.db")
		t.Setenv("PORTAL_LOG_KEY", testLogKey(t, dir))
		t.Setenv("PORTAL_MAIL", "log")
		t.Setenv("PORTAL_SECRET_FILE", path)
		// Bounded: were the file accepted, serve would run until cancelled.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := server.Run(ctx, []string{"serve"}, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "can be read by other users") || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("serve with a readable secret file: %v", err)
		}
		if _, err := os.Stat(dir + "/serve.db"); !errors.Is(err, os.ErrNotExist) {
			t.Error("serve created a database before refusing")
		}
	})

	t.Run("demo makes secret.key and log.key beside its database, mode 0600, on its first run only", func(t *testing.T) {
		secClearEnv(t)
		dir := t.TempDir() + "/data"
		t.Setenv("PORTAL_DB", dir+"/portal.db")
		stdout, logs := &syncBuffer{}, &syncBuffer{}
		base, stop := secRunServer(t, "demo", stdout, logs)
		served := newClient(t, base).get("/log/key").Body
		stop()
		files := map[string][]byte{}
		for _, name := range []string{"secret.key", "log.key"} {
			st, err := os.Stat(dir + "/" + name)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v", name, st.Mode().Perm())
			}
			if files[name], err = os.ReadFile(dir + "/" + name); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := secret.ReadFile(dir + "/secret.key"); err != nil {
			t.Error(err)
		}
		if !strings.Contains(stdout.String(), "Created the evidence log key") || !strings.Contains(stdout.String(), strings.TrimSpace(served)) {
			t.Errorf("demo did not say it made the log key whose verifier it serves (%q):\n%s", served, stdout.String())
		}
		dump := secDump(t, dir+"/portal.db")
		for name, b := range files {
			if strings.Contains(dump, strings.TrimSpace(string(b))) {
				t.Errorf("%s is in the database", name)
			}
		}
		// A second start uses the keys made the first time.
		cfg, err := server.LoadConfig(true)
		if err != nil {
			t.Fatal(err)
		}
		var again bytes.Buffer
		if _, err := server.LoadKeys(cfg, &again); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			if now, err := os.ReadFile(dir + "/" + name); err != nil || !bytes.Equal(now, b) {
				t.Errorf("%s changed on the second start (%v)", name, err)
			}
		}
		if again.Len() != 0 {
			t.Errorf("the second start made a key: %s", again.String())
		}
	})

	t.Run("secret-keygen writes a mode-0600 secret and never overwrites one", func(t *testing.T) {
		path := t.TempDir() + "/secret.key"
		var out bytes.Buffer
		if err := server.Run(context.Background(), []string{"secret-keygen", path}, &out, &out); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("secret file: %v %v", st, err)
		}
		first, err := secret.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), string(first)) || !strings.Contains(out.String(), "PORTAL_SECRET_FILE") {
			t.Errorf("secret-keygen printed the secret, or not how to use it: %s", out.String())
		}
		if err := server.Run(context.Background(), []string{"secret-keygen", path}, &out, &out); err == nil {
			t.Fatal("secret-keygen overwrote a secret")
		}
		if again, err := secret.ReadFile(path); err != nil || !bytes.Equal(again, first) {
			t.Fatal("the secret changed")
		}
	})

	t.Run("log-keygen writes a mode-0600 key, prints its verifier key, and never overwrites one", func(t *testing.T) {
		path := t.TempDir() + "/log.key"
		var out bytes.Buffer
		if err := server.Run(context.Background(), []string{"log-keygen", path, "--origin", "portal.agency.example/log"}, &out, &out); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v %v", st, err)
		}
		k, err := evidence.LoadKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if k.Origin != "portal.agency.example/log" || !strings.Contains(out.String(), k.VerifierKey) || strings.Contains(out.String(), "PRIVATE") {
			t.Fatalf("log-keygen printed:\n%s", out.String())
		}
		first, _ := os.ReadFile(path)
		if err := server.Run(context.Background(), []string{"log-keygen", path, "--origin", "portal.agency.example/log"}, &out, &out); err == nil {
			t.Fatal("log-keygen overwrote a key")
		}
		if again, err := os.ReadFile(path); err != nil || !bytes.Equal(again, first) {
			t.Fatal("the key changed")
		}
	})
}

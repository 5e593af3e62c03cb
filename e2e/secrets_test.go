package e2e

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"portal/app"
	"portal/app/evidence"
	"portal/app/secret"
	"portal/server"
)

// Issue 11, point 4: no usable sign-in token is stored in clear or logged.
// A link is a password for fifteen minutes, so it must not be in a backup,
// in the files on disk, or in the log.

// secDump returns every value of every table of the database at path, read
// through a fresh connection (which sees what is still only in the -wal
// file): text as it is, blobs as their bytes.
func secDump(t *testing.T, path string) string {
	t.Helper()
	db := readFile(t, path)
	defer db.Close()
	var b strings.Builder
	dump := func(query string) {
		rows, err := db.Query(query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if raw, ok := v.([]byte); ok {
					v = string(raw)
				}
				fmt.Fprintf(&b, "%v\t", v)
			}
			b.WriteByte('\n')
		}
	}
	dump(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	for _, name := range strings.Fields(b.String()) {
		fmt.Fprintf(&b, "== %s ==\n", name)
		dump(`SELECT * FROM "` + name + `"`)
	}
	return b.String()
}

// secTokenOf returns the token of a sign-in link.
func secTokenOf(t *testing.T, link string) string {
	t.Helper()
	_, token, ok := strings.Cut(link, "/signin/link/")
	token, _, _ = strings.Cut(token, "?")
	if !ok || len(token) < 40 {
		t.Fatalf("%q is not a sign-in link", link)
	}
	return token
}

// secForms are the ways a secret could be written down: as it is, as raw
// bytes, in hex and in base64.
func secForms(name string, raw []byte) map[string]string {
	return map[string]string{name + " (raw)": string(raw), name + " (hex)": hex.EncodeToString(raw),
		name + " (base64)": base64.StdEncoding.EncodeToString(raw), name + " (base64url)": base64.RawURLEncoding.EncodeToString(raw)}
}

// secCheckTokenNowhere fails if the link or its token, in any form, is in
// the database (every table, every column), in its files on disk, or in
// the portal's log.
func secCheckTokenNowhere(t *testing.T, tp *testPortal, link string) {
	t.Helper()
	token := secTokenOf(t, link)
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("token %q: %v", token, err)
	}
	needles := secForms("the token's bytes", raw)
	needles["the token"], needles["the link"] = token, link
	dump := secDump(t, tp.DB.Path)
	// The control: the dump does hold the row that stands for the token.
	if sum := sha256.Sum256([]byte(token)); !strings.Contains(dump, hex.EncodeToString(sum[:])) {
		t.Fatal("the dump lacks the token's hash: it did not read the login_tokens row")
	}
	var files [][]byte
	for _, f := range []string{tp.DB.Path, tp.DB.Path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	logs := tp.Logs.String()
	for what, n := range needles {
		if strings.Contains(dump, n) {
			t.Errorf("%s is in the database", what)
		}
		for _, b := range files {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("%s is in the database files on disk", what)
			}
		}
		if strings.Contains(logs, n) {
			t.Errorf("%s is in the log", what)
		}
	}
	if strings.Contains(dump, "/signin/link/") {
		t.Error("a sign-in link is in the database")
	}
}

// secAskForLink asks for a sign-in link as a person would.
func secAskForLink(t *testing.T, base, email string) {
	t.Helper()
	c := newClient(t, base)
	c.get("/signin")
	if r := c.post("/signin", form("email", email)); r.Status != 303 {
		t.Fatalf("sign-in request: status %d", r.Status)
	}
}

// secMailedLink waits for the sign-in message the mail server received for
// email and returns the link in it.
func secMailedLink(t *testing.T, ms *mailServer, email string) string {
	t.Helper()
	var link string
	eventually(t, "the sign-in message", func() bool {
		for _, raw := range ms.messagesTo(email) {
			if subjectOf(t, raw) == "Your sign-in link" {
				link = linkRE.FindString(mailPart(t, raw, "text/plain"))
			}
		}
		return link != ""
	})
	return link
}

// secSignInWith proves a link was live: it signs in.
func secSignInWith(t *testing.T, tp *testPortal, link string) {
	t.Helper()
	c := newClient(t, tp.BaseURL)
	c.get(link)
	if r := c.post(link, nil); r.Status != 303 || r.Location != "/" {
		t.Fatalf("signing in with the link: status %d %q", r.Status, r.Location)
	}
}

func TestNoSignInTokenInTheDatabaseOrTheLog(t *testing.T) {
	t.Run("a link delivered to the development mailbox is in no table, no database file and no log line", func(t *testing.T) {
		tp := startTestPortal(t)
		e := tp.employee(t, "1006")
		secAskForLink(t, tp.BaseURL, e.Email)
		links := tp.mailedLinks(t, e.Email)
		if len(links) != 1 {
			t.Fatalf("%d links delivered", len(links))
		}
		// Opening the confirmation page logs a request for the link's path
		// and leaves the link usable.
		if r := newClient(t, tp.BaseURL).get(links[0]); r.Status != 200 {
			t.Fatalf("link page: status %d", r.Status)
		}
		secCheckTokenNowhere(t, tp, links[0])
		secSignInWith(t, tp, links[0])
	})

	t.Run("a link sent through an SMTP server is in no table, and its sent row keeps no text and no sealed link", func(t *testing.T) {
		ms := startMailServer(t)
		tp := startTestPortal(t, withSMTP(ms))
		e := tp.employee(t, "1006")
		secAskForLink(t, tp.BaseURL, e.Email)
		link := secMailedLink(t, ms, e.Email)
		eventually(t, "the message marked sent", func() bool {
			return tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'signin' AND to_addr = ? AND status = 'sent'`, e.Email) == 1
		})
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'signin' AND to_addr = ? AND status = 'sent'
			AND subject = 'Your sign-in link' AND text_body = '' AND html_body = '' AND sealed IS NULL`, e.Email); n != 1 {
			t.Fatal("the sent sign-in message's row keeps its text, its HTML or its sealed link")
		}
		secCheckTokenNowhere(t, tp, link)
		secSignInWith(t, tp, link)
	})

	t.Run("a queued link is held sealed, and a portal with another PORTAL_SECRET cannot open or send it", func(t *testing.T) {
		ms := startMailServer(t)
		tp := startTestPortal(t, withSMTP(ms))
		e := tp.employee(t, "1007")
		eventually(t, "the demo's mail", func() bool { return tp.queued(t) == 0 })
		ms.stop()
		secAskForLink(t, tp.BaseURL, e.Email)
		eventually(t, "a failed delivery", func() bool {
			return tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'signin' AND to_addr = ? AND status = 'queued' AND attempts = 1`, e.Email) == 1
		})
		m := secQueuedSignIn(t, tp, e.Email)
		if m.Text != "" || m.HTML != "" || len(m.Sealed) == 0 {
			t.Fatalf("queued row: text %q, html %q, %d sealed bytes", m.Text, m.HTML, len(m.Sealed))
		}
		keys, err := secret.New([]byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		link, err := keys.Open(m.Sealed, m.DedupeKey)
		if err != nil || !strings.HasPrefix(link, tp.BaseURL+"/signin/link/") {
			t.Fatalf("the sealed text is not the link: %q %v", link, err)
		}
		secCheckTokenNowhere(t, tp, link)

		// Another portal on the same database, with another secret and a
		// working mail server, at a time when the message is due again.
		other := startMailServer(t)
		cfg := *tp.Config
		cfg.Secret = "another-secret-0123456789-another-secret-0123456789"
		withSMTP(other)(&cfg)
		k := mustKeys(t, &cfg)
		db, err := server.OpenDB(&cfg, k)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		db.Now = func() time.Time { return tp.Clock.Now().Add(2 * time.Minute) }
		logs := &syncBuffer{}
		p, err := server.Wire(context.Background(), &cfg, db, k, slog.New(slog.NewJSONHandler(logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		p.Worker.Drain(context.Background())
		other.mu.Lock()
		sent := len(other.received)
		other.mu.Unlock()
		if sent != 0 {
			t.Fatalf("the other portal sent %d messages", sent)
		}
		if !strings.Contains(logs.String(), "outbox: render") {
			t.Fatalf("the other portal did not try the message:\n%s", logs.String())
		}
		after := secQueuedSignIn(t, tp, e.Email)
		if after.Status != "queued" || after.Attempts != 2 || !bytes.Equal(after.Sealed, m.Sealed) || after.Text != "" {
			t.Fatalf("after the other portal: status %s, %d attempts, sealed kept %v, text %q",
				after.Status, after.Attempts, bytes.Equal(after.Sealed, m.Sealed), after.Text)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE id = ? AND last_error LIKE '%another PORTAL_SECRET%'`, m.ID); n != 1 {
			t.Error("the failure does not say the secret differs")
		}
		token := secTokenOf(t, link)
		if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), "/signin/link/") {
			t.Error("the other portal logged the link")
		}
		secCheckTokenNowhere(t, tp, link)

		// The portal that sealed it still delivers it, intact.
		tp.failedOnce(t)
		ms.start()
		tp.Clock.Advance(2 * time.Hour)
		tp.Worker.Kick()
		if got := secMailedLink(t, ms, e.Email); got != link {
			t.Fatalf("delivered %q, sealed %q", got, link)
		}
	})
}

// secQueuedSignIn returns the one sign-in message to email as stored.
func secQueuedSignIn(t *testing.T, tp *testPortal, email string) *app.Message {
	t.Helper()
	var out []*app.Message
	for _, m := range tp.outboxTo(t, email) {
		if m.Kind == app.MailSignIn {
			out = append(out, m)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%d sign-in messages to %s", len(out), email)
	}
	return out[0]
}

// secFreePort returns a port nothing listens on.
func secFreePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// secRunServer runs `portal serve` or `portal demo` until the test stops
// it, and returns once /healthz answers.
func secRunServer(t *testing.T, command string, stdout, stderr *syncBuffer) (base string, stop func()) {
	t.Helper()
	port := secFreePort(t)
	t.Setenv("PORT", port)
	t.Setenv("PORTAL_HOST", "127.0.0.1")
	base = "http://127.0.0.1:" + port
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, []string{command}, stdout, stderr) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s returned %v", command, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not stop", command)
		}
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("%s stopped: %v\n%s", command, err, stderr.String())
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up: %v\n%s", command, err, stderr.String())
		}
	}
}

// secClearEnv unsets what the developer's shell may have set.
func secClearEnv(t *testing.T) {
	for _, k := range []string{"PORTAL_SECRET", "PORTAL_SECRET_FILE", "PORTAL_LOG_KEY", "PORTAL_MAIL", "PORTAL_SMTP_HOST",
		"PORTAL_BASE_URL", "PORTAL_CHECKPOINT_DIR", "PORTAL_SSO_HEADER"} {
		t.Setenv(k, "")
	}
}

// TestServeWithMailLogNeverLogsALink: with no SMTP server and PORTAL_MAIL=log,
// a sign-in message is "sent" to the log, which names that it went and
// never what it says.
func TestServeWithMailLogNeverLogsALink(t *testing.T) {
	secClearEnv(t)
	dir := t.TempDir()
	t.Setenv("PORTAL_DB", dir+"/serve.db")
	t.Setenv("PORTAL_LOG_KEY", testLogKey(t, dir))
	t.Setenv("PORTAL_SECRET", testSecret)
	t.Setenv("PORTAL_MAIL", "log")
	roster := dir + "/roster.csv"
	if err := writeFile(roster, "Employee Number,Full Name,E-mail,Agency,Department,Title,Manager_Employee_Number,Hire Date,Roles\r\n"+
		"7001,Renée Dufour,renee.dufour@agency.example,Department of Labor,Bureau of Employment Services,Counselor,,2020-01-06,\r\n"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := server.Run(context.Background(), []string{"import-roster", roster}, &out, &out); err != nil {
		t.Fatalf("import-roster: %v\n%s", err, out.String())
	}
	stdout, logs := &syncBuffer{}, &syncBuffer{}
	base, stop := secRunServer(t, "serve", stdout, logs)
	secAskForLink(t, base, "renee.dufour@agency.example")
	eventually(t, "the sign-in message handed to the log", func() bool {
		return strings.Contains(logs.String(), `"kind":"signin"`)
	})
	if r := newClient(t, base).get("/dev/mailbox"); r.Status != 404 {
		t.Errorf("serve has a development mailbox: status %d", r.Status)
	}
	stop()
	text := logs.String() + stdout.String()
	if !strings.Contains(text, "mail not sent") || !strings.Contains(text, "renee.dufour@agency.example") {
		t.Fatalf("the log does not say the message went:\n%s", text)
	}
	for _, leak := range []string{"/signin/link/", "Use this link to sign in", "nobody can sign in without the link", "Hello Renée"} {
		if strings.Contains(text, leak) {
			t.Errorf("the log holds %q", leak)
		}
	}
	if dump := secDump(t, dir+"/serve.db"); strings.Contains(dump, "/signin/link/") || !strings.Contains(dump, "Renée Dufour") {
		t.Error("the database holds a sign-in link (or the dump read nothing)")
	}
}

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

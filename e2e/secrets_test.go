package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"portal/app"
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
	dump(tablesQuery(path))
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

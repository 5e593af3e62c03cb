package e2e

// Hostile names in mail, exports and PDFs (the journey is in injection_test.go).

import (
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func testHostileMail(t *testing.T, people []hostile) {
	ms := startMailServer(t)
	tp := startTestPortal(t, withSMTP(ms))
	if out, err := importReport(t, tp, rosterCSV(t, people)); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	inv, _, esc, dig := tp.pass(t)
	t.Logf("first pass: %d invitations, %d escalations, %d digests", inv, esc, dig)
	if inv == 0 {
		t.Fatal("no invitations")
	}
	eventually(t, "the invitations", func() bool { return tp.queued(t) == 0 })
	for _, p := range people {
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLinkFor(t, tp.employee(t, p.number)))
		signHostile(t, tp, c, p)
	}
	eventually(t, "the certificates", func() bool {
		for _, p := range people {
			got := false
			for _, m := range ms.messagesTo(p.email) {
				got = got || strings.Contains(subjectOf(t, m), "Your certificate")
			}
			if !got {
				return false
			}
		}
		return true
	})
	for _, p := range people {
		msgs := ms.messagesTo(p.email)
		if len(msgs) < 2 {
			t.Errorf("%s got %d messages, want an invitation and a certificate", p.number, len(msgs))
		}
		for _, raw := range msgs {
			m := checkHeaders(t, raw)
			to, err := m.Header.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Address != p.email || to[0].Name != p.stored {
				t.Errorf("%s: To %q reads as %v (%v), want %q <%s>", p.number, m.Header.Get("To"), to, err, p.stored, p.email)
			}
			html := mailPart(t, raw, "text/html")
			mustShowEscaped(t, p.number+"'s mail ("+subjectOf(t, raw)+")", html, p.stored)
			if !strings.Contains(mailPart(t, raw, "text/plain"), p.stored) {
				t.Errorf("%s: the plain-text part lacks the name", p.number)
			}
		}
	}
	// The manager hears about each overdue person by name: an escalation
	// with the name in its subject, and the weekly digest listing them all.
	if esc == 0 || dig == 0 {
		t.Fatal("the demo cycle is overdue: the pass should escalate and send digests")
	}
	subjects := map[string]bool{}
	for _, raw := range ms.messagesTo("mallory@hostile.example") {
		checkHeaders(t, raw)
		subject := subjectOf(t, raw)
		subjects[subject] = true
		html := mailPart(t, raw, "text/html")
		mustShowEscaped(t, "the manager's mail ("+subject+")", html)
		if strings.HasPrefix(subject, "Your team:") {
			for _, p := range people {
				mustShowEscaped(t, "the digest", html, p.stored)
			}
		}
	}
	for _, p := range people {
		if !subjects["Overdue in your team: "+p.stored] {
			t.Errorf("no escalation about %q: %v", p.stored, subjects)
		}
	}
	if !subjects["Your team: 6 overdue with the social media policy acknowledgment"] {
		t.Errorf("no digest: %v", subjects)
	}
	if ms.count("victim@x.example") != 0 {
		t.Fatal("mail reached the address named in a header injection")
	}
}

// checkHeaders checks a raw message's header section: CRLF line ends only,
// every line a header or a continuation, no Bcc or Cc added by a name.
func checkHeaders(t *testing.T, raw string) *netmail.Message {
	t.Helper()
	head, _, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		t.Fatalf("no end of headers:\n%.500s", raw)
	}
	if strings.ContainsAny(strings.ReplaceAll(head, "\r\n", ""), "\r\n") {
		t.Errorf("a bare CR or LF in the headers:\n%s", head)
	}
	for _, line := range strings.Split(head, "\r\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(name, " \t") {
			t.Errorf("header line %q is not a header", line)
		}
		if strings.EqualFold(name, "Bcc") || strings.EqualFold(name, "Cc") {
			t.Errorf("an added header: %q", line)
		}
	}
	m, err := netmail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// mailPart returns the decoded body of the first part of the given type.
func mailPart(t *testing.T, raw, want string) string {
	t.Helper()
	m, err := netmail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var find func(header interface{ Get(string) string }, body io.Reader) (string, bool)
	find = func(header interface{ Get(string) string }, body io.Reader) (string, bool) {
		typ, params, err := mime.ParseMediaType(header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("Content-Type %q: %v", header.Get("Content-Type"), err)
		}
		if strings.HasPrefix(typ, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				part, err := mr.NextPart() // decodes quoted-printable
				if err == io.EOF {
					return "", false
				}
				if err != nil {
					t.Fatal(err)
				}
				if s, ok := find(part.Header, part); ok {
					return s, true
				}
			}
		}
		if typ != want {
			return "", false
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), true
	}
	s, ok := find(m.Header, m.Body)
	if !ok {
		t.Fatalf("no %s part in:\n%.800s", want, raw)
	}
	return s
}

// formulaSafe is the rule the exports follow (README, Exports).
func formulaSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// checkPDFName checks that a certificate PDF prints name literally (the
// markup as text, nothing lost) and carries it whole in its metadata. The
// certificate gives the name at most two lines: a longer one is printed up to
// an ellipsis, and only the metadata and the HTML certificate hold all of it.
func checkPDFName(t *testing.T, pdf []byte, name string) {
	t.Helper()
	// -layout: without it pdftotext joins a line ending in "-" to the next
	// one as a hyphenated word, and "employees;--" would lose a hyphen.
	text := popplerTool(t, pdf, "pdftotext", "-layout", "-enc", "UTF-8")
	info := popplerTool(t, pdf, "pdfinfo", "-enc", "UTF-8")
	if text == "" && info == "" {
		return
	}
	text = strings.Join(strings.Fields(text), " ")
	if !regexp.MustCompile(`(?m)^Subject: +` + regexp.QuoteMeta(name) + ` acknowledged `).MatchString(info) {
		t.Errorf("the PDF's metadata does not hold the name %q:\n%s", name, info)
	}
	if !strings.Contains(text, name) {
		t.Errorf("the PDF does not print the whole name %q:\n%s", name, text)
	}
}

// popplerTool runs pdftotext or pdfinfo on a PDF and returns its output, or
// "" when poppler-utils is missing on a developer's machine (it must be
// there in CI; make test installs it).
func popplerTool(t *testing.T, pdf []byte, tool string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: apt-get install poppler-utils (make test does)", tool)
		}
		t.Logf("%s not installed: the PDF is not checked", tool)
		return ""
	}
	file := filepath.Join(t.TempDir(), "cert.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	args = append(args, file)
	if tool == "pdftotext" {
		args = append(args, "-")
	}
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	return string(out)
}

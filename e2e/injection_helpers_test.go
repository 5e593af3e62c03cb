package e2e

import (
	"bytes"
	"encoding/csv"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"portal/server"
)

// The hostile people of the injection tests and the checks of each output:
// escaped markup, mail headers and parts, spreadsheet formulas, PDF text.

// hostile is an employee whose name is an attack on some output: a page, a
// spreadsheet, a SQL statement, a mail header.
type hostile struct {
	number string
	raw    string // as written in the roster file
	stored string // as the portal keeps and shows it
	email  string
}

const (
	hostileAgency     = "Department of Labor"
	hostileDepartment = "Hostile Input Unit"
	hostileManager    = "9500"
	hostileComment    = `<b>bold</b> <script>alert(2)</script> & "quoted" <img src=x onerror=alert(3)>`
)

// longName is exactly 200 characters, the most a roster field may hold.
var longName = strings.Repeat("Zoë Côté-Núñez ", 13) + "Zoë C"

func hostilePeople() []hostile {
	people := []hostile{
		{number: "9501", raw: "<script>alert(1)</script>"},
		{number: "9502", raw: `"><img src=x onerror=alert(1)>`},
		{number: "9503", raw: `=HYPERLINK("http://x")`},
		{number: "9504", raw: "Robert'); DROP TABLE employees;--"},
		// A line break inside a quoted roster field becomes a space.
		{number: "9505", raw: "Evil\r\nBcc: victim@x.example", stored: "Evil Bcc: victim@x.example"},
		{number: "9506", raw: longName},
	}
	for i := range people {
		if people[i].stored == "" {
			people[i].stored = people[i].raw
		}
		people[i].email = "hostile" + people[i].number + "@hostile.example"
	}
	return people
}

// rosterCSV writes a roster file (encoding/csv quotes what needs quoting)
// with a manager, 9500, over the given people.
func rosterCSV(t *testing.T, people []hostile) string {
	t.Helper()
	var b strings.Builder
	w := csv.NewWriter(&b)
	rows := [][]string{{"employee_number", "full_name", "email", "agency", "department", "manager_employee_number"},
		{hostileManager, "Mallory Manager", "mallory@hostile.example", hostileAgency, hostileDepartment, ""}}
	for _, p := range people {
		rows = append(rows, []string{p.number, p.raw, p.email, hostileAgency, hostileDepartment, hostileManager})
	}
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// importReport runs `portal import-roster` on body and returns what it printed.
func importReport(t *testing.T, tp *testPortal, body string) (string, error) {
	t.Helper()
	tp.commandEnv(t)
	p := filepath.Join(t.TempDir(), "roster.csv")
	if err := writeFile(p, body); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := server.Run(t.Context(), []string{"import-roster", p}, &out, &out)
	return out.String(), err
}

// htmlEscaped is s as html/template writes it in text and quoted attributes.
func htmlEscaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

// rawMarkup is what must never reach a page unescaped.
var rawMarkup = []string{"<script>alert(", "<img src=x", "<b>bold"}

// mustShowEscaped checks that body shows each text, and only HTML-escaped.
func mustShowEscaped(t *testing.T, where, body string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		esc := htmlEscaped(s)
		if !strings.Contains(body, esc) {
			t.Errorf("%s does not show %.60q (escaped: %.60q)", where, s, esc)
		}
		if esc != s && strings.Contains(body, s) {
			t.Errorf("%s shows %.60q unescaped", where, s)
		}
	}
	for _, raw := range rawMarkup {
		if strings.Contains(body, raw) {
			t.Errorf("%s holds the markup %q unescaped", where, raw)
		}
	}
	if !utf8.ValidString(body) {
		t.Errorf("%s is not valid UTF-8", where)
	}
}

// signHostile takes one signed-in person from the guidance to the
// certificate over HTTP, typing the name as written in the roster file, and
// returns the certificate's verification code.
func signHostile(t *testing.T, tp *testPortal, c *client, p hostile) string {
	t.Helper()
	readAll(t, tp, c, p.number)
	passQuiz(t, tp, c, p.number)
	consent(t, c)
	r := c.get("/sign")
	mustShowEscaped(t, p.number+"'s sign form", r.Body, p.stored)
	f := form("typed_name", p.raw, "intent", "yes", "comment", hostileComment)
	r = c.post("/sign/review", f)
	if r.Status != 200 {
		t.Fatalf("%s: review: status %d", p.number, r.Status)
	}
	mustShowEscaped(t, p.number+"'s review page", r.Body, hostileComment)
	if !strings.ContainsAny(p.raw, "\r\n") {
		mustShowEscaped(t, p.number+"'s review page", r.Body, p.raw)
	}
	r = c.post("/sign", f)
	if r.Status != 303 || !strings.HasPrefix(r.Location, "/certificates/") {
		t.Fatalf("%s: sign: status %d location %q", p.number, r.Status, r.Location)
	}
	code, err := url.PathUnescape(signedCode(r.Location))
	if err != nil {
		t.Fatal(err)
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM acknowledgments WHERE typed_name = ? AND comment = ?`, p.stored, hostileComment); n != 1 {
		t.Fatalf("%s: %d acknowledgments with the typed name and comment as sent", p.number, n)
	}
	return code
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

package e2e

import (
	"archive/zip"
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
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"portal/server"
)

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

func TestHostileNamesGoThroughUnharmed(t *testing.T) {
	tp := startTestPortal(t)
	people := hostilePeople()
	employees := func() int { return tp.count(t, `SELECT COUNT(*) FROM employees`) }
	before := employees()

	t.Run("names the roster refuses are refused with their reason", func(t *testing.T) {
		for _, tc := range []struct{ name, want string }{
			{"Ann\u202eegnahC", "The full name contains the invisible character U+202E. Retype the field."},
			{"Ann\u2066Lee", "The full name contains the invisible character U+2066. Retype the field."},
			{"Ann\x00Lee", "The full name contains the invisible character U+0000. Retype the field."},
			{longName + "x", "The full name is 201 characters long; the most allowed is 200."},
		} {
			out, err := importReport(t, tp, rosterCSV(t, []hostile{{number: "9599", raw: tc.name, email: "refused@hostile.example"}}))
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("%+q: error %v, output %q; want %q", tc.name, err, out, tc.want)
			}
		}
		if employees() != before {
			t.Fatal("a refused file changed the roster")
		}
	})

	if out, err := importReport(t, tp, rosterCSV(t, people)); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM employees`); n != before+len(people)+1 {
		t.Fatalf("%d employees after the import, want %d (the DROP TABLE name did nothing)", n, before+len(people)+1)
	}
	for _, p := range people {
		if got := tp.employee(t, p.number).FullName; got != p.stored {
			t.Fatalf("%s stored as %q, want %q", p.number, got, p.stored)
		}
	}

	codes := map[string]string{} // employee number → verification code
	for _, p := range people {
		t.Run("the journey of "+p.number, func(t *testing.T) {
			c := newClient(t, tp.BaseURL)
			c.get("/signin")
			if r := c.post("/signin", form("email", p.email)); r.Status != 303 {
				t.Fatalf("sign-in request: status %d", r.Status)
			}
			links := tp.mailedLinks(t, p.email)
			if len(links) == 0 {
				t.Fatal("no sign-in link mailed")
			}
			r := c.get(links[0])
			if r.Status != 200 {
				t.Fatalf("sign-in link: status %d", r.Status)
			}
			mustShowEscaped(t, "the sign-in confirmation", r.Body, p.stored)
			if r := c.post(links[0], nil); r.Status != 303 || r.Location != "/" {
				t.Fatalf("sign-in: status %d location %q", r.Status, r.Location)
			}
			mustShowEscaped(t, "the home page", c.get("/").Body, p.stored)
			code := signHostile(t, tp, c, p)
			codes[p.number] = code

			cert := c.get("/certificates/" + url.PathEscape(code))
			if cert.Status != 200 {
				t.Fatalf("certificate page: status %d", cert.Status)
			}
			mustShowEscaped(t, "the certificate page", cert.Body, p.stored, hostileComment)
			mustShowEscaped(t, "the home page after signing", c.get("/").Body, p.stored)
			v := newClient(t, tp.BaseURL).get("/verify/" + url.PathEscape(code))
			if v.Status != 200 || !strings.Contains(v.Body, "Valid certificate") {
				t.Fatalf("verify page: status %d", v.Status)
			}
			mustShowEscaped(t, "the verify page", v.Body, p.stored)

			pdf := c.get("/certificates/" + url.PathEscape(code) + "/pdf")
			if pdf.Status != 200 || !strings.HasPrefix(pdf.Body, "%PDF-") {
				t.Fatalf("PDF: status %d", pdf.Status)
			}
			cd := pdf.Header.Get("Content-Disposition")
			_, params, err := mime.ParseMediaType(cd)
			if err != nil || !strings.Contains(cd, "filename*=UTF-8''") || strings.ContainsAny(cd, "\r\n") {
				t.Fatalf("PDF Content-Disposition %q: %v", cd, err)
			}
			if !strings.HasSuffix(params["filename"], " "+p.stored+".pdf") {
				t.Errorf("PDF file name %q, want the exact name", params["filename"])
			}
			checkPDFName(t, []byte(pdf.Body), p.stored)
		})
	}
	if t.Failed() {
		t.FailNow()
	}

	t.Run("the manager's team page shows every name escaped", func(t *testing.T) {
		m := newClient(t, tp.BaseURL)
		m.signIn(tp.signInLink(t, hostileManager))
		r := m.get("/team")
		mustContain(t, r.Body, "6 people")
		for _, p := range people {
			mustShowEscaped(t, "the team page", r.Body, p.stored)
		}
		z := m.get("/team/certificates.zip")
		if got := checkZip(t, []byte(z.Body)); len(got) != len(people) {
			t.Fatalf("team ZIP holds %v", got)
		}
	})

	hr := hrClient(t, tp)
	filter := "agency=" + urlEscape(hostileAgency) + "&department=" + urlEscape(hostileDepartment)
	t.Run("HR's people list and person pages show every name escaped", func(t *testing.T) {
		list := hr.get("/hr/people?" + filter)
		mustContain(t, list.Body, "7 people")
		for _, p := range people {
			mustShowEscaped(t, "the people list", list.Body, p.stored)
			person := hr.get("/hr/people/" + itoa(tp.employee(t, p.number).ID))
			mustShowEscaped(t, p.number+"'s person page", person.Body, p.stored, hostileComment)
		}
	})

	t.Run("the development mailbox shows every name escaped", func(t *testing.T) {
		r := newClient(t, tp.BaseURL).get("/dev/mailbox")
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		for _, p := range people {
			mustShowEscaped(t, "the mailbox", r.Body, p.stored)
		}
	})

	t.Run("the CSV export is formula-safe", func(t *testing.T) {
		r := hr.get("/hr/export.csv?" + filter)
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		byNumber := map[string][]string{}
		for _, row := range rows[1:] {
			byNumber[row[0]] = row
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("CSV cell %q begins a formula", cell)
				}
			}
		}
		for _, p := range people {
			if got, want := byNumber[p.number][1], formulaSafe(p.stored); got != want {
				t.Errorf("CSV name of %s: %q, want %q", p.number, got, want)
			}
		}
	})

	t.Run("the XLSX export holds plain strings, never formulas", func(t *testing.T) {
		r := hr.get("/hr/export.xlsx?" + filter)
		x, err := excelize.OpenReader(strings.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		rows, err := x.GetRows("Completion")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(people)+2 {
			t.Fatalf("%d rows", len(rows))
		}
		names := map[string]bool{}
		for i, row := range rows[1:] {
			for j := range row {
				cell, _ := excelize.CoordinatesToCellName(j+1, i+2)
				if f, err := x.GetCellFormula("Completion", cell); err != nil || f != "" {
					t.Errorf("%s holds the formula %q (%v)", cell, f, err)
				}
				if j == 7 || j == 10 { // the due date and the signing time are dates, not text
					continue
				}
				if typ, err := x.GetCellType("Completion", cell); err != nil ||
					(row[j] != "" && typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString) {
					t.Errorf("%s (%q) has cell type %v, want a string (%v)", cell, row[j], typ, err)
				}
			}
			names[row[1]] = true
		}
		for _, p := range people {
			if !names[formulaSafe(p.stored)] {
				t.Errorf("the XLSX lacks %q", formulaSafe(p.stored))
			}
		}
	})

	t.Run("the certificate ZIP has server-made file names and a formula-safe manifest", func(t *testing.T) {
		r := hr.get("/hr/certificates.zip?" + filter)
		if got := checkZip(t, []byte(r.Body)); len(got) != len(people) {
			t.Fatalf("ZIP holds %v", got)
		}
		zr, err := zip.NewReader(strings.NewReader(r.Body), int64(len(r.Body)))
		if err != nil {
			t.Fatal(err)
		}
		fileRE := regexp.MustCompile(`^95\d\d-[a-z0-9]+(-[a-z0-9]+)*\.pdf$`)
		for _, f := range zr.File {
			if f.Name != "manifest.csv" && (!fileRE.MatchString(f.Name) || len(f.Name) > 100) {
				t.Errorf("file name %q not made by the server", f.Name)
			}
		}
		mf, err := zr.Open("manifest.csv")
		if err != nil {
			t.Fatal(err)
		}
		defer mf.Close()
		raw, err := io.ReadAll(mf)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, row := range rows[1:] {
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("manifest cell %q begins a formula", cell)
				}
			}
			names[row[1]] = true
		}
		for _, p := range people {
			if !names[formulaSafe(p.stored)] {
				t.Errorf("the manifest lacks %q", formulaSafe(p.stored))
			}
		}
	})

	t.Run("a verification code with markup is shown escaped", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		r := c.get("/verify?code=" + urlEscape("<script>alert(1)</script>"))
		wantFieldError(t, r, "code", "Enter the code as printed on the certificate")
		mustShowEscaped(t, "the verify page", r.Body, "<script>alert(1)</script>")
		r = c.get("/verify/" + url.PathEscape(`"><img src=x onerror=alert(1)>`))
		mustShowEscaped(t, "the verify page", r.Body)
		// A code cut at the 40-byte limit must not split a character.
		r = c.get("/verify?code=" + urlEscape(strings.Repeat("A", 39)+"é"))
		mustShowEscaped(t, "the verify page with a long code", r.Body, strings.Repeat("A", 39))
		r = c.get("/verify?code=%FF%FEabc")
		mustShowEscaped(t, "the verify page with invalid UTF-8", r.Body, "abc")
	})

	t.Run("a sign-in address with markup is re-rendered escaped", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		c.get("/signin")
		addr := "<script>alert(1)</script>@x.example"
		r := c.post("/signin", form("email", addr))
		if r.Status != 422 || !strings.Contains(r.Body, "Enter your work e-mail address") {
			t.Fatalf("status %d", r.Status)
		}
		mustShowEscaped(t, "the sign-in form", r.Body, addr)
	})

	t.Run("a sign-in destination a browser would read as another host is dropped", func(t *testing.T) {
		p := people[0]
		next := "/\t/evil.example"
		c := newClient(t, tp.BaseURL)
		if r := c.get("/signin?next=" + urlEscape(next)); strings.Contains(r.Body, "evil.example") {
			t.Fatal("the sign-in form keeps the destination")
		}
		before := len(tp.mailedLinks(t, p.email))
		c.post("/signin", form("email", p.email, "next", next))
		links := tp.mailedLinks(t, p.email)
		if len(links) != before+1 {
			t.Fatalf("%d links mailed", len(links)-before)
		}
		link := links[0]
		if strings.Contains(link, "evil.example") {
			t.Fatalf("the mailed link keeps the destination: %s", link)
		}
		c.get(link + "?next=" + urlEscape(next))
		if r := c.post(link, form("next", next)); r.Status != 303 || r.Location != "/" {
			t.Fatalf("sign-in: status %d location %q", r.Status, r.Location)
		}
	})

	t.Run("mail carries the names encoded in headers and escaped in HTML", func(t *testing.T) {
		testHostileMail(t, people)
	})
}

// testHostileMail runs the journey on a portal that mails through a real
// SMTP server and reads what arrived.

// Hostile names in mail and PDFs: the helpers that check each message and certificate.
// Hostile names in mail, exports and PDFs (the journey is in injection_test.go).

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
	// Managers hear about someone only once their invitation is a day old.
	tp.Clock.Advance(24 * time.Hour)
	_, _, esc, _ = tp.pass(t)
	eventually(t, "the invitations and escalations", func() bool { return tp.queued(t) == 0 })
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

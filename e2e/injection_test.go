package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"mime"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Names that attack the outputs (pages, spreadsheets, SQL, mail headers,
// PDFs) go through every one of them unharmed; the helpers are in
// injection_helpers_test.go, the mail's own checks in injection_mail_test.go.

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

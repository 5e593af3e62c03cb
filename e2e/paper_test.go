package e2e

// Paper acknowledgments (issue 15, point 4): HR records that a person signed
// the paper form, with a scan of it, through HTTP; every bad input changes
// nothing; the person then counts as signed on paper everywhere, gets no
// more reminders, and has a certificate that says where it came from.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/app"
	"portal/handlers"
)

// paperScanPDF is a small PDF scan of a signed form.
var paperScanPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
	"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func paperScanPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 16))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// paperState is every row a paper acknowledgment writes, and the person's
// assignment, as one string to compare before and after a refusal.
func paperState(t *testing.T, tp *testPortal) string {
	t.Helper()
	var out []string
	for _, q := range []string{`SELECT COUNT(*) FROM paper_scans`, `SELECT COUNT(*) FROM acknowledgments`,
		`SELECT COUNT(*) FROM log_entries`, `SELECT COUNT(*) FROM audit_events`, `SELECT COUNT(*) FROM outbox`,
		`SELECT COUNT(*) FROM assignments WHERE signed_at IS NOT NULL`, `SELECT COUNT(*) FROM assignments WHERE paper <> 0`} {
		out = append(out, itoa(int64(tp.count(t, q))))
	}
	return strings.Join(out, " ")
}

// postPaper sends the paper form for the person with id.
func postPaper(c *client, id int64, signedOn, filename string, scan []byte) response {
	c.t.Helper()
	return c.upload("/hr/people/"+itoa(id)+"/paper", "scan", filename, scan, map[string]string{"signed_on": signedOn, "note": "Received by internal mail"})
}

var paperFigureRE = regexp.MustCompile(`<span class="figure">(\d+)</span> <a href="[^"]*status=paper[^"]*">Signed on paper</a>`)

func TestPaperAcknowledgment(t *testing.T) {
	tp := startTestPortal(t)
	zoe := tp.employee(t, "1005") // overdue, not started, in DAFS
	person := "/hr/people/" + itoa(zoe.ID)
	var today time.Time
	cycle, err := tp.Handler.Cycles.CurrentCycle(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	hr := newClient(t, tp.BaseURL)
	hr.signIn(tp.signInLink(t, "1002"))
	paperBefore := func() int {
		m := paperFigureRE.FindStringSubmatch(hr.get("/hr").Body)
		if m == nil {
			t.Fatal("the dashboard shows no figure for signed on paper")
		}
		return mustAtoi(t, m[1])
	}()

	// The invitations go out, and a day later Zoë is due a reminder and her
	// manager an escalation; before that pass, HR records her paper form.
	tp.pass(t)
	tp.Clock.Advance(24 * time.Hour)
	today = tp.DB.Now().In(tp.Config.TimeZone)
	hr.signIn(tp.signInLink(t, "1002")) // a day later the session has ended

	r := hr.get(person)
	if r.Status != 200 || !strings.Contains(r.Body, `href="`+person+`/paper"`) || !strings.Contains(r.Body, "Record a paper acknowledgment") {
		t.Fatalf("the person page offers no paper acknowledgment: %d", r.Status)
	}
	if r := hr.get(person + "/paper"); r.Status != 200 || !strings.Contains(r.Body, `type="file"`) || !strings.Contains(r.Body, `max="`+today.Format(app.DateLayout)+`"`) {
		t.Fatalf("the form: %d", r.Status)
	}

	t.Run("each bad input is refused with its message and changes nothing", func(t *testing.T) {
		good := today.Format(app.DateLayout)
		big := append(bytes.Clone(paperScanPDF), bytes.Repeat([]byte(" "), app.MaxScanSize)...)
		for _, c := range []struct {
			name, signedOn, file string
			scan                 []byte
			field, msg           string
		}{
			{"a scan over 10 MB", good, "form.pdf", big, "scan", "The scan is larger than 10 MB"},
			{"an HTML page named .pdf", good, "form.pdf", []byte("<html><body>signed</body></html>"), "scan", "not a PDF, PNG or JPEG"},
			{"a text file named .png", good, "form.png", []byte("I signed it"), "scan", "not a PDF, PNG or JPEG"},
			{"a PDF cut off", good, "form.pdf", paperScanPDF[:40], "scan", "not a PDF, PNG or JPEG"},
			{"no file", good, "", nil, "scan", "Choose the scan of the signed form"},
			{"a date in the future", today.AddDate(0, 0, 1).Format(app.DateLayout), "form.pdf", paperScanPDF, "signed_on", "cannot be in the future"},
			{"a date before the cycle opened", mustDate(t, cycle.OpensOn).AddDate(0, 0, -1).Format(app.DateLayout), "form.pdf", paperScanPDF, "signed_on", "before the cycle opened"},
			{"no date", "", "form.pdf", paperScanPDF, "signed_on", "Enter the date the form was signed"},
		} {
			t.Run(c.name, func(t *testing.T) {
				hr.get(person + "/paper")
				before := paperState(t, tp)
				r := postPaper(hr, zoe.ID, c.signedOn, c.file, c.scan)
				wantFieldError(t, r, c.field, c.msg)
				if after := paperState(t, tp); after != before {
					t.Errorf("rows %s, then %s", before, after)
				}
			})
		}
		t.Run("a body far over the limit", func(t *testing.T) {
			before := paperState(t, tp)
			// Announced larger than the route takes: refused before it is sent.
			conn := rawSend(t, tp, fmt.Sprintf("POST /hr/people/%d/paper HTTP/1.1\r\nHost: portal\r\n"+
				"Content-Type: multipart/form-data; boundary=b\r\nCookie: portal_session=%s; portal_csrf=%s\r\n"+
				"Content-Length: %d\r\n\r\n--b", zoe.ID, hr.cookie("portal_session"), hr.cookie("portal_csrf"), handlers.PaperBodyLimit+1))
			if status, body, _ := rawResponse(t, bufio.NewReader(conn), conn); status != 413 || !strings.Contains(body, "The scan is larger than 10 MB") {
				t.Errorf("status %d, want 413 with the scan's message", status)
			}
			if after := paperState(t, tp); after != before {
				t.Errorf("rows %s, then %s", before, after)
			}
		})
		t.Run("someone who already signed", func(t *testing.T) {
			siobhan := tp.employee(t, "1008")
			if r := hr.get("/hr/people/" + itoa(siobhan.ID) + "/paper"); !strings.Contains(r.Body, "has already signed") || strings.Contains(r.Body, `type="file"`) {
				t.Errorf("the form page of someone who signed offers the form")
			}
			before := paperState(t, tp)
			r := postPaper(hr, siobhan.ID, good, "form.pdf", paperScanPDF)
			if r.Status != 409 || !strings.Contains(r.Body, "Siobhán O&#39;Brien has already signed") {
				t.Errorf("status %d, want 409 saying she has signed", r.Status)
			}
			if after := paperState(t, tp); after != before {
				t.Errorf("rows %s, then %s", before, after)
			}
		})
		t.Run("an HR user outside their scope", func(t *testing.T) {
			admin := newClient(t, tp.BaseURL)
			admin.signIn(tp.signInLink(t, "1003"))
			admin.get("/admin/scopes")
			if r := admin.post("/admin/scopes", form("employee", itoa(tp.employee(t, "1010").ID), "agency", dol)); r.Status != 303 {
				t.Fatalf("set scope: %d", r.Status)
			}
			scoped := newClient(t, tp.BaseURL)
			scoped.signIn(tp.signInLink(t, "1010"))
			if r := scoped.get(person + "/paper"); r.Status != 404 {
				t.Errorf("the form of someone outside the scope: %d", r.Status)
			}
			scoped.get("/hr")
			before := paperState(t, tp)
			if r := postPaper(scoped, zoe.ID, good, "form.pdf", paperScanPDF); r.Status != 404 {
				t.Errorf("recording someone outside the scope: %d", r.Status)
			}
			if after := paperState(t, tp); after != before {
				t.Errorf("rows %s, then %s", before, after)
			}
		})
		t.Run("the person themselves, a manager", func(t *testing.T) {
			for _, number := range []string{"1005", "1004"} {
				c := newClient(t, tp.BaseURL)
				c.signIn(tp.signInLink(t, number))
				before := paperState(t, tp)
				if r := postPaper(c, zoe.ID, good, "form.pdf", paperScanPDF); r.Status != 403 {
					t.Errorf("%s records a paper acknowledgment: %d", number, r.Status)
				}
				if after := paperState(t, tp); after != before {
					t.Errorf("%s: rows %s, then %s", number, before, after)
				}
			}
		})
	})

	// The form was signed yesterday; a PNG scan, named as a PDF: the
	// content decides.
	signedOn := today.AddDate(0, 0, -1).Format(app.DateLayout)
	scan := paperScanPNG(t)
	hr.get(person + "/paper")
	r = postPaper(hr, zoe.ID, signedOn, "scan.pdf", scan)
	if r.Status != 303 || r.Location != person+"/paper/recorded" {
		t.Fatalf("record: status %d location %q\n%.2000s", r.Status, r.Location, r.Body)
	}
	done := hr.get(r.Location)
	mustContain(t, done.Body, "Paper acknowledgment recorded", "Hannah Roy", "PNG image", sha256Hex(string(scan)))
	code := tp.codeOf(t, zoe.ID)
	if code == "" || !strings.Contains(done.Body, code) {
		t.Fatalf("the confirmation has no certificate code (%q)", code)
	}
	ack := tp.ackByCode(t, code)

	t.Run("one transaction wrote the scan, the acknowledgment, the log entry, the assignment and an audit event", func(t *testing.T) {
		if ack.Paper == nil || ack.Paper.SignedOn != signedOn || ack.Paper.ScanType != app.ScanPNG ||
			ack.Paper.ScanSHA256 != sha256Hex(string(scan)) || ack.Paper.RecordedBy != tp.employee(t, "1002").ID || ack.LogIndex < 0 {
			t.Fatalf("acknowledgment %+v paper %+v", ack, ack.Paper)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE employee_id = ? AND paper = 1 AND ack_id = ?`, zoe.ID, ack.ID); n != 1 {
			t.Errorf("%d assignments signed on paper", n)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'acknowledgment.paper_recorded' AND subject_id = ?`, zoe.ID); n != 1 {
			t.Errorf("%d audit events", n)
		}
		if out, err := evAuditVerify(t, tp.DB.Path, tp.Config.LogKeyFile); err != nil {
			t.Fatalf("audit-verify: %v\n%s", err, out)
		}
	})

	t.Run("Zoë is told by mail, with who recorded it and what to do if she signed no such form", func(t *testing.T) {
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'certificate' AND about_id = ? AND employee_id = ?`, ack.ID, zoe.ID); n != 1 {
			t.Fatalf("%d notices queued in the transaction", n)
		}
		var got *app.Message
		eventually(t, "the notice is delivered", func() bool {
			tp.Worker.Kick()
			for _, m := range tp.DevMail.Messages() {
				if strings.EqualFold(m.ToAddr, zoe.Email) && strings.HasPrefix(m.Subject, "A paper acknowledgment was recorded for you") {
					got = m
				}
			}
			return got != nil
		})
		mustContain(t, got.Text, "Hannah Roy recorded", mustDate(t, signedOn).Format("Monday, January 2, 2006"),
			"If you did not sign a paper acknowledgment form on that date", code)
		if len(got.Attachments) != 1 || got.Attachments[0].ContentType != "application/pdf" {
			t.Errorf("attachments %d, want the certificate", len(got.Attachments))
		}
	})

	t.Run("the status is Signed on paper on the person page, the people list and the dashboard", func(t *testing.T) {
		if body := hr.get(person).Body; !strings.Contains(body, "Signed on paper") || strings.Contains(body, `href="`+person+`/paper"`) {
			t.Error("the person page does not say signed on paper, or still offers the form")
		}
		list := hr.get("/hr/people?status=paper").Body
		if !strings.Contains(list, "Zoë Côté") || !strings.Contains(list, "Signed on paper") {
			t.Error("the people list filtered on paper lacks Zoë")
		}
		if strings.Contains(hr.get("/hr/people?status=overdue").Body, "Zoë Côté") {
			t.Error("Zoë is still listed as overdue")
		}
		m := paperFigureRE.FindStringSubmatch(hr.get("/hr").Body)
		if m == nil || mustAtoi(t, m[1]) != paperBefore+1 {
			t.Errorf("the dashboard counts %v on paper, want %d", m, paperBefore+1)
		}
	})

	t.Run("no reminder or escalation afterwards", func(t *testing.T) {
		_, rem, esc, _ := tp.pass(t)
		if rem == 0 || esc == 0 {
			t.Fatalf("the pass sent %d reminders and %d escalations: the others overdue should still get theirs", rem, esc)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'reminder' AND employee_id = ?`, zoe.ID); n != 0 {
			t.Errorf("%d reminders to Zoë after her paper acknowledgment", n)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'escalation' AND about_id = ?`, zoe.ID); n != 0 {
			t.Errorf("%d escalations about Zoë after her paper acknowledgment", n)
		}
		// Someone else overdue and unsigned did get theirs: the pass ran.
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'reminder' AND employee_id = ?`, tp.employee(t, "1007").ID); n != 1 {
			t.Errorf("%d reminders to 1007", n)
		}
	})

	t.Run("Zoë's own home page says she signed on paper", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLink(t, "1005"))
		mustContain(t, c.get("/").Body, "You signed the paper form on "+mustDate(t, signedOn).Format("January 2, 2006"), "/certificates/"+code)
	})

	t.Run("the certificate and the verify page say it was recorded from a paper form", func(t *testing.T) {
		statement := "Recorded from a paper form signed on " + mustDate(t, signedOn).Format("January 2, 2006") + "; recorded by Hannah Roy on "
		cert := hr.get("/certificates/" + code)
		mustContain(t, cert.Body, statement, sha256Hex(string(scan)))
		v := newClient(t, tp.BaseURL).get("/verify/" + code)
		mustContain(t, v.Body, "Valid certificate", statement, sha256Hex(string(scan)))
		if strings.Contains(v.Body, "/scans/") || strings.Contains(v.Body, "Received by internal mail") {
			t.Error("the public verify page links the scan or shows HR's note")
		}
		if r := hr.get("/certificates/" + code + "/pdf"); r.Status != 200 || r.Header.Get("Content-Type") != "application/pdf" {
			t.Errorf("the PDF: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
	})

	scanPath := person + "/scans/" + itoa(ack.ID)
	t.Run("HR in scope downloads the scan as stored; nobody else does", func(t *testing.T) {
		r := hr.get(scanPath)
		if r.Status != 200 || r.Body != string(scan) || r.Header.Get("Content-Type") != app.ScanPNG ||
			!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("scan: %d %q %q", r.Status, r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"))
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'acknowledgment.scan_downloaded' AND subject_id = ?`, zoe.ID); n != 1 {
			t.Errorf("%d download events", n)
		}
		for number, want := range map[string]int{"1005": 403, "1004": 403, "1003": 403, "1010": 404} {
			c := newClient(t, tp.BaseURL)
			c.signIn(tp.signInLink(t, number))
			if r := c.get(scanPath); r.Status != want || r.Body == string(scan) {
				t.Errorf("%s gets the scan: %d, want %d", number, r.Status, want)
			}
		}
		if r := newClient(t, tp.BaseURL).get(scanPath); r.Status != 303 {
			t.Errorf("anonymous: %d", r.Status)
		}
		// Another person's id in the path does not reach Zoë's scan.
		if r := hr.get("/hr/people/" + itoa(tp.employee(t, "1007").ID) + "/scans/" + itoa(ack.ID)); r.Status != 404 {
			t.Errorf("the scan under another person: %d", r.Status)
		}
	})

	t.Run("a scan changed in the database is refused when served and by audit-verify", func(t *testing.T) {
		raw := evRaw(t, tp.DB.Path)
		dropTrigger(t, raw, "paper_scans_immutable_u", "paper_scans")
		raw.Close()
		tamper(t, tp, `UPDATE paper_scans SET data = ? WHERE id = ?`, paperScanPDF, ack.Paper.ScanID)
		r := hr.get(scanPath)
		if r.Status != 500 || strings.Contains(r.Body, "%PDF") || r.Header.Get("Content-Type") == app.ScanPDF {
			t.Errorf("a tampered scan: status %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		if !strings.Contains(tp.Logs.String(), "no longer match the SHA-256 recorded with the acknowledgment") {
			t.Error("the refusal is not logged with its reason")
		}
		out, err := evAuditVerify(t, tp.DB.Path, tp.Config.LogKeyFile)
		evMustFail(t, out, err, "scan of the paper form", "changed")
	})
}

func mustDate(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(app.DateLayout, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// azPaperFixture records, as 1002, a paper acknowledgment of 1011 (who has
// not signed in the demo), for the routes that show one.
func azPaperFixture(t *testing.T, tp *testPortal) (person, ack int64) {
	t.Helper()
	who := tp.employee(t, "1011")
	cycle := tp.cycleID(t)
	ctype, ok := app.SniffScan(paperScanPDF)
	if !ok {
		t.Fatal("the test scan is not a PDF")
	}
	a, err := tp.Handler.Paper.RecordPaperAcknowledgment(t.Context(), &app.PaperAckRequest{EmployeeID: who.ID, CycleID: cycle,
		SignedOn: tp.DB.Today(), Scan: paperScanPDF, RecordedBy: tp.employee(t, "1002").ID, IP: "127.0.0.1", UserAgent: "test"}, ctype)
	if err != nil {
		t.Fatal(err)
	}
	return who.ID, a.ID
}

// axePaperFixtures holds, per portal, the paper acknowledgment the
// accessibility sweep shows (made once, whichever role asks first).
var axePaperFixtures = struct {
	sync.Mutex
	m map[*testPortal]axePaper
}{m: map[*testPortal]axePaper{}}

type axePaper struct{ person, ack int64 }

// axePaperFixture is the portal's paper acknowledgment (1011's), recorded
// when first asked for; in a portal with no open cycle none can be, and
// the acknowledgment's id is of nothing (the pages say "not found").
func axePaperFixture(t *testing.T, tp *testPortal) axePaper {
	t.Helper()
	axePaperFixtures.Lock()
	defer axePaperFixtures.Unlock()
	if p, ok := axePaperFixtures.m[tp]; ok {
		return p
	}
	// With no cycle open nobody can have signed on paper: a person of that
	// portal, with a made-up acknowledgment ("not found").
	p := axePaper{person: tp.employees(t, `1 = 1`)[0].ID, ack: 999999}
	if tp.count(t, `SELECT COUNT(*) FROM cycles WHERE open = 1 AND kind = 'personal-use'`) > 0 {
		p.person, p.ack = azPaperFixture(t, tp)
	}
	axePaperFixtures.m[tp] = p
	return p
}

package pdf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/app"
)

// sampleCert returns a realistic certificate for name.
func sampleCert(tb testing.TB, name string) *app.Certificate {
	tb.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		tb.Fatal(err)
	}
	return &app.Certificate{
		Number:         "SMP-2026-000042",
		VerifyCode:     "K7QF-9M2X-PL4D",
		VerifyURL:      "https://portal.example.gov/verify/K7QF-9M2X-PL4D",
		FullName:       name,
		EmployeeNumber: "004217",
		Agency:         "Department of Administrative and Financial Services",
		Department:     "Office of Information Technology",
		PolicyTitle:    "Personal Use of Social Media Policy",
		PolicyVersion:  "2026.1",
		PolicySHA256:   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		CycleName:      "2026 annual acknowledgment",
		SignedAt:       time.Date(2026, 3, 2, 19, 5, 9, 0, time.UTC),
		Location:       ny,
		LogIndex:       12345,
	}
}

func newRenderer(tb testing.TB) *Renderer {
	tb.Helper()
	r, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func render(tb testing.TB, r *Renderer, c *app.Certificate) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := r.RenderPDF(&buf, c); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

var pageObject = regexp.MustCompile(`/Type /Page\b[^s]`)

// checkOnePage checks the PDF's structure in Go: header, trailer and exactly
// one page object.
func checkOnePage(t *testing.T, pdf []byte) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("no %%PDF- header: %q", pdf[:min(len(pdf), 16)])
	}
	if !bytes.HasSuffix(bytes.TrimSpace(pdf), []byte("%%EOF")) {
		t.Errorf("no %%%%EOF trailer")
	}
	if n := len(pageObject.FindAll(pdf, -1)); n != 1 {
		t.Errorf("%d page objects, want 1", n)
	}
}

// tool returns the path of a poppler binary. Without it the test is skipped
// on a developer's machine, and fails in CI (CI set), where it must be there.
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: apt-get install poppler-utils", name)
		}
		t.Skipf("%s not installed (apt-get install poppler-utils)", name)
	}
	return path
}

// runTool writes pdf to a file and runs a poppler tool on it, returning stdout.
func runTool(t *testing.T, pdf []byte, name string, args ...string) string {
	t.Helper()
	path := tool(t, name)
	file := filepath.Join(t.TempDir(), "cert.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	args = append(args, file)
	if name == "pdftotext" {
		args = append(args, "-") // to stdout
	}
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(out)
}

func TestRenderPDF(t *testing.T) {
	r := newRenderer(t)
	c := sampleCert(t, "José Ñúñez-García")
	c.Comment = "I keep my personal accounts separate from the agency's."
	pdf := render(t, r, c)
	checkOnePage(t, pdf)

	t.Run("pdfinfo reads one Letter page and the metadata", func(t *testing.T) {
		info := runTool(t, pdf, "pdfinfo")
		for _, want := range []string{
			"Pages:           1",
			"612 x 792 pts (letter)",
			"Title:           Certificate of acknowledgment SMP-2026-000042",
			"Author:          Department of Administrative and Financial Services",
			"Subject:         José Ñúñez-García acknowledged Personal Use of Social Media Policy, version 2026.1",
		} {
			if !strings.Contains(info, want) {
				t.Errorf("pdfinfo lacks %q:\n%s", want, info)
			}
		}
	})

	t.Run("every field is printed", func(t *testing.T) {
		text := runTool(t, pdf, "pdftotext", "-enc", "UTF-8")
		for _, want := range []string{
			"Certificate of acknowledgment", "José Ñúñez-García", "Employee number 004217",
			"Department of Administrative and Financial Services — Office of Information",
			"Personal Use of Social Media Policy", "Version 2026.1 · 2026 annual acknowledgment",
			"Signed on March 2, 2026 at 2:05:09 PM EST (UTC-05:00)", "2026-03-02 19:05:09 UTC",
			"SMP-2026-000042", "K7QF-9M2X-PL4D", "9f86d081884c7d659a2feaa0c55ad015",
			"a3bf4f1b2b0b822cd15d6c15b0f00a08", "https://portal.example.gov/verify/",
			"Signed with comment:", "I keep my personal accounts separate from the agency's.",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("text lacks %q:\n%s", want, text)
			}
		}
	})

	t.Run("no comment, no comment heading", func(t *testing.T) {
		text := runTool(t, render(t, r, sampleCert(t, "Ann Lee")), "pdftotext", "-enc", "UTF-8")
		if strings.Contains(text, "Signed with comment") {
			t.Error("comment heading printed without a comment")
		}
	})
}

func TestSignedAt(t *testing.T) {
	c := sampleCert(t, "Ann Lee")
	for _, tc := range []struct {
		loc  string
		want string
	}{
		{"America/New_York", "March 2, 2026 at 2:05:09 PM EST (UTC-05:00)"},
		{"Asia/Kolkata", "March 3, 2026 at 12:35:09 AM IST (UTC+05:30)"},
		{"Asia/Dubai", "March 2, 2026 at 11:05:09 PM UTC+04:00"},
		{"", "March 2, 2026 at 7:05:09 PM UTC"},
	} {
		c.Location = nil
		if tc.loc != "" {
			loc, err := time.LoadLocation(tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			c.Location = loc
		}
		if got := signedAt(c); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.loc, got, tc.want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	c := sampleCert(t, "Zoë Łukasiewicz-王")
	c.Comment = "Signed after reading both policies."
	r1 := newRenderer(t)
	first := render(t, r1, c) // cuts the extra subsets
	if again := render(t, r1, c); !bytes.Equal(first, again) {
		t.Error("a second rendering (subsets cached) differs from the first")
	}
	if fresh := render(t, newRenderer(t), c); !bytes.Equal(first, fresh) {
		t.Error("a new Renderer gives different bytes")
	}
	if bytes.Contains(first, []byte(time.Now().UTC().Format("20060102"))) {
		t.Error("the PDF carries today's date rather than the signing time")
	}
	if !bytes.Contains(first, []byte("/CreationDate (D:20260302190509)")) {
		t.Error("creation date is not the signing time")
	}
}

func TestLongCommentStaysOnOnePage(t *testing.T) {
	r := newRenderer(t)
	c := sampleCert(t, "Maximilian Alexander Wolfeschlegelsteinhausenbergerdorff-Vandersteen")
	c.Agency = strings.Repeat("Department of Very Long Names ", 10)
	c.PolicyTitle = strings.Repeat("Personal Use of Social Media Policy ", 8)
	c.Comment = strings.Repeat("I have questions about rule C and the disclaimer wording. ", 60) + "THE-END"
	pdf := render(t, r, c)
	checkOnePage(t, pdf)
	text := runTool(t, pdf, "pdftotext", "-enc", "UTF-8")
	if strings.Contains(text, "THE-END") {
		t.Error("the end of a 3,500-character comment was printed")
	}
	if !strings.Contains(text, "…") {
		t.Error("no ellipsis marks the cut comment")
	}
	for _, want := range []string{"Signed with comment:", "SMP-2026-000042", "Scan to verify"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if info := runTool(t, pdf, "pdfinfo"); !strings.Contains(info, "Pages:           1") {
		t.Errorf("not one page:\n%s", info)
	}
}

func TestMarkupPrintedLiterally(t *testing.T) {
	c := sampleCert(t, `<script>alert("x")</script> (Bob) \ O'Neil`)
	pdf := render(t, newRenderer(t), c)
	// In the (uncompressed) page content, as one PDF string with its
	// parentheses and backslash escaped.
	if !bytes.Contains(pdf, []byte(`(<script>alert\("x"\)</script> \(Bob\) \\ O'Neil) Tj`)) {
		t.Error("the name is not in the page content as a literal string")
	}
	text := runTool(t, pdf, "pdftotext", "-enc", "UTF-8")
	if !strings.Contains(text, `<script>alert("x")</script> (Bob) \ O'Neil`) {
		t.Errorf("name not printed literally:\n%s", text)
	}
}

func TestConcurrentRendering(t *testing.T) {
	r := newRenderer(t)
	names := []string{"José García", "Nguyễn Văn An", "王小明", "Дмитрий Петров", "Ελένη Παπαδοπούλου", "Zoë Łukasiewicz"}
	want := make([][]byte, len(names))
	for i, n := range names {
		want[i] = render(t, newRenderer(t), sampleCert(t, n))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(names))
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range names {
				k := (i + g) % len(names)
				var buf bytes.Buffer
				if err := r.RenderPDF(&buf, sampleCert(t, names[k])); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(buf.Bytes(), want[k]) {
					errs <- fmt.Errorf("%s: concurrent rendering differs", names[k])
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestInvalidCertificates(t *testing.T) {
	r := newRenderer(t)
	var buf bytes.Buffer
	if err := r.RenderPDF(&buf, nil); err == nil {
		t.Error("nil certificate rendered")
	}
	c := sampleCert(t, "Ann Lee")
	c.SignedAt = time.Time{}
	if err := r.RenderPDF(&buf, c); app.ErrorCode(err) != app.EINVALID {
		t.Errorf("zero signing time: got %v, want EINVALID", err)
	}
	c = sampleCert(t, "Ann Lee")
	c.VerifyURL = ""
	var e *app.Error
	if err := r.RenderPDF(&buf, c); !errors.As(err, &e) || e.Code != app.EINVALID {
		t.Errorf("no verify URL: got %v, want EINVALID", err)
	}
}

func TestSubsetCacheIsBounded(t *testing.T) {
	r := newRenderer(t)
	r.cache = newSubsetCache(3)
	for _, n := range []string{"Ądam", "Ćelina", "Ęwa", "Łukasz", "Ńina"} {
		render(t, r, sampleCert(t, n))
	}
	if n := r.cache.len(); n != 3 {
		t.Errorf("cache holds %d subsets, want 3", n)
	}
}

// TestQRCodeScans rasterises the page and reads the QR code back with zbar.
// zbar is not part of CI's tool set, so without it the test is skipped.
func TestQRCodeScans(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Skip("zbarimg not installed (apt-get install zbar-tools)")
	}
	ppm := tool(t, "pdftoppm")
	c := sampleCert(t, "王小明")
	c.VerifyURL = "https://portal.example.gov/verify/Q7RT-22ZX-9KLM?lang=en&utm=cert_pdf"
	dir := t.TempDir()
	pdf := filepath.Join(dir, "cert.pdf")
	if err := os.WriteFile(pdf, render(t, newRenderer(t), c), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(ppm, "-r", "100", "-png", "-singlefile", pdf, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	out, err := exec.Command(zbar, "-q", "--raw", filepath.Join(dir, "page.png")).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != c.VerifyURL {
		t.Errorf("QR code reads %q, want %q", got, c.VerifyURL)
	}
}

// TestGoldenBytes pins the bytes of one certificate. Certificates are
// regenerated from the record whenever they are downloaded, so a change here
// changes every certificate ever issued: if the change is on purpose (layout,
// fonts, gofpdf), update the hash and say so in the commit. (Changed on
// purpose when certificates began to print their evidence log entry.)
func TestGoldenBytes(t *testing.T) {
	c := sampleCert(t, "Zoë Łukasiewicz 王")
	c.Comment = "Signed with a comment."
	sum := sha256.Sum256(render(t, newRenderer(t), c))
	const want = "d8d97c998029df689a6f276f28a2ff50e3edddef2a026d93caf552215d7efc80"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("certificate bytes changed: sha256 %s, want %s", got, want)
	}
}

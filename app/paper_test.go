package app

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

// Scan files for tests: a small PDF, PNG and JPEG.
func scanPDF() []byte {
	return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

func scanImage(t *testing.T, kind string) []byte {
	t.Helper()
	var buf bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	var err error
	if kind == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSniffScanByContentNotName(t *testing.T) {
	for name, c := range map[string]struct {
		data []byte
		want string
		ok   bool
	}{
		"a PDF":                          {scanPDF(), ScanPDF, true},
		"a PNG":                          {scanImage(t, "png"), ScanPNG, true},
		"a JPEG":                         {scanImage(t, "jpeg"), ScanJPEG, true},
		"a PDF cut off before its end":   {scanPDF()[:30], ScanPDF, false},
		"a PNG header and nothing else":  {[]byte("\x89PNG\r\n\x1a\n"), ScanPNG, false},
		"a JPEG marker and nothing else": {[]byte("\xff\xd8\xff\xe0"), ScanJPEG, false},
		"plain text":                     {[]byte("Signed by me"), "", false},
		"HTML":                           {[]byte("<html><script>alert(1)</script></html>"), "", false},
		"a ZIP":                          {[]byte("PK\x03\x04 rest"), "", false},
		"nothing":                        {nil, "", false},
	} {
		got, ok := SniffScan(c.data)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("%s: got %q %v, want %q %v", name, got, ok, c.want, c.ok)
		}
	}
}

func TestPaperAckRequestValidate(t *testing.T) {
	cycle := &Cycle{Name: "2026", OpensOn: "2026-01-01", DueOn: "2026-03-01"}
	const today = "2026-02-10"
	good := func() *PaperAckRequest {
		return &PaperAckRequest{SignedOn: "2026-02-09", Scan: scanPDF(), Note: " by post "}
	}
	r := good()
	if ctype, err := r.Validate(cycle, today); err != nil || ctype != ScanPDF || r.Note != "by post" {
		t.Fatalf("a good request: %q %v (note %q)", ctype, err, r.Note)
	}
	for _, d := range []string{today, cycle.OpensOn} {
		r := good()
		r.SignedOn = d
		if _, err := r.Validate(cycle, today); err != nil {
			t.Errorf("signed on %s: %v", d, err)
		}
	}
	for name, c := range map[string]struct {
		change      func(r *PaperAckRequest)
		field, text string
	}{
		"no date":            {func(r *PaperAckRequest) { r.SignedOn = "" }, "signed_on", "Enter the date"},
		"a date not a date":  {func(r *PaperAckRequest) { r.SignedOn = "2026-02-30" }, "signed_on", "as YYYY-MM-DD"},
		"a date in US order": {func(r *PaperAckRequest) { r.SignedOn = "02/09/2026" }, "signed_on", "as YYYY-MM-DD"},
		"tomorrow":           {func(r *PaperAckRequest) { r.SignedOn = "2026-02-11" }, "signed_on", "cannot be in the future"},
		"before the cycle":   {func(r *PaperAckRequest) { r.SignedOn = "2025-12-31" }, "signed_on", "before the cycle opened on 2026-01-01"},
		"no file":            {func(r *PaperAckRequest) { r.Scan = nil }, "scan", "Choose the scan"},
		"a text file":        {func(r *PaperAckRequest) { r.Scan = []byte("hello") }, "scan", "not a PDF, PNG or JPEG"},
		"too large":          {func(r *PaperAckRequest) { r.Scan = append(scanPDF(), make([]byte, MaxScanSize)...) }, "scan", "larger than 10 MB"},
		"a note too long":    {func(r *PaperAckRequest) { r.Note = strings.Repeat("é", MaxPaperNoteLength+1) }, "note", "1000 characters or fewer"},
		"a note not UTF-8":   {func(r *PaperAckRequest) { r.Note = "\xff" }, "note", "cannot be read"},
	} {
		r := good()
		c.change(r)
		_, err := r.Validate(cycle, today)
		var e *Error
		if !errorsAs(err, &e) || e.Field != c.field || !strings.Contains(e.Message, c.text) {
			t.Errorf("%s: %v, want %s: %q", name, err, c.field, c.text)
		}
	}
	// Every problem at once.
	r = &PaperAckRequest{}
	if _, err := r.Validate(cycle, today); err == nil || len(err.(interface{ Unwrap() []error }).Unwrap()) != 2 {
		t.Errorf("an empty request: %v, want two problems", err)
	}
}

func errorsAs(err error, target **Error) bool { return errors.As(err, target) }

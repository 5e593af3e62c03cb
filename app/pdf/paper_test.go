package pdf

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"portal/app"
)

// A certificate of a paper acknowledgment says, in extractable text, that
// it was recorded from a paper form, signed on what day, by whom and when it
// was recorded, with the scan's SHA-256, and prints no signing time (a form
// has only a date). It is still one page, and the same bytes every time.
func TestPaperCertificateText(t *testing.T) {
	r := newRenderer(t)
	c := sampleCert(t, "Siobhán O'Brien")
	ny := c.Location
	c.SignedAt = time.Date(2026, 2, 9, 0, 0, 0, 0, ny).UTC()
	c.Paper = &app.PaperRecord{SignedOn: "2026-02-09", RecordedAt: time.Date(2026, 2, 10, 20, 5, 0, 0, time.UTC),
		RecordedBy: 2, RecordedByName: "Hana Ito", ScanID: 1, ScanType: app.ScanPDF,
		ScanSHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
	pdf := render(t, r, c)
	checkOnePage(t, pdf)
	flat := squash(runTool(t, pdf, "pdftotext", "-enc", "UTF-8"))
	for _, want := range []string{
		"Siobhán O'Brien",
		"Signed on paper on February 9, 2026",
		"Recorded from a paper form",
		"Recorded from a paper form signed on February 9, 2026; recorded by Hana Ito on February 10, 2026 at 3:05 PM EST.",
		"Scan of the form, SHA-256", "e3b0c44298fc1c149afbf4c8996fb924 27ae41e4649b934ca495991b7852b855",
		"Form signed 2026-02-09 (paper form)",
		"SMP-2026-000042",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("text lacks %q:\n%s", want, flat)
		}
	}
	for _, unwanted := range []string{"12:00:00 AM", "Signed (UTC)", "05:00:00 UTC"} {
		if strings.Contains(flat, unwanted) {
			t.Errorf("a paper certificate prints %q, a time nobody recorded:\n%s", unwanted, flat)
		}
	}
	if again := render(t, r, c); !bytes.Equal(again, pdf) {
		t.Error("the same paper certificate rendered twice differs")
	}
	// A portal signature's certificate says nothing of paper.
	if text := runTool(t, render(t, r, sampleCert(t, "Ann Lee")), "pdftotext", "-enc", "UTF-8"); strings.Contains(text, "paper") {
		t.Errorf("a portal signature's certificate mentions paper:\n%s", text)
	}
}

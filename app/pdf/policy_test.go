package pdf

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"portal/app"
	"portal/app/content"
	"portal/data"
)

func renderPolicy(t *testing.T, r *Renderer, v *app.PolicyVersion) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := r.RenderPolicyPDF(&buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// squash joins pdftotext's lines and spaces, so wrapping does not matter.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestPolicyPDFShippedText: the shipped policy prints in full, every
// heading, paragraph and list item extractable as text, with the footer on
// every page.
func TestPolicyPDFShippedText(t *testing.T) {
	v, err := content.LoadVersion(data.FS, "policies/2026.1")
	if err != nil {
		t.Fatal(err)
	}
	v.PublishedAt = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	out := renderPolicy(t, newRenderer(t), v)
	info := runTool(t, out, "pdfinfo")
	m := regexp.MustCompile(`Pages:\s+(\d+)`).FindStringSubmatch(info)
	if m == nil || m[1] == "1" {
		t.Fatalf("want several pages, pdfinfo says:\n%s", info)
	}
	pages := m[1]
	text := runTool(t, out, "pdftotext", "-enc", "UTF-8")
	flat := squash(text)
	for _, want := range []string{
		"Personal Use of Social Media", "Version 2026.1 · effective 1 January 2026",
		// headings
		"What this policy is about", "Using social media at work", "The five rules", "If you post for your agency",
		// a paragraph, a list item with bold inside, a quote
		"Your personal use is your own business in most cases.",
		"Personal use at work must be incidental: brief and occasional.",
		"The information on this site is not posted on behalf of the State of Maine",
		"A. Keep your identities separate.",
		// the footer
		"SHA-256 " + v.SHA256, "Page 1 of " + pages, "Page " + pages + " of " + pages,
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the PDF text lacks %q", want)
		}
	}
	if n := strings.Count(flat, "SHA-256 "+v.SHA256); n != mustAtoi(t, pages) {
		t.Errorf("the footer's hash is on %d pages of %s", n, pages)
	}
	// Every paragraph of the source is there, in order.
	at := 0
	for _, para := range strings.Split(v.PolicyText, "\n\n") {
		if strings.HasPrefix(para, "- ") || strings.HasPrefix(para, "**") || strings.HasPrefix(para, ">") {
			continue // lists, bold openings and quotes are checked above
		}
		want := squash(strings.ReplaceAll(strings.TrimPrefix(para, "## "), "**", ""))
		i := strings.Index(flat[at:], want)
		if i < 0 {
			t.Errorf("paragraph missing or out of order: %q", want)
			continue
		}
		at += i + len(want)
	}
	t.Run("the same version gives the same bytes", func(t *testing.T) {
		if !bytes.Equal(out, renderPolicy(t, newRenderer(t), v)) {
			t.Error("two renderings differ")
		}
	})
}

// TestPolicyPDFUnicodeAndDocuments: text outside Latin-1 prints and
// extracts, links show their address, long words wrap, and official
// documents are listed with their hashes.
func TestPolicyPDFUnicodeAndDocuments(t *testing.T) {
	long := strings.Repeat("x", 300)
	v := &app.PolicyVersion{Code: "2027.1", Title: "Règles pour Zoë", Effective: "2027-02-03", SHA256: strings.Repeat("ab", 32),
		PolicyText: "## Für alle\n\nZoë Côté and 王小明 read **this part** carefully.\n\n" +
			"1. First step\n2. Second step\n   - nested point\n\n" +
			"See [the agency page](https://example.gov/policy) and " + long + ".\n",
		Documents: []app.PolicyDocument{{Name: "official.pdf", ContentType: app.DocumentPDF, Size: 123456, SHA256: strings.Repeat("cd", 32)}}}
	flat := squash(runTool(t, renderPolicy(t, newRenderer(t), v), "pdftotext", "-enc", "UTF-8"))
	for _, want := range []string{
		"Règles pour Zoë", "Version 2027.1 · effective 3 February 2027", "Für alle",
		"Zoë Côté and 王小明 read this part carefully.",
		"1. First step", "2. Second step", "• nested point",
		"the agency page (https://example.gov/policy)",
		"Official documents", "official.pdf (PDF, 123 KB)", "SHA-256 " + strings.Repeat("cd", 32),
		"Page 1 of 1",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the PDF text lacks %q\n%s", want, flat)
		}
	}
	if strings.Count(strings.ReplaceAll(flat, " ", ""), "x") < 300 {
		t.Error("the long word was cut short")
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{12: "12 bytes", 999: "999 bytes", 1000: "1 KB", 123456: "123 KB", 1_400_000: "1.4 MB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

package pdf

import (
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/jung-kurt/gofpdf"

	"portal/app"
)

// benchNames rotate through the certificate benchmark: ASCII, Latin-1 and
// Latin Extended accents, Vietnamese.
var benchNames = []string{"Mary O'Brien", "José Ñúñez-García", "Zoë Łukasiewicz", "Nguyễn Thị Ánh", "François Müller"}

// bareCorePage is the yardstick: one Letter page, a core font, a few lines.
func bareCorePage(w io.Writer) error {
	pdf := gofpdf.New("P", "mm", "Letter", "")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 20)
	pdf.Text(25, 40, "Certificate of acknowledgment")
	pdf.SetFont("Helvetica", "", 12)
	pdf.Text(25, 55, "This certifies that Mary O'Brien, employee number 004217,")
	pdf.Text(25, 62, "has read and acknowledged the Personal Use of Social Media Policy.")
	pdf.Text(25, 69, "Signed on March 2, 2026 at 2:05:09 PM EST (UTC-05:00)")
	pdf.Text(25, 76, "Certificate SMP-2026-000042, verification code K7QF-9M2X-PL4D")
	return pdf.Output(w)
}

func benchCerts(b *testing.B) []*app.Certificate {
	certs := make([]*app.Certificate, len(benchNames))
	for i, n := range benchNames {
		certs[i] = sampleCert(b, n)
		certs[i].VerifyCode = fmt.Sprintf("K7QF-9M2X-PL%02d", i)
		certs[i].VerifyURL = "https://portal.example.gov/verify/" + certs[i].VerifyCode
		if i%2 == 1 {
			certs[i].Comment = "I will keep my personal accounts separate from the agency's."
		}
	}
	return certs
}

// BenchmarkBareCoreFontPage measures the yardstick page.
func BenchmarkBareCoreFontPage(b *testing.B) {
	for b.Loop() {
		if err := bareCorePage(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCertificateUTF8 measures a full certificate with embedded
// DejaVu subsets, rotating names with accents.
func BenchmarkCertificateUTF8(b *testing.B) {
	r, certs := newRenderer(b), benchCerts(b)
	i := 0
	for b.Loop() {
		if err := r.RenderPDF(io.Discard, certs[i%len(certs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkNaiveUTF8FontPage is the bare page with gofpdf's own UTF-8 font
// path (the whole DejaVu Sans added to each document): what the Renderer
// avoids.
func BenchmarkNaiveUTF8FontPage(b *testing.B) {
	ttf, err := os.ReadFile("fonts/DejaVuSans.ttf")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		pdf := gofpdf.New("P", "mm", "Letter", "")
		pdf.AddUTF8FontFromBytes("dejavu", "", ttf)
		pdf.AddPage()
		pdf.SetFont("dejavu", "", 12)
		pdf.Text(25, 40, "Certificate of acknowledgment")
		pdf.Text(25, 55, "This certifies that José Ñúñez-García, employee number 004217,")
		pdf.Text(25, 62, "Signed on March 2, 2026 at 2:05:09 PM EST (UTC-05:00)")
		if err := pdf.Output(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCertificateNewRuneSet is a certificate whose name has runes
// outside the base subset in a combination not cached yet: the cost of
// cutting DejaVu Sans Bold once for it.
func BenchmarkCertificateNewRuneSet(b *testing.B) {
	r, c := newRenderer(b), sampleCert(b, "Zoë Łukasiewicz-Dvořák")
	for b.Loop() {
		r.cache = newSubsetCache(subsetCacheSize)
		if err := r.RenderPDF(io.Discard, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCertificateVsBare alternates a bare page and a certificate in
// one loop and reports the certificate rate as a fraction of the bare page
// rate (ratio_vs_bare: 0.5 means half as many certificates per second as
// bare pages); ns/op is the pair. Run side by side, both pay the garbage
// collector at the same pace: run alone, the bare page's 1.2 MB zlib writer
// per page collects a tiny heap every few pages, which flatters the
// certificate. With GOGC=1600 collection nearly stops and the plain CPU cost
// shows.
func BenchmarkCertificateVsBare(b *testing.B) {
	r, certs := newRenderer(b), benchCerts(b)
	var bare, cert time.Duration
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		if err := bareCorePage(io.Discard); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := r.RenderPDF(io.Discard, certs[i%len(certs)]); err != nil {
			b.Fatal(err)
		}
		bare, cert = bare+t1.Sub(t0), cert+time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(bare)/float64(cert), "ratio_vs_bare")
	b.ReportMetric(n/bare.Seconds(), "bare_pages/s")
	b.ReportMetric(n/cert.Seconds(), "certs/s")
}

// Package pdf renders acknowledgment certificates as one-page PDFs with
// gofpdf. Any Unicode name prints in an embedded font, the output is the same
// bytes for the same certificate, and one Renderer serves any number of
// goroutines.
package pdf

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jung-kurt/gofpdf"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"

	"portal/app"
)

// US Letter, in mm.
const (
	pageW = 215.9
	pageH = 279.4
)

// basePunct is the non-ASCII WinAnsi punctuation the base subsets carry.
const basePunct = "\u00a0·–—‘’“”…•"

var (
	navy  = rgb{31, 56, 100}
	ink   = rgb{33, 37, 41}
	muted = rgb{96, 103, 112}
)

// Renderer renders certificates. It is safe for concurrent use.
type Renderer struct {
	faces [2]*face // DejaVu Sans, regular and bold
	cjk   *face    // Droid Sans Fallback, for what DejaVu lacks
	// baseCodes maps the runes of the base subsets to their WinAnsi codes.
	baseCodes map[rune]byte
	base      [2]*subset // DejaVu cut to baseCodes, per weight
	// freeCodes are the codes the base leaves to other runes in a merged
	// subset; extraCodes those of a subset without the base (33–255).
	freeCodes, extraCodes []byte
	cache                 *subsetCache
	qr                    *qrEncoder
}

var _ app.CertificateRenderer = (*Renderer)(nil)

// New parses the embedded fonts and prepares the subsets every certificate
// uses. It takes a few tens of milliseconds; call it once at start-up.
func New() (*Renderer, error) {
	r := &Renderer{
		baseCodes:  map[rune]byte{},
		freeCodes:  codeRange(127, basePunct),
		extraCodes: codeRange(33, ""),
		cache:      newSubsetCache(subsetCacheSize),
		qr:         newQREncoder(),
	}
	var err error
	if r.faces[regular], err = loadFace(dejaVuSans, "DejaVuSans"); err != nil {
		return nil, err
	}
	if r.faces[bold], err = loadFace(dejaVuSansBold, "DejaVuSans-Bold"); err != nil {
		return nil, err
	}
	if r.cjk, err = loadFace(droidSansFallback, "DroidSansFallback"); err != nil {
		return nil, err
	}
	// The base subsets hold ASCII and the punctuation of the fixed text:
	// every certificate embeds them, so they are kept small.
	for c := 32; c < 256; c++ {
		if ch := winAnsiRune(byte(c)); c < 127 || strings.ContainsRune(basePunct, ch) {
			r.baseCodes[ch] = byte(c)
		}
	}
	for _, w := range []weight{regular, bold} {
		if r.base[w], err = newSubset(r.faces[w], r.baseCodes, nil, nil); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// RenderPDF writes c as a one-page US Letter PDF to w. The same certificate
// always gives the same bytes.
func (r *Renderer) RenderPDF(w io.Writer, c *app.Certificate) error {
	if c == nil {
		return errors.New("pdf: nil certificate")
	}
	if c.SignedAt.IsZero() {
		return app.Errorf(app.EINVALID, "The certificate has no signing time.")
	}
	pdf := gofpdf.New("P", "mm", "Letter", "")
	pdf.SetCatalogSort(true) // objects in a fixed order: same bytes every time
	// The page's own content is ~8 KB of text and QR operators; the fonts
	// are compressed once, when cached. Deflating the content per document
	// would save ~5 KB but cost a 1.2 MB zlib writer each time, more than
	// half the rendering (and ZIP exports deflate the files anyway).
	pdf.SetCompression(false)
	pdf.SetCreationDate(c.SignedAt.UTC())
	pdf.SetModificationDate(c.SignedAt.UTC())
	pdf.SetTitle("Certificate of acknowledgment "+oneLine(c.Number, 60), true)
	pdf.SetSubject(fmt.Sprintf("%s acknowledged %s, version %s", app.NormalizeName(oneLine(c.FullName, 300)),
		oneLine(c.PolicyTitle, 200), oneLine(c.PolicyVersion, 40)), true)
	pdf.SetAuthor(oneLine(c.Agency, 200), true)
	pdf.SetCreator("Social media policy acknowledgment portal", false)
	pdf.SetKeywords("certificate "+oneLine(c.Number, 60)+" verification "+oneLine(c.VerifyCode, 60), true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddPage()

	p := &page{r: r}
	frame(pdf)
	if err := p.layout(pdf, c); err != nil {
		return err
	}
	if err := p.draw(pdf); err != nil {
		return err
	}
	return pdf.Output(w)
}

// frame draws the double border and the rule under the title.
func frame(pdf *gofpdf.Fpdf) {
	pdf.SetDrawColor(navy.r, navy.g, navy.b)
	pdf.SetLineWidth(0.9)
	pdf.Rect(10, 10, pageW-20, pageH-20, "D")
	pdf.SetLineWidth(0.25)
	pdf.Rect(13, 13, pageW-26, pageH-26, "D")
	pdf.SetLineWidth(0.5)
	pdf.Line(pageW/2-30, 50, pageW/2+30, 50)
}

// layout places every line of the certificate.
func (p *page) layout(pdf *gofpdf.Fpdf, c *app.Certificate) error {
	const textW, commentBottom = 165.0, 181.0
	if c.OtherKind() {
		p.centered(30, p.fit(strings.ToUpper(oneLine(c.KindTitle, 200)), regular, 9, textW), regular, 9, muted)
	} else {
		p.centered(30, "SOCIAL MEDIA POLICY · ANNUAL ACKNOWLEDGMENT", regular, 9, muted)
	}
	p.centered(44, "Certificate of acknowledgment", bold, 26, navy)
	p.centered(63, "This certifies that", regular, 12, muted)

	// The name shrinks to fit one line, down to 16 pt; a longer one wraps on
	// two lines, and a very long one (the roster allows 200 characters)
	// shrinks to 11 pt on up to four, so every name prints in full.
	name := app.NormalizeName(oneLine(c.FullName, 300))
	size := 24.0
	for size > 16 && p.measure(name, bold, size) > textW {
		size--
	}
	y := 77.0
	lines := p.wrap(name, bold, size, textW, 8)
	for len(lines) > 2 && size > 11 { // a very long name: smaller, on up to four lines
		size--
		lines = p.wrap(name, bold, size, textW, 8)
	}
	if len(lines) > 2 {
		lines = p.wrap(name, bold, size, textW, 4)
		step := size * 0.45 // mm between lines
		for i, line := range lines {
			p.centered(74+float64(i)*step, line, bold, size, ink)
		}
		y = 74 + float64(len(lines)-1)*step + 8
	} else if len(lines) > 1 {
		p.centered(74, lines[0], bold, size, ink)
		p.centered(81, lines[1], bold, size, ink)
		y = 89
	} else {
		p.centered(77, name, bold, size, ink)
		y = 85
	}
	if num := oneLine(c.EmployeeNumber, 60); num != "" {
		p.centered(y, "Employee number "+num, regular, 11, ink)
		y += 7
	}
	org := oneLine(c.Agency, 300)
	if dept := oneLine(c.Department, 300); dept != "" {
		org = strings.TrimPrefix(org+" — "+dept, " — ")
	}
	for _, line := range p.wrap(org, regular, 12, textW, 2) {
		p.centered(y, line, regular, 12, ink)
		y += 5.5
	}

	y += 5
	p.centered(y, "has read and acknowledged", regular, 12, muted)
	y += 9
	policy := c.PolicyTitle
	if c.OtherKind() {
		policy = c.PolicyName
	}
	for _, line := range p.wrap(oneLine(policy, 300), bold, 15, textW, 2) {
		p.centered(y, line, bold, 15, ink)
		y += 6.5
	}
	version := "Version " + oneLine(c.PolicyVersion, 60)
	if cycle := oneLine(c.CycleName, 200); cycle != "" {
		version += " · " + cycle
	}
	p.centered(y+1, p.fit(version, regular, 11, textW), regular, 11, ink)
	y += 11
	if c.Paper != nil {
		// A paper form carries a date, not a time.
		p.centered(y, p.fit("Signed on paper on "+c.PaperSignedOnText(), regular, 12, textW), regular, 12, ink)
		y = p.paper(c, y)
	} else {
		p.centered(y, p.fit("Signed on "+signedAt(c), regular, 12, textW), regular, 12, ink)
		if how := oneLine(c.SignedInWith, 300); how != "" {
			y += 6
			p.centered(y, p.fit("Signed in with "+how, regular, 9, textW), regular, 9, muted)
		}
	}
	if c.AgencyUse() {
		y = p.agencyUse(c, y)
	}

	if comment := clean(c.Comment, 2000); comment != "" {
		y += 10
		p.text(30, y, "Signed with comment:", bold, 10, ink)
		pdf.SetDrawColor(190, 196, 204)
		pdf.SetLineWidth(0.6)
		// As many lines as fit above the details, at most six.
		room := int((commentBottom - (y + 1.5)) / 4.8)
		lines := p.wrap(comment, regular, 10, 150, min(max(room, 1), 6))
		pdf.Line(30, y+2, 30, y+2.5+4.8*float64(len(lines)))
		for _, line := range lines {
			y += 4.8
			p.text(33, y+1.5, line, regular, 10, ink)
		}
	}
	return p.details(pdf, c)
}

// details writes the identifiers, the hash and the verification address
// beside the QR code, and the footer.
func (p *page) details(pdf *gofpdf.Fpdf, c *app.Certificate) error {
	const top, labelX, valueX, valueW, qrSize = 192.0, 25.0, 62.0, 82.0, 40.0
	pdf.SetDrawColor(navy.r, navy.g, navy.b)
	pdf.SetLineWidth(0.25)
	pdf.Line(25, top-6, pageW-25, top-6)

	y := top
	row := func(label string, lines []string) {
		p.text(labelX, y, label, regular, 8.5, muted)
		for _, line := range lines {
			p.text(valueX, y, line, regular, 9.5, ink)
			y += 4.6
		}
		y += 1.6
	}
	row("Certificate number", []string{p.fit(oneLine(c.Number, 60), regular, 9.5, valueW)})
	row("Verification code", []string{p.fit(oneLine(c.VerifyCode, 60), regular, 9.5, valueW)})
	if c.Paper != nil {
		row("Form signed", []string{p.fit(oneLine(c.Paper.SignedOn, 20)+" (paper form)", regular, 9.5, valueW)})
	} else {
		row("Signed (UTC)", []string{c.SignedAt.UTC().Format("2006-01-02 15:04:05") + " UTC"})
	}
	// The version is printed above; the log entry is where anyone can prove
	// that this record is the one signed.
	if c.LogIndex >= 0 {
		row("Evidence log", []string{"entry " + strconv.FormatInt(c.LogIndex, 10)})
	} else {
		row("Policy version", p.wrap(oneLine(c.PolicyVersion, 60), regular, 9.5, valueW, 1))
	}

	p.text(labelX, y, "Policy SHA-256", regular, 8.5, muted)
	hash := oneLine(c.PolicySHA256, 128)
	if isHex(hash) { // 64 digits in two even lines rather than wherever they break
		hash = hash[:len(hash)/2] + " " + hash[len(hash)/2:]
	}
	for _, line := range p.wrap(hash, regular, 8.5, valueW, 2) {
		p.text(valueX, y, line, regular, 8.5, ink)
		y += 4.2
	}
	y += 2
	row("Verify at", p.wrapURL(strings.ReplaceAll(oneLine(c.VerifyURL, 500), " ", ""), 9.5, valueW, 4))

	qrX := pageW - 25 - qrSize
	// 5 mm below the rule: the quiet zone of four modules a reader needs.
	if err := drawQR(pdf, p.r.qr, c.VerifyURL, qrX, top-1, qrSize); err != nil {
		return err
	}
	p.text(qrX+(qrSize-p.measure("Scan to verify", regular, 8))/2, top+qrSize+3, "Scan to verify", regular, 8, muted)

	footer := "Generated from the signed acknowledgment record. The verification page shows whether it is valid " +
		"or superseded, and proves the record is in the portal's public evidence log."
	y = 250
	for _, line := range p.wrap(footer, regular, 8, 150, 2) {
		p.centered(y, line, regular, 8, muted)
		y += 3.8
	}
	return nil
}

// paper writes, below the signing date, where the certificate of a paper
// acknowledgment comes from: the form, who recorded it and when, and the
// SHA-256 of its scan (the scan itself is kept by HR, never printed).
// It returns the last line's y.
func (p *page) paper(c *app.Certificate, y float64) float64 {
	y += 10
	p.text(30, y, "Recorded from a paper form", bold, 10, ink)
	for _, line := range p.wrap(oneLine(c.PaperStatement(), 600), regular, 10, 155, 3) {
		y += 4.8
		p.text(30, y, line, regular, 10, ink)
	}
	y += 6
	p.text(30, y, "Scan of the form, SHA-256", regular, 8.5, muted)
	hash := oneLine(c.Paper.ScanSHA256, 128)
	if isHex(hash) {
		hash = hash[:len(hash)/2] + " " + hash[len(hash)/2:]
	}
	for _, line := range p.wrap(hash, regular, 8.5, 155, 2) {
		y += 4.2
		p.text(30, y, line, regular, 8.5, ink)
	}
	return y
}

// agencyUse writes what an agency-use acknowledgment names: the accounts
// and the Terms of Comment version in force when it was signed.
func (p *page) agencyUse(c *app.Certificate, y float64) float64 {
	y += 10
	p.text(30, y, "Accounts authorized on", bold, 10, ink)
	accounts := strings.Join(c.Accounts, ", ")
	if accounts == "" {
		accounts = "none"
	}
	for _, line := range p.wrap(oneLine(accounts, 600), regular, 10, 155, 2) {
		y += 4.8
		p.text(30, y, line, regular, 10, ink)
	}
	if c.Terms != "" {
		y += 6.5
		p.text(30, y, "Terms of Comment", bold, 10, ink)
		y += 4.8
		p.text(30, y, p.fit(oneLine(c.Terms, 300), regular, 10, 155), regular, 10, ink)
	}
	return y
}

// wrapURL breaks a URL into at most maxLines lines no wider than maxW: after
// a slash in the last two thirds of the line if there is one, else after a
// dot, hyphen or query separator there, else between characters.
func (p *page) wrapURL(url string, size, maxW float64, maxLines int) []string {
	var lines []string
	for len(lines) < maxLines-1 && p.measure(url, regular, size) > maxW {
		rs := []rune(url)
		n := 1 // the most runes that fit
		for n < len(rs) && p.measure(string(rs[:n+1]), regular, size) <= maxW {
			n++
		}
		cut, found := n, false
		for _, seps := range []string{"/", "/.-?&=_"} { // a slash first
			for i := n; i > n/3 && !found; i-- {
				if strings.ContainsRune(seps, rs[i-1]) {
					cut, found = i, true
				}
			}
		}
		lines = append(lines, string(rs[:cut]))
		url = string(rs[cut:])
	}
	return append(lines, p.fit(url, regular, size, maxW))
}

// signedAt is the signing time in the certificate's zone, with the zone's
// abbreviation and UTC offset, e.g. "March 2, 2026 at 2:05:09 PM EST (UTC-05:00)".
func signedAt(c *app.Certificate) string {
	t := c.SignedAtLocal()
	s := t.Format("January 2, 2006 at 3:04:05 PM")
	abbr, offset := t.Format("MST"), "UTC"+t.Format("-07:00")
	switch {
	case abbr == "UTC" || abbr == "GMT" && offset == "UTC+00:00":
		return s + " " + abbr
	case strings.HasPrefix(abbr, "+") || strings.HasPrefix(abbr, "-"):
		return s + " " + offset // the zone has no abbreviation
	default:
		return s + " " + abbr + " (" + offset + ")"
	}
}

// oneLine is clean for a one-line field: runs of white space become one space.
func oneLine(s string, max int) string {
	return strings.Join(strings.Fields(clean(s, max)), " ")
}

// clean returns s in NFC, with control characters other than newlines
// replaced by spaces (and invalid UTF-8 by U+FFFD), the ends trimmed and at
// most max runes long.
func clean(s string, max int) string {
	s = norm.NFC.String(s)
	s = strings.Map(func(r rune) rune {
		if r == '\n' {
			return r
		}
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ReplaceAll(s, "\r\n", "\n"))
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + ellipsis
	}
	return s
}

// isHex reports whether s is a non-empty string of hexadecimal digits.
func isHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdefABCDEF") == ""
}

// winAnsiRune is the rune WinAnsiEncoding (Windows-1252) gives code c.
func winAnsiRune(c byte) rune {
	return charmap.Windows1252.DecodeByte(c)
}

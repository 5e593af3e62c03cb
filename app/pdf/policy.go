package pdf

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jung-kurt/gofpdf"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"

	"portal/app"
)

var _ app.PolicyRenderer = (*Renderer)(nil)

// Page geometry of a policy document, in mm.
const (
	docLeft   = 22.0
	docWidth  = pageW - 2*docLeft
	docTop    = 22.0
	docBottom = pageH - 24.0 // the text stops here; the footer lies below
)

// RenderPolicyPDF writes the plain-language text of v as a US Letter PDF to
// w: the title, version and effective date, the text with its headings,
// paragraphs, lists and bold, the official documents published with the
// version, and on every page a footer with the version, its effective date,
// its SHA-256 and "Page x of y". Text prints in the certificate's fonts, so
// any script the portal accepts in names prints here too. The same version
// always gives the same bytes.
func (r *Renderer) RenderPolicyPDF(w io.Writer, v *app.PolicyVersion) error {
	if v == nil {
		return errors.New("pdf: nil policy version")
	}
	d := &policyDoc{r: r}
	d.newPage()
	d.heading(oneLine(v.Title, 300), 20, navy, 0)
	d.para([]run{{"Version " + oneLine(v.Code, 60) + " · effective " + longDate(v.Effective), regular}}, 11, muted, 0, "")
	d.rule()
	src := []byte(v.PolicyText)
	md := goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify))
	d.blocks(md.Parser().Parse(text.NewReader(src)), src, 0)
	if len(v.Documents) > 0 {
		d.heading("Official documents", 13, navy, 0)
		for _, doc := range v.Documents {
			d.para([]run{{doc.Name, bold}, {" (" + DocumentKind(doc.ContentType) + ", " + Size(doc.Size) + ")", regular}}, 10.5, ink, 0, "•")
			d.para([]run{{"SHA-256 " + doc.SHA256, regular}}, 8, muted, 5, "")
		}
	}

	pdf := gofpdf.New("P", "mm", "Letter", "")
	pdf.SetCatalogSort(true)
	pdf.SetCompression(false) // as the certificate: fonts are compressed once, when cached
	at := v.PublishedAt.UTC()
	if at.IsZero() {
		at, _ = time.Parse(time.DateOnly, v.Effective)
	}
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetTitle(oneLine(v.Title, 200)+", version "+oneLine(v.Code, 60), true)
	pdf.SetSubject("Policy text, version "+oneLine(v.Code, 60)+", SHA-256 "+v.SHA256, true)
	pdf.SetCreator("Social media policy acknowledgment portal", false)
	pdf.SetAutoPageBreak(false, 0)
	footer := oneLine(v.Title, 120) + " · version " + oneLine(v.Code, 60) + " · effective " + longDate(v.Effective)
	for i, pg := range d.pages {
		pg.p.text(docLeft, pageH-14, pg.p.fit(footer, regular, 8, docWidth), regular, 8, muted)
		pg.p.text(docLeft, pageH-10, "SHA-256 "+v.SHA256, regular, 7, muted)
		num := fmt.Sprintf("Page %d of %d", i+1, len(d.pages))
		pg.p.text(pageW-docLeft-pg.p.measure(num, regular, 8), pageH-14, num, regular, 8, muted)
		pdf.AddPage()
		pdf.SetDrawColor(muted.r, muted.g, muted.b)
		pdf.SetLineWidth(0.2)
		for _, y := range pg.rules {
			pdf.Line(docLeft, y, pageW-docLeft, y)
		}
		pdf.Line(docLeft, pageH-19, pageW-docLeft, pageH-19)
		if err := pg.p.draw(pdf); err != nil {
			return err
		}
	}
	return pdf.Output(w)
}

// DocumentKind names a document's content type for people: "PDF" or "text".
func DocumentKind(ctype string) string {
	if ctype == app.DocumentPDF {
		return "PDF"
	}
	return "text"
}

// Size formats a byte count as people read it: "820 bytes", "12 KB", "1.4 MB".
func Size(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 1000*1000:
		return fmt.Sprintf("%d KB", (n+500)/1000)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
}

// longDate writes YYYY-MM-DD as "1 January 2026", or as given if it is not a date.
func longDate(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return oneLine(s, 40)
	}
	return t.Format("2 January 2006")
}

// run is a stretch of text in one weight.
type run struct {
	s string
	w weight
}

// docPage is one page of a policy document: its text and its rules.
type docPage struct {
	p     *page
	rules []float64 // y of each full-width rule
}

// policyDoc lays a policy's text out on as many pages as it needs.
type policyDoc struct {
	r     *Renderer
	pages []*docPage
	y     float64 // where the next block starts on the last page
}

func (d *policyDoc) newPage() {
	d.pages = append(d.pages, &docPage{p: &page{r: d.r}})
	d.y = docTop
}

func (d *policyDoc) last() *docPage { return d.pages[len(d.pages)-1] }

// room starts a new page unless h mm still fit on this one.
func (d *policyDoc) room(h float64) {
	if d.y+h > docBottom {
		d.newPage()
	}
}

func (d *policyDoc) rule() {
	d.room(4)
	d.last().rules = append(d.last().rules, d.y)
	d.y += 6
}

// heading places a heading, keeping it on the same page as at least two
// lines of what follows.
func (d *policyDoc) heading(s string, size float64, color rgb, indent float64) {
	lineH := size * ptToMM * 1.3
	if d.y > docTop {
		d.y += size * ptToMM * 0.6
	}
	d.room(lineH + 2*5.5)
	d.lines([]run{{s, bold}}, size, color, indent, lineH, "")
	d.y += 1.5
}

// para places a paragraph; bullet, if given, hangs in front of its first line.
func (d *policyDoc) para(runs []run, size float64, color rgb, indent float64, bullet string) {
	d.lines(runs, size, color, indent, size*ptToMM*1.45, bullet)
	d.y += size * ptToMM * 0.7
}

// lines wraps runs to the text width less indent and places them.
func (d *policyDoc) lines(runs []run, size float64, color rgb, indent, lineH float64, bullet string) {
	x0 := docLeft + indent
	if bullet != "" {
		x0 += 5
	}
	maxW := docLeft + docWidth - x0
	space := d.last().p.measure(" ", regular, size)
	for i, line := range d.wrapRuns(runs, size, maxW) {
		d.room(lineH)
		d.y += lineH
		p := d.last().p
		if i == 0 && bullet != "" {
			p.text(x0-5, d.y, bullet, regular, size, color)
		}
		x := x0
		for _, wd := range line {
			for _, pc := range wd {
				p.text(x, d.y, pc.s, pc.w, size, color)
				x += p.measure(pc.s, pc.w, size)
			}
			x += space
		}
	}
}

// word is a run of text with no space in it, perhaps in more than one weight
// ("**incidental**:" is a bold piece and a regular one).
type word []run

// wrapRuns breaks runs into lines of words no wider than maxW, breaking a
// word wider than a line (a long address) between its characters.
func (d *policyDoc) wrapRuns(runs []run, size, maxW float64) [][]word {
	p := d.last().p
	width := func(wd word) float64 {
		w := 0.0
		for _, pc := range wd {
			w += p.measure(pc.s, pc.w, size)
		}
		return w
	}
	var words []word
	var cur word
	for _, r := range runs {
		for i, part := range strings.Split(strings.ReplaceAll(r.s, "\n", " "), " ") {
			if i > 0 && len(cur) > 0 {
				words, cur = append(words, cur), nil
			}
			if part != "" {
				cur = append(cur, run{part, r.w})
			}
		}
	}
	if len(cur) > 0 {
		words = append(words, cur)
	}
	space := p.measure(" ", regular, size)
	var lines [][]word
	var line []word
	lineW := 0.0
	for _, wd := range words {
		ww := width(wd)
		if ww > maxW { // break between characters
			for _, pc := range wd {
				for _, ch := range pc.s {
					chW := p.measure(string(ch), pc.w, size)
					if lineW+chW > maxW && len(line) > 0 {
						lines, line, lineW = append(lines, line), nil, 0
					}
					if len(line) == 0 {
						line = []word{{}}
					}
					last := &line[len(line)-1]
					*last = append(*last, run{string(ch), pc.w})
					lineW += chW
				}
			}
			line, lineW = append(line, word{}), lineW+space // the next word starts after a space
			continue
		}
		switch {
		case len(line) == 0:
			line, lineW = []word{wd}, ww
		case lineW+space+ww <= maxW:
			line, lineW = append(line, wd), lineW+space+ww
		default:
			lines, line, lineW = append(lines, line), []word{wd}, ww
		}
	}
	if len(line) > 0 {
		lines = append(lines, line)
	}
	return lines
}

// blocks lays out the block children of n; indent is the list depth in mm.
func (d *policyDoc) blocks(n ast.Node, src []byte, indent float64) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		d.block(c, src, indent)
	}
}

// block lays out one block node.
func (d *policyDoc) block(c ast.Node, src []byte, indent float64) {
	switch b := c.(type) {
	case *ast.Heading:
		size := map[int]float64{1: 16, 2: 14, 3: 12}[b.Level]
		if size == 0 {
			size = 11
		}
		d.heading(plain(inlines(b, src)), size, navy, indent)
	case *ast.Paragraph, *ast.TextBlock:
		d.para(inlines(b, src), 10.5, ink, indent, "")
	case *ast.List:
		n := b.Start
		for item := b.FirstChild(); item != nil; item = item.NextSibling() {
			mark := "•"
			if b.IsOrdered() {
				mark = fmt.Sprintf("%d.", n)
				n++
			}
			d.listItem(item, src, indent, mark)
		}
		d.y += 1
	case *ast.Blockquote:
		d.blocks(b, src, indent+8)
	case *ast.ThematicBreak:
		d.rule()
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		var sb strings.Builder
		lines := b.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			sb.Write(seg.Value(src))
		}
		for _, l := range strings.Split(strings.TrimRight(sb.String(), "\n"), "\n") {
			d.para([]run{{l, regular}}, 9.5, ink, indent+4, "")
		}
	case *extast.Table:
		for row := b.FirstChild(); row != nil; row = row.NextSibling() {
			var cells []string
			for cell := row.FirstChild(); cell != nil; cell = cell.NextSibling() {
				cells = append(cells, plain(inlines(cell, src)))
			}
			w := regular
			if _, head := row.(*extast.TableHeader); head {
				w = bold
			}
			d.para([]run{{strings.Join(cells, " | "), w}}, 10, ink, indent, "")
		}
	default: // raw HTML and anything else: its text, if any
		if rs := inlines(b, src); len(rs) > 0 {
			d.para(rs, 10.5, ink, indent, "")
		}
	}
}

// listItem places one list item: its first paragraph after the mark, the
// rest (more paragraphs, nested lists) indented under it.
func (d *policyDoc) listItem(item ast.Node, src []byte, indent float64, mark string) {
	first := true
	for c := item.FirstChild(); c != nil; c = c.NextSibling() {
		switch c.(type) {
		case *ast.Paragraph, *ast.TextBlock:
			m := ""
			if first {
				m = mark
			}
			d.lines(inlines(c, src), 10.5, ink, indent, 10.5*ptToMM*1.45, m)
			d.y += 1
		default:
			d.block(c, src, indent+5)
		}
		first = false
	}
}

// inlines returns the text of n's inline children as runs: strong emphasis
// bold, links followed by their address, line breaks as spaces.
func inlines(n ast.Node, src []byte) []run {
	var out []run
	var walk func(n ast.Node, w weight)
	walk = func(n ast.Node, w weight) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch x := c.(type) {
			case *ast.Text:
				s := string(x.Segment.Value(src))
				if x.SoftLineBreak() || x.HardLineBreak() {
					s += " "
				}
				out = append(out, run{s, w})
			case *ast.String:
				out = append(out, run{string(x.Value), w})
			case *ast.Emphasis:
				cw := w
				if x.Level >= 2 {
					cw = bold
				}
				walk(x, cw)
			case *ast.Link:
				before := len(out)
				walk(x, w)
				dest := string(x.Destination)
				if dest != "" && plain(out[before:]) != dest {
					out = append(out, run{" (" + dest + ")", regular})
				}
			case *ast.AutoLink:
				out = append(out, run{string(x.URL(src)), w})
			case *ast.RawHTML:
				// Raw HTML is not rendered on the page either.
			default:
				walk(x, w)
			}
		}
	}
	walk(n, regular)
	return out
}

// plain joins runs into one string.
func plain(rs []run) string {
	var sb strings.Builder
	for _, r := range rs {
		sb.WriteString(r.s)
	}
	return sb.String()
}

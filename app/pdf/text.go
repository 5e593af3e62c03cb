package pdf

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/jung-kurt/gofpdf"
)

// weight selects the regular or the bold face.
type weight int

const (
	regular weight = iota
	bold
)

const ptToMM = 25.4 / 72

// ellipsis ends text cut short; it is in WinAnsi, so always in the base subset.
const ellipsis = "…"

// textOp is one line of text placed on the page, in logical order.
type textOp struct {
	x, y, size float64 // mm from the top left to the baseline start; points
	w          weight
	color      rgb
	s          string
}

// rgb is a colour as 0–255 components.
type rgb struct{ r, g, b int }

// page collects the text of one certificate, measures it and finally draws it
// with the fewest fonts that hold every rune.
type page struct {
	r   *Renderer
	ops []textOp
}

// route returns the face that draws ch at weight w, and whether the base
// subset holds it. A rune no face has goes to the primary face: it
// shows as a missing-glyph box but its text still extracts.
func (r *Renderer) route(ch rune, w weight) (*face, bool) {
	if ch >= ' ' && ch < 0x7F { // ASCII, by far the most common
		return r.faces[w], true
	}
	if _, ok := r.baseCodes[ch]; ok {
		return r.faces[w], true
	}
	if r.faces[w].has(ch) || !r.cjk.has(ch) {
		return r.faces[w], false
	}
	return r.cjk, false
}

// units returns the width of s in 1/1000 em.
func (p *page) units(s string, w weight) int {
	units := 0
	for _, ch := range s {
		fc, _ := p.r.route(ch, w)
		units += fc.width(ch)
	}
	return units
}

// measure returns the width of s in mm.
func (p *page) measure(s string, w weight, size float64) float64 {
	return float64(p.units(s, w)) * size / 1000 * ptToMM
}

// text places s with its baseline start at (x, y).
func (p *page) text(x, y float64, s string, w weight, size float64, color rgb) {
	p.ops = append(p.ops, textOp{x: x, y: y, size: size, w: w, color: color, s: s})
}

// centered places s centred on the page at baseline y.
func (p *page) centered(y float64, s string, w weight, size float64, color rgb) {
	p.text((pageW-p.measure(s, w, size))/2, y, s, w, size, color)
}

// fit returns s, cut short with an ellipsis if it is wider than maxW.
func (p *page) fit(s string, w weight, size, maxW float64) string {
	if p.measure(s, w, size) <= maxW {
		return s
	}
	rs := []rune(s)
	for len(rs) > 0 {
		rs = rs[:len(rs)-1]
		t := strings.TrimRightFunc(string(rs), unicode.IsSpace) + ellipsis
		if p.measure(t, w, size) <= maxW {
			return t
		}
	}
	return ellipsis
}

// wrap breaks s into at most maxLines lines no wider than maxW, at spaces
// where it can and between runes where a word is too long (as CJK text with
// no spaces is). Newlines in s start a new line. Text that does not fit ends
// in an ellipsis.
func (p *page) wrap(s string, w weight, size, maxW float64, maxLines int) []string {
	fits := func(units int) bool { return float64(units)*size/1000*ptToMM <= maxW }
	space := p.units(" ", w)
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line, lineU := "", 0
		for _, word := range strings.Fields(para) {
			wordU := p.units(word, w)
			switch {
			case line == "" && fits(wordU):
				line, lineU = word, wordU
			case line != "" && fits(lineU+space+wordU):
				line, lineU = line+" "+word, lineU+space+wordU
			case fits(wordU): // starts the next line
				lines = append(lines, line)
				line, lineU = word, wordU
			default: // wider than a line: break it between runes
				for _, ch := range word {
					chU := p.units(string(ch), w)
					if line != "" && !fits(lineU+chU) {
						lines = append(lines, line)
						line, lineU = "", 0
					}
					line, lineU = line+string(ch), lineU+chU
				}
			}
		}
		if line != "" {
			lines = append(lines, line)
		}
		if len(lines) > maxLines {
			break
		}
	}
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		lines[maxLines-1] = p.fit(lines[maxLines-1]+ellipsis, w, size, maxW)
	}
	return lines
}

// draw embeds the fonts the collected text needs and writes it to pdf.
func (p *page) draw(pdf *gofpdf.Fpdf) error {
	// Runes outside the base subsets, per face, sorted so the subsets (and
	// so the bytes of the document) depend only on the text.
	extra := map[*face]map[rune]bool{}
	for _, op := range p.ops {
		for _, ch := range op.s {
			if fc, base := p.r.route(ch, op.w); !base {
				if extra[fc] == nil {
					extra[fc] = map[rune]bool{}
				}
				extra[fc][ch] = true
			}
		}
	}
	primary := map[*face]*subset{}         // the subset holding a DejaVu face's base
	lookup := map[rune]map[*face]*subset{} // the subset holding an extra rune
	for _, fc := range []*face{p.r.faces[regular], p.r.faces[bold], p.r.cjk} {
		subs, err := p.r.fonts(fc, slices.Sorted(maps.Keys(extra[fc])))
		if err != nil {
			return err
		}
		if fc != p.r.cjk {
			primary[fc] = subs[0]
		}
		for _, s := range subs {
			pdf.AddFontFromBytes(s.family, "", s.def, s.z)
			for ch := range extra[fc] {
				if _, ok := s.codes[ch]; ok {
					if lookup[ch] == nil {
						lookup[ch] = map[*face]*subset{}
					}
					lookup[ch][fc] = s
				}
			}
		}
	}

	buf := make([]byte, 0, 64)
	for _, op := range p.ops {
		pdf.SetTextColor(op.color.r, op.color.g, op.color.b)
		x := op.x
		var cur *subset
		var curFace *face
		units := 0
		flush := func() {
			if len(buf) == 0 {
				return
			}
			pdf.SetFont(cur.family, "", op.size)
			// The CJK face has no bold: embolden it by stroking the outline
			// too, in the text colour (the font is set outside q…Q, so
			// gofpdf's idea of the current font stays true).
			fake := curFace == p.r.cjk && op.w == bold
			if fake {
				pdf.RawWriteStr(fmt.Sprintf("q 2 Tr %.3f w %.3f %.3f %.3f RG", op.size/30,
					float64(op.color.r)/255, float64(op.color.g)/255, float64(op.color.b)/255))
			}
			pdf.Text(x, op.y, string(buf))
			if fake {
				pdf.RawWriteStr("Q")
			}
			x += float64(units) * op.size / 1000 * ptToMM
			buf, units = buf[:0], 0
		}
		for _, ch := range visual(op.s) {
			fc, base := p.r.route(ch, op.w)
			s := primary[fc]
			if !base {
				s = lookup[ch][fc]
			}
			if s != cur {
				flush()
				cur, curFace = s, fc
			}
			buf = append(buf, s.codes[ch])
			units += fc.width(ch)
		}
		flush()
	}
	return pdf.Error()
}

// isRTL reports whether ch is a strong right-to-left letter.
func isRTL(ch rune) bool {
	return ch >= 0x0590 && unicode.In(ch, unicode.Hebrew, unicode.Arabic, unicode.Syriac, unicode.Thaana, unicode.Nko)
}

// visual returns a line in display order for a left-to-right page: each run
// of right-to-left letters (with the spaces and marks between them) is
// reversed, keeping combining marks after their base. It is not the full
// bidi algorithm, and Arabic is not shaped, but names read in the right order.
func visual(s string) string {
	if strings.IndexFunc(s, isRTL) < 0 {
		return s
	}
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); {
		if !isRTL(rs[i]) {
			out = append(out, rs[i])
			i++
			continue
		}
		// The run ends at its last RTL letter (and that letter's marks).
		end := i
		for j := i; j < len(rs); j++ {
			if isRTL(rs[j]) {
				end = j + 1
				for end < len(rs) && unicode.Is(unicode.Mn, rs[end]) {
					end++
				}
			} else if !unicode.IsSpace(rs[j]) && !unicode.Is(unicode.Mn, rs[j]) && !unicode.IsPunct(rs[j]) {
				break
			}
		}
		// Reverse clusters (a letter and its marks) within rs[i:end].
		var clusters [][]rune
		for j := i; j < end; j++ {
			if unicode.Is(unicode.Mn, rs[j]) && len(clusters) > 0 {
				clusters[len(clusters)-1] = append(clusters[len(clusters)-1], rs[j])
			} else {
				clusters = append(clusters, []rune{rs[j]})
			}
		}
		for k := len(clusters) - 1; k >= 0; k-- {
			out = append(out, clusters[k]...)
		}
		i = end
	}
	return string(out)
}

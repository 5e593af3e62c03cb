package pdf

import (
	_ "embed" // the fonts
	"errors"
	"fmt"
	"math"
)

// The fonts ship inside the binary: DejaVu Sans (Bitstream Vera licence) for
// every script it covers, Droid Sans Fallback (Apache 2.0) for CJK. Their
// licences are in fonts/. Strings, so the 4.9 MB stay in read-only data
// rather than on the heap.
var (
	//go:embed fonts/DejaVuSans.ttf
	dejaVuSans string
	//go:embed fonts/DejaVuSans-Bold.ttf
	dejaVuSansBold string
	//go:embed fonts/DroidSansFallback.ttf
	droidSansFallback string
)

// noGlyph marks a rune the face does not map in its Unicode cmap.
const noGlyph = math.MaxUint16

// face is one parsed TrueType file: what PDF needs to describe it and the
// advance width of every rune it maps, in 1/1000 em. The cmap is the format-4
// table, the only one gofpdf's subsetter reads, so faces cover the BMP only.
type face struct {
	name   string   // PostScript name, e.g. "DejaVuSans-Bold"
	data   string   // the TrueType file
	widths []uint16 // indexed by rune (BMP); noGlyph where the face has none

	ascent, descent, capHeight int
	bbox                       [4]int
	italicAngle, stemV, flags  int
	missingWidth               int
	underlinePos, underlineThk int
}

// has reports whether the face has a glyph for r.
func (fc *face) has(r rune) bool {
	return r >= 0 && r < rune(len(fc.widths)) && fc.widths[r] != noGlyph // #nosec G115 -- len(widths) is at most 65,536
}

// width returns the advance of r in 1/1000 em, or the missing width.
func (fc *face) width(r rune) int {
	if fc.has(r) {
		return int(fc.widths[r])
	}
	return fc.missingWidth
}

// loadFace parses one embedded TrueType file.
func loadFace(data, name string) (*face, error) {
	fc, err := parseFace(data)
	if err != nil {
		return nil, fmt.Errorf("parse font %s: %w", name, err)
	}
	fc.name = name
	return fc, nil
}

var errBadFont = errors.New("malformed TrueType font")

// fontData is a font file, read as TrueType's big-endian fields. A read
// past its end panics; parseFace turns that into errBadFont.
type fontData string

func (d fontData) u16(p int) int { return int(d[p])<<8 | int(d[p+1]) }
func (d fontData) s16(p int) int { return int(int16(d.u16(p))) } // #nosec G115 -- reads a signed 16-bit TrueType field
func (d fontData) u32(p int) int { return d.u16(p)<<16 | d.u16(p+2) }

// unicodeWidths reads the format 4 Unicode cmap subtable of the cmap table
// at cmap: the advance width of every character of the Basic Multilingual
// Plane the font has (noGlyph for the others).
func unicodeWidths(d fontData, cmap, numGlyphs int, advance func(gid int) int) ([]uint16, error) {
	sub := -1
	for i, n := 0, d.u16(cmap+2); i < n; i++ {
		rec := cmap + 4 + 8*i
		platform, encoding, off := d.u16(rec), d.u16(rec+2), d.u32(rec+4)
		if (platform == 3 && encoding == 1 || platform == 0) && d.u16(cmap+off) == 4 {
			sub = cmap + off
			break
		}
	}
	if sub < 0 {
		return nil, fmt.Errorf("%w: no format 4 Unicode cmap", errBadFont)
	}
	widths := make([]uint16, 0x10000)
	for i := range widths {
		widths[i] = noGlyph
	}
	segs := d.u16(sub+6) / 2
	ends, starts, deltas, ranges := sub+14, sub+16+2*segs, sub+16+4*segs, sub+16+6*segs
	for s := 0; s < segs; s++ {
		end, start := d.u16(ends+2*s), d.u16(starts+2*s)
		delta, rangeOff := d.u16(deltas+2*s), d.u16(ranges+2*s)
		for c := start; c <= end && c < 0xFFFF; c++ {
			gid := 0
			if rangeOff == 0 {
				gid = (c + delta) & 0xFFFF
			} else if g := d.u16(ranges + 2*s + rangeOff + 2*(c-start)); g != 0 {
				gid = (g + delta) & 0xFFFF
			}
			if gid != 0 && gid < numGlyphs {
				widths[c] = uint16(advance(gid)) // #nosec G115 -- hmtx advance widths are 16-bit
			}
		}
	}
	return widths, nil
}

// parseFace reads the head, hhea, maxp, hmtx, cmap, OS/2 and post tables.
func parseFace(data string) (fc *face, err error) {
	defer func() {
		// Offsets come from the file; a truncated table must not panic.
		if recover() != nil {
			fc, err = nil, errBadFont
		}
	}()
	d := fontData(data)
	u16, s16, u32 := d.u16, d.s16, d.u32
	if v := u32(0); v != 0x00010000 && v != 0x74727565 {
		return nil, errBadFont
	}
	tables := map[string]int{}
	for i, n := 0, u16(4); i < n; i++ {
		rec := 12 + 16*i
		tables[string(data[rec:rec+4])] = u32(rec + 8)
	}
	for _, t := range []string{"head", "hhea", "maxp", "hmtx", "cmap", "post"} {
		if _, ok := tables[t]; !ok {
			return nil, fmt.Errorf("%w: no %s table", errBadFont, t)
		}
	}
	head, hhea, post := tables["head"], tables["hhea"], tables["post"]
	upm := float64(u16(head + 18))
	if upm == 0 {
		return nil, errBadFont
	}
	scale := func(v int) int { return int(math.Round(float64(v) * 1000 / upm)) }

	fc = &face{data: data}
	fc.bbox = [4]int{scale(s16(head + 36)), scale(s16(head + 38)), scale(s16(head + 40)), scale(s16(head + 42))}
	fc.ascent, fc.descent = scale(s16(hhea+4)), scale(s16(hhea+6))
	fc.capHeight = fc.ascent
	weight := 400
	if os2, ok := tables["OS/2"]; ok {
		weight = u16(os2 + 4)
		if u16(os2) >= 2 {
			fc.capHeight = scale(s16(os2 + 88))
		}
	}
	fc.italicAngle = int(math.Round(float64(int32(u32(post+4))) / 65536)) // #nosec G115 -- a signed 16.16 TrueType Fixed
	fc.underlinePos, fc.underlineThk = scale(s16(post+8)), scale(s16(post+10))
	fc.stemV = 50 + int(math.Pow(float64(weight)/65, 2))
	fc.flags = 32 // nonsymbolic: glyphs are found through the encoding's names
	if u32(post+12) != 0 {
		fc.flags |= 1
	}
	if fc.italicAngle != 0 {
		fc.flags |= 64
	}
	if weight >= 600 {
		fc.flags |= 262144
	}

	numMetrics, numGlyphs, hmtx := u16(hhea+34), u16(tables["maxp"]+4), tables["hmtx"]
	if numMetrics == 0 {
		return nil, errBadFont
	}
	advance := func(gid int) int {
		if gid >= numMetrics {
			gid = numMetrics - 1
		}
		return scale(u16(hmtx + 4*gid))
	}
	fc.missingWidth = advance(0)

	fc.widths, err = unicodeWidths(fontData(data), tables["cmap"], numGlyphs, advance)
	if err != nil {
		return nil, err
	}
	return fc, nil
}

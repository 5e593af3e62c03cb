package pdf

import (
	"bytes"
	"compress/zlib"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jung-kurt/gofpdf"
)

// Why 8-bit subsets: gofpdf's UTF-8 font path re-parses the TrueType file for
// every document, JSON-encodes a 65,536-entry width table to name the font and
// compresses a 128 KB CID map, which makes a certificate ~15× slower than a
// page in a core font. Its plain TrueType path instead takes a small JSON
// definition and an already-compressed font program and copies them out. So
// each font here is a TrueType subset with its own single-byte encoding: cut
// once with gofpdf.UTF8CutFont, compressed once, cached, and added to each
// document for about the price of a core font. Text stays extractable: every
// code outside WinAnsi is named uniXXXX in the encoding's /Differences, which
// readers map back to Unicode and on to the subset's Unicode cmap.
//
// A certificate uses one font per DejaVu weight: the base subset (ASCII and
// the fixed text's punctuation, WinAnsi codes) or, when the text has other
// runes, the base plus those runes on the codes WinAnsi leaves to them. CJK
// runes, and any beyond the free codes, go in further subsets of their own.

// codeRange returns the codes from..255 whose WinAnsi rune is not in taken:
// the codes a subset can give runes outside the base.
func codeRange(from int, taken string) []byte {
	var codes []byte
	for c := from; c < 256; c++ {
		if !strings.ContainsRune(taken, winAnsiRune(byte(c))) { // #nosec G115 -- c < 256
			codes = append(codes, byte(c)) // #nosec G115 -- c < 256
		}
	}
	return codes
}

// subset is one embeddable font: a definition and program for gofpdf and the
// byte each rune is written as.
type subset struct {
	family string // gofpdf family name, unique to the subset's contents
	def    []byte // JSON font definition, as gofpdf's makefont writes
	z      []byte // zlib-compressed TrueType program
	codes  map[rune]byte
}

// fontDef is the JSON font definition gofpdf's AddFontFromBytes reads.
type fontDef struct {
	Tp           string
	Name         string
	Desc         fontDesc
	Up, Ut       int
	Cw           []int
	Diff         string
	File         string
	OriginalSize int
}

type fontDesc struct {
	Ascent, Descent, CapHeight, Flags int
	FontBBox                          struct{ Xmin, Ymin, Xmax, Ymax int }
	ItalicAngle, StemV, MissingWidth  int
}

// newSubset cuts fc down to base (runes already coded in WinAnsi) plus
// extra, which take the given codes in order and are named in /Differences.
func newSubset(fc *face, base map[rune]byte, extra []rune, codes []byte) (*subset, error) {
	all := make(map[rune]byte, len(base)+len(extra))
	var cutset strings.Builder
	for c := 32; c < 256; c++ { // base runes in code order, for a stable cut
		if ch := winAnsiRune(byte(c)); base[ch] == byte(c) {
			all[ch] = byte(c)
			cutset.WriteRune(ch)
		}
	}
	var diff strings.Builder
	for i, ch := range extra {
		all[ch] = codes[i]
		cutset.WriteRune(ch)
		diff.WriteString(" " + strconv.Itoa(int(codes[i])) + " /" + glyphName(ch))
	}

	sum := sha256.Sum256([]byte(fc.name + "\x00" + cutset.String()))
	id := hex.EncodeToString(sum[:8])
	// UTF8CutFont pads tables by appending to slices of its input, which
	// writes past them into the font: it gets a fresh copy each time.
	cut := gofpdf.UTF8CutFont([]byte(fc.data), cutset.String())
	if len(cut) == 0 {
		return nil, fmt.Errorf("pdf: cutting %s failed", fc.name)
	}
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(cut); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}

	// A subset's PostScript name carries a six-letter tag (ISO 32000 9.6.4).
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + sum[8+i]%26 // #nosec G602 -- sum is a 32-byte SHA-256, i < 6
	}
	d := fontDef{
		Tp: "TrueType", Name: string(tag) + "+" + fc.name,
		Up: fc.underlinePos, Ut: fc.underlineThk,
		Cw: make([]int, 256), Diff: strings.TrimSpace(diff.String()),
		File: id + ".z", OriginalSize: len(cut),
	}
	d.Desc = fontDesc{Ascent: fc.ascent, Descent: fc.descent, CapHeight: fc.capHeight, Flags: fc.flags,
		ItalicAngle: fc.italicAngle, StemV: fc.stemV, MissingWidth: fc.missingWidth}
	d.Desc.FontBBox.Xmin, d.Desc.FontBBox.Ymin = fc.bbox[0], fc.bbox[1]
	d.Desc.FontBBox.Xmax, d.Desc.FontBBox.Ymax = fc.bbox[2], fc.bbox[3]
	for i := range d.Cw {
		d.Cw[i] = fc.missingWidth
	}
	for ch, code := range all {
		d.Cw[code] = fc.width(ch)
	}
	def, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return &subset{family: "f" + id, def: def, z: z.Bytes(), codes: all}, nil
}

// glyphName is the Adobe Glyph List name readers map back to r.
func glyphName(r rune) string {
	if r <= 0xFFFF {
		return fmt.Sprintf("uni%04X", r)
	}
	return fmt.Sprintf("u%X", r)
}

// subsetCacheSize bounds the cached subsets: a DejaVu subset with the base
// merged in is ~30 KB, so at most ~8 MB.
const subsetCacheSize = 256

// subsetCache is a bounded LRU of subsets keyed by face, whether the base is
// merged in, and the extra runes, so a name with runes outside the base costs
// a cut only the first time it is seen.
type subsetCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // of *cacheEntry, most recent first
	items map[string]*list.Element
}

type cacheEntry struct {
	key string
	s   *subset
}

func newSubsetCache(max int) *subsetCache {
	return &subsetCache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

// get returns the subset of fc holding base (nil or the base codes) and
// extra (sorted runes, no more than codes), cutting it on a miss. Two
// goroutines missing on the same key both cut; the results are identical.
func (c *subsetCache) get(fc *face, base map[rune]byte, extra []rune, codes []byte) (*subset, error) {
	key := fc.name + "\x00" + string(extra)
	if base != nil {
		key = fc.name + "\x01" + string(extra)
	}
	c.mu.Lock()
	if e, ok := c.items[key]; ok {
		c.ll.MoveToFront(e)
		s := e.Value.(*cacheEntry).s
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()

	s, err := newSubset(fc, base, extra, codes)
	if err != nil {
		return nil, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*cacheEntry).s, nil
	}
	c.items[key] = c.ll.PushFront(&cacheEntry{key: key, s: s})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
	return s, nil
}

// len reports how many subsets are cached.
func (c *subsetCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// fonts returns the subsets that draw extra, the sorted runes routed to fc
// that are not in the base. For a DejaVu face the first subset also holds the
// base runes, and is returned even when extra is empty.
func (r *Renderer) fonts(fc *face, extra []rune) ([]*subset, error) {
	var subs []*subset
	if fc != r.cjk {
		w := regular
		if fc == r.faces[bold] {
			w = bold
		}
		if len(extra) == 0 {
			return []*subset{r.base[w]}, nil
		}
		n := min(len(extra), len(r.freeCodes))
		s, err := r.cache.get(fc, r.baseCodes, extra[:n], r.freeCodes)
		if err != nil {
			return nil, err
		}
		subs, extra = append(subs, s), extra[n:]
	}
	for len(extra) > 0 {
		n := min(len(extra), len(r.extraCodes))
		s, err := r.cache.get(fc, nil, extra[:n], r.extraCodes)
		if err != nil {
			return nil, err
		}
		subs, extra = append(subs, s), extra[n:]
	}
	return subs, nil
}

package pdf

// Why a QR encoder here: boombuler's qr.Encode spends ~1.2 ms per code,
// three times a whole core-font page, almost all of it scoring the eight
// masks through a bit list (and feeding modules through goroutines and
// channels). qrEncoder builds the very same symbol (byte mode, level M,
// boombuler's layout, mask choice and penalty rules) with each row and column
// in a uint64, so scoring a mask is a few shifts and popcounts per line: some
// tens of microseconds in all. qrencode_test.go checks it module for module
// against boombuler for every length it handles; longer content goes to
// boombuler itself.

// qrVersion is the level-M block structure of one QR version.
type qrVersion struct {
	ecPerBlock     int
	blocks1, data1 int // group 1: blocks and data codewords per block
	blocks2, data2 int // group 2
	alignment      []int
}

// qrVersions holds versions 1–10 at level M (ISO/IEC 18004 tables 9 and E.1),
// which carry up to 213 bytes: any sensible verification URL.
var qrVersions = [...]qrVersion{
	1:  {10, 1, 16, 0, 0, nil},
	2:  {16, 1, 28, 0, 0, []int{6, 18}},
	3:  {26, 1, 44, 0, 0, []int{6, 22}},
	4:  {18, 2, 32, 0, 0, []int{6, 26}},
	5:  {24, 2, 43, 0, 0, []int{6, 30}},
	6:  {16, 4, 27, 0, 0, []int{6, 34}},
	7:  {18, 4, 31, 0, 0, []int{6, 22, 38}},
	8:  {22, 2, 38, 2, 39, []int{6, 24, 42}},
	9:  {22, 3, 36, 2, 37, []int{6, 26, 46}},
	10: {26, 4, 43, 1, 44, []int{6, 28, 50}},
}

// qrMatrix is a QR symbol: bit y of rows[x] is module (x, y) in boombuler's
// coordinates, set when dark. Versions up to 10 are at most 57 modules wide.
type qrMatrix struct {
	dim  int
	rows []uint64
}

func (q *qrMatrix) get(x, y int) bool { return q.rows[x]>>y&1 == 1 }

// qrEncoder encodes QR symbols. It is immutable after newQREncoder, so safe
// for concurrent use.
type qrEncoder struct {
	exp [510]byte // GF(256) with the QR polynomial x⁸+x⁴+x³+x²+1 (285)
	log [256]int
	gen map[int][]byte // Reed–Solomon generator polynomials by EC count
	// masks[m][a%12] are the modules mask m flips in row a (0) and column a
	// (1): every mask repeats every 12 modules both ways.
	masks [8][12][2]uint64
}

func newQREncoder() *qrEncoder {
	e := &qrEncoder{gen: map[int][]byte{}}
	for i, x := 0, 1; i < 255; i++ {
		e.exp[i], e.exp[i+255], e.log[x] = byte(x), byte(x), i
		if x <<= 1; x >= 256 {
			x ^= 285
		}
	}
	for _, v := range qrVersions[1:] {
		if e.gen[v.ecPerBlock] != nil {
			continue
		}
		g := []byte{1} // ∏ (x − αⁱ), highest coefficient first
		for i := 0; i < v.ecPerBlock; i++ {
			next := make([]byte, len(g)+1)
			for j, c := range g {
				next[j] ^= c
				next[j+1] ^= e.mul(c, e.exp[i])
			}
			g = next
		}
		e.gen[v.ecPerBlock] = g[1:]
	}
	for m := range e.masks {
		for a := range e.masks[m] {
			for b := 0; b < 64; b++ {
				if maskBit(m, a, b) {
					e.masks[m][a][0] |= 1 << b
				}
				if maskBit(m, b, a) {
					e.masks[m][a][1] |= 1 << b
				}
			}
		}
	}
	return e
}

func (e *qrEncoder) mul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return e.exp[e.log[a]+e.log[b]]
}

// ecc returns the n Reed–Solomon check bytes of data: the remainder of
// data·xⁿ divided by the generator.
func (e *qrEncoder) ecc(data []byte, n int) []byte {
	gen, rem := e.gen[n], make([]byte, n)
	for _, d := range data {
		f := d ^ rem[0]
		copy(rem, rem[1:])
		rem[n-1] = 0
		for i, g := range gen {
			rem[i] ^= e.mul(g, f)
		}
	}
	return rem
}

// encode encodes content in byte mode at level M. ok is false when it needs
// a version above 10.
func (e *qrEncoder) encode(content string) (q *qrMatrix, ok bool) {
	data := []byte(content)
	ver := 0
	for v := 1; v < len(qrVersions); v++ {
		vi := qrVersions[v]
		ccBits := 8
		if v >= 10 {
			ccBits = 16
		}
		if (vi.blocks1*vi.data1+vi.blocks2*vi.data2)*8 >= 4+ccBits+len(data)*8 {
			ver = v
			break
		}
	}
	if ver == 0 {
		return nil, false
	}
	vi := qrVersions[ver]
	dim := 17 + 4*ver
	fixed, base := functionPatterns(ver, dim)
	placeData(dim, fixed, base, e.codewords(data, ver, vi))
	return e.bestMask(dim, fixed, base), true
}

// functionPatterns lays out a version's finder, alignment and timing
// patterns, dark module and version information (base) and marks them and
// the format information area as not for data (fixed), as boombuler does.
func functionPatterns(ver, dim int) (fixed, base []bool) {
	fixed, base = make([]bool, dim*dim), make([]bool, dim*dim)
	set := func(x, y int, v bool) { fixed[x*dim+y], base[x*dim+y] = true, v }
	for _, off := range [][2]int{{0, 0}, {0, dim - 7}, {dim - 7, 0}} { // finders
		for x := -1; x < 8; x++ {
			for y := -1; y < 8; y++ {
				px, py := x+off[0], y+off[1]
				if px < 0 || px >= dim || py < 0 || py >= dim {
					continue
				}
				in := x >= 0 && x <= 6 && y >= 0 && y <= 6
				set(px, py, in && (x == 0 || x == 6 || y == 0 || y == 6 || x > 1 && x < 5 && y > 1 && y < 5))
			}
		}
	}
	align := qrVersions[ver].alignment
	for _, ax := range align {
		for _, ay := range align {
			if fixed[ax*dim+ay] {
				continue
			}
			for x := -2; x <= 2; x++ {
				for y := -2; y <= 2; y++ {
					set(ax+x, ay+y, x == -2 || x == 2 || y == -2 || y == 2 || x == 0 && y == 0)
				}
			}
		}
	}
	for i := 0; i < dim; i++ { // timing patterns
		if !fixed[i*dim+6] {
			set(i, 6, i%2 == 0)
		}
		if !fixed[6*dim+i] {
			set(6, i, i%2 == 0)
		}
	}
	set(8, dim-8, true) // dark module
	if ver >= 7 {
		info := bch(ver, 0x1F25, 12)
		for i := 0; i < 18; i++ {
			x, y := dim-11+i%3, i/3
			set(x, y, info>>i&1 == 1)
			set(y, x, info>>i&1 == 1)
		}
	}
	for _, p := range formatPositions(dim) {
		fixed[p[0]*dim+p[1]] = true
	}
	return fixed, base
}

// placeData writes the codewords' bits into the free modules of base, in the
// zigzag from the bottom right that skips column 6.
func placeData(dim int, fixed, base []bool, codewords []byte) {
	i := 0
	for x, y, up := dim-1, dim-1, true; x >= 0; {
		for _, px := range []int{x, x - 1} {
			if px >= 0 && !fixed[px*dim+y] {
				if i < len(codewords)*8 {
					base[px*dim+y] = codewords[i/8]>>(7-i%8)&1 == 1
				}
				i++
			}
		}
		if up {
			y--
		} else {
			y++
		}
		if y < 0 || y >= dim {
			y, up = min(max(y, 0), dim-1), !up
			if x -= 2; x == 6 {
				x--
			}
		}
	}
}

// codewords returns the data with terminator and padding, split into
// blocks, each with its error correction, interleaved.
func (e *qrEncoder) codewords(data []byte, ver int, vi qrVersion) []byte {
	total := vi.blocks1*vi.data1 + vi.blocks2*vi.data2
	bits := make([]bool, 0, total*8)
	add := func(v, n int) {
		for i := n - 1; i >= 0; i-- {
			bits = append(bits, v>>i&1 == 1)
		}
	}
	add(4, 4) // byte mode
	if ver >= 10 {
		add(len(data), 16)
	} else {
		add(len(data), 8)
	}
	for _, b := range data {
		add(int(b), 8)
	}
	for i := 0; i < 4 && len(bits) < total*8; i++ {
		bits = append(bits, false)
	}
	for len(bits)%8 != 0 {
		bits = append(bits, false)
	}
	for i := 0; len(bits) < total*8; i++ {
		add([]int{236, 17}[i%2], 8)
	}
	stream := make([]byte, total)
	for i, b := range bits {
		if b {
			stream[i/8] |= 1 << (7 - i%8)
		}
	}

	type block struct{ data, ecc []byte }
	var blocks []block
	for g, n := range []int{vi.blocks1, vi.blocks2} {
		size := []int{vi.data1, vi.data2}[g]
		for b := 0; b < n; b++ {
			d := stream[:size]
			stream = stream[size:]
			blocks = append(blocks, block{d, e.ecc(d, vi.ecPerBlock)})
		}
	}
	out := make([]byte, 0, total+len(blocks)*vi.ecPerBlock)
	for i := 0; i < max(vi.data1, vi.data2); i++ {
		for _, b := range blocks {
			if i < len(b.data) {
				out = append(out, b.data[i])
			}
		}
	}
	for i := 0; i < vi.ecPerBlock; i++ {
		for _, b := range blocks {
			out = append(out, b.ecc[i])
		}
	}
	return out
}

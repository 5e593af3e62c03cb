package pdf

import (
	"math"
	"math/bits"
)

// bestMask applies each of the eight masks to the data modules, adds the
// format information, and returns the symbol with the lowest penalty (the
// first of equals, as boombuler).
func (e *qrEncoder) bestMask(dim int, fixed, base []bool) *qrMatrix {
	// Rows and columns as bit sets: the unmasked symbol and its data modules.
	var baseRows, baseCols, dataRows, dataCols [64]uint64
	for x := 0; x < dim; x++ {
		for y := 0; y < dim; y++ {
			if base[x*dim+y] {
				baseRows[x] |= 1 << y
				baseCols[y] |= 1 << x
			}
			if !fixed[x*dim+y] {
				dataRows[x] |= 1 << y
				dataCols[y] |= 1 << x
			}
		}
	}
	var best []uint64
	bestPenalty := -1
	rows, cols := make([]uint64, dim), make([]uint64, dim)
	for mask := 0; mask < 8; mask++ {
		for a := 0; a < dim; a++ {
			rows[a] = baseRows[a] ^ dataRows[a]&e.masks[mask][a%12][0]
			cols[a] = baseCols[a] ^ dataCols[a]&e.masks[mask][a%12][1]
		}
		format := bch(mask, 0x537, 10) ^ 0x5412 // level M is 00
		for i, p := range formatPositions(dim) {
			if format>>(14-i%15)&1 == 1 {
				rows[p[0]] |= 1 << p[1]
				cols[p[1]] |= 1 << p[0]
			}
		}
		if pen := penalty(dim, rows, cols); bestPenalty < 0 || pen < bestPenalty {
			best, bestPenalty = append(best[:0], rows...), pen
		}
	}
	return &qrMatrix{dim: dim, rows: best}
}

// bch appends to v the remainder of v·x^n divided by the generator poly.
func bch(v, poly, n int) int {
	r := v << n
	for i := 30; i >= n; i-- {
		if r>>i&1 == 1 {
			r ^= poly << (i - n)
		}
	}
	return v<<n | r
}

// formatPositions lists where format bits 14…0 go, twice (boombuler's layout).
func formatPositions(dim int) [][2]int {
	return [][2]int{
		{0, 8}, {1, 8}, {2, 8}, {3, 8}, {4, 8}, {5, 8}, {7, 8}, {8, 8},
		{8, 7}, {8, 5}, {8, 4}, {8, 3}, {8, 2}, {8, 1}, {8, 0},
		{8, dim - 1}, {8, dim - 2}, {8, dim - 3}, {8, dim - 4}, {8, dim - 5}, {8, dim - 6}, {8, dim - 7},
		{dim - 8, 8}, {dim - 7, 8}, {dim - 6, 8}, {dim - 5, 8}, {dim - 4, 8}, {dim - 3, 8}, {dim - 2, 8}, {dim - 1, 8},
	}
}

// maskBit reports whether mask flips module (x, y), as boombuler's setMasked.
func maskBit(mask, x, y int) bool {
	switch mask {
	case 0:
		return (y+x)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (y+x)%3 == 0
	case 4:
		return (y/2+x/3)%2 == 0
	case 5:
		return (y*x)%2+(y*x)%3 == 0
	case 6:
		return ((y*x)%2+(y*x)%3)%2 == 0
	default:
		return ((y+x)%2+(y*x)%3)%2 == 0
	}
}

// penalty scores a masked symbol with boombuler's four rules, so the same
// mask wins: runs of five or more, 2×2 blocks of one colour, finder-like
// 1:1:3:1:1 patterns in 11-module windows, and the balance of dark modules.
func penalty(n int, rows, cols []uint64) int {
	// The patterns with their first module in bit 0, and where a window may start.
	const pat1, pat2 = 0b00001011101, 0b10111010000
	starts := uint64(1)<<(n-10) - 1
	pairs := uint64(1)<<(n-1) - 1 // b such that b+1 is on the symbol too
	score, dark := 0, 0
	for dir, lines := range [2][]uint64{rows, cols} {
		for a, l := range lines {
			// Rule 1: runs, between the places where a module differs from
			// the next.
			prev := -1
			for t := (l ^ l>>1) & pairs; t != 0; t &= t - 1 {
				b := bits.TrailingZeros64(t)
				if run := b - prev; run >= 5 {
					score += run - 2
				}
				prev = b
			}
			if run := n - 1 - prev; run >= 5 {
				score += run - 2
			}
			// Rule 3: windows matching either pattern.
			m1, m2 := starts, starts
			for i := 0; i < 11; i++ {
				if pat1>>i&1 == 1 {
					m1 &= l >> i
				} else {
					m1 &^= l >> i
				}
				if pat2>>i&1 == 1 {
					m2 &= l >> i
				} else {
					m2 &^= l >> i
				}
			}
			score += 40 * bits.OnesCount64(m1|m2)
			if dir == 0 {
				dark += bits.OnesCount64(l)
				// Rule 2: 2×2 blocks, from this row and the next.
				if a+1 < n {
					next := lines[a+1]
					same := ^(l ^ next) & ^(l ^ l>>1) & ^(next ^ next>>1) & pairs
					score += 3 * bits.OnesCount64(same)
				}
			}
		}
	}
	perc := float64(dark) * 100 / float64(n*n)
	lo, hi := int(math.Floor(perc/5))-10, int(math.Ceil(perc/5))-10
	return score + 10*min(abs(lo), abs(hi))
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

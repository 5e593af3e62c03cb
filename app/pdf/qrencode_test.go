package pdf

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/boombuler/barcode/qr"
)

// TestEncodeQRMatchesBoombuler checks qrEncoder module for module against
// boombuler's encoder (byte mode, level M) for every length up to 213 bytes,
// the capacity of version 10, so every version and block layout it knows.
func TestEncodeQRMatchesBoombuler(t *testing.T) {
	enc := newQREncoder()
	rng := rand.New(rand.NewPCG(1, 2))
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/:?=&"
	var inputs []string
	for n := 1; n <= 213; n++ {
		for k := 0; k < 2; k++ {
			var b strings.Builder
			for b.Len() < n {
				b.WriteByte(chars[rng.IntN(len(chars))])
			}
			inputs = append(inputs, b.String())
		}
	}
	inputs = append(inputs, "https://portal.example.gov/verify/K7QF-9M2X-PL4D", "Zoë 王", "\x00\xff")
	versions := map[int]bool{}
	for _, in := range inputs {
		got, ok := enc.encode(in)
		if !ok {
			t.Fatalf("%d bytes: not encoded", len(in))
		}
		want, err := qr.Encode(in, qr.M, qr.Unicode)
		if err != nil {
			t.Fatal(err)
		}
		dark := isDark(want)
		if n := want.Bounds().Dx(); n != got.dim {
			t.Fatalf("%q: %d modules wide, boombuler %d", in, got.dim, n)
		}
		versions[(got.dim-17)/4] = true
		if diff := firstDiff(got, dark); diff != "" {
			t.Fatalf("%q (%d bytes, version %d): differs from boombuler at %s", in, len(in), (got.dim-17)/4, diff)
		}
	}
	if len(versions) != 10 {
		t.Errorf("covered versions %v, want 1–10", versions)
	}
	if _, ok := enc.encode(strings.Repeat("x", 214)); ok {
		t.Error("214 bytes encoded; version 10-M holds 213")
	}
}

func firstDiff(q *qrMatrix, dark func(x, y int) bool) string {
	for x := 0; x < q.dim; x++ {
		for y := 0; y < q.dim; y++ {
			if q.get(x, y) != dark(x, y) {
				return fmt.Sprintf("(%d, %d)", x, y)
			}
		}
	}
	return ""
}

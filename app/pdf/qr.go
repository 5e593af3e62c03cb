package pdf

import (
	"fmt"
	"strconv"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/jung-kurt/gofpdf"

	"portal/app"
)

// drawQR draws a QR code of content (byte mode, level M) as filled
// rectangles in a size×size mm square at (x, y), leaving the quiet zone to
// the caller. Vector modules stay sharp at any zoom, where a small bitmap
// may be smoothed into a blur, and need no PNG encoding; one rectangle per
// horizontal run of dark modules, all filled at once, leaves no seams.
func drawQR(pdf *gofpdf.Fpdf, enc *qrEncoder, content string, x, y, size float64) error {
	if content == "" {
		return app.Errorf(app.EINVALID, "The certificate has no verification address.")
	}
	var dark func(x, y int) bool
	var n int
	if q, ok := enc.encode(content); ok {
		dark, n = q.get, q.dim
	} else {
		code, err := qr.Encode(content, qr.M, qr.Unicode)
		if err != nil {
			return app.Errorf(app.EINVALID, "The verification address is too long for a QR code.")
		}
		dark, n = isDark(code), code.Bounds().Dx()
	}
	// Scale so one module is one unit, origin at the bottom left of the
	// symbol: each run is then a few small integers.
	k := 72 / 25.4 // points per mm
	m := size / float64(n) * k
	buf := make([]byte, 0, 4096)
	buf = fmt.Appendf(buf, "q 0 g %.4f 0 0 %.4f %.3f %.3f cm\n", m, m, x*k, (pageH-y-size)*k)
	for row := 0; row < n; row++ {
		for col := 0; col < n; {
			if !dark(col, row) {
				col++
				continue
			}
			start := col
			for col < n && dark(col, row) {
				col++
			}
			buf = strconv.AppendInt(buf, int64(start), 10)
			buf = append(buf, ' ')
			buf = strconv.AppendInt(buf, int64(n-1-row), 10)
			buf = append(buf, ' ')
			buf = strconv.AppendInt(buf, int64(col-start), 10)
			buf = append(buf, " 1 re\n"...)
		}
	}
	buf = append(buf, "f Q"...)
	pdf.RawWriteStr(string(buf))
	return nil
}

// isDark returns a module test for code, using its bit accessor when it has
// one rather than going through image colours.
func isDark(code barcode.Barcode) func(x, y int) bool {
	if g, ok := code.(interface{ Get(x, y int) bool }); ok {
		return g.Get
	}
	return func(x, y int) bool {
		r, _, _, _ := code.At(x, y).RGBA()
		return r < 0x8000
	}
}

package app

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzNamesMatch checks the properties the signing step relies on: a name
// always matches itself, in either order and in either normal form, and
// NormalizeName (the form names are stored and printed in) is stable.
func FuzzNamesMatch(f *testing.F) {
	for _, seed := range [][2]string{
		{"Zoë Côté", "zoe\u0308 co\u0302te\u0301"},
		{"  José   Núñez ", "JOSÉ NÚÑEZ"},
		{"Straße", "STRASSE"},
		{"İstanbul", "istanbul"},
		{"Nguyễn Thị Lan", "Nguyen Thi Lan"},
		{"王小明", "王小明"},
		{"<script>alert(1)</script>", "<SCRIPT>ALERT(1)</SCRIPT>"},
		{"Evil\r\nBcc: victim@x.example", "Evil Bcc: victim@x.example"},
		{"Ann\u202eegnahc", "Ann change"},
		{"a\u00a0b\u2028c\u3000d", "a b c d"},
		{"e\u2028\u0301", "é"},
		{"\u0301", "\u0301"},
		{"ﬀ", "FF"},
		{"ǅ", "ǆ"},
		{"", " "},
		{"\t\n\v\f\r \u0085", "x"},
		{"\xff\xfe", "\xff\xfe"},
		{"a\x00b", "a b"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, x, y string) {
		nx := NormalizeName(x)
		if again := NormalizeName(nx); again != nx {
			t.Errorf("NormalizeName is not idempotent: %q → %q → %q", x, nx, again)
		}
		if nx != strings.TrimFunc(nx, unicode.IsSpace) {
			t.Errorf("NormalizeName(%q) = %q has white space at an end", x, nx)
		}
		if strings.Contains(nx, "  ") {
			t.Errorf("NormalizeName(%q) = %q has a double space", x, nx)
		}
		for _, r := range nx {
			if r != ' ' && unicode.IsSpace(r) {
				t.Errorf("NormalizeName(%q) = %q keeps the white space %U", x, nx, r)
			}
		}
		if NamesMatch(x, y) != NamesMatch(y, x) {
			t.Errorf("NamesMatch is not symmetric for %q and %q", x, y)
		}
		if !utf8.ValidString(x) {
			return // the handlers refuse invalid UTF-8 before names are stored
		}
		if !utf8.ValidString(nx) {
			t.Errorf("NormalizeName(%q) = %q is not valid UTF-8", x, nx)
		}
		if !norm.NFC.IsNormalString(nx) {
			t.Errorf("NormalizeName(%q) = %q is not NFC", x, nx)
		}
		blank := strings.TrimFunc(x, unicode.IsSpace) == ""
		if got := NamesMatch(x, x); got == blank {
			t.Errorf("NamesMatch(%q, itself) = %v", x, got)
		}
		if !blank {
			if !NamesMatch(norm.NFD.String(x), x) {
				t.Errorf("NamesMatch(NFD(%q), %q) = false", x, x)
			}
			if !NamesMatch(nx, x) {
				t.Errorf("NamesMatch(NormalizeName(%q), %q) = false", x, x)
			}
		}
	})
}

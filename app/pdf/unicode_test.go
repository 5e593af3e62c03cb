package pdf

import (
	"strings"
	"testing"
	"unicode"
)

// unicodeNames are names that must print and extract as the same text.
var unicodeNames = []struct {
	script, name, want string
}{
	{"Latin-1 accents", "José Ñúñez-García", "José Ñúñez-García"},
	{"Latin Extended", "Łukasz Żółć-Dvořák", "Łukasz Żółć-Dvořák"},
	{"NFD input comes out NFC", "Jose\u0301 Mu\u0308ller", "José Müller"},
	{"Vietnamese", "Nguyễn Thị Ánh", "Nguyễn Thị Ánh"},
	{"Greek", "Ελένη Παπαδοπούλου", "Ελένη Παπαδοπούλου"},
	{"Cyrillic", "Дмитрий Петров", "Дмитрий Петров"},
	{"Chinese", "王小明", "王小明"},
	{"Japanese", "山田 はなこ", "山田 はなこ"},
	{"Korean", "김민준", "김민준"},
	{"mixed Latin and CJK", "Ann 李", "Ann 李"},
}

// rtlNames are reordered for display but not shaped (Arabic letters print in
// their isolated forms), so only their words are checked.
var rtlNames = []struct{ script, name string }{
	{"Hebrew", "שרה כהן"},
	{"Arabic", "محمد علي"},
}

// stripBidi drops the directional marks pdftotext puts around RTL text.
func stripBidi(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, s)
}

func TestUnicodeNamesRoundTrip(t *testing.T) {
	r := newRenderer(t)
	for _, tc := range unicodeNames {
		t.Run(tc.script, func(t *testing.T) {
			pdf := render(t, r, sampleCert(t, tc.name))
			checkOnePage(t, pdf)
			text := stripBidi(runTool(t, pdf, "pdftotext", "-enc", "UTF-8"))
			if !strings.Contains(text, tc.want) {
				t.Errorf("extracted text lacks %q:\n%s", tc.want, text)
			}
		})
	}
	for _, tc := range rtlNames {
		t.Run(tc.script, func(t *testing.T) {
			text := stripBidi(runTool(t, render(t, r, sampleCert(t, tc.name)), "pdftotext", "-enc", "UTF-8"))
			for _, word := range strings.Fields(tc.name) {
				if !strings.Contains(text, word) {
					t.Errorf("extracted text lacks %q:\n%s", word, text)
				}
			}
		})
	}
}

// TestEveryTestNameHasGlyphs checks the fonts, not the extraction: a rune
// with no glyph would still extract (its glyph name carries it) but print as
// a box.
func TestEveryTestNameHasGlyphs(t *testing.T) {
	r := newRenderer(t)
	check := func(name string) {
		for _, w := range []weight{regular, bold} {
			for _, ch := range clean(name, 300) {
				if fc, _ := r.route(ch, w); !fc.has(ch) {
					t.Errorf("%q: no glyph for %U", name, ch)
				}
			}
		}
	}
	for _, tc := range unicodeNames {
		check(tc.name)
	}
	for _, tc := range rtlNames {
		check(tc.name)
	}
}

func TestCJKUsesFallbackFont(t *testing.T) {
	pdf := render(t, newRenderer(t), sampleCert(t, "王小明"))
	if !strings.Contains(string(pdf), "+DroidSansFallback") {
		t.Error("no Droid Sans Fallback subset embedded for a CJK name")
	}
	if strings.Contains(string(render(t, newRenderer(t), sampleCert(t, "Ann Lee"))), "DroidSansFallback") {
		t.Error("the CJK font is embedded in a certificate with no CJK text")
	}
}

func TestVisualOrder(t *testing.T) {
	for in, want := range map[string]string{
		"Ann Lee":     "Ann Lee",
		"שרה כהן":     "ןהכ הרש",
		"Dr. שרה כהן": "Dr. ןהכ הרש",
		// Marks (qamats, shin dot, holam) stay after their letter.
		"\u05e9\u05b8\u05c1\u05dc\u05d5\u05b9\u05dd x": "\u05dd\u05d5\u05b9\u05dc\u05e9\u05b8\u05c1 x",
		"Ann · שרה · B":                                "Ann · הרש · B",
	} {
		if got := visual(in); got != want {
			t.Errorf("visual(%q) = %q, want %q", in, got, want)
		}
	}
}

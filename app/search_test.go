package app

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNameWordsFoldCaseAndAccents(t *testing.T) {
	for name, want := range map[string][]string{
		"Zoë Côté-Lévesque":     {"zoe", "cote", "levesque"},
		"FRANÇOIS LÉVESQUE":     {"francois", "levesque"},
		"Jürgen Straße":         {"jurgen", "strasse"},
		"Æsa Østergård Łukasz":  {"aesa", "ostergard", "lukasz"},
		"Mary O'Brien":          {"mary", "o", "brien", "obrien"},
		"Mary O’Brien":          {"mary", "o", "brien", "obrien"},
		"Anne-Marie  (Annie)":   {"anne", "marie", "annie"},
		"Person 4242":           {"person", "4242"},
		"Zoë zoe":               {"zoe"},
		"  ":                    nil,
		"Bad\x01Name\x7f\"x\\y": {"bad", "name", "x", "y"},
	} {
		if got := NameWords(name); !slices.Equal(got, want) {
			t.Errorf("NameWords(%q) = %q, want %q", name, got, want)
		}
	}
	for q, want := range map[string][]string{
		"LÉVESQUE":                 {"levesque"},
		"Cote Zoe":                 {"cote", "zoe"},
		"strasse":                  {"strasse"},
		"o'brien":                  {"o", "brien"},
		"zoe.cote@x.example":       {"zoe", "cote", "x", "example"},
		"a b c d e f g":            {"a", "b", "c", "d", "e"},
		"%":                        {"%"},
		" \u00a0—":                 nil,
		"İstanbul":                 {"istanbul"},
		"\u0041\u030a\u0073\u0061": {"asa"}, // Å decomposed
	} {
		if got := SearchWords(q); !slices.Equal(got, want) {
			t.Errorf("SearchWords(%q) = %q, want %q", q, got, want)
		}
	}
	if got := SearchText("Zoë Côté"); got != " zoe cote " {
		t.Errorf("SearchText = %q", got)
	}
}

// The ASCII short cut of foldWord gives what the full folding gives.
func FuzzFoldWordShortCut(f *testing.F) {
	for _, s := range []string{"Person", "O'Brien", "A-B", "x\ty", "ZOE", "", "`", "a~b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return r >= 0x80 }) >= 0 {
			return
		}
		if got, want := foldWord(s), nameKey(s); got != want {
			t.Fatalf("foldWord(%q) = %q, nameKey = %q", s, got, want)
		}
	})
}

// isNameSeparator's table for ASCII says what its rule says.
func TestASCIISeparators(t *testing.T) {
	for r := rune(0); r < 0x80; r++ {
		want := unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Pd, r) || strings.ContainsRune(apostrophes, r) ||
			strings.ContainsRune(`\"._,+()@;:/`, r)
		if isNameSeparator(r) != want {
			t.Errorf("isNameSeparator(%q) = %v", r, !want)
		}
	}
}

func BenchmarkNameWords(b *testing.B) {
	for _, name := range []string{"Person 4242", "François Lévesque 1007", "Mary O'Brien-Smith"} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				NameWords(name)
			}
		})
	}
}

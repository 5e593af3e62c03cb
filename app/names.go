package app

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// NormalizeName returns s in NFC with runs of white space collapsed to one
// space and the ends trimmed. Names are stored and printed in this form.
func NormalizeName(s string) string {
	return strings.Join(strings.FieldsFunc(norm.NFC.String(s), unicode.IsSpace), " ")
}

// NamesMatch reports whether a typed name matches the roster name. It
// ignores case, white space, accents and other marks (canonical
// decomposition with the marks removed), hyphens and apostrophes, and maps
// letters that do not decompose to their usual Latin form (ø→o, ł→l, æ→ae,
// ß→ss…), so "Zoe Cote" signs for Zoë Côté on any keyboard. Letters still
// count: "Zoe Cate" does not match.
func NamesMatch(typed, roster string) bool {
	a, b := NormalizeName(typed), NormalizeName(roster)
	if a == "" || b == "" {
		return false
	}
	if strings.EqualFold(a, b) || foldCase(a) == foldCase(b) {
		return true
	}
	ka, kb := nameKey(a), nameKey(b)
	return ka != "" && ka == kb
}

// latin maps letters that have no canonical decomposition to the Latin
// letters people type for them.
var latin = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'þ': "th",
	'ł': "l", 'ı': "i", 'ħ': "h", 'ŧ': "t", 'ŀ': "l", 'ĸ': "k", 'ŋ': "n",
}

// nameKey is the form NamesMatch compares: case folded, decomposed, with
// marks, white space, hyphens, dashes and apostrophes removed.
func nameKey(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(cases.Fold().String(s)) {
		switch {
		case unicode.Is(unicode.M, r), unicode.IsSpace(r), unicode.Is(unicode.Pd, r):
			continue
		case strings.ContainsRune("'’‘ʼʻ`´‛", r):
			continue
		}
		if l, ok := latin[r]; ok {
			b.WriteString(l)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// foldCase applies full Unicode case folding, so that characters whose case
// mapping changes their length ("ß" against "SS") compare equal, then NFC.
func foldCase(s string) string {
	return norm.NFC.String(cases.Fold().String(s))
}

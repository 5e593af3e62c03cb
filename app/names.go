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

// NamesMatch reports whether a typed name matches the roster name, ignoring
// case, the Unicode normal form accents were typed in (NFC or NFD) and extra
// white space. Accents themselves still count: "Jose" does not match "José".
func NamesMatch(typed, roster string) bool {
	a, b := NormalizeName(typed), NormalizeName(roster)
	if a == "" || b == "" {
		return false
	}
	return strings.EqualFold(a, b) || foldCase(a) == foldCase(b)
}

// foldCase applies full Unicode case folding, so that characters whose case
// mapping changes their length ("ß" against "SS") compare equal, then NFC.
func foldCase(s string) string {
	return norm.NFC.String(cases.Fold().String(s))
}

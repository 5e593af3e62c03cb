package app

import (
	"strings"
	"unicode"
)

// maxSearchWords bounds the work of one search: words past it are ignored.
const maxSearchWords = 5

// apostrophes are the characters people write as an apostrophe in names.
const apostrophes = "'’‘ʼʻ`´‛"

// isNameSeparator reports whether r separates the words of a name for
// search: white space, dashes, apostrophes and the punctuation people put
// between names or in e-mail addresses.
func isNameSeparator(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || strings.ContainsRune(apostrophes, r) ||
		strings.ContainsRune(`\"._,+()@;:/`, r)
}

// NameWords returns the words search indexes for a name, each folded as
// NamesMatch folds names (case, accents and other marks ignored; ß→ss,
// æ→ae, ø→o, ł→l …), so "cote" finds Zoë Côté and "strasse" finds
// Straße. A name is split at white space, dashes, apostrophes and
// punctuation; a word written with an apostrophe also counts whole, so both
// "brien" and "obrien" find Mary O'Brien. Words come once each, in order.
func NameWords(name string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(w string) {
		if w != "" && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	for _, token := range strings.FieldsFunc(name, func(r rune) bool {
		return isNameSeparator(r) && !strings.ContainsRune(apostrophes, r)
	}) {
		parts := strings.FieldsFunc(token, isNameSeparator)
		for _, p := range parts {
			add(foldWord(p))
		}
		if len(parts) > 1 { // written with an apostrophe
			add(foldWord(strings.Join(parts, "")))
		}
	}
	return out
}

// SearchWords returns the words of a search, folded and split as NameWords
// does (without the whole forms), at most five.
func SearchWords(q string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(q, isNameSeparator) {
		if w := foldWord(p); w != "" {
			out = append(out, w)
		}
		if len(out) == maxSearchWords {
			break
		}
	}
	return out
}

// SearchText is a name as search compares it: its NameWords, each after
// one space, so that a folded search word found in it is the start or part
// of a word of the name.
func SearchText(name string) string {
	var b strings.Builder
	for _, w := range NameWords(name) {
		b.WriteByte(' ')
		b.WriteString(w)
	}
	return b.String()
}

// foldWord folds one word as nameKey does. Plain ASCII, most names, takes a
// short cut to the same result: the roster import folds every name.
func foldWord(w string) string {
	for i := 0; i < len(w); i++ {
		if w[i] >= 0x80 {
			return nameKey(w)
		}
	}
	var b strings.Builder
	b.Grow(len(w))
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '-' || c == '\'' || c == '`' || c == ' ' || (c >= '\t' && c <= '\r'):
			continue // nameKey drops these
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

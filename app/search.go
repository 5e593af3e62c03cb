package app

import (
	"slices"
	"strings"
	"unicode"
)

// maxSearchWords bounds the work of one search: words past it are ignored.
const maxSearchWords = 5

// apostrophes are the characters people write as an apostrophe in names.
const apostrophes = "'’‘ʼʻ`´‛"

// isNameSeparator reports whether r separates the words of a name for
// search: white space, control characters, dashes, apostrophes and the
// punctuation people put between names or in e-mail addresses.
func isNameSeparator(r rune) bool {
	if r < 0x80 { // the same rule, for ASCII, without tables
		return r <= ' ' || r == 0x7f || strings.IndexByte("-'`\\\"._,+()@;:/", byte(r)) >= 0
	}
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Pd, r) || strings.ContainsRune(apostrophes, r)
}

// NameWords returns the words search indexes for a name, each folded as
// NamesMatch folds names (case, accents and other marks ignored; ß→ss,
// æ→ae, ø→o, ł→l …), so "cote" finds Zoë Côté and "strasse" finds
// Straße. A name is split at white space, dashes, apostrophes and
// punctuation; a word written with an apostrophe also counts whole, so both
// "brien" and "obrien" find Mary O'Brien. Words come once each, in order.
func NameWords(name string) []string {
	var out []string
	add := func(w string) {
		if w != "" && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	// Tokens end at separators other than apostrophes; a token's parts are
	// split at apostrophes. Written out rather than with strings.FieldsFunc:
	// the roster import folds every name, and the search checks each
	// candidate's name, through SQL functions (app/store/search.go).
	start := -1
	for i, r := range name + " " {
		if !isNameSeparator(r) || strings.ContainsRune(apostrophes, r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start < 0 {
			continue
		}
		token := name[start:i]
		start = -1
		if !strings.ContainsAny(token, apostrophes) {
			add(foldWord(token))
			continue
		}
		parts := strings.FieldsFunc(token, isNameSeparator)
		for _, p := range parts {
			add(foldWord(p))
		}
		if len(parts) > 1 {
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

// SearchText is a name as search compares it: its NameWords with a space
// before and after each, so a folded search word w starts a word of the
// name exactly when the text holds " "+w. No word holds a space, a quote, a
// backslash or a control character (all separators), so the text splits
// back into its words at its spaces.
func SearchText(name string) string {
	var b strings.Builder
	b.WriteByte(' ')
	for _, w := range NameWords(name) {
		b.WriteString(w)
		b.WriteByte(' ')
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

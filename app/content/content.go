// Package content loads the portal's shipped content — policy versions and
// consent notices written as Markdown files with front matter — validates it,
// computes the SHA-256 of its canonical form, and renders Markdown to HTML.
//
// A file starts with front matter: a line "---", then one "key: value" line
// per key, then a line "---". Everything after the closing line is the
// Markdown body. Values are taken literally (no quoting, no YAML), with white
// space trimmed at both ends; blank lines are allowed; every key a file type
// knows is required and unknown or repeated keys are errors. Before parsing,
// text is normalised so that the same content always hashes the same way: a
// leading byte-order mark is dropped, CRLF and lone CR become LF, and the
// text is put in Unicode NFC.
package content

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"

	"portal/app"
)

// Patterns for names that end up in URLs, file names and the evidence hash.
var (
	// numberedFile matches "NN-slug.md" and captures NN and slug.
	numberedFile = regexp.MustCompile(`^([0-9]+)-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$`)
	// codePattern matches a version code such as "2026.1" or "2026-1".
	codePattern = regexp.MustCompile(`^[0-9A-Za-z]+(?:[.\-][0-9A-Za-z]+)*$`)
	// optionLine matches "- a: text" under "## Options".
	optionLine = regexp.MustCompile(`^[-*]\s+([A-Za-z0-9]+)\s*:\s*(.*)$`)
)

// loader reads files from one fs.FS and collects every problem it finds, so
// an author sees them all at once instead of one per run.
type loader struct {
	fsys  fs.FS
	md    goldmark.Markdown // only its parser is used, for heading checks
	probs []string
}

func newLoader(fsys fs.FS) *loader {
	return &loader{fsys: fsys, md: newGoldmark()}
}

// problem records that file has the described problem.
func (l *loader) problem(file, format string, args ...any) {
	l.probs = append(l.probs, file+": "+fmt.Sprintf(format, args...))
}

// err returns the collected problems as one EINVALID error, or nil.
func (l *loader) err(what string) error {
	if len(l.probs) == 0 {
		return nil
	}
	return app.Errorf(app.EINVALID, "%s is invalid:\n%s", what, strings.Join(l.probs, "\n"))
}

// read returns the normalised text of file. A missing file is a problem
// unless optional; found reports whether the file exists. Errors other than
// "does not exist" are returned, as they are not the author's doing.
func (l *loader) read(file string, optional bool) (text string, found bool, err error) {
	b, err := fs.ReadFile(l.fsys, file)
	if errors.Is(err, fs.ErrNotExist) {
		if !optional {
			l.problem(file, "missing")
		}
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("content: read %s: %w", file, err)
	}
	if !utf8.Valid(b) {
		l.problem(file, "not valid UTF-8")
		return "", true, nil
	}
	return normalize(string(b)), true, nil
}

// doc reads file and splits it into front matter, which must hold exactly
// keys, and body. ok is false when the file is missing or its front matter
// is broken; the problems are recorded.
func (l *loader) doc(file string, keys ...string) (meta map[string]string, body string, ok bool, err error) {
	text, found, err := l.read(file, false)
	if err != nil || !found {
		return nil, "", false, err
	}
	meta, body, probs := parseFrontMatter(text, keys)
	for _, p := range probs {
		l.problem(file, "%s", p)
	}
	return meta, body, len(probs) == 0, nil
}

// normalize drops a byte-order mark, turns CRLF and CR into LF and returns
// the text in NFC.
func normalize(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return nfc(s)
}

// parseFrontMatter splits normalised text into its front matter and its
// trimmed body. Every one of keys must be present and non-empty.
func parseFrontMatter(text string, keys []string) (map[string]string, string, []string) {
	rest, ok := strings.CutPrefix(text, "---\n")
	if !ok {
		return nil, "", []string{`missing front matter: the file must start with a line "---"`}
	}
	var probs []string
	meta := make(map[string]string, len(keys))
	for n := 2; ; n++ {
		if rest == "" {
			return nil, "", append(probs, `front matter is not closed by a line "---"`)
		}
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		if strings.TrimRight(line, " \t") == "---" {
			break
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		switch {
		case !ok || k == "":
			probs = append(probs, fmt.Sprintf("front matter line %d: want \"key: value\", got %q", n, line))
		case !slices.Contains(keys, k):
			probs = append(probs, fmt.Sprintf("front matter line %d: unknown key %q (want %s)", n, k, strings.Join(keys, ", ")))
		default:
			if _, dup := meta[k]; dup {
				probs = append(probs, fmt.Sprintf("front matter line %d: key %q given twice", n, k))
				continue
			}
			meta[k] = strings.TrimSpace(v)
		}
	}
	for _, k := range keys {
		if meta[k] == "" {
			probs = append(probs, fmt.Sprintf("front matter key %q is missing or empty", k))
		}
	}
	return meta, strings.TrimSpace(rest), probs
}

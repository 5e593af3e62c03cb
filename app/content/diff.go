package content

import (
	"strings"

	"portal/app"
)

// Change kinds: the part of a version a Change is about.
const (
	ChangePolicy = "policy" // the policy text (and its title)
	ChangeIntent = "intent" // the intent sentence the signer affirms
	ChangeModule = "module" // one guidance module, identified by its slug
)

// Change statuses.
const (
	StatusAdded   = "added"
	StatusRemoved = "removed"
	StatusChanged = "changed"
)

// DiffLine operations.
const (
	OpSame    = "same"
	OpAdded   = "added"
	OpRemoved = "removed"
)

// diffContext is how many unchanged paragraphs are kept on each side of a
// change; longer runs are collapsed into one Skipped marker.
const diffContext = 1

// maxDiffCells bounds the LCS table (n*m cells); beyond it the diff is
// "everything removed, then everything added".
const maxDiffCells = 4_000_000

// Change is one part of a version that differs between two versions.
type Change struct {
	Kind     string     // ChangePolicy, ChangeIntent or ChangeModule
	Slug     string     // module slug for ChangeModule, else empty
	Title    string     // title as the new version has it (the old one if removed); empty for ChangeIntent
	OldTitle string     // the old title, when StatusChanged and the title itself changed
	Audience string     // for ChangeModule: app.AudienceAll or app.AudiencePosters, as in Title's version
	Status   string     // StatusAdded, StatusRemoved or StatusChanged
	Lines    []DiffLine // paragraph-level diff of the Markdown text
}

// DiffLine is one paragraph (a block of text separated by blank lines) of a
// diff. A run of unchanged paragraphs too long to be useful context is
// collapsed into one marker line with Op OpSame, empty Text and Skipped set
// to the number of paragraphs left out ("12 unchanged paragraphs"); every
// other line has Skipped 0.
type DiffLine struct {
	Op      string // OpSame, OpAdded or OpRemoved
	Text    string // the paragraph, as Markdown
	Skipped int    // > 0 only on a collapsed-run marker
}

// Diff returns what changed from old to new, for "what changed since you
// last signed": the policy text (a changed policy title alone counts), the
// intent sentence, then the modules compared by slug — changed and added
// ones in the new version's order, then removed ones in the old version's
// order. A module whose title or body differs is changed; its audience and
// reading time are not compared. Questions, the changes note and the
// version's code, kind and date are not part of the diff. Bodies are
// compared paragraph by paragraph; in a changed part unchanged paragraphs
// are kept only as one paragraph of context around each change. Identical
// versions give nil; a nil version counts as empty.
func Diff(old, new *app.PolicyVersion) []Change {
	if old == nil {
		old = &app.PolicyVersion{}
	}
	if new == nil {
		new = &app.PolicyVersion{}
	}
	var out []Change
	add := func(c Change, oldTitle, oldText, newTitle, newText string) {
		if oldTitle == newTitle && oldText == newText {
			return
		}
		switch {
		case oldText == "" && oldTitle == "":
			c.Status, c.Title = StatusAdded, newTitle
		case newText == "" && newTitle == "":
			c.Status, c.Title = StatusRemoved, oldTitle
		default:
			c.Status, c.Title = StatusChanged, newTitle
			if oldTitle != newTitle {
				c.OldTitle = oldTitle
			}
		}
		c.Lines = collapse(diffParagraphs(paragraphs(oldText), paragraphs(newText)))
		out = append(out, c)
	}
	add(Change{Kind: ChangePolicy}, old.Title, old.PolicyText, new.Title, new.PolicyText)
	add(Change{Kind: ChangeIntent}, "", old.Intent, "", new.Intent)
	for _, m := range new.Modules {
		c := Change{Kind: ChangeModule, Slug: m.Slug, Audience: m.Audience}
		if o := old.Module(m.Slug); o != nil {
			add(c, o.Title, o.Body, m.Title, m.Body)
		} else {
			add(c, "", "", m.Title, m.Body)
		}
	}
	for _, o := range old.Modules {
		if new.Module(o.Slug) == nil {
			add(Change{Kind: ChangeModule, Slug: o.Slug, Audience: o.Audience}, o.Title, o.Body, "", "")
		}
	}
	return out
}

// paragraphs splits Markdown into blocks separated by blank lines. A fenced
// code block (``` or ~~~) is kept whole, blank lines and all, together with
// any text directly above it. A line of only white space counts as blank;
// other lines are kept exactly, so each block is still the author's Markdown.
func paragraphs(md string) []string {
	var out, cur []string
	fence := "" // the opening fence while inside a fenced block
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, "\n"))
			cur = nil
		}
	}
	for line := range strings.SplitSeq(md, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case fence != "":
			cur = append(cur, line)
			if closesFence(trimmed, fence) && len(line)-len(trimmed) < 4 {
				fence = ""
			}
		case strings.TrimSpace(line) == "":
			flush()
		default:
			cur = append(cur, line)
			if f := openingFence(trimmed); f != "" && len(line)-len(trimmed) < 4 {
				fence = f
			}
		}
	}
	flush()
	return out
}

// openingFence returns the run of backticks or tildes that opens a fenced
// code block on line (already stripped of up to three spaces), or "".
func openingFence(line string) string {
	for _, c := range []string{"`", "~"} {
		n := len(line) - len(strings.TrimLeft(line, c))
		if n >= 3 && !(c == "`" && strings.Contains(line[n:], "`")) {
			return line[:n]
		}
	}
	return ""
}

// closesFence reports whether line closes a block opened by fence: the same
// character at least as many times, and nothing else.
func closesFence(line, fence string) bool {
	rest := strings.TrimLeft(line, fence[:1])
	return len(line)-len(rest) >= len(fence) && strings.TrimSpace(rest) == ""
}

// diffParagraphs returns the paragraph diff of a and b by longest common
// subsequence; where a paragraph was replaced, the removed one comes first.
func diffParagraphs(a, b []string) []DiffLine {
	// Common prefix and suffix need no table.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	out := make([]DiffLine, 0, len(a)+len(b)-pre-suf)
	for _, p := range a[:pre] {
		out = append(out, DiffLine{Op: OpSame, Text: p})
	}
	out = append(out, lcsDiff(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for _, p := range a[len(a)-suf:] {
		out = append(out, DiffLine{Op: OpSame, Text: p})
	}
	return out
}

// lcsDiff diffs a and b with an O(n*m) LCS table, or, if that table would
// exceed maxDiffCells, reports all of a removed and all of b added.
func lcsDiff(a, b []string) []DiffLine {
	n, m := len(a), len(b)
	var out []DiffLine
	if n*m > maxDiffCells || n == 0 || m == 0 {
		for _, p := range a {
			out = append(out, DiffLine{Op: OpRemoved, Text: p})
		}
		for _, p := range b {
			out = append(out, DiffLine{Op: OpAdded, Text: p})
		}
		return out
	}
	// l[i*(m+1)+j] is the LCS length of a[i:] and b[j:], so the walk below
	// can go forwards.
	w := m + 1
	l := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i*w+j] = l[(i+1)*w+j+1] + 1
			} else {
				l[i*w+j] = max(l[(i+1)*w+j], l[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out = append(out, DiffLine{Op: OpSame, Text: a[i]})
			i, j = i+1, j+1
		case j == m || (i < n && l[(i+1)*w+j] >= l[i*w+j+1]):
			out = append(out, DiffLine{Op: OpRemoved, Text: a[i]})
			i++
		default:
			out = append(out, DiffLine{Op: OpAdded, Text: b[j]})
			j++
		}
	}
	return out
}

// collapse keeps diffContext unchanged paragraphs on each side of every
// change and replaces the rest of each unchanged run by one Skipped marker.
// A run is only collapsed if that hides at least two paragraphs, so a part
// whose title alone changed shows a single marker (or its one paragraph).
func collapse(lines []DiffLine) []DiffLine {
	var out []DiffLine
	for i := 0; i < len(lines); {
		if lines[i].Op != OpSame {
			out = append(out, lines[i])
			i++
			continue
		}
		end := i
		for end < len(lines) && lines[end].Op == OpSame {
			end++
		}
		head, tail := diffContext, diffContext // context kept at each end of the run
		if i == 0 {
			head = 0
		}
		if end == len(lines) {
			tail = 0
		}
		if hidden := end - i - head - tail; hidden >= 2 {
			out = append(out, lines[i:i+head]...)
			out = append(out, DiffLine{Op: OpSame, Skipped: hidden})
			out = append(out, lines[end-tail:end]...)
		} else {
			out = append(out, lines[i:end]...)
		}
		i = end
	}
	return out
}

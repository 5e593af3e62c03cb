package content

import (
	"bytes"
	"fmt"
	"html/template"
	"sync"
	"sync/atomic"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
	"golang.org/x/text/unicode/norm"
)

// newGoldmark returns the one goldmark configuration the portal uses:
// CommonMark plus GFM tables, strikethrough and autolinks. The HTML renderer
// keeps goldmark's default safe mode: raw HTML is omitted and links with
// dangerous schemes (javascript:, …) lose their href. Links are rendered as
// plain <a href> elements; nothing is added to or rewritten in them.
func newGoldmark() goldmark.Markdown {
	return goldmark.New(goldmark.WithExtensions(
		extension.Table,
		extension.Strikethrough,
		extension.Linkify,
	))
}

// Renderer turns Markdown into HTML. goldmark does not document its
// instances as safe for concurrent use, so a Renderer serialises calls to
// the one it owns; a Renderer is therefore safe for concurrent use. What it
// renders is published content, which never changes, so results are kept:
// pages read the cache without taking the lock. Create one with NewRenderer
// and keep it, for example in a handler struct.
type Renderer struct {
	mu    sync.Mutex
	md    goldmark.Markdown
	cache sync.Map // source → template.HTML
	size  atomic.Int64
}

// maxCached bounds the cache; published versions hold a few dozen texts each.
const maxCached = 10000

// NewRenderer returns a Renderer configured as described on Markdown.
func NewRenderer() *Renderer {
	return &Renderer{md: newGoldmark()}
}

// Markdown renders src to HTML; see the package-level Markdown.
func (r *Renderer) Markdown(src string) (template.HTML, error) {
	if h, ok := r.cache.Load(src); ok {
		return h.(template.HTML), nil
	}
	var buf bytes.Buffer
	r.mu.Lock()
	err := r.md.Convert([]byte(src), &buf)
	r.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("content: render markdown: %w", err)
	}
	// goldmark escapes text and omits raw HTML, so the output is safe to
	// put in a page as is.
	h := template.HTML(buf.String()) // #nosec G203 -- goldmark in safe mode: raw HTML dropped, text escaped
	if r.size.Load() < maxCached {
		if _, loaded := r.cache.LoadOrStore(src, h); !loaded {
			r.size.Add(1)
		}
	}
	return h, nil
}

// Markdown renders src (CommonMark with GFM tables, strikethrough and
// autolinks) to HTML. Raw HTML in src is not rendered and links with
// dangerous schemes lose their target, so the result is safe to put in a
// page even though it is typed template.HTML. It builds a fresh goldmark
// instance on every call and shares nothing; code that renders often should
// keep a Renderer instead.
func Markdown(src string) (template.HTML, error) {
	return NewRenderer().Markdown(src)
}

// checkHeadings parses src and reports headings that would break the page's
// outline. The page supplies the h1, so bodies start at "##" and go down
// one level at a time; where headings is false none are allowed at all.
func checkHeadings(md goldmark.Markdown, src string, headings bool) []string {
	source := []byte(src)
	doc := md.Parser().Parse(text.NewReader(source))
	var probs []string
	prev := 1
	// The walker never returns an error.
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		h, ok := n.(*ast.Heading)
		if !ok || !entering {
			return ast.WalkContinue, nil
		}
		title := string(h.Lines().Value(source))
		switch {
		case !headings:
			probs = append(probs, fmt.Sprintf("heading %q: no headings are allowed here", title))
		case h.Level == 1:
			probs = append(probs, fmt.Sprintf("heading %q is level 1: the page supplies the h1, start at \"##\"", title))
		case h.Level > prev+1:
			probs = append(probs, fmt.Sprintf("heading %q jumps from level %d to level %d", title, prev, h.Level))
		}
		prev = h.Level
		return ast.WalkSkipChildren, nil
	})
	return probs
}

// nfc returns s in Unicode normal form C.
func nfc(s string) string { return norm.NFC.String(s) }

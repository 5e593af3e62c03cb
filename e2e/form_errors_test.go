package e2e

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// The GOV.UK error pattern, checked on the page a refused form returns.

// wantFieldError fails unless r is a refused form (422) in the GOV.UK error
// pattern for field: "Error: " at the start of the title, a summary whose
// link to #field says msg, an element with that id marked aria-invalid, and
// the message beside it in field-error, which the field (or its fieldset)
// names in aria-describedby.
func wantFieldError(t testing.TB, r response, field, msg string) {
	t.Helper()
	wantFieldErrorStatus(t, r, 422, field, msg)
}

// wantFieldErrorStatus is wantFieldError for a refusal with another status,
// such as 409 for a conflict.
func wantFieldErrorStatus(t testing.TB, r response, status int, field, msg string) {
	t.Helper()
	checkFormError(t, r, status, field, msg, true)
}

// wantListError is wantFieldError for a refusal about a list of buttons
// rather than an input: the summary links to the list, which the message
// beside it describes; there is no control to mark aria-invalid.
func wantListError(t testing.TB, r response, list, msg string) {
	t.Helper()
	checkFormError(t, r, 422, list, msg, false)
}

func checkFormError(t testing.TB, r response, status int, field, msg string, control bool) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("#%s: status %d, want %d", field, r.Status, status)
	}
	doc, err := html.Parse(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if title := text(find(doc, func(n *html.Node) bool { return n.Data == "title" })); !strings.HasPrefix(strings.TrimSpace(title), "Error: ") {
		t.Errorf("#%s: the title %q does not start with \"Error: \"", field, title)
	}
	summary := find(doc, func(n *html.Node) bool { return attr(n, "id") == "error-summary" })
	if summary == nil || attr(summary, "role") != "alert" {
		t.Fatalf("#%s: no error summary with role=alert; the page says:\n%s", field, r.Body)
	}
	link := find(summary, func(n *html.Node) bool { return n.Data == "a" && attr(n, "href") == "#"+field })
	if link == nil || !strings.Contains(text(link), msg) {
		t.Errorf("#%s: the summary has no link to #%s saying %q: %q", field, field, msg, text(summary))
	}
	input := find(doc, func(n *html.Node) bool { return attr(n, "id") == field })
	if input == nil {
		t.Fatalf("#%s: the summary links to an id the page does not have", field)
	}
	if control && attr(input, "aria-invalid") != "true" {
		t.Errorf("#%s: the field is not marked aria-invalid", field)
	}
	described := strings.Fields(attr(input, "aria-describedby"))
	if p := input.Parent; p != nil && p.Data == "div" && p.Parent != nil && p.Parent.Data == "fieldset" {
		described = append(described, strings.Fields(attr(p.Parent, "aria-describedby"))...)
	}
	if !contains(described, field+"-error") {
		t.Errorf("#%s: aria-describedby %q does not name %s-error", field, described, field)
	}
	beside := find(doc, func(n *html.Node) bool { return attr(n, "id") == field+"-error" })
	if beside == nil || !strings.Contains(text(beside), msg) {
		t.Errorf("#%s: no message %q beside the field", field, msg)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// find returns the first element under n (n included) that ok accepts.
func find(n *html.Node, ok func(*html.Node) bool) *html.Node {
	if n == nil {
		return nil
	}
	if n.Type == html.ElementNode && ok(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, ok); f != nil {
			return f
		}
	}
	return nil
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// text is the text under n, with its spaces squeezed.
func text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

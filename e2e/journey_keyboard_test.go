package e2e

// The employee journey in a real headless Chromium by keyboard alone.

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"portal/app"
)

// jsActiveElement describes the focused element: its tag, id and text.
const jsActiveElement = `(() => { const el = document.activeElement;
  return el ? (el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + (el.innerText || el.value || "").trim().slice(0, 40)).trim() : "" })()`

// jsFocusVisible reports whether the focused element matches :focus-visible
// and draws an outline.
const jsFocusVisible = `(() => { const el = document.activeElement, cs = getComputedStyle(el);
  return el !== document.body && el.matches(":focus-visible") && cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0 })()`

// tab presses Tab and returns the newly focused element, failing if its
// focus is not visible.
func (b *browser) tab(t *testing.T) string {
	t.Helper()
	b.do(t, "press Tab", chromedp.KeyEvent(kb.Tab))
	el := evalJS[string](t, b, jsActiveElement)
	if !evalJS[bool](t, b, jsFocusVisible) {
		b.fatalf(t, "focus on %q is not visible", el)
	}
	return el
}

// TestJourneyByKeyboard signs José Núñez (1006, part-way through the
// guidance) with the keyboard alone from the sign form on: the skip link is
// the first Tab stop, the controls are reached with Tab, the intent box ticks
// with Space and the buttons press with Enter, with focus visible throughout.
func TestJourneyByKeyboard(t *testing.T) {
	b := newBrowser(t, true) // before startTestPortal: a skip must not race its server start
	tp := startTestPortal(t)
	e := tp.employee(t, "1006")
	journeyStep(t, "reach the sign form with clicks", func(t *testing.T) {
		b.open(t, tp.signInLink(t, "1006"))
		b.confirmSignIn(t, e.FullName)
		b.readGuidance(t, tp.Version.ModulesFor(app.AudienceAll))
		answers := tp.answers(e)
		b.answerQuiz(t, tp.Version.QuestionsFor(app.AudienceAll), func(q app.Question) string { return answers["q."+q.ID] })
		b.openSignForm(t, false)
	})
	journeyStep(t, "the skip link is the first Tab stop and moves focus to main", func(t *testing.T) {
		if el := b.tab(t); !strings.HasPrefix(el, "a Skip to main content") {
			b.fatalf(t, "first Tab stop is %q, want the skip link", el)
		}
		if left := evalJS[float64](t, b, `document.activeElement.getBoundingClientRect().left`); left < 0 {
			b.fatalf(t, "the focused skip link is off screen (left %v)", left)
		}
		b.do(t, "press Enter on the skip link", chromedp.KeyEvent(kb.Enter))
		if el := evalJS[string](t, b, jsActiveElement); !strings.HasPrefix(el, "main#main") {
			b.fatalf(t, "after the skip link focus is on %q, want main", el)
		}
	})
	journeyStep(t, "fill the sign form by keyboard", func(t *testing.T) {
		if el := b.tab(t); !strings.HasPrefix(el, "input#typed_name") {
			b.fatalf(t, "Tab from main reached %q, want the name field", el)
		}
		b.do(t, "type the name", chromedp.KeyEvent(e.FullName))
		if el := b.tab(t); !strings.HasPrefix(el, "input#intent") {
			b.fatalf(t, "Tab reached %q, want the intent box", el)
		}
		b.do(t, "press Space", chromedp.KeyEvent(" "))
		if !evalJS[bool](t, b, `document.getElementById("intent").checked`) {
			b.fatalf(t, "Space did not tick the intent box")
		}
		if el := b.tab(t); el != "a read the full policy" { // the version's text, named beside the intent
			b.fatalf(t, "Tab reached %q, want the link to the policy", el)
		}
		if el := b.tab(t); !strings.HasPrefix(el, "textarea#comment") {
			b.fatalf(t, "Tab reached %q, want the comment", el)
		}
		b.do(t, "type a comment", chromedp.KeyEvent("Signed by keyboard."))
		if el := b.tab(t); el != "button Review before signing" {
			b.fatalf(t, "Tab reached %q, want the review button", el)
		}
		if st := b.navigate(t, "press Enter", chromedp.KeyEvent(kb.Enter)); st != 200 {
			b.fatalf(t, "review: status %d", st)
		}
		b.wantText(t, "review", "Review and sign", e.FullName, "Signed by keyboard.")
	})
	journeyStep(t, "Tab to Sign and press Enter", func(t *testing.T) {
		if el := b.tab(t); !strings.HasPrefix(el, "a Skip to main content") {
			b.fatalf(t, "first Tab stop on the review page is %q, want the skip link", el)
		}
		var seen []string
		for range 40 {
			el := b.tab(t)
			seen = append(seen, el)
			if el == "button Sign" {
				break
			}
		}
		if seen[len(seen)-1] != "button Sign" {
			b.fatalf(t, "Tab never reached the Sign button; it went %q", seen)
		}
		if st := b.navigate(t, "press Enter on Sign", chromedp.KeyEvent(kb.Enter)); st != 200 {
			b.fatalf(t, "Sign: status %d", st)
		}
		code := b.certificateCode(t)
		b.wantText(t, "confirmation", "Acknowledgment signed", "Signed by keyboard.", code)
	})
}

package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAPITokenPagesInBrowser: the administrator makes a token in a real
// browser, by keyboard, and every state of the page (empty, refused, the
// token shown once, the list, revoked) passes axe on a desktop and at 390 px.
func TestAPITokenPagesInBrowser(t *testing.T) {
	b := newBrowser(t, true) // before startTestPortal: a skip must not race its server start
	tp := startTestPortal(t)
	b.teamSignIn(t, tp, "1003")
	pages := func(t *testing.T, size, name string) {
		check := func(what string, st int64, want ...string) {
			t.Helper()
			if st != 200 && st != 422 {
				b.fatalf(t, "%s: status %d", what, st)
			}
			b.wantText(t, what, want...)
			if size == "390px" {
				b.wantNoSidewaysScroll(t, what)
			}
			b.axe(t, what+" at "+size)
		}
		check("the tokens page", b.open(t, tp.BaseURL+"/admin/api-tokens"), "Create a token")
		check("the form refused", b.press(t, `main form[action="/admin/api-tokens"] button[type=submit]`), "There is a problem",
			"Enter a name for the token", "Choose at least one scope")
		b.do(t, "name the token", chromedp.SetValue(chromedp.CSS("#name"), name))
		// The scope is ticked from the keyboard: focus, then the space bar.
		b.do(t, "tick a scope by keyboard", chromedp.Focus(chromedp.CSS("#scope-0")), chromedp.KeyEvent(" "))
		check("the token, shown once", b.press(t, `main form[action="/admin/api-tokens"] button[type=submit]`), "API token created",
			"It will not be shown again", "completion:read")
		tok := evalJS[string](t, b, `document.querySelector("#token").value`)
		if tokenRE.FindString(tok) != tok {
			b.fatalf(t, "the token field holds %q", tok)
		}
		if r := apiGet(t, tp.BaseURL, tok, "/api/v1/completion?limit=1"); r.Status != 200 {
			b.fatalf(t, "the token from the page: status %d", r.Status)
		}
		check("the list", b.open(t, tp.BaseURL+"/admin/api-tokens"), name, "In use")
		check("revoked", b.press(t, `main form[action$="/revoke"] button[type=submit]`), "is revoked")
	}
	journeyStep(t, "on a desktop", func(t *testing.T) { pages(t, "desktop", "Learning system") })
	journeyStep(t, "at 390 px", func(t *testing.T) {
		b.do(t, "emulate a 390×844 phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
		pages(t, "390px", "Payroll system, nightly import of completion")
	})
}

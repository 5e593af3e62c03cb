package e2e

// The supervisor's and the poster's pages in a real Chromium with axe-core,
// on a desktop and at 390 px: the authorized posters, the authorization
// form (with its search and its errors), the Terms of Comment with their
// preview, one version, and the poster's own copy with its receipt. The
// accessibility sweeps see every page as each role (the DAFS supervisor
// among them), on a desktop and at 390 px; this test adds the states they
// do not reach: an authorization ending soon, the search, a new version's
// preview and the poster's side.

import (
	"testing"

	"github.com/chromedp/chromedp"
)

func TestPosterPagesInBrowser(t *testing.T) {
	b := newBrowser(t, true) // before startTestPortal: a skip must not race its server start
	tp := startTestPortal(t)
	tp.designateSupervisor(t, dafs, "1009")
	tp.authorize(t, dafs, "1006", tp.accountID(t, "Facebook", "StateDAFSNews"),
		tp.DB.Now().In(tp.Config.TimeZone).AddDate(0, 0, 7).Format("2006-01-02"))
	terms := itoa(int64(tp.count(t, `SELECT id FROM terms_of_comment WHERE agency = ? AND version = 1`, dafs)))
	zoe := b.incognito(t)
	b.teamSignIn(t, tp, "1009")
	zoe.teamSignIn(t, tp, "1005")

	pages := func(t *testing.T, size string) {
		check := func(b *browser, what string, st int64, want ...string) {
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
		check(b, "authorized posters", b.open(t, tp.BaseURL+"/posters"), "José Núñez", "Ending soon", "Zoë Côté", "Version 1 not confirmed yet")
		check(b, "authorize form", b.open(t, tp.BaseURL+"/posters/new?q=Siob"), "Siobhán O'Brien", "Facebook StateDAFSNews", "YouTube StateDAFS (dormant)")
		check(b, "authorize form with errors", b.press(t, `main form[action="/posters"] button[type=submit]`), "There is a problem",
			"Enter the employee number", "Choose at least one account", "Say what they may do")
		b.open(t, tp.BaseURL+"/posters")
		check(b, "revoke without a reason", b.press(t, `main form[action$="/revoke"] button[type=submit]`), "Say why the authorization ends")
		check(b, "Terms of Comment", b.open(t, tp.BaseURL+"/terms"), "Version 1", "In force", "Publish a new version")
		b.do(t, "write a new version", chromedp.SetValue(chromedp.CSS("#body"), "## Rules\n\n- Be kind.\n- Stay on topic.\n"))
		check(b, "preview", b.press(t, `main form[action="/terms"] button[value=preview]`), "Preview: this is what posters will read", "Stay on topic.")
		check(b, "one version", b.open(t, tp.BaseURL+"/terms/"+terms), "Comments are public records")
		check(zoe, "home with the Terms of Comment task", zoe.open(t, tp.BaseURL+"/"), "Read your agency's Terms of Comment, version 1")
		check(zoe, "the poster's Terms of Comment", zoe.open(t, tp.BaseURL+"/my/terms/"+terms), "Confirm receipt")
		check(zoe, "receipt without the box", zoe.press(t, `main form[action^="/my/terms/"] button[type=submit]`), "Tick the box")
	}
	journeyStep(t, "on a desktop", func(t *testing.T) { pages(t, "desktop") })
	journeyStep(t, "at 390 px", func(t *testing.T) {
		for _, x := range []*browser{b, zoe} {
			x.do(t, "emulate a 390×844 phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
			if w := evalJS[int](t, x, `window.innerWidth`); w != 390 {
				t.Fatalf("the viewport is %d wide, want 390", w)
			}
		}
		pages(t, "390px")
	})
	journeyStep(t, "the poster confirms receipt", func(t *testing.T) {
		zoe.open(t, tp.BaseURL+"/my/terms/"+terms)
		zoe.do(t, "tick", chromedp.Click(chromedp.CSS("#confirm")))
		if st := zoe.press(t, `main form[action^="/my/terms/"] button[type=submit]`); st != 200 {
			zoe.fatalf(t, "confirm: status %d", st)
		}
		zoe.wantText(t, "home after the receipt", "Thank you: your receipt of version 1")
		zoe.axe(t, "home after the receipt")
		if tp.count(t, `SELECT COUNT(*) FROM terms_receipts WHERE employee_id = ?`, tp.employee(t, "1005").ID) != 1 {
			t.Fatal("no receipt")
		}
	})
}

package e2e

import (
	"testing"

	"portal/server"
)

// The agency-account pages in a real Chromium, checked with axe-core: the
// sign-in page that offers it, the whole flow by mouse, the page after
// signing out that offers the provider's end-session address (followed,
// back to the portal), a refusal, and the sign-in page with e-mail links off.
func TestOIDCPagesInTheBrowser(t *testing.T) {
	bw := newBrowser(t, true) // before startTestPortal: a skip must not race its server start
	op := startTestOP(t, nil)
	tp := startTestPortal(t, withOIDC(op, "email"))
	emp := tp.employee(t, "1007")
	op.set(func(op *testOP) {
		op.User = map[string]any{"sub": "s-1007", "email": emp.Email, "email_verified": true}
	})
	b := bw.incognito(t)

	b.open(t, tp.BaseURL+"/signin")
	b.wantText(t, "sign-in page", "Sign in with your agency account", "Or sign in with a link by e-mail")
	b.axe(t, "sign-in page with the agency account")
	if st := b.press(t, `main a[href^="/signin/oidc"]`); st != 200 {
		b.fatalf(t, "agency sign-in: status %d", st)
	}
	b.wantPath(t, "/")
	b.wantText(t, "home", "Your social media policy acknowledgment")

	if st := b.press(t, `form[action="/signout"] button`); st != 200 {
		b.fatalf(t, "sign out: status %d", st)
	}
	b.wantText(t, "signed out", "You have signed out of the portal.", "Sign out of your agency account")
	b.axe(t, "signed out, with the provider's end-session address")
	if st := b.press(t, `main a[href^="`+op.URL+`/logout"]`); st != 200 {
		b.fatalf(t, "end the provider's session: status %d", st)
	}
	b.wantPath(t, "/")
	if _, _, out := op.seen(); len(out) != 1 || out[0].Get("id_token_hint") == "" {
		b.fatalf(t, "the provider's end-session address was called %d times: %v", len(out), out)
	}

	op.set(func(op *testOP) { op.User = map[string]any{"sub": "x", "email": "nobody@elsewhere.example"} })
	if st := b.open(t, tp.BaseURL+"/signin/oidc"); st != 403 {
		b.fatalf(t, "someone not on the roster: status %d", st)
	}
	b.wantText(t, "refused", "You could not be signed in", "not on the portal’s list of current employees")
	b.axe(t, "agency sign-in refused")

	off := startTestPortal(t, withOIDC(op, "email"), func(cfg *server.Config) { cfg.EmailLinksOff = true })
	b.open(t, off.BaseURL+"/signin")
	b.wantText(t, "sign-in page, links off", "Sign in with your agency account", "sign-in links by e-mail are turned off")
	b.axe(t, "sign-in page with e-mail links off")
}

package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"portal/app"
)

// TestAgencyUseJourneyInBrowser walks Zoë Côté (1005, authorized on DAFS
// Facebook StateDAFSNews) through the agency-use acknowledgment in a real
// browser, from the home page's task list to its certificate, with axe-core
// on every page at desktop size, and the review and certificate again on a
// 390 px phone without sideways scrolling.
func TestAgencyUseJourneyInBrowser(t *testing.T) {
	b := newBrowser(t, true) // before startTestPortal: a skip must not race its server start
	tp := startTestPortal(t)
	zoe := tp.employee(t, "1005")
	modules := tp.Version.ModulesFor(app.AudiencePosters)

	journeyStep(t, "the home page's task list leads to the agency-use guidance", func(t *testing.T) {
		b.open(t, tp.signInLink(t, "1005"))
		b.confirmSignIn(t, zoe.FullName)
		b.wantText(t, "home", "Authorized poster acknowledgment: posting for your agency", "Not started")
		b.axe(t, "home page with two acknowledgments")
		b.press(t, `main a[href="`+agencyUse+`/guidance"]`)
		b.wantPath(t, agencyUse+"/guidance")
		b.wantText(t, "agency-use guidance", modules[0].Title)
		b.axe(t, "agency-use guidance index")
	})
	journeyStep(t, "each posters' section is read in turn", func(t *testing.T) {
		for _, m := range modules {
			b.open(t, tp.BaseURL+agencyUse+"/guidance/"+m.Slug)
			b.wantText(t, "section "+m.Slug, m.Title)
			b.axe(t, "agency-use section "+m.Slug)
			if st := b.press(t, `form.module-next button[type=submit]`); st != 200 {
				b.fatalf(t, "I have read %s: status %d", m.Slug, st)
			}
		}
		b.wantPath(t, agencyUse+"/quiz")
		b.axe(t, "agency-use knowledge check start")
	})
	journeyStep(t, "the check passes with the right answers", func(t *testing.T) {
		b.press(t, `main form[action="`+agencyUse+`/quiz/start"] button`)
		for range 50 {
			if evalJS[string](t, b, `location.pathname`) == agencyUse+"/quiz/check" {
				break
			}
			b.axe(t, "agency-use check section")
			ids := evalJS[[]string](t, b, `[...document.querySelectorAll("main fieldset.question")].map(f => f.id.slice(2))`)
			if len(ids) == 0 {
				b.fatalf(t, "a section of the agency-use check shows no questions")
			}
			var clicks []chromedp.Action[chromedp.Void]
			for _, id := range ids {
				clicks = append(clicks, chromedp.Click(chromedp.CSS("#q-"+id+"-"+tp.Version.Question(id).Answer)))
			}
			b.do(t, "tick the answers", clicks...)
			if st := b.press(t, `main form[action^="`+agencyUse+`/quiz/section/"] button[value=next]`); st != 200 {
				b.fatalf(t, "Continue: status %d", st)
			}
		}
		b.wantPath(t, agencyUse+"/quiz/check")
		b.axe(t, "agency-use check your answers")
		if st := b.press(t, `main form[action="`+agencyUse+`/quiz"] button[type=submit]`); st != 200 {
			b.fatalf(t, "submit: status %d", st)
		}
		b.wantText(t, "passed", "You passed")
		b.axe(t, "agency-use passed result")
	})
	journeyStep(t, "consent, then the review names the policy, the accounts and the Terms of Comment", func(t *testing.T) {
		b.open(t, tp.BaseURL+agencyUse+"/sign")
		b.axe(t, "agency-use consent notice")
		b.do(t, "tick consent", chromedp.Click(chromedp.CSS("#consent")))
		if st := b.press(t, `main form[action="`+agencyUse+`/sign/consent"] button[type=submit]`); st != 200 {
			b.fatalf(t, "consent: status %d", st)
		}
		b.wantText(t, "sign form", "Type your full name")
		b.axe(t, "agency-use sign form")
		b.do(t, "type the name", chromedp.SetValue(chromedp.CSS("#typed_name"), zoe.FullName))
		b.tickIntent(t)
		if st := b.press(t, `main form[action="`+agencyUse+`/sign/review"] button[type=submit]`); st != 200 {
			b.fatalf(t, "review: status %d", st)
		}
		b.wantText(t, "review", "Social Media Policy (agency use)", "Facebook StateDAFSNews", "version 1")
		b.axe(t, "agency-use review")
		b.do(t, "emulate a 390×844 phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
		b.axe(t, "agency-use review at 390px")
		b.wantNoSidewaysScroll(t, "agency-use review")
	})
	journeyStep(t, "Sign records it and its certificate is titled with the kind", func(t *testing.T) {
		if st := b.press(t, `main form[action="`+agencyUse+`/sign"] button[type=submit]`); st != 200 {
			b.fatalf(t, "Sign: status %d", st)
		}
		code := b.certificateCode(t)
		b.axe(t, "agency-use confirmation at 390px")
		b.wantNoSidewaysScroll(t, "agency-use confirmation")
		b.open(t, tp.BaseURL+"/certificates/"+url.PathEscape(code))
		b.wantText(t, "certificate", "Authorized poster acknowledgment: posting for your agency", "Facebook StateDAFSNews")
		b.axe(t, "agency-use certificate at 390px")
		b.wantNoSidewaysScroll(t, "agency-use certificate")
		if text := b.mainText(t); !strings.Contains(text, "Terms of Comment") {
			b.fatalf(t, "the certificate does not name the Terms of Comment: %.300q", text)
		}
	})
}

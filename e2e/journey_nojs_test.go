package e2e

// The employee journey in a real headless Chromium with JavaScript disabled.

import (
	"testing"

	"github.com/chromedp/chromedp"

	"portal/app"
)

// TestJourneyWithoutJavaScript completes the journey of Nguyễn Thị Lan (1007,
// a recent hire) to the certificate with JavaScript disabled in Chromium:
// no step needs a script.
func TestJourneyWithoutJavaScript(t *testing.T) {
	b := newBrowser(t, false) // before startTestPortal: a skip must not race its server start
	tp := startTestPortal(t)
	e := tp.employee(t, "1007")
	journeyStep(t, "sign in and read the guidance", func(t *testing.T) {
		b.open(t, tp.signInLink(t, "1007"))
		b.confirmSignIn(t, e.FullName)
		b.readGuidance(t, tp.Version.ModulesFor(app.AudienceAll))
	})
	journeyStep(t, "page through the knowledge check: an answer, Continue and Back keep it", func(t *testing.T) {
		b.press(t, `main form[action="/quiz/start"] button`)
		b.wantPath(t, "/quiz/section/1")
		q := tp.drawn(e)[0]
		b.do(t, "tick an answer", chromedp.Click(chromedp.CSS("#q-"+q.ID+"-"+q.Answer)))
		b.press(t, `main button[value=next]`)
		b.wantPath(t, "/quiz/section/2")
		b.press(t, `main button[value=back]`)
		b.wantPath(t, "/quiz/section/1")
		if !evalJS[bool](t, b, `document.querySelector("#q-`+q.ID+`-`+q.Answer+`").checked`) {
			b.fatalf(t, "Back lost the answer")
		}
		b.press(t, `main button[value=back]`)
		b.wantPath(t, "/quiz")
		b.wantText(t, "carry on", "You have answered 1 of", "Continue the knowledge check")
	})
	journeyStep(t, "pass the knowledge check", func(t *testing.T) {
		answers := tp.answers(e)
		b.answerQuiz(t, tp.Version.QuestionsFor(app.AudienceAll), func(q app.Question) string { return answers["q."+q.ID] })
		b.wantText(t, "passed", "You passed")
	})
	journeyStep(t, "consent and a refused name", func(t *testing.T) {
		b.openSignForm(t, false)
		b.do(t, "type a wrong name", chromedp.SetValue(chromedp.CSS("#typed_name"), "Nguyen Van Lan"))
		b.tickIntent(t)
		if st := b.press(t, `main form[action="/sign/review"] button[type=submit]`); st != 422 {
			b.fatalf(t, "another person's name: status %d, want 422", st)
		}
		// site.js would move focus to the error summary: it did not run.
		if id := evalJS[string](t, b, `document.activeElement.id`); id == "error-summary" {
			b.fatalf(t, "site.js ran: JavaScript is not disabled")
		}
	})
	journeyStep(t, "review and sign with the name typed without its accents", func(t *testing.T) {
		b.do(t, "type the name", chromedp.SetValue(chromedp.CSS("#typed_name"), "Nguyen Thi Lan"))
		b.tickIntent(t)
		b.press(t, `main form[action="/sign/review"] button[type=submit]`)
		b.wantText(t, "review", "Review and sign")
		b.press(t, `main form[action="/sign"] button[type=submit]`)
		code := b.certificateCode(t)
		b.wantText(t, "confirmation", "Acknowledgment signed", "Nguyen Thi Lan", code)
	})
}

package e2e

// The employee journey in a real headless Chromium: with axe-core on every
// page, without JavaScript, and by keyboard alone (SPEC §3.3, §3.4, §5). The
// steps they share and the journey with axe-core are here; the other two are
// in journey_nojs_test.go and journey_keyboard_test.go.

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"portal/app"
	"portal/server"
)

// journeyStep runs one named step of a journey as a subtest. The steps share one
// browser, so the journey stops at the first step that fails.
func journeyStep(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

// confirmSignIn is for the page a sign-in link opens: it checks the page and
// presses Continue, which must lead to the home page.
func (b *browser) confirmSignIn(t *testing.T, name string) {
	t.Helper()
	b.wantText(t, "sign-in confirmation", "Continue as "+name)
	b.axe(t, "sign-in confirmation page")
	if st := b.press(t, `main form button[type=submit]`); st != 200 {
		b.fatalf(t, "Continue: status %d", st)
	}
	b.wantPath(t, "/")
	b.wantText(t, "home", "Your social media policy acknowledgment")
}

// readGuidance goes from the home page's next-step button through the
// guidance index and every section, pressing "I have read this" on each,
// until the portal sends the employee to the knowledge check.
func (b *browser) readGuidance(t *testing.T, modules []app.Module) {
	t.Helper()
	b.press(t, `main a.button[href="/guidance"]`)
	b.wantPath(t, "/guidance")
	b.wantText(t, "guidance index", "Read each section", modules[0].Title, modules[len(modules)-1].Title)
	b.axe(t, "guidance index")
	b.press(t, `ol.modules a[href="/guidance/`+modules[0].Slug+`"]`)
	for i, m := range modules {
		b.wantPath(t, "/guidance/"+m.Slug)
		b.wantText(t, "section "+m.Slug, m.Title, "Section "+strconv.Itoa(i+1)+" of "+strconv.Itoa(len(modules)))
		b.axe(t, "guidance section "+strconv.Itoa(i+1)+" ("+m.Slug+")")
		if st := b.press(t, `form.module-next button[type=submit]`); st != 200 {
			b.fatalf(t, "I have read %s: status %d", m.Slug, st)
		}
	}
	b.wantPath(t, "/quiz")
}

// answerQuiz goes from the knowledge check's start page through every
// section of the draw, ticking the option pick names for each question shown
// (qs must hold them) and pressing Continue, then submits on the "Check your
// answers" page and returns the status of the page it leads to.
func (b *browser) answerQuiz(t *testing.T, qs []app.Question, pick func(q app.Question) string) int64 {
	t.Helper()
	byID := map[string]app.Question{}
	for _, q := range qs {
		byID[q.ID] = q
	}
	b.press(t, `main form[action="/quiz/start"] button, main a.button[href^="/quiz/"]`) // Start, or Continue
	for range 50 {
		if evalJS[string](t, b, `location.pathname`) == "/quiz/check" {
			return b.press(t, `main form[action="/quiz"] button[type=submit]`)
		}
		ids := evalJS[[]string](t, b, `[...document.querySelectorAll("main fieldset.question")].map(f => f.id.slice(2))`)
		if len(ids) == 0 {
			b.fatalf(t, "a section of the knowledge check shows no questions")
		}
		var clicks []chromedp.Action[chromedp.Void]
		for _, id := range ids {
			q, ok := byID[id]
			if !ok {
				b.fatalf(t, "the knowledge check shows %s, which is not among the questions the person must answer", id)
			}
			clicks = append(clicks, chromedp.Click(chromedp.CSS("#q-"+q.ID+"-"+pick(q))))
		}
		b.do(t, "tick the answers", clicks...)
		if st := b.press(t, `main form[action^="/quiz/section/"] button[value=next]`); st != 200 {
			b.fatalf(t, "Continue: status %d", st)
		}
	}
	b.fatalf(t, "the knowledge check never reached the check page")
	return 0
}

// wrongOptionOf returns a key of q that is not its answer.
func wrongOptionOf(q app.Question) string {
	for _, o := range q.Options {
		if o.Key != q.Answer {
			return o.Key
		}
	}
	return q.Answer
}

// openSignForm goes from the passed-quiz page through the consent notice to
// the signing form. With failFirst it first presses Continue without ticking
// the box and checks the error.
func (b *browser) openSignForm(t *testing.T, failFirst bool) {
	t.Helper()
	b.press(t, `main a.button[href="/sign"]`)
	b.wantPath(t, "/sign")
	b.wantText(t, "consent notice", "electronic records")
	b.axe(t, "consent notice")
	if failFirst {
		if st := b.press(t, `main form[action="/sign/consent"] button[type=submit]`); st != 422 {
			b.fatalf(t, "consent without the box ticked: status %d, want 422", st)
		}
		b.wantText(t, "consent error", "There is a problem", "Tick the box")
		b.axe(t, "consent notice with an error")
	}
	b.do(t, "tick consent", chromedp.Click(chromedp.CSS("#consent")))
	if st := b.press(t, `main form[action="/sign/consent"] button[type=submit]`); st != 200 {
		b.fatalf(t, "consent: status %d", st)
	}
	b.wantPath(t, "/sign")
	b.wantText(t, "sign form", "Type your full name")
}

// tickIntent makes sure the intent box is ticked, by clicking it if not.
func (b *browser) tickIntent(t *testing.T) {
	t.Helper()
	if !evalJS[bool](t, b, `document.getElementById("intent").checked`) {
		b.do(t, "tick intent", chromedp.Click(chromedp.CSS("#intent")))
	}
	if !evalJS[bool](t, b, `document.getElementById("intent").checked`) {
		b.fatalf(t, "the intent box does not tick")
	}
}

// certificateCode returns the verification code of the certificate page
// or of the confirmation page after signing.
func (b *browser) certificateCode(t *testing.T) string {
	t.Helper()
	b.wantUnder(t, "/certificates/")
	code, err := url.PathUnescape(signedCode(evalJS[string](t, b, `location.pathname`)))
	if err != nil || code == "" {
		b.fatalf(t, "no verification code in the address: %v", err)
	}
	return code
}

// TestEmployeeJourneyInBrowser walks Zoë Côté (1005, not started, an
// authorized poster) from the e-mailed sign-in link to her certificate, with
// axe-core on every page she sees, the error states included.
func TestEmployeeJourneyInBrowser(t *testing.T) {
	b := newBrowser(t, true) // before startTestPortal: a skip must not race its server start
	tp := startTestPortal(t)
	e := tp.employee(t, "1005")
	modules, questions := tp.Version.ModulesFor(app.AudienceAll), tp.Version.QuestionsFor(app.AudienceAll)
	var code string

	journeyStep(t, "signed-out pages are accessible and a link can be mailed", func(t *testing.T) {
		b.open(t, tp.BaseURL+"/signin")
		b.wantText(t, "sign-in", "Your work e-mail address")
		b.axe(t, "sign-in page")
		if st := b.press(t, `main form[action="/signin"] button[type=submit]`); st != 422 {
			b.fatalf(t, "sign-in with no address: status %d, want 422", st)
		}
		b.axe(t, "sign-in page with an error")
		b.do(t, "type the address", chromedp.SetValue(chromedp.CSS("#email"), server.DemoEmail("1005")))
		b.press(t, `main form[action="/signin"] button[type=submit]`)
		b.wantPath(t, "/signin/sent")
		b.wantText(t, "check your e-mail", "Check your e-mail")
		b.axe(t, "check your e-mail page")
		tp.mailedLinks(t, server.DemoEmail("1005")) // the link is made after the answer: wait for its delivery
		b.open(t, tp.BaseURL+"/dev/mailbox")
		b.wantText(t, "dev mailbox", "Development mailbox", server.DemoEmail("1005"))
		b.axe(t, "development mailbox")
	})
	journeyStep(t, "the mailed link signs in after Continue", func(t *testing.T) {
		b.press(t, `article.mail a[href*="/signin/link/"]`)
		b.wantUnder(t, "/signin/link/")
		b.confirmSignIn(t, "Zoë Côté")
		status := evalJS[string](t, b, `document.querySelector(".status .badge").textContent.trim()`)
		if status != "Overdue" && status != "Not started" {
			b.fatalf(t, "home status %q, want Overdue or Not started", status)
		}
		b.axe(t, "home page ("+status+")")
	})
	journeyStep(t, "every guidance section is accessible and read in turn", func(t *testing.T) {
		b.readGuidance(t, modules)
		b.wantText(t, "knowledge check", "Knowledge check", "You have read all the guidance")
		b.axe(t, "knowledge check")
	})
	journeyStep(t, "the check is paged: Back keeps answers, gaps are listed before submitting", func(t *testing.T) {
		b.press(t, `main form[action="/quiz/start"] button`)
		b.wantPath(t, "/quiz/section/1")
		drawn := tp.drawn(e)
		first := drawn[0]
		b.wantText(t, "section 1", "Section 1 of ", tp.Version.Module(first.Module).Title, "Question 1 of "+strconv.Itoa(len(drawn)))
		b.axe(t, "knowledge check section 1")
		b.do(t, "tick one answer", chromedp.Click(chromedp.CSS("#q-"+first.ID+"-"+first.Answer)))
		b.press(t, `main button[value=next]`)
		b.wantPath(t, "/quiz/section/2")
		b.press(t, `main button[value=back]`)
		b.wantPath(t, "/quiz/section/1")
		if !evalJS[bool](t, b, `document.querySelector("#q-`+first.ID+`-`+first.Answer+`").checked`) {
			b.fatalf(t, "Back lost the answer to question 1")
		}
		b.open(t, tp.BaseURL+"/quiz/check")
		b.wantText(t, "check your answers", "Check your answers", "Not answered")
		if st := b.press(t, `main form[action="/quiz"] button[type=submit]`); st != 422 {
			b.fatalf(t, "submit with gaps: status %d, want 422", st)
		}
		b.wantText(t, "gaps", "There is a problem", "Answer question 2 (section ")
		links := evalJS[[]string](t, b, `[...document.querySelectorAll("#error-summary a")].map(a => a.getAttribute("href"))`)
		if len(links) != len(drawn)-1 || links[0] != "#q-"+drawn[1].ID {
			b.fatalf(t, "the summary links %q, want one to each of the %d unanswered questions", links, len(drawn)-1)
		}
		b.axe(t, "check your answers with unanswered questions")
		b.open(t, tp.BaseURL+"/quiz")
	})
	journeyStep(t, "a failed attempt names the sections to read again without the answers", func(t *testing.T) {
		drawn := tp.drawn(e)
		missed := map[string]bool{} // every other question, from the first, is answered wrong
		wrongModules := map[string]bool{}
		for i, q := range drawn {
			if i%2 == 0 {
				missed[q.ID] = true
				wrongModules[q.Module] = true
			}
		}
		var want []string
		for _, m := range tp.Version.Modules {
			if wrongModules[m.Slug] {
				want = append(want, m.Title)
			}
		}
		b.answerQuiz(t, questions, func(q app.Question) string {
			if missed[q.ID] {
				return wrongOptionOf(q)
			}
			return q.Answer
		})
		b.wantUnder(t, "/quiz/attempts/")
		b.wantText(t, "failed attempt", "Not passed yet", "Sections to read again", "Try again")
		named := evalJS[[]string](t, b, `[...document.querySelectorAll("ul.reread li a")].map(e => e.textContent.trim())`)
		if !slices.Equal(named, want) {
			b.fatalf(t, "the result names %q, want %q", named, want)
		}
		text := b.mainText(t)
		for _, q := range drawn {
			for _, o := range q.Options {
				if missed[q.ID] && strings.Contains(text, o.Text) {
					b.fatalf(t, "the result page shows option %s of %s (answer %s): %q", o.Key, q.ID, q.Answer, o.Text)
				}
			}
		}
		b.axe(t, "failed knowledge check result")
	})
	journeyStep(t, "a retake with the right answers passes", func(t *testing.T) {
		b.press(t, `main a.button[href="/quiz"]`)
		b.wantPath(t, "/quiz")
		answers := tp.answers(e)
		b.answerQuiz(t, questions, func(q app.Question) string { return answers["q."+q.ID] })
		b.wantText(t, "passed attempt", "You passed", "100%")
		b.axe(t, "passed knowledge check result")
	})
	journeyStep(t, "consent is shown and recorded before the sign form", func(t *testing.T) {
		b.openSignForm(t, true)
		b.axe(t, "sign form")
	})
	journeyStep(t, "a name that does not match is refused with a clear message", func(t *testing.T) {
		b.do(t, "type a wrong name", chromedp.SetValue(chromedp.CSS("#typed_name"), "Someone Else"))
		b.tickIntent(t)
		if st := b.press(t, `main form[action="/sign/review"] button[type=submit]`); st != 422 {
			b.fatalf(t, "wrong name: status %d, want 422", st)
		}
		b.wantText(t, "wrong name", "There is a problem", "does not match the name on the roster")
		if id := evalJS[string](t, b, `document.activeElement.id`); id != "error-summary" {
			b.fatalf(t, "focus is on %q, want the error summary", id)
		}
		b.axe(t, "sign form with an error")
	})
	journeyStep(t, "the roster name typed in NFD, other case and extra spaces reaches the review", func(t *testing.T) {
		typed := "  zoe\u0308   CO\u0302TE\u0301 " // "zoë CÔTÉ" with combining accents
		b.do(t, "type the name", chromedp.SetValue(chromedp.CSS("#typed_name"), typed))
		b.tickIntent(t)
		if st := b.press(t, `main form[action="/sign/review"] button[type=submit]`); st != 200 {
			b.fatalf(t, "review: status %d", st)
		}
		b.wantText(t, "review", "Review and sign", "Once you press Sign", tp.Version.Intent)
		b.axe(t, "review before signing")
	})
	journeyStep(t, "Sign records the acknowledgment and shows the confirmation, then the certificate", func(t *testing.T) {
		if st := b.press(t, `main form[action="/sign"] button[type=submit]`); st != 200 {
			b.fatalf(t, "Sign: status %d", st)
		}
		code = b.certificateCode(t)
		b.wantText(t, "confirmation", "Acknowledgment signed", "Thank you", code, "Name you typed", "What happens next")
		b.axe(t, "confirmation")
		b.open(t, tp.BaseURL+"/certificates/"+url.PathEscape(code))
		b.wantText(t, "certificate", "Certificate of acknowledgment", "Zoë Côté", "1005", code)
		b.axe(t, "certificate")
	})
	journeyStep(t, "the PDF downloads with the browser's session and only with it", func(t *testing.T) {
		href := evalJS[string](t, b, `document.querySelector('main a[href$="/pdf"]').href`)
		resp := b.httpGet(t, href)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/pdf") || !strings.HasPrefix(string(body), "%PDF-") {
			t.Fatalf("GET %s: status %d, type %q, starts %q; want 200, application/pdf, %%PDF-",
				href, resp.StatusCode, resp.Header.Get("Content-Type"), body[:min(len(body), 16)])
		}
		noSession := &http.Client{Timeout: browserStepTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		anon, err := noSession.Get(href)
		if err != nil {
			t.Fatal(err)
		}
		anon.Body.Close()
		if anon.StatusCode == 200 || strings.HasPrefix(anon.Header.Get("Content-Type"), "application/pdf") {
			t.Errorf("GET %s without the session: status %d, type %q; want no PDF", href, anon.StatusCode, anon.Header.Get("Content-Type"))
		}
	})
	journeyStep(t, "home shows the signed status and history", func(t *testing.T) {
		b.press(t, `header a.brand`)
		b.wantText(t, "home after signing", "Signed", "View your certificate")
		b.axe(t, "home page (signed)")
	})
	journeyStep(t, "an error page is accessible", func(t *testing.T) {
		if st := b.open(t, tp.BaseURL+"/guidance/does-not-exist"); st != 404 {
			b.fatalf(t, "unknown section: status %d, want 404", st)
		}
		b.axe(t, "not-found error page")
	})
	journeyStep(t, "verify works without a session and shows only name, policy and date", func(t *testing.T) {
		p := b.incognito(t)
		p.open(t, tp.BaseURL+"/verify/"+url.PathEscape(code))
		p.wantText(t, "verify", "Valid certificate", "Zoë Côté", tp.Version.Code)
		if evalJS[bool](t, p, `document.querySelector("form.signout") !== null`) {
			p.fatalf(t, "the private tab is signed in")
		}
		text := p.mainText(t)
		for _, private := range []string{e.EmployeeNumber, e.Email, e.Agency} {
			if private != "" && strings.Contains(text, private) {
				p.fatalf(t, "the verify page shows %q", private)
			}
		}
		p.axe(t, "verify: valid certificate")
		p.open(t, tp.BaseURL+"/verify/ZZZZZ-ZZZZZ")
		p.wantText(t, "verify unknown", "Unknown code")
		p.axe(t, "verify: unknown code")
		p.open(t, tp.BaseURL+"/verify")
		p.axe(t, "verify: empty form")
	})
}

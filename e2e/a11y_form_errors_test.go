package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The error states of the forms, for the accessibility sweep: each form is
// sent with bad input in the browser and the page it comes back as is
// checked with axe, on a desktop and at the size of a phone.

// axeFormErrorState is one refused form: where it is, what to put in it,
// which button sends it, and the field its error is about.
type axeFormErrorState struct {
	name, path string
	fill       map[string]string // CSS selector → value
	submit     string
	field      string
}

// axeFormErrorStates are the forms' error states, by the role that sees them.
var axeFormErrorStates = map[string][]axeFormErrorState{
	"anonymous": {
		{"sign-in: a malformed address", "/signin", map[string]string{"#email": "not an address"}, `main form[action="/signin"] button[type=submit]`, "email"},
	},
	"HR": {
		{"cycles: due before it opens", "/hr/cycles", map[string]string{"#opens_on": "2031-03-01", "#due_on": "2031-02-01"},
			`main form[action="/hr/cycles"] button[type=submit]`, "due_on"},
		{"roster: no file chosen", "/hr/roster", nil, `main form[action="/hr/roster"] button[type=submit]`, "file"},
		{"versions: no file chosen", "/hr/versions", nil, `main form[action="/hr/versions"] button[type=submit]`, "bundle"},
		// Nguyễn Thị Lan (1007) has not signed
		{"paper acknowledgment: no date, no file", "/hr/people/{1007}/paper", nil, `main form[action$="/paper"] button[type=submit]`, "signed_on"},
		{"person: an extension without a date", "/hr/people/{1007}", map[string]string{"#extend_reason": "leave"},
			`main form[action$="/extend"] button[type=submit]`, "extend_due_on"},
		{"person: an exemption ending before it starts", "/hr/people/{1007}", map[string]string{"#exempt_from": "2099-02-01", "#exempt_to": "2099-01-01", "#exempt_reason": "leave"},
			`main form[action$="/exempt"] button[type=submit]`, "exempt_to"},
		{"audit log: the end date before the start", "/hr/audit", map[string]string{"#from": "2026-03-10", "#to": "2026-03-01"},
			`main form[action="/hr/audit"] button[type=submit]`, "to"},
		// the demo's cycle, the first
		{"cycle due date: no reason", "/hr/cycles/1/due", map[string]string{"#due_on": "2099-06-30"},
			`main form[action="/hr/cycles/1/due"] button[type=submit]`, "reason"},
	},
	"admin": {
		{"roles: nobody has that number", "/admin/roles", map[string]string{"#employee_number": "99999"}, `#grant-role button[type=submit]`, "employee_number"},
		{"witnesses: a malformed address", "/admin/witnesses", map[string]string{"#email": "not an address"}, `#add-witness button[type=submit]`, "email"},
		{"supervisors: someone of another agency", "/admin/supervisors", map[string]string{"#employee_number": "2001", "#reason": "letter"},
			`main form[action="/admin/supervisors"] button[type=submit]`, "employee_number"},
		{"supervisors: an end without a reason", "/admin/supervisors", nil, `main form[action="/admin/supervisors/end"] button[type=submit]`, "end_reason"},
		{"accounts: no agency chosen", "/accounts/new", map[string]string{"#platform": "Threads"}, `main form[action="/accounts"] button[type=submit]`, "agency"},
		{"API tokens: no name, no scope", "/admin/api-tokens", nil, `main form[action="/admin/api-tokens"] button[type=submit]`, "name"},
	},
	"supervisor": {
		{"accounts: an address that is not https", "/accounts/new", map[string]string{"#platform": "Threads", "#handle": "StateDAFS", "#url": "http://www.threads.net/@x"},
			`main form[action="/accounts"] button[type=submit]`, "url"},
		// DAFS Facebook StateDAFSNews, the demo's first account
		{"accounts: a review date that is not a date", "/accounts/1/edit", map[string]string{"#review_on": "next spring"},
			`main form[action^="/accounts/"] button[type=submit]`, "review_on"},
	},
}

// axeSweepFormErrors sends each form of axeFormErrorStates with bad input as
// its role, in a tab of its own, and checks the refused page with axe at the
// desktop size and then at 390×844; it returns the sweepers for the report.
func axeSweepFormErrors(t *testing.T, bw *browser, tp *testPortal, fx *axeSweepFixtures) []*axeSweeper {
	var out []*axeSweeper
	for _, role := range axeSweepRoles {
		states := axeFormErrorStates[role.name]
		if len(states) == 0 {
			continue
		}
		s := axeSweepSignIn(t, bw, tp, fx, axeSweepRole{name: role.name + " (form errors)", number: role.number})
		out = append(out, s)
		t.Run(role.name, func(t *testing.T) {
			for _, size := range []string{"desktop", "390×844"} {
				if size == "390×844" {
					s.b.do(t, "emulate a 390×844 phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
				}
				for _, st := range states {
					t.Run(size+" "+st.name, func(t *testing.T) { axeFormError(t, s, st, size) })
				}
			}
		})
	}
	return out
}

var axeFormErrorPersonRE = regexp.MustCompile(`\{[0-9]+\}`)

// axeFormError sends one form with bad input and checks what comes back:
// 422 (or the status of a refused upload), the GOV.UK pattern, then axe.
func axeFormError(t *testing.T, s *axeSweeper, st axeFormErrorState, size string) {
	b := s.b
	// {1005} in a path is the id of the person with that employee number.
	b.open(t, s.tp.BaseURL+axeFormErrorPersonRE.ReplaceAllStringFunc(st.path, func(m string) string {
		return itoa(s.tp.employee(t, m[1:len(m)-1]).ID)
	}))
	for sel, v := range st.fill {
		b.do(t, "fill "+sel, chromedp.SetValue(chromedp.CSS(sel), v))
	}
	if code := b.press(t, st.submit); code != 422 {
		b.fatalf(t, "%s: status %d, want 422", st.name, code)
	}
	got := evalJS[[]string](t, b, `(() => {
		const a = document.querySelector("#error-summary a");
		const f = a && document.getElementById(a.getAttribute("href").slice(1));
		return [document.title, a ? a.getAttribute("href") : "", f ? f.getAttribute("aria-invalid") || "" : "no element",
			f ? f.getAttribute("aria-describedby") || "" : "", (document.getElementById(`+"`${f && f.id}-error`"+`) || {}).textContent || ""];
	})()`)
	if len(got[0]) < 7 || got[0][:7] != "Error: " {
		b.fatalf(t, "%s: the title %q does not start with \"Error: \"", st.name, got[0])
	}
	if got[1] != "#"+st.field || got[2] != "true" || got[4] == "" || !strings.Contains(got[3], st.field+"-error") {
		b.fatalf(t, "%s: summary link %q, aria-invalid %q, described by %q, message beside it %q; want #%s, true, its -error and a message", st.name, got[1], got[2], got[3], got[4], st.field)
	}
	if size != "desktop" {
		if over := evalJS[int](t, b, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
			t.Errorf("%s at 390px: the page scrolls sideways by %dpx", st.name, over)
		}
	}
	s.check(t, st.name+" at "+size, 422)
}

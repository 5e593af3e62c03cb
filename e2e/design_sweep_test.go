package e2e

// The site's frame on every page, and every page at a phone's size: the
// accessibility sweep's machinery (a11y_sweep_test.go) visits every GET page
// of the route table as every role; checkFrame runs on each page it checks.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// designPhoneWidth is the phone the layout must fit: 390 CSS pixels.
const designPhoneWidth = 390

// designFrameJS reads what the layout puts on every page: the banner, the
// header's brand, the footer's links and help address, and whether the
// logo (when there is one) loaded.
const designFrameJS = `(() => {
  const text = sel => { const e = document.querySelector(sel); return e ? e.textContent.replace(/\s+/g, " ").trim() : ""; };
  const logo = document.querySelector("header.site img.brand-logo");
  return {
    banner: text(".gov-banner summary"),
    bannerBody: text(".gov-banner .gov-banner-content"),
    brand: text("header.site .brand"),
    footerLinks: [...document.querySelectorAll("footer.site a")].map(a => a.getAttribute("href")),
    logo: logo ? logo.getAttribute("src") : "",
    logoLoaded: logo ? logo.complete && logo.naturalWidth > 0 : false,
  };
})()`

type designFrame struct {
	Banner      string   `json:"banner"`
	BannerBody  string   `json:"bannerBody"`
	Brand       string   `json:"brand"`
	FooterLinks []string `json:"footerLinks"`
	Logo        string   `json:"logo"`
	LogoLoaded  bool     `json:"logoLoaded"`
}

// checkFrame checks the page in the sweeper's tab for the official-website
// banner, the header and the footer (with the organisation's name, logo and
// help address when the portal has them) and, for a sweeper at a phone's
// size, that the page does not scroll sideways; a page that does is named
// with the role and the elements that stick out, so that whoever made it
// can find them.
func (s *axeSweeper) checkFrame(t *testing.T, what string) {
	t.Helper()
	b := s.b
	f := evalJS[designFrame](t, b, designFrameJS)
	where := s.role.name + ": " + what
	if !strings.Contains(f.Banner, "An official website of the State") || !strings.Contains(f.Banner, "Here’s how you know") {
		t.Errorf("%s: no official-website banner (got %q)", where, f.Banner)
	}
	if !strings.Contains(f.Brand, "Social media policy portal") || !strings.Contains(f.Brand, s.tp.Config.OrgName) {
		t.Errorf("%s: the header's brand is %q, want the portal's and the organisation's name (%q)", where, f.Brand, s.tp.Config.OrgName)
	}
	want := []string{"/verify", "/accessibility", "/privacy"}
	if h := s.tp.Config.HelpEmail; h != "" {
		want = append(want, "mailto:"+h)
	}
	for _, w := range want {
		if !strings.Contains(" "+strings.Join(f.FooterLinks, " ")+" ", " "+w+" ") {
			t.Errorf("%s: the footer has no link to %s (it has %q)", where, w, f.FooterLinks)
		}
	}
	if s.tp.Config.OrgLogo != nil && !f.LogoLoaded {
		t.Errorf("%s: the organisation's logo (%q) did not load", where, f.Logo)
	}
	if s.phone {
		designNoSidewaysScroll(t, b, where)
	}
}

// designNoSidewaysScroll fails the test if the page in the tab is wider than
// the viewport, naming the elements that stick out (WCAG 1.4.10, reflow).
func designNoSidewaysScroll(t *testing.T, b *browser, where string) {
	t.Helper()
	w := evalJS[[]int](t, b, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)
	if w[0] <= w[1] {
		return
	}
	url := evalJS[string](t, b, `location.pathname + location.search`)
	t.Errorf("%s (%s) at %d px: the page is %d px wide and scrolls sideways. Put wide content in a scrolling region "+
		"(<div class=\"table-scroll\" tabindex=\"0\" role=\"region\" aria-labelledby=…>) or let it wrap; what sticks out:\n  %s",
		where, url, w[1], w[0], strings.Join(evalJS[[]string](t, b, designWidestJS), "\n  "))
}

// designPhone makes the sweeper's tab a 390×844 phone.
func designPhone(t *testing.T, s *axeSweeper) {
	t.Helper()
	s.b.do(t, fmt.Sprintf("emulate a %d×844 phone", designPhoneWidth),
		chromedp.EmulateViewport(designPhoneWidth, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
	// A page of the portal (with its viewport meta tag): a blank tab on a
	// mobile screen lays out 980 px wide.
	s.b.open(t, s.tp.BaseURL+"/verify")
	s.phone = true
}

// TestEveryPageFitsAPhoneForEveryRole visits every GET page of the route
// table (and the error pages and empty states of axeSweepExtras) as every
// role, in the open demo cycle, on a 390 px phone: no page scrolls
// sideways, axe-core finds no WCAG 2.1 AA violation, and every page has the
// banner, header and footer. A failure names the page, the role and what
// sticks out.
func TestEveryPageFitsAPhoneForEveryRole(t *testing.T) {
	axeSweepCheckTables(t)
	bw := newBrowser(t, true) // before startTestPortal: a skip must not race its server start
	// The same OpenID provider as the desktop sweep: /signin/oidc goes there
	// and back to the refusal page of someone not on the roster.
	op := startTestOP(t, nil)
	op.set(func(op *testOP) { op.User = map[string]any{"sub": "x", "email": "nobody@elsewhere.example"} })
	tp := startTestPortal(t, testBranding(t), withOIDC(op, "email"))
	publishDocsFixture(t, tp)
	start := time.Now()
	fx := axeSweepFixturesOf(t, tp, "1008")
	sweepers := make([]*axeSweeper, len(axeSweepRoles))
	for i, role := range axeSweepRoles {
		sweepers[i] = axeSweepSignIn(t, bw, tp, fx, role)
		designPhone(t, sweepers[i])
	}
	t.Run("open cycle", func(t *testing.T) {
		for _, s := range sweepers {
			t.Run(s.role.name, func(t *testing.T) {
				t.Parallel()
				if w := evalJS[int](t, s.b, `window.innerWidth`); w != designPhoneWidth {
					t.Fatalf("the viewport is %d wide, want %d", w, designPhoneWidth)
				}
				s.sweep(t, true)
			})
		}
	})
	axeSweepReport(t, sweepers, start)
}

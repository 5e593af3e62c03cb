package e2e

// Helpers of the design tests (design_test.go): a portal that says who runs
// it, with a logo and a help address, as an agency would configure it.

import (
	"testing"

	"portal/handlers"
	"portal/server"
)

// testOrgName and testHelpEmail are what testBranding configures.
const (
	testOrgName   = "Department of Administrative and Financial Services"
	testHelpEmail = "policy-help@agency.example"
)

// testLogoSVG is a small SVG logo: a seal.
const testLogoSVG = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64"><circle cx="32" cy="32" r="30" fill="#fff" stroke="#0b4f8a" stroke-width="4"/><path d="M20 40h24v4H20zM24 26h4v14h-4zM36 26h4v14h-4zM18 22l14-8 14 8z" fill="#0b4f8a"/></svg>`

// testBranding configures the organisation's name, an SVG logo and a help
// address, as PORTAL_ORG_NAME, PORTAL_ORG_LOGO and PORTAL_HELP_EMAIL would.
func testBranding(t testing.TB) func(*server.Config) {
	return func(c *server.Config) {
		c.OrgName, c.HelpEmail = testOrgName, testHelpEmail
		c.OrgLogo = &handlers.Logo{Data: []byte(testLogoSVG), ContentType: "image/svg+xml", Version: "test1"}
	}
}

// designWidestJS lists the elements that stick out past the right edge of
// the viewport and are not inside a box that scrolls or clips them (whose
// overflow the page does not get), outermost first, widest first: a tag,
// its id and class, and its right edge in pixels.
const designWidestJS = `(() => {
  const vw = document.documentElement.clientWidth;
  // An ancestor that scrolls or clips keeps the element's overflow to
  // itself, unless the element is positioned out of it: an absolutely
  // positioned element escapes every box up to its positioned ancestor.
  const clipped = el => {
    let abs = ["absolute", "fixed"].includes(getComputedStyle(el).position);
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const st = getComputedStyle(p);
      if (abs && st.position === "static") continue;
      abs = ["absolute", "fixed"].includes(st.position);
      const o = st.overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden" || o === "clip") return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.right <= vw + 1 || r.width === 0 || clipped(el)) continue;
    if (out.some(o => o.el.contains(el))) continue;
    out.push({el, right: r.right, width: r.width});
  }
  out.sort((a, b) => b.right - a.right);
  return out.slice(0, 5).map(o => "<" + o.el.tagName.toLowerCase() + (o.el.id ? " id=" + o.el.id : "") +
    (o.el.getAttribute("class") ? " class=\"" + o.el.getAttribute("class") + "\"" : "") + "> " +
    Math.round(o.width) + "px wide, its right edge at " + Math.round(o.right) + "px");
})()`

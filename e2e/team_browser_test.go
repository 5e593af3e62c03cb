package e2e

// The manager's team page on a phone (390×844) in a real Chromium, with
// axe-core on every page: the table scrolls inside its own labelled region
// rather than the page sideways, the headers sort it, and the reminders
// (one person, everyone overdue after a confirmation, a refusal) work.

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// wantNoSidewaysScroll fails when the page is wider than the window.
func (b *browser) wantNoSidewaysScroll(t *testing.T, page string) {
	t.Helper()
	if over := evalJS[int](t, b, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
		wide := evalJS[[]string](t, b, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
			.slice(0, 5).map(e => e.tagName.toLowerCase() + (e.getAttribute("class") ? "." + e.getAttribute("class") : "") + " " + Math.round(e.getBoundingClientRect().right) + "px")`)
		b.fatalf(t, "%s at 390px: the page scrolls sideways by %dpx; widest: %q", page, over, wide)
	}
}

func TestTeamPageOnAPhoneInBrowser(t *testing.T) {
	b := newBrowser(t, true) // before startTestPortal: a skip must not race its server start
	tp := startTestPortal(t)
	zoe := tp.employee(t, "1005")

	journeyStep(t, "the team table scrolls in its own labelled region, not the page", func(t *testing.T) {
		b.teamSignIn(t, tp, "1004")
		b.do(t, "emulate a 390×844 phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
		if st := b.open(t, tp.BaseURL+"/team"); st != 200 {
			b.fatalf(t, "/team: status %d", st)
		}
		if w := evalJS[int](t, b, `window.innerWidth`); w != 390 {
			wide := evalJS[[]string](t, b, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 391)
			.slice(0, 8).map(e => e.tagName.toLowerCase() + (e.getAttribute("class") ? "." + e.getAttribute("class") : "") + " " + Math.round(e.getBoundingClientRect().right) + "px")`)
			b.fatalf(t, "the viewport is %d wide, want 390: the page is wider than a phone; widest: %q", w, wide)
		}
		b.wantNoSidewaysScroll(t, "team page")
		region := evalJS[map[string]string](t, b, `(() => { const r = document.querySelector("main table.team").parentElement;
  const label = document.getElementById(r.getAttribute("aria-labelledby") || "");
  return {cls: r.className, role: r.getAttribute("role") || "", tabindex: r.getAttribute("tabindex") || "",
    label: label ? label.textContent.trim() : "", fits: String(r.getBoundingClientRect().right <= window.innerWidth + 1)} })()`)
		if region["cls"] != "table-scroll" || region["role"] != "region" || region["tabindex"] != "0" || region["fits"] != "true" ||
			!strings.HasPrefix(region["label"], "Your people") {
			b.fatalf(t, "the table's wrapper: %v", region)
		}
		if rows := b.teamRows(t); len(rows) != 4 {
			b.fatalf(t, "rows %q", rows)
		}
		b.wantText(t, "team page", zoe.Email, "sections read", "Knowledge check")
		b.axe(t, "team page at 390px")
	})

	journeyStep(t, "the Name header sorts A to Z, then Z to A", func(t *testing.T) {
		if st := b.pressJS(t, "the Name header", `document.querySelector('main table.team thead a[href*="sort=name"]')`); st != 200 {
			b.fatalf(t, "sort by name: status %d", st)
		}
		asc := b.teamRows(t)
		if !slices.IsSortedFunc(asc, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) {
			b.fatalf(t, "by name: %q", asc)
		}
		if s := evalJS[string](t, b, `document.querySelector("main table.team thead th[aria-sort]").textContent`); !strings.HasPrefix(s, "Name") {
			b.fatalf(t, "aria-sort is on %q", s)
		}
		if st := b.pressJS(t, "the Name header again", `document.querySelector('main table.team thead a[href*="sort=-name"]')`); st != 200 {
			b.fatalf(t, "sort by name, descending: status %d", st)
		}
		desc := b.teamRows(t)
		if !equalReversed(asc, desc) {
			b.fatalf(t, "Z to A: %q after %q", desc, asc)
		}
		if s := evalJS[string](t, b, `document.querySelector("main table.team thead th[aria-sort]").getAttribute("aria-sort")`); s != "descending" {
			b.fatalf(t, "aria-sort %q", s)
		}
		b.wantNoSidewaysScroll(t, "team page by name")
		b.axe(t, "team page sorted by name at 390px")
	})

	journeyStep(t, "Send a reminder to one person, then it is refused the same day", func(t *testing.T) {
		b.open(t, tp.BaseURL+"/team")
		sel := `tr:has(> th#person-` + itoa(zoe.ID) + `) form button[type=submit]`
		// A copy of the form, to send it again once the page no longer offers it.
		b.do(t, "keep a copy of the form", chromedp.Evaluate[chromedp.Void](`(() => {
  const f = document.getElementById("person-`+itoa(zoe.ID)+`").closest("tr").querySelector("form").cloneNode(true);
  f.id = "again";
  sessionStorage.setItem("again", f.outerHTML) })()`))
		if st := b.press(t, sel); st != 200 {
			b.fatalf(t, "send a reminder: status %d", st)
		}
		b.wantFlash(t, "team page", "A reminder to "+zoe.FullName+" is on its way")
		if evalJS[bool](t, b, `document.querySelector(`+jsString(sel)+`) !== null`) {
			b.fatalf(t, "the page still offers to remind %s today", zoe.FullName)
		}
		b.wantText(t, "team page after a reminder", "Last reminded")
		b.wantNoSidewaysScroll(t, "team page with a flash")
		b.axe(t, "team page after a reminder at 390px")
		b.do(t, "put the copy back", chromedp.Evaluate[chromedp.Void](`document.body.insertAdjacentHTML("beforeend", sessionStorage.getItem("again"))`))
		if st := b.pressJS(t, "the copy of the form", `document.querySelector("#again button")`); st != 409 {
			b.fatalf(t, "a second reminder the same day: status %d, want 409", st)
		}
		b.wantErrorSummary(t, "refused reminder", zoe.FullName+" was already reminded today")
		b.wantNoSidewaysScroll(t, "refused reminder")
		b.axe(t, "refused reminder at 390px")
	})

	journeyStep(t, "Remind everyone overdue: the confirmation states the number, then sends", func(t *testing.T) {
		if st := b.press(t, `main a[href="/team/remind-overdue"]`); st != 200 {
			b.fatalf(t, "remind everyone overdue: status %d", st)
		}
		b.wantText(t, "confirmation", "1 person of your team is overdue and will get a reminder", "Send 1 reminder")
		b.wantNoSidewaysScroll(t, "confirmation")
		b.axe(t, "remind everyone overdue at 390px")
		if st := b.press(t, `main form[action="/team/remind-overdue"] button[type=submit]`); st != 200 {
			b.fatalf(t, "send: status %d", st)
		}
		b.wantPath(t, "/team")
		b.wantFlash(t, "team page", "A reminder is on its way to the one person overdue")
		if evalJS[bool](t, b, `document.querySelector('main a[href="/team/remind-overdue"]') !== null`) {
			b.fatalf(t, "the page still offers to remind everyone overdue")
		}
		b.axe(t, "team page after reminding everyone overdue at 390px")
	})
}

// equalReversed reports whether b is a in reverse order.
func equalReversed(a, b []string) bool {
	r := slices.Clone(a)
	slices.Reverse(r)
	return slices.Equal(r, b)
}

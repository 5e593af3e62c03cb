package e2e

// Looking like a state service (issue 15, point 8): the organisation's name,
// logo and help address; a header that stays on one line at desktop width
// with the longest menu; the banner that opens without JavaScript; the
// accessibility statement and the privacy notice.

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"portal/server"
)

// designPNG returns a small PNG image.
func designPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{B: 0x8a, A: 0xff})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestOrgBrandingSettings: PORTAL_ORG_NAME, PORTAL_ORG_LOGO and
// PORTAL_HELP_EMAIL are read once at start-up; a logo that is missing, of
// another type or too large, a help address that is not one, or a name of
// several lines stops the start with a message naming the variable; a good
// logo is served from the portal with a long cache and shown on every page.
func TestOrgBrandingSettings(t *testing.T) {
	secClearEnv(t)
	for _, k := range []string{"PORTAL_ORG_NAME", "PORTAL_ORG_LOGO", "PORTAL_HELP_EMAIL"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pngLogo := designPNG(t)

	t.Run("a PNG, an SVG and a JPEG are accepted, by their content", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			data []byte
			want string
		}{
			{"seal.png", pngLogo, "image/png"},
			{"seal.svg", []byte(testLogoSVG), "image/svg+xml"},
			{"seal.jpg", append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, make([]byte, 64)...), "image/jpeg"},
			{"seal-without-extension", pngLogo, "image/png"},
		} {
			t.Setenv("PORTAL_ORG_LOGO", file(tc.name, tc.data))
			cfg, err := server.LoadConfig(false)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if cfg.OrgLogo == nil || cfg.OrgLogo.ContentType != tc.want || !bytes.Equal(cfg.OrgLogo.Data, tc.data) || cfg.OrgLogo.Version == "" {
				t.Errorf("%s: read as %+v, want %s", tc.name, cfg.OrgLogo, tc.want)
			}
		}
		t.Setenv("PORTAL_ORG_LOGO", "")
	})

	t.Run("a bad value stops the start, naming the variable", func(t *testing.T) {
		gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
		for _, tc := range []struct {
			name, value, want string
		}{
			{"PORTAL_ORG_LOGO", filepath.Join(dir, "no-such-logo.png"), "no such file"},
			{"PORTAL_ORG_LOGO", file("logo.gif", gif), "not a PNG, SVG or JPEG"},
			{"PORTAL_ORG_LOGO", file("logo.png", []byte("this is a text file named .png")), "not a PNG, SVG or JPEG"},
			{"PORTAL_ORG_LOGO", file("huge.png", append(slicesClone(pngLogo), make([]byte, server.MaxLogoBytes)...)), "larger than 256 KB"},
			{"PORTAL_ORG_LOGO", dir, "is a directory"},
			{"PORTAL_HELP_EMAIL", "help desk", "must be one e-mail address"},
			{"PORTAL_HELP_EMAIL", "Help <help@agency.example>", "must be one e-mail address"},
			{"PORTAL_ORG_NAME", "Department of Labor\nBureau of Employment Services", "one line"},
			{"PORTAL_ORG_NAME", strings.Repeat("Department ", 12), "at most 120 characters"},
		} {
			t.Setenv(tc.name, tc.value)
			_, err := server.LoadConfig(false)
			if err == nil || !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s=%q: %v, want an error naming %s and saying %q", tc.name, tc.value, err, tc.name, tc.want)
			}
			// The command refuses to start, with the same message.
			t.Setenv("PORTAL_DB", filepath.Join(t.TempDir(), "portal.db"))
			var out bytes.Buffer
			err = server.Run(context.Background(), []string{"demo"}, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tc.name) {
				t.Errorf("demo with %s=%q started: %v\n%s", tc.name, tc.value, err, out.String())
			}
			t.Setenv(tc.name, "")
		}
	})

	t.Run("the demo names an organisation and a help address; serve names none unless told", func(t *testing.T) {
		demo, err := server.LoadConfig(true)
		if err != nil {
			t.Fatal(err)
		}
		if demo.OrgName == "" || demo.HelpEmail == "" {
			t.Errorf("the demo has no organisation name (%q) or help address (%q)", demo.OrgName, demo.HelpEmail)
		}
		serve, err := server.LoadConfig(false)
		if err != nil {
			t.Fatal(err)
		}
		if serve.OrgName != "" || serve.HelpEmail != "" || serve.OrgLogo != nil {
			t.Errorf("serve made up an organisation: %q %q %v", serve.OrgName, serve.HelpEmail, serve.OrgLogo)
		}
	})

	t.Run("a running portal shows them and serves the logo with a long cache", func(t *testing.T) {
		t.Setenv("PORTAL_DB", filepath.Join(t.TempDir(), "portal.db"))
		t.Setenv("PORTAL_ORG_NAME", "Maine Department of Labor")
		t.Setenv("PORTAL_ORG_LOGO", file("dol.png", pngLogo))
		t.Setenv("PORTAL_HELP_EMAIL", "policy-help@maine.example")
		stdout, logs := &syncBuffer{}, &syncBuffer{}
		base, stop := secRunServer(t, "demo", stdout, logs)
		defer stop()
		c := newClient(t, base)
		for _, page := range []string{"/signin", "/verify", "/accessibility", "/privacy", "/no-such-page"} {
			r := c.get(page)
			for _, want := range []string{"Maine Department of Labor", `<img class="brand-logo" src="/org-logo?v=`,
				`href="mailto:policy-help@maine.example"`, "An official website of the State", `href="/accessibility"`, `href="/privacy"`} {
				if !strings.Contains(r.Body, want) {
					t.Errorf("GET %s (%d) does not have %s", page, r.Status, want)
				}
			}
		}
		src := strings.SplitN(strings.SplitN(c.get("/").Body, `<img class="brand-logo" src="`, 2)[1], `"`, 2)[0]
		r := c.get(strings.ReplaceAll(src, "&amp;", "&"))
		if r.Status != 200 || r.Body != string(pngLogo) {
			t.Fatalf("GET %s: status %d, %d bytes, want the logo file (%d bytes)", src, r.Status, len(r.Body), len(pngLogo))
		}
		for h, want := range map[string]string{"Content-Type": "image/png", "Cache-Control": "max-age=31536000",
			"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"} {
			if got := r.Header.Get(h); !strings.Contains(got, want) {
				t.Errorf("the logo's %s is %q, want %q in it", h, got, want)
			}
		}
	})

	t.Run("without a logo there is none to fetch", func(t *testing.T) {
		tp := startTestPortal(t)
		c := newClient(t, tp.BaseURL)
		if r := c.get("/org-logo"); r.Status != 404 {
			t.Errorf("GET /org-logo with no logo: status %d, want 404", r.Status)
		}
		if body := c.get("/verify").Body; strings.Contains(body, "brand-logo") || !strings.Contains(body, "Ask your agency’s human resources office") {
			t.Errorf("a portal with no logo or help address shows one:\n%s", body)
		}
	})
}

func slicesClone(b []byte) []byte { return append([]byte(nil), b...) }

// designWrappedDatesJS lists the date cells of the page's tables whose text
// takes more than one line.
const designWrappedDatesJS = `[...document.querySelectorAll("main td.date")].filter(td => {
  const r = document.createRange(); r.selectNodeContents(td);
  return new Set([...r.getClientRects()].map(q => Math.round(q.top))).size > 1;
}).map(td => td.textContent.trim())`

// designChartTextJS is the size on screen, in CSS pixels, of each text of
// the completion chart: its font size in SVG units times the SVG's scale.
const designChartTextJS = `(() => {
  const svg = document.querySelector("main figure.chart svg");
  if (!svg) return [];
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll("text")].map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
})()`

// designHeaderJS measures the header: the brand, the signed-in name, the
// sign-out button and each entry of the menu.
const designHeaderJS = `(() => {
  const box = sel => { const e = document.querySelector(sel); if (!e) return null; const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; };
  return {
    brand: box("header.site .brand"), who: box("header.site .who"), signOut: box("header.site .signout button"),
    menu: [...document.querySelectorAll("header.site nav[aria-label=Main] li")].map(li => li.getBoundingClientRect().top),
    menuText: [...document.querySelectorAll("header.site nav[aria-label=Main] li")].map(li => li.textContent.trim()),
  };
})()`

type designBox struct{ Top, Bottom float64 }

type designHeader struct {
	Brand, Who, SignOut *designBox
	Menu                []float64
	MenuText            []string `json:"menuText"`
}

// overlaps says whether two boxes share a line: one's vertical span meets the other's.
func (a *designBox) overlaps(b *designBox) bool {
	return a != nil && b != nil && a.Top < b.Bottom && b.Top < a.Bottom
}

// TestHeaderStaysOnOneLine: at 1,280 px, with the longest menu there is
// (an administrator who is also HR and a manager) and the organisation's
// long name, the name of who is signed in and "Sign out" stay on the
// brand's line and the menu is one row; at 390 px the same header does not
// make the page scroll sideways; and the banner's "Here's how you know"
// opens without JavaScript.
func TestHeaderStaysOnOneLine(t *testing.T) {
	bw := newBrowser(t, false) // JavaScript off: the header and the banner must not need it
	tp := startTestPortal(t, testBranding(t))
	// The administrator makes Hannah Roy (1002: HR, a manager) an administrator too.
	admin := newClient(t, tp.BaseURL)
	admin.signIn(tp.signInLink(t, "1003"))
	admin.get("/admin/roles")
	if r := admin.post("/admin/roles", form("employee_number", "1002", "role", "admin", "action", "grant")); r.Status != 303 {
		t.Fatalf("grant the admin role: status %d", r.Status)
	}
	b := bw
	b.open(t, tp.signInLink(t, "1002"))
	if st := b.press(t, `main form button[type=submit]`); st != 200 {
		b.fatalf(t, "sign in: status %d", st)
	}
	want := []string{"Home", "Guidance", "Knowledge check", "Sign", "Your team", "HR", "Admin", "Accounts"}

	for _, page := range []string{"/", "/hr", "/hr/people", "/hr/audit", "/admin/roles", "/team", "/privacy"} {
		b.do(t, "a 1280×900 window", chromedp.EmulateViewport(1280, 900))
		b.open(t, tp.BaseURL+page)
		h := evalJS[designHeader](t, b, designHeaderJS)
		if strings.Join(h.MenuText, ",") != strings.Join(want, ",") {
			t.Fatalf("%s: the menu is %q, want the longest one, %q", page, h.MenuText, want)
		}
		if !h.SignOut.overlaps(h.Brand) || !h.Who.overlaps(h.Brand) {
			t.Errorf("%s at 1280 px: the name (%+v) and Sign out (%+v) are not on the brand's line (%+v)", page, h.Who, h.SignOut, h.Brand)
		}
		for i, top := range h.Menu {
			if top != h.Menu[0] {
				t.Errorf("%s at 1280 px: the menu wraps: %q is on another row (%v)", page, h.MenuText[i], h.Menu)
				break
			}
		}
		designNoSidewaysScroll(t, b, "the longest menu: "+page)
		// HR, team and admin pages are wide, and their dates never wrap.
		wide := page != "/" && page != "/privacy"
		if w := evalJS[float64](t, b, `document.querySelector("main").getBoundingClientRect().width`); wide && w < 1100 {
			t.Errorf("%s at 1280 px: the main column is %.0f px wide, want the wide layout (1,100 px or more)", page, w)
		}
		if n := evalJS[int](t, b, `document.querySelectorAll("main td.date").length`); n == 0 && (page == "/hr/people" || page == "/hr/audit" || page == "/team") {
			t.Errorf("%s: no date cells (td.date) to check", page)
		}
		if wrapped := evalJS[[]string](t, b, designWrappedDatesJS); len(wrapped) > 0 {
			t.Errorf("%s at 1280 px: dates wrap onto two lines: %q", page, wrapped)
		}
		b.do(t, "a 390×844 phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
		b.open(t, tp.BaseURL+page)
		designNoSidewaysScroll(t, b, "the longest menu: "+page)
		if page == "/hr" {
			// The chart's words are drawn in SVG units: scaled to the phone they must stay 12 px or more.
			sizes := evalJS[[]float64](t, b, designChartTextJS)
			if len(sizes) == 0 {
				t.Error("/hr at 390 px: the chart has no labels")
			}
			for _, px := range sizes {
				if px < 12 {
					t.Errorf("/hr at 390 px: a chart label is %.1f px, want 12 or more", px)
					break
				}
			}
		}
	}

	t.Run("the banner opens without JavaScript", func(t *testing.T) {
		nojs := bw
		nojs.do(t, "a 1280×900 window", chromedp.EmulateViewport(1280, 900))
		nojs.open(t, tp.BaseURL+"/verify")
		shown := `document.querySelector(".gov-banner-content").checkVisibility()`
		if evalJS[bool](t, nojs, shown) {
			t.Fatal("the banner's explanation shows before it is asked for")
		}
		nojs.do(t, "press Here's how you know", chromedp.Click(chromedp.CSS(".gov-banner summary")))
		if !evalJS[bool](t, nojs, shown) {
			t.Fatal("pressing “Here’s how you know” with JavaScript off shows nothing")
		}
		nojs.wantText(t, "banner", "Verify a certificate")
		if txt := evalJS[string](t, nojs, `document.querySelector(".gov-banner-content").textContent`); !strings.Contains(txt, "Secure pages use HTTPS") || !strings.Contains(txt, testOrgName) {
			t.Errorf("the banner's explanation: %q", txt)
		}
	})
}

// TestAccessibilityAndPrivacyPages: both pages are public and say what the
// portal does: the standard and how it is tested; what is kept (IP
// addresses included), why, for how long and who sees it; and where to write.
func TestAccessibilityAndPrivacyPages(t *testing.T) {
	tp := startTestPortal(t, testBranding(t))
	c := newClient(t, tp.BaseURL)
	for page, want := range map[string][]string{
		"/accessibility": {"WCAG", "2.1", "AA", "axe-core", "keyboard", "390 pixels", "without JavaScript", "mailto:" + testHelpEmail},
		"/privacy": {"IP address", "user agent", "employee number", "records-retention period", "15 minutes", "30 minutes",
			"Your managers", "Human resources staff", "Verify a certificate", "cookies", "mailto:" + testHelpEmail, testOrgName},
	} {
		r := c.get(page)
		if r.Status != 200 {
			t.Fatalf("GET %s signed out: status %d", page, r.Status)
		}
		for _, w := range want {
			if !strings.Contains(r.Body, w) {
				t.Errorf("GET %s does not say %q", page, w)
			}
		}
	}
	// Linked from the footer of every page, signed in or not.
	c.signIn(tp.signInLink(t, "1005"))
	for _, page := range []string{"/", "/guidance", "/verify"} {
		body := c.get(page).Body
		if !strings.Contains(body, `<a href="/accessibility">`) || !strings.Contains(body, `<a href="/privacy">`) {
			t.Errorf("GET %s: no footer links to the accessibility statement and the privacy notice", page)
		}
	}
}

// TestPhoneCheckCatchesSidewaysScroll proves the 390 px check is no no-op:
// a page made wider than the phone is caught and the element that sticks
// out is named, while a wide table inside a scrolling region is not blamed.
func TestPhoneCheckCatchesSidewaysScroll(t *testing.T) {
	b := newBrowser(t, true)
	tp := startTestPortal(t, testBranding(t))
	b.do(t, "a 390×844 phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
	b.open(t, tp.BaseURL+"/privacy")
	fits := `document.documentElement.scrollWidth <= document.documentElement.clientWidth`
	if !evalJS[bool](t, b, fits) {
		t.Fatalf("the privacy notice scrolls sideways as served: %q", evalJS[[]string](t, b, designWidestJS))
	}
	// A wide table in its region: the region scrolls, the page does not.
	b.do(t, "widen the table", chromedp.Evaluate[chromedp.Void](`document.querySelector("main .table-scroll table").style.minWidth = "900px"`))
	if !evalJS[bool](t, b, fits) || len(evalJS[[]string](t, b, designWidestJS)) != 0 {
		t.Fatalf("a wide table inside .table-scroll made the page scroll: %q", evalJS[[]string](t, b, designWidestJS))
	}
	// The same table out of its region pushes the page sideways, and is named.
	b.do(t, "take it out", chromedp.Evaluate[chromedp.Void](`(() => { const t = document.querySelector("main .table-scroll table");
		t.classList.add("too-wide"); document.querySelector("main").append(t); })()`))
	if evalJS[bool](t, b, fits) {
		t.Fatal("a 900 px table in the page did not make it scroll")
	}
	if w := evalJS[[]string](t, b, designWidestJS); len(w) == 0 || !strings.HasPrefix(w[0], `<table class="plain-rows too-wide"> 900px wide`) {
		t.Fatalf("the widest element named: %q, want the table", w)
	}
}

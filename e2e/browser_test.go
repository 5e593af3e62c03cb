package e2e

// The browser test harness: Debian's Chromium driven by chromedp, axe-core
// injected into each page, and helpers that fail with the page's address and
// the text of its <main> so a broken step explains itself.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browserStepTimeout bounds every browser action, so that a hang fails the
// test instead of blocking CI.
const browserStepTimeout = 30 * time.Second

// browserTools returns the paths of Chromium and of axe.min.js, from the
// environment variables PORTAL_CHROMIUM and PORTAL_AXE that the Makefile
// exports. When either is missing the test fails if CI is set and is skipped
// otherwise: a missing tool never passes silently in CI. Under -short (the
// fast inner loop) browser tests are skipped; `make test` runs them all.
func browserTools(t testing.TB) (chromium, axe string) {
	t.Helper()
	if testing.Short() {
		t.Skip("a browser test: skipped under -short (make test runs it)")
	}
	chromium = os.Getenv("PORTAL_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	axe = axePath()
	var missing []string
	if p, err := exec.LookPath(chromium); err != nil {
		missing = append(missing, fmt.Sprintf("Chromium (%s: %v)", chromium, err))
	} else {
		chromium = p
	}
	if st, err := os.Stat(axe); err != nil || st.IsDir() {
		missing = append(missing, fmt.Sprintf("axe-core (%s: %v)", axe, err))
	}
	if len(missing) > 0 {
		msg := "browser tests need " + strings.Join(missing, " and ") +
			"; run `make test`, which installs them (never a browser that a tool downloads)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return chromium, axe
}

// axePath is where axe.min.js is: PORTAL_AXE, or node_modules at the
// repository's root (go test runs in e2e/), where `make test` installs it.
func axePath() string {
	if p := os.Getenv("PORTAL_AXE"); p != "" {
		return p
	}
	return filepath.Join("..", "node_modules", "axe-core", "axe.min.js")
}

// axeSource reads axe.min.js once for all the tests.
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(axePath())
	return string(b), err
})

// browser is one headless Chromium with one tab. Its methods take the
// *testing.T of the (sub)test that uses it.
type browser struct {
	ctx     context.Context // the tab; it has no deadline of its own
	scripts bool            // false when JavaScript is disabled in the tab
	output  *syncBuffer     // Chromium's stdout and stderr
}

// newBrowser starts Chromium for the test with a fresh profile and opens a
// tab. With scripts false, JavaScript is disabled in the tab before its first
// navigation. The browser stops when the test ends.
func newBrowser(t *testing.T, scripts bool) *browser {
	t.Helper()
	chromium, _ := browserTools(t)
	out := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(out),
	)
	// A bound on a browser that hangs, not a speed goal: the sweep of every
	// page for every role on a loaded two-core machine takes about ten minutes.
	root, cancelRoot := context.WithTimeout(t.Context(), 30*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(root, opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancelRoot() })
	var first []chromedp.Action[chromedp.Void]
	if !scripts {
		first = append(first, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))
	}
	b := &browser{ctx: tab, scripts: scripts, output: out}
	b.start(t, "start Chromium", cancelTab, first...)
	return b
}

// start runs the first actions of a chromedp context, which start the browser
// or open the tab. It must use the context itself (a deadline on the first run
// would end the browser with it), so a timer cancels the context instead.
func (b *browser) start(t *testing.T, what string, cancel context.CancelFunc, first ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(b.ctx, first...) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v\nChromium output:\n%s", what, err, b.output.String())
		}
	case <-time.After(2 * browserStepTimeout):
		cancel()
		t.Fatalf("%s: no answer in %v\nChromium output:\n%s", what, 2*browserStepTimeout, b.output.String())
	}
}

// incognito opens a tab in a new browser context of the same Chromium: no
// cookies, like a private window, and JavaScript on. It closes when the test
// ends.
func (b *browser) incognito(t *testing.T) *browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	nb := &browser{ctx: ctx, scripts: true, output: b.output}
	nb.start(t, "open a private tab", cancel)
	return nb
}

// browse runs one action that returns a value under the step timeout, and
// fails the test with a dump of the page if it fails.
func browse[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fatalf(t, "%s: %v", what, err)
	}
	return v
}

// do runs actions that return nothing under the step timeout, and fails the
// test with a dump of the page if one fails.
func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	browse(t, b, what, chromedp.Steps(actions...))
}

// evalJS evaluates a JavaScript expression in the page (DevTools evaluation,
// which works even when the page's own scripts are disabled).
func evalJS[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	return browse(t, b, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// open loads url and returns the HTTP status of the document.
func (b *browser) open(t *testing.T, url string) int64 {
	t.Helper()
	resp := browse(t, b, "open "+url, chromedp.NavigateResponse(url))
	if resp == nil {
		b.fatalf(t, "open %s: no response", url)
	}
	return resp.Status
}

// navigate runs actions that load a new page (a click on a link or a submit
// button, a key press), waits for it and returns its HTTP status.
func (b *browser) navigate(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err == nil && resp == nil {
		err = errors.New("no response")
	}
	if err != nil {
		b.fatalf(t, "%s: %v", what, err)
	}
	return resp.Status
}

// press clicks the element that the CSS selector finds (a link or a button)
// with the mouse, and returns the HTTP status of the page it loads.
func (b *browser) press(t *testing.T, sel string) int64 {
	t.Helper()
	return b.navigate(t, "press "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// mainText returns the rendered text of the page's <main>.
func (b *browser) mainText(t *testing.T) string {
	t.Helper()
	return evalJS[string](t, b, `(document.querySelector("main") || document.body).innerText`)
}

// wantText fails unless the text of <main> holds every one of want.
func (b *browser) wantText(t *testing.T, page string, want ...string) {
	t.Helper()
	text := b.mainText(t)
	for _, w := range want {
		if !strings.Contains(text, w) {
			b.fatalf(t, "%s: the page does not say %q", page, w)
		}
	}
}

// wantPath fails unless the page's path (without the query) is path.
func (b *browser) wantPath(t *testing.T, path string) {
	t.Helper()
	if got := evalJS[string](t, b, `location.pathname`); got != path {
		b.fatalf(t, "expected the page %s, got %s", path, got)
	}
}

// wantUnder fails unless the page's path starts with prefix.
func (b *browser) wantUnder(t *testing.T, prefix string) {
	t.Helper()
	if got := evalJS[string](t, b, `location.pathname`); !strings.HasPrefix(got, prefix) {
		b.fatalf(t, "expected a page under %s, got %s", prefix, got)
	}
}

// fatalf fails the test with the message, the page's address and the text of
// its <main>. It uses a fresh timeout, so it works after a step timed out.
func (b *browser) fatalf(t *testing.T, format string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		url = "(unknown: " + err.Error() + ")"
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("main") || document.body || {}).innerText || ""`))
	if err != nil {
		text = "(unreadable: " + err.Error() + ")"
	}
	t.Fatalf(format+"\n--- page %s\n--- <main> text:\n%s\n---", append(args, url, text)...)
}

// cookies returns the browser's cookies for url.
func (b *browser) cookies(t *testing.T, url string) []*network.Cookie {
	t.Helper()
	res := browse(t, b, "read cookies", func(ctx context.Context, _ *chromedp.Target) (network.GetCookiesResult, error) {
		return chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	})
	return res.Cookies
}

// httpGet fetches url with Go's HTTP client and the browser's cookies, as a
// download from the browser would. The caller closes the body.
func (b *browser) httpGet(t *testing.T, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range b.cookies(t, url) {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := (&http.Client{Timeout: browserStepTimeout}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp
}

// axeViolation is the part of an axe-core violation that a failure reports.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// axeRun runs axe-core on the document for WCAG 2.0 and 2.1 A and AA, and
// keeps only what a report needs.
const axeRun = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
    nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary || ''}))})))`

// axeViolations injects axe-core into the page of the chromedp tab ctx if it
// is not there yet, and returns what it finds against WCAG 2.1 A and AA.
func axeViolations(ctx context.Context) ([]axeViolation, error) {
	src, err := axeSource()
	if err != nil {
		return nil, fmt.Errorf("read axe-core: %w (run `make test`, which installs it)", err)
	}
	ctx, cancel := context.WithTimeout(ctx, browserStepTimeout)
	defer cancel()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err == nil && !loaded {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](src))
	}
	if err != nil {
		return nil, fmt.Errorf("inject axe-core: %w", err)
	}
	return chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
}

// checkAxe injects axe-core into the page of the chromedp tab ctx, runs it for
// WCAG 2.1 A and AA and fails the test on any violation, listing each one's
// id, impact, help and the selectors of its nodes. It then checks the form
// labels by hand (see checkLabels).
func checkAxe(t *testing.T, ctx context.Context, pageName string) {
	t.Helper()
	violations, err := axeViolations(ctx)
	if err != nil {
		t.Fatalf("axe on %s: %v", pageName, err)
	}
	if len(violations) > 0 {
		var sb strings.Builder
		for _, v := range violations {
			fmt.Fprintf(&sb, "\n  %s (%s): %s", v.ID, v.Impact, v.Help)
			for _, n := range v.Nodes {
				fmt.Fprintf(&sb, "\n    at %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
			}
		}
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		url, _ := chromedp.Run(lctx, chromedp.Location())
		t.Errorf("axe on %s (%s): %d WCAG 2.1 AA violation(s):%s", pageName, url, len(violations), sb.String())
	}
	checkLabels(t, ctx, pageName)
}

// unlabelledControls lists the visible form controls that have no label of
// their own: no <label for>, aria-label or aria-labelledby with text. A
// placeholder does not count (WCAG 3.3.2), and axe-core does not catch that.
const unlabelledControls = `(() => {
  const text = el => ((el && el.textContent) || "").trim();
  const bad = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (el.tagName === "INPUT" && ["hidden", "submit", "button", "reset", "image"].includes(type)) continue;
    if (el.getClientRects().length === 0) continue;
    let ok = (el.getAttribute("aria-label") || "").trim() !== "";
    const ids = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
    if (ids.length > 0 && ids.every(id => text(document.getElementById(id)) !== "")) ok = true;
    if (el.id) for (const l of document.querySelectorAll("label[for]")) if (l.htmlFor === el.id && text(l) !== "") ok = true;
    if (!ok) bad.push(el.outerHTML.slice(0, 200));
  }
  return bad;
})()`

// checkLabels fails the test if a visible input, select or textarea of the
// page in the tab ctx relies on a placeholder, or nothing, for its label.
func checkLabels(t *testing.T, ctx context.Context, pageName string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, browserStepTimeout)
	defer cancel()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](unlabelledControls))
	if err != nil {
		t.Fatalf("labels on %s: %v", pageName, err)
	}
	for _, el := range bad {
		t.Errorf("labels on %s: a form control has no <label for>, aria-label or aria-labelledby (a placeholder is not a label): %s", pageName, el)
	}
}

// axe checks the page in the tab with checkAxe. The journey calls it on every
// page; with JavaScript disabled it checks only the labels, since axe-core is
// JavaScript.
func (b *browser) axe(t *testing.T, pageName string) {
	t.Helper()
	if b.scripts {
		checkAxe(t, b.ctx, pageName)
	} else {
		checkLabels(t, b.ctx, pageName)
	}
}

// TestBrowserHarnessCatchesViolations proves that the checks are not
// no-ops: a page given an image without alt text and an input labelled only
// by a placeholder fails them.
func TestBrowserHarnessCatchesViolations(t *testing.T) {
	b := newBrowser(t, true) // before startTestPortal: a skip must not race its server start
	tp := startTestPortal(t)
	b.open(t, tp.BaseURL+"/verify")
	if v, err := axeViolations(b.ctx); err != nil || len(v) != 0 {
		b.fatalf(t, "the verify page as served: violations %+v, err %v", v, err)
	}
	b.do(t, "break the page", chromedp.Evaluate[chromedp.Void](`document.querySelector("main").insertAdjacentHTML("beforeend",
		'<img src="/static/css/site.css"><input type="text" name="nick" placeholder="Your nickname">')`))
	v, err := axeViolations(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(v, func(v axeViolation) bool { return v.ID == "image-alt" }) {
		t.Errorf("axe missed an image without alt text: %+v", v)
	}
	bad := evalJS[[]string](t, b, unlabelledControls)
	if len(bad) != 1 || !strings.Contains(bad[0], "nick") {
		t.Errorf("the label check found %q, want the placeholder-only input", bad)
	}
}

package e2e

// The accessibility sweep (SPEC §5): every GET page of the route table, for
// every role, checked with axe-core in a real Chromium — whatever comes back,
// so the "Not allowed", "Page not found", expired-link and bad-filter pages
// and the empty states are checked as well as the pages themselves. The list
// of pages comes from handlers.Routes(), so a new GET page is swept without
// touching the sweep's files; only a new path parameter needs an entry in
// axeSweepParams (the test says so), and a new download one in
// axeSweepDownloads (both in a11y_sweep_tables_test.go). Then HR closes the
// cycle and the signed-in roles are swept again, for the "no open cycle"
// states, together with HR in a second portal that has never had a cycle; and
// the employee's journey is checked once more at a phone's size.

import (
	"slices"
	"testing"
	"time"
)

// TestEveryPageIsAccessibleForEveryRole runs axe-core on every GET page of
// the route table as every role (anonymous, employee 1005, manager 1004, HR
// 1002, admin 1003), each signed in in its own private tab of one Chromium,
// in the open demo cycle and again once HR has closed it (and as HR in a
// portal that never had a cycle), plus the error pages and empty states of
// axeSweepExtras and, at a phone's size, the employee's journey to the
// certificate. Downloads get their content type checked instead.
func TestEveryPageIsAccessibleForEveryRole(t *testing.T) {
	axeSweepCheckTables(t)
	bw := newBrowser(t, true) // before startTestPortal: a skip must not race its server start
	// The organisation's name, logo and help address, as an agency configures them.
	// With an OpenID provider whose user is not on the roster: /signin/oidc
	// goes there and back to the refusal page.
	op := startTestOP(t, nil)
	op.set(func(op *testOP) { op.User = map[string]any{"sub": "x", "email": "nobody@elsewhere.example"} })
	tp := startTestPortal(t, testBranding(t), withOIDC(op, "email"))
	publishDocsFixture(t, tp) // a version with an official document to download
	bare := axeSweepBarePortal(t)
	start := time.Now()
	fx := axeSweepFixturesOf(t, tp, "1008")
	if fx.code == "ZZZZZ-ZZZZZ" {
		t.Fatal("1008 has no acknowledgment in the demo data")
	}

	sweepers := make([]*axeSweeper, len(axeSweepRoles))
	for i, role := range axeSweepRoles {
		sweepers[i] = axeSweepSignIn(t, bw, tp, fx, role)
	}
	phone := axeSweepSignIn(t, bw, tp, fx, axeSweepRole{name: "employee on a phone", number: "1005"})
	// HR in a portal that has never had a cycle, for the "no cycle yet" states.
	bareHR := axeSweepSignIn(t, bw, bare, axeSweepFixturesOf(t, bare, "1005"), axeSweepRole{name: "HR, no cycle ever", number: "1002"})
	all := append(slices.Clone(sweepers), phone, bareHR)

	t.Run("open cycle", func(t *testing.T) {
		for _, s := range sweepers {
			t.Run(s.role.name, func(t *testing.T) {
				t.Parallel()
				s.sweep(t, true)
				if s.role.number == "1005" {
					t.Run("phone", func(t *testing.T) { axeSweepPhone(t, phone) })
				}
			})
		}
	})
	t.Run("form errors", func(t *testing.T) {
		all = append(all, axeSweepFormErrors(t, bw, tp, fx)...)
	})
	if t.Failed() {
		axeSweepReport(t, all, start)
		t.FailNow()
	}

	t.Run("HR closes the cycle", func(t *testing.T) {
		var hr *axeSweeper
		for _, s := range sweepers {
			if s.role.number == "1002" {
				hr = s
			}
		}
		hr.b.open(t, tp.BaseURL+"/hr/cycles")
		// Closing is confirmed on a page of its own that says what it does.
		if st := hr.b.press(t, `main a[href$="/close"]`); st != 200 {
			hr.b.fatalf(t, "the page confirming the close: status %d", st)
		}
		hr.b.wantText(t, "close confirmation", "have not signed", "stay as evidence")
		if st := hr.b.press(t, `main form[action$="/close"] button[type=submit]`); st != 200 {
			hr.b.fatalf(t, "close the cycle: status %d", st)
		}
		hr.b.wantPath(t, "/hr/cycles")
		hr.b.wantFlash(t, "cycle closed", "The cycle is closed.")
		hr.check(t, "/hr/cycles (the cycle closed)", 200)
		if n := tp.count(t, `SELECT COUNT(*) FROM cycles WHERE open = 1 AND kind = 'personal-use'`); n != 0 {
			t.Fatalf("%d cycles still open", n)
		}
	})

	// Signed out, nothing depends on the cycle: the anonymous pages are not
	// swept again.
	t.Run("no open cycle", func(t *testing.T) {
		for _, s := range append(slices.Clone(sweepers[1:]), bareHR) {
			t.Run(s.role.name, func(t *testing.T) {
				t.Parallel()
				s.sweep(t, false)
			})
		}
	})
	axeSweepReport(t, all, start)
}

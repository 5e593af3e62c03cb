package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// TestCycleChangesAreConfirmedWithNumbers is issue 15's "Close" and "Use
// this version" acting at once: each now has a page saying what will
// happen, with the numbers of the demo roster, and only that page has the
// button that does it. The change then does what the page said.
func TestCycleChangesAreConfirmedWithNumbers(t *testing.T) {
	tp := startTestPortal(t)
	c := hrClient(t, tp)
	id := itoa(int64(tp.cycleID(t)))
	signedNow := func() int {
		return tp.count(t, `SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND active = 1 AND signed_at IS NOT NULL`, id)
	}

	t.Run("the cycles page has no button that acts at once", func(t *testing.T) {
		r := c.get("/hr/cycles")
		for _, action := range []string{`action="/hr/cycles/` + id + `/close"`, `action="/hr/cycles/` + id + `/version"`} {
			if regexp.MustCompile(`<form method="post" ` + regexp.QuoteMeta(action)).MatchString(r.Body) {
				t.Errorf("the cycles page posts %s", action)
			}
		}
		mustContain(t, r.Body, `href="/hr/cycles/`+id+`/close"`, `<form method="get" action="/hr/cycles/`+id+`/version"`,
			`href="/hr/cycles/`+id+`/due"`)
	})

	t.Run("closing", func(t *testing.T) {
		unsigned := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND active = 1 AND signed_at IS NULL`, id)
		sigs := tp.count(t, `SELECT COUNT(*) FROM acknowledgments WHERE cycle_id = ?`, id)
		if unsigned < 5 || sigs < 5 {
			t.Fatalf("the demo roster has %d unsigned, %d signatures", unsigned, sigs)
		}
		r := c.get("/hr/cycles/" + id + "/close")
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		mustContain(t, r.Body, "<strong>"+itoa(int64(unsigned))+" people have not signed</strong>; they will no longer be reminded",
			"<strong>"+itoa(int64(sigs))+" signatures stay as evidence</strong>",
			`<form method="post" action="/hr/cycles/`+id+`/close">`, `name="_csrf"`, "Close the cycle")
		if tp.count(t, `SELECT open FROM cycles WHERE id = ?`, id) != 1 {
			t.Fatal("the confirmation page closed the cycle")
		}
	})

	var material string
	t.Run("moving to a material version", func(t *testing.T) {
		c.get("/hr/versions")
		r := c.upload("/hr/versions", "bundle", "2099.1.zip", zipDir(t, "../app/content/testdata/2099.1"), nil)
		if r.Status != 303 {
			t.Fatalf("publish: %d", r.Status)
		}
		material = versionLinkRE.FindStringSubmatch(r.Location)[1]
		resign := signedNow()
		restart := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND active = 1 AND signed_at IS NULL
			AND employee_id IN (SELECT employee_id FROM module_progress WHERE cycle_id = ?)`, id, id)
		if resign < 5 || restart < 2 {
			t.Fatalf("the demo roster has %d signed, %d reading", resign, restart)
		}
		page := c.get("/hr/cycles/" + id + "/version?version=" + material)
		if page.Status != 200 {
			t.Fatalf("status %d", page.Status)
		}
		mustContain(t, page.Body, "Move “", "to version 2099.1?",
			"<strong>"+itoa(int64(resign))+" people who signed will have to sign again.</strong>",
			"<strong>"+itoa(int64(restart))+" people in progress will start over</strong>",
			`<input type="hidden" name="version" value="`+material+`">`, "Move the cycle to 2099.1")
		if signedNow() != resign {
			t.Fatal("the confirmation page moved the cycle")
		}
		reading := tp.count(t, `SELECT COUNT(DISTINCT employee_id) FROM module_progress WHERE cycle_id = ?`, id)
		if r := c.post("/hr/cycles/"+id+"/version", form("version", material)); r.Status != 303 {
			t.Fatalf("move: %d", r.Status)
		}
		if n := signedNow(); n != 0 {
			t.Errorf("%d people still signed, the page said %d would sign again", n, resign)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM module_progress WHERE cycle_id = ?`, id); n != 0 || reading < restart {
			t.Errorf("%d reading rows left", n)
		}
	})

	t.Run("a version that cannot be chosen", func(t *testing.T) {
		wantFieldError(t, c.get("/hr/cycles/"+id+"/version?version="+material), "version-"+id,
			"Choose a version published after the one the cycle uses now.")
		wantFieldError(t, c.get("/hr/cycles/"+id+"/version"), "version-"+id,
			"Choose a version published after the one the cycle uses now.")
		if r := c.get("/hr/cycles/999999/close"); r.Status != 404 {
			t.Errorf("no such cycle: %d", r.Status)
		}
	})

	t.Run("moving to a minor version", func(t *testing.T) {
		r := c.upload("/hr/versions", "bundle", "minor.zip", minorOf(t, "../app/content/testdata/2099.1"), nil)
		if r.Status != 303 {
			t.Fatalf("publish minor: %d", r.Status)
		}
		minor := versionLinkRE.FindStringSubmatch(r.Location)[1]
		page := c.get("/hr/cycles/" + id + "/version?version=" + minor)
		mustContain(t, page.Body, "is a minor change: <strong>nobody signs again</strong>")
		if strings.Contains(page.Body, "will have to sign again") {
			t.Error("a minor version is said to need signatures again")
		}
	})

	t.Run("closing, confirmed", func(t *testing.T) {
		if r := c.post("/hr/cycles/"+id+"/close", form()); r.Status != 303 {
			t.Fatalf("close: %d", r.Status)
		}
		if r := c.get("/hr/cycles/" + id + "/close"); r.Status != 409 {
			t.Errorf("the confirmation of a closed cycle: %d", r.Status)
		}
	})
}

// TestCycleDueDateCanChange: HR moves an open cycle's due date with a
// reason; every bad input is refused beside its field and changes nothing;
// the change is in the audit log with the old and new dates.
func TestCycleDueDateCanChange(t *testing.T) {
	tp := startTestPortal(t)
	c := hrClient(t, tp)
	id := itoa(int64(tp.cycleID(t)))
	db := readFile(t, tp.DB.Path)
	defer db.Close()
	var opens, due string
	if err := db.QueryRow(`SELECT opens_on, due_on FROM cycles WHERE id = ?`, id).Scan(&opens, &due); err != nil {
		t.Fatal(err)
	}
	form0 := c.get("/hr/cycles/" + id + "/due")
	if form0.Status != 200 {
		t.Fatalf("status %d", form0.Status)
	}
	mustContain(t, form0.Body, `value="`+due+`"`, "keeps it if it is later than the new date", "Why it changes")
	state := func() string {
		var s string
		if err := db.QueryRow(`SELECT (SELECT due_on FROM cycles WHERE id = ?) || '|' ||
			(SELECT string_agg(due_on, ',') FROM assignments WHERE cycle_id = ?) || '|' || (SELECT COUNT(*) FROM audit_events)`, id, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := state()
	for _, bad := range []struct {
		name, due, reason, field, msg string
	}{
		{"no date", "", "Snow", "due_on", "Enter the new due date."},
		{"not a date", "next Friday", "Snow", "due_on", "Enter the new due date as a real date"},
		{"no such day", "2026-02-30", "Snow", "due_on", "Enter the new due date as a real date"},
		{"before the cycle opens", "2000-01-01", "Snow", "due_on", "The due date must come after the day the cycle opens"},
		{"the day it opens", opens, "Snow", "due_on", "The due date must come after the day the cycle opens"},
		{"the date it has", due, "Snow", "due_on", "That is the cycle's due date already."},
		{"no reason", "2099-06-30", "  ", "reason", "Say why the due date changes"},
		{"a reason too long", "2099-06-30", strings.Repeat("x", 501), "reason", "The reason must be 500 characters or fewer."},
	} {
		t.Run(bad.name, func(t *testing.T) {
			wantFieldError(t, c.post("/hr/cycles/"+id+"/due", form("due_on", bad.due, "reason", bad.reason)), bad.field, bad.msg)
			if state() != before {
				t.Fatal("a refused change changed something")
			}
		})
	}
	r := c.post("/hr/cycles/"+id+"/due", form("due_on", "2099-06-30", "reason", "Snow closed the offices"))
	if r.Status != 303 || r.Location != "/hr/cycles" {
		t.Fatalf("status %d to %q", r.Status, r.Location)
	}
	mustContain(t, c.get("/hr/cycles").Body, "is now due on June 30, 2099", "June 30, 2099")
	if n := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND due_on = ?`, id, due); n != 0 {
		t.Errorf("%d people still due on the old date", n)
	}
	log := c.get("/hr/audit?event=cycle.due_changed")
	mustContain(t, log.Body, "Hannah Roy changed the due date of cycle “", due+" → 2099-06-30", "reason: Snow closed the offices")
	if tp.count(t, `SELECT COUNT(*) FROM audit_events v JOIN log_entries l ON l.kind = 'audit_event' AND l.ref_id = v.id
		WHERE v.action = 'cycle.due_changed'`) != 1 {
		t.Error("the change is not in the evidence log")
	}
}

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
	"portal/app/evidence"
)

// The agency-use acknowledgment: Zoë Côté (1005) is authorized on DAFS
// Facebook StateDAFSNews in the demo data, so the portal asks her to sign
// it beside the annual one, under /acknowledgments/agency-use.

const agencyUse = "/acknowledgments/agency-use"

// agencyAnswers draws (or reads) e's check on the posters' part and returns
// its answers, right or all wrong, as form values with the draw.
func agencyAnswers(t *testing.T, tp *testPortal, e *app.Employee, right bool) map[string]string {
	t.Helper()
	d, err := app.OpenQuizDraft(context.Background(), tp.Handler.Acks, tp.Version, tp.kind("agency-use"), e)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{"draw": app.DrawID(d.Shown)}
	for _, s := range d.Shown {
		q := tp.Version.Question(s.ID)
		out["q."+s.ID] = q.Answer
		if !right {
			for _, o := range s.Options {
				if o != q.Answer {
					out["q."+s.ID] = o
					break
				}
			}
		}
	}
	return out
}

func postAnswers(c *client, path string, answers map[string]string) response {
	f := form()
	for k, v := range answers {
		f.Set(k, v)
	}
	return c.post(path, f)
}

func TestAgencyUseAcknowledgment(t *testing.T) {
	tp := startTestPortal(t)
	zoe := tp.employee(t, "1005")
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, "1005"))
	acks := func() int {
		return tp.count(t, `SELECT COUNT(*) FROM acknowledgments a JOIN cycles y ON y.id = a.cycle_id WHERE a.employee_id = ? AND y.kind = 'agency-use'`, zoe.ID)
	}

	t.Run("the home page lists it beside the annual one, with its due date", func(t *testing.T) {
		home := c.get("/")
		due := tp.DB.Now().In(tp.Config.TimeZone).AddDate(0, 0, 30)
		mustContain(t, home.Body, `class="task-list"`, "Annual acknowledgment: personal use of social media",
			`<a href="`+agencyUse+`/guidance">Authorized poster acknowledgment: posting for your agency</a>`,
			"Due "+due.Format("January 2, 2006"), "Not started")
	})

	t.Run("the annual check of a poster has no posters' questions", func(t *testing.T) {
		d, err := app.OpenQuizDraft(context.Background(), tp.Handler.Acks, tp.Version, tp.kind("personal-use"), zoe)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range d.Shown {
			if m := tp.Version.Module(tp.Version.Question(s.ID).Module); m.Audience != app.AudienceAll {
				t.Errorf("annual check of a poster asks %s, of %s (%s)", s.ID, m.Slug, m.Audience)
			}
		}
		if len(tp.Version.ModulesFor(app.AudiencePosters)) == 0 {
			t.Fatal("the version has no posters' part to leave out")
		}
	})

	t.Run("an unknown kind is not found; a kind not owed says so", func(t *testing.T) {
		if r := c.get("/acknowledgments/records-preservation/guidance"); r.Status != 404 {
			t.Errorf("unknown kind: status %d", r.Status)
		}
		other := newClient(t, tp.BaseURL)
		other.signIn(tp.signInLink(t, "1006"))
		r := other.get(agencyUse + "/guidance")
		if r.Status != 404 {
			t.Errorf("kind not owed: status %d", r.Status)
		}
		mustContain(t, r.Body, "You are not asked to sign the authorized poster acknowledgment")
	})

	t.Run("the guidance is the posters' part only", func(t *testing.T) {
		g := c.get(agencyUse + "/guidance")
		if g.Status != 200 {
			t.Fatalf("guidance: %d", g.Status)
		}
		for _, m := range tp.Version.ModulesFor(app.AudiencePosters) {
			mustContain(t, g.Body, `href="`+agencyUse+`/guidance/`+m.Slug+`"`)
		}
		for _, m := range tp.Version.ModulesFor(app.AudienceAll) {
			if strings.Contains(g.Body, "/guidance/"+m.Slug+`"`) {
				t.Errorf("the agency-use guidance lists %s", m.Slug)
			}
		}
	})

	sign := form("typed_name", zoe.FullName, "intent", "yes")
	t.Run("no signature without an attempt", func(t *testing.T) {
		for _, m := range tp.Version.ModulesFor(app.AudiencePosters) {
			if r := c.post(agencyUse+"/guidance/"+m.Slug+"/read", nil); r.Status != 303 {
				t.Fatalf("read %s: %d", m.Slug, r.Status)
			}
		}
		r := c.post(agencyUse+"/sign", sign)
		if r.Status != 403 || acks() != 0 {
			t.Fatalf("status %d, %d acknowledgments", r.Status, acks())
		}
		mustContain(t, r.Body, "You need to pass the knowledge check before you can sign.")
	})

	t.Run("no signature after a failed attempt", func(t *testing.T) {
		if r := c.post(agencyUse+"/quiz/start", nil); r.Status != 303 || !strings.HasPrefix(r.Location, agencyUse+"/quiz/") {
			t.Fatalf("start: %d %q", r.Status, r.Location)
		}
		r := postAnswers(c, agencyUse+"/quiz", agencyAnswers(t, tp, zoe, false))
		if r.Status != 303 {
			t.Fatalf("submit: %d", r.Status)
		}
		mustContain(t, c.get(r.Location).Body, agencyUse+"/quiz")
		if n := tp.count(t, `SELECT COUNT(*) FROM quiz_attempts q JOIN cycles y ON y.id = q.cycle_id WHERE q.employee_id = ? AND y.kind = 'agency-use' AND q.passed = 0 AND q.pass_mark = 80`, zoe.ID); n != 1 {
			t.Fatalf("%d failed attempts at the kind's pass mark", n)
		}
		if r := c.post(agencyUse+"/sign", sign); r.Status != 403 || acks() != 0 {
			t.Fatalf("status %d, %d acknowledgments", r.Status, acks())
		}
		// The annual acknowledgment is not passed by it either.
		if r := c.get("/sign"); r.Status != 303 || r.Location == "/sign" {
			t.Fatalf("annual sign page: %d %q", r.Status, r.Location)
		}
	})

	var code string
	t.Run("passed, it names the policy, the accounts and the Terms of Comment, and records them", func(t *testing.T) {
		c.post(agencyUse+"/quiz/start", nil)
		if r := postAnswers(c, agencyUse+"/quiz", agencyAnswers(t, tp, zoe, true)); r.Status != 303 {
			t.Fatalf("submit: %d", r.Status)
		}
		if r := c.post(agencyUse+"/sign/consent", form("consent", "yes")); r.Status != 303 || r.Location != agencyUse+"/sign" {
			t.Fatalf("consent: %d %q", r.Status, r.Location)
		}
		review := c.post(agencyUse+"/sign/review", sign)
		if review.Status != 200 {
			t.Fatalf("review: %d", review.Status)
		}
		mustContain(t, review.Body, "Social Media Policy (agency use)", "<li>Facebook StateDAFSNews</li>",
			"version 1", "I have read and understand the State&#39;s social media policy for agency use")
		r := c.post(agencyUse+"/sign", sign)
		if r.Status != 303 || !strings.HasPrefix(r.Location, "/certificates/") || acks() != 1 {
			t.Fatalf("sign: %d %q, %d acknowledgments", r.Status, r.Location, acks())
		}
		code = evString(t, tp.DB.Path, `SELECT verify_code FROM acknowledgments WHERE employee_id = ? ORDER BY id DESC LIMIT 1`, zoe.ID)
		a := tp.ackByCode(t, code)
		if !slicesEqual(a.Accounts, []string{"Facebook StateDAFSNews"}) || a.TermsID == nil || a.TermsVersion != 1 ||
			!strings.Contains(a.IntentText, "for agency use") || a.KindTitle != "Authorized poster acknowledgment: posting for your agency" {
			t.Fatalf("recorded %+v", a)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM assignments s JOIN cycles y ON y.id = s.cycle_id WHERE s.employee_id = ? AND y.kind = 'agency-use' AND s.signed_at IS NOT NULL`, zoe.ID); n != 1 {
			t.Fatalf("assignment not signed: %d", n)
		}
		// The annual acknowledgment is still to do.
		if n := tp.count(t, `SELECT COUNT(*) FROM acknowledgments a JOIN cycles y ON y.id = a.cycle_id WHERE a.employee_id = ? AND y.kind = 'personal-use'`, zoe.ID); n != 0 {
			t.Fatalf("%d annual acknowledgments", n)
		}
		mustContain(t, c.get("/").Body, "Signed")
		// HR sees both kinds on her page: the cycles and what she signed.
		hr := newClient(t, tp.BaseURL)
		hr.signIn(tp.signInLink(t, "1002"))
		mustContain(t, hr.get("/hr/people/"+itoa(zoe.ID)).Body, "Authorized poster acknowledgment: posting for your agency 20",
			"annual acknowledgment", "accounts: Facebook StateDAFSNews; "+zoe.Agency+" Terms of Comment, version 1")
	})

	t.Run("its certificate is titled with the kind, verifies and is proven in the log", func(t *testing.T) {
		if code == "" {
			t.Fatal("not signed: the certificate cannot be checked")
		}
		page := c.get("/certificates/" + code)
		mustContain(t, page.Body, "Authorized poster acknowledgment: posting for your agency", "Facebook StateDAFSNews",
			"Terms of Comment, version 1")
		pdf := c.get("/certificates/" + code + "/pdf")
		if pdf.Status != 200 {
			t.Fatalf("PDF: %d", pdf.Status)
		}
		if text := popplerTool(t, []byte(pdf.Body), "pdftotext", "-layout", "-enc", "UTF-8"); text != "" {
			mustContain(t, text, "AUTHORIZED POSTER ACKNOWLEDGMENT", "Social Media Policy (agency use)", "Facebook StateDAFSNews")
		}
		_, v := evVerifier(t, tp)
		_, cp := evCheckpoint(t, tp, v)
		a := tp.ackByCode(t, code)
		var p evProof
		evJSON(t, newClient(t, tp.BaseURL).get("/log/certificate/"+code), &p)
		pc, err := evidence.OpenCheckpoint([]byte(p.Checkpoint), v)
		if err != nil || pc.Size < cp.Size {
			t.Fatalf("checkpoint: %v", err)
		}
		leaf := evidence.AcknowledgmentLeaf(a)
		if !strings.Contains(string(leaf.Data), "accounts 26:[\"Facebook StateDAFSNews\"]\n") {
			t.Fatalf("the entry does not name the accounts:\n%s", leaf.Data)
		}
		if evHash(t, p.LeafHash) != leaf.Hash() {
			t.Fatal("the served leaf hash is not the record's canonical hash")
		}
		if err := tlog.CheckRecord(evHashes(t, p.Proof), pc.Size, pc.Root, p.Index, leaf.Hash()); err != nil {
			t.Fatalf("inclusion proof: %v", err)
		}
		mustContain(t, newClient(t, tp.BaseURL).get("/verify/"+code).Body, "Valid",
			fmt.Sprintf("This acknowledgment is entry %d of the portal's public evidence log", a.LogIndex))
	})
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestKindsAreData: a third acknowledgment is one row of
// acknowledgment_kinds, with no change to the code: HR opens a cycle of it
// from the cycles page, everyone is asked to sign it beside the annual one,
// its check uses its own pass mark and its record its own intent sentence.
func TestKindsAreData(t *testing.T) {
	tp := startTestPortal(t)
	raw := evRaw(t, tp.DB.Path)
	const intent = "I will keep the public records I create as the records preservation policy requires."
	if _, err := raw.Exec(`INSERT INTO acknowledgment_kinds (code, title, policy_name, part, assign, pass_mark, due_days, intent, position)
		VALUES ('records-preservation', 'Records preservation acknowledgment', 'Records Preservation Policy', 'all', 'cycle', 100, 30, ?, 3)`, intent); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	today := tp.DB.Now().In(tp.Config.TimeZone)

	hr := newClient(t, tp.BaseURL)
	hr.signIn(tp.signInLink(t, "1002"))
	mustContain(t, hr.get("/hr/cycles").Body, `<select id="kind" name="kind"`, `<option value="records-preservation">Records preservation acknowledgment</option>`)
	open := form("kind", "records-preservation", "name", "Records preservation "+today.Format("2006"), "version", itoa(tp.Version.ID),
		"opens_on", today.Format(app.DateLayout), "due_on", today.AddDate(0, 0, 60).Format(app.DateLayout), "new_hire_days", "30")
	t.Run("a kind that is not in the table is refused, and nothing opens", func(t *testing.T) {
		bad := form()
		for k, v := range open {
			bad[k] = v
		}
		bad.Set("kind", "no-such-kind")
		wantFieldError(t, hr.post("/hr/cycles", bad), "kind", "Choose an acknowledgment from the list.")
		bad.Set("kind", "agency-use")
		wantFieldError(t, hr.post("/hr/cycles", bad), "kind", "the portal opens its cycles itself")
		if n := tp.count(t, `SELECT COUNT(*) FROM cycles WHERE kind <> 'personal-use'`); n != 1 { // the demo's agency-use one
			t.Fatalf("%d other cycles", n)
		}
	})
	if r := hr.post("/hr/cycles", open); r.Status != 303 {
		t.Fatalf("open: %d %s", r.Status, r.Body)
	}
	cycle := int64(tp.count(t, `SELECT id FROM cycles WHERE kind = 'records-preservation' AND open = 1`))
	if n := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND active = 1`, cycle); n != tp.count(t, `SELECT COUNT(*) FROM employees WHERE active = 1`) {
		t.Fatalf("%d people asked to sign it", n)
	}
	// The annual cycle is still the one the HR pages mean.
	if got := tp.cycleID(t); got == cycle {
		t.Fatal("the new kind's cycle became the annual one")
	}

	jose := tp.employee(t, "1006")
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, "1006"))
	base := "/acknowledgments/records-preservation"
	mustContain(t, c.get("/").Body, `<a href="`+base+`/guidance">Records preservation acknowledgment</a>`)
	for _, m := range tp.Version.ModulesFor(app.AudienceAll) {
		if r := c.post(base+"/guidance/"+m.Slug+"/read", nil); r.Status != 303 {
			t.Fatalf("read %s: %d", m.Slug, r.Status)
		}
	}
	c.post(base+"/quiz/start", nil)
	if r := postAnswers(c, base+"/quiz", tp.answersFor(jose, "records-preservation")); r.Status != 303 {
		t.Fatalf("submit: %d", r.Status)
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM quiz_attempts WHERE employee_id = ? AND cycle_id = ? AND passed = 1 AND pass_mark = 100`, jose.ID, cycle); n != 1 {
		t.Fatalf("%d passed attempts at the kind's pass mark", n)
	}
	if r := c.post(base+"/sign/consent", form("consent", "yes")); r.Status != 303 {
		t.Fatalf("consent: %d", r.Status)
	}
	if r := c.post(base+"/sign", form("typed_name", jose.FullName, "intent", "yes")); r.Status != 303 || !strings.HasPrefix(r.Location, "/certificates/") {
		t.Fatalf("sign: %d %q", r.Status, r.Location)
	}
	code := evString(t, tp.DB.Path, `SELECT verify_code FROM acknowledgments WHERE employee_id = ? AND cycle_id = ?`, jose.ID, cycle)
	a := tp.ackByCode(t, code)
	if a.IntentText != intent || a.KindTitle != "Records preservation acknowledgment" || a.KindAnnual || a.Accounts != nil || a.TermsID != nil {
		t.Fatalf("recorded %+v", a)
	}
	mustContain(t, c.get("/certificates/"+code).Body, "signed the Records preservation acknowledgment, acknowledging the Records Preservation Policy")
	// The annual acknowledgment is untouched: still to sign.
	if n := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND employee_id = ? AND signed_at IS NULL`, tp.cycleID(t), jose.ID); n != 1 {
		t.Fatal("signing the new kind signed the annual one")
	}
}

// TestPortalKeptCyclesAreNotHRs: the agency-use cycle the portal keeps is
// listed apart on HR's cycles page, with no action; closing it, moving its
// version or its due date is refused by address too, and nothing changes.
func TestPortalKeptCyclesAreNotHRs(t *testing.T) {
	tp := startTestPortal(t)
	hr := newClient(t, tp.BaseURL)
	hr.signIn(tp.signInLink(t, "1002"))
	kept := int64(tp.count(t, `SELECT id FROM cycles WHERE kind = 'agency-use' AND open = 1`))
	if kept == 0 {
		t.Fatal("the demo has no agency-use cycle")
	}
	page := hr.get("/hr/cycles").Body
	i := strings.Index(page, "Cycles the portal keeps")
	if i < 0 {
		t.Fatal("no section for the cycles the portal keeps")
	}
	mustContain(t, page[i:], `href="/hr?cycle=`+itoa(kept)+`"`, "Authorized poster acknowledgment")
	for _, a := range []string{"/close", "/due", "/version"} {
		if strings.Contains(page, "/hr/cycles/"+itoa(kept)+a) {
			t.Errorf("the cycles page offers %s for the portal's cycle", a)
		}
	}
	if !strings.Contains(page[:i], "/hr/cycles/"+itoa(tp.cycleID(t))+"/close") {
		t.Error("the annual cycle lost its actions")
	}
	before := tp.count(t, `SELECT COUNT(*) FROM audit_events`)
	base := "/hr/cycles/" + itoa(kept)
	for _, r := range []struct {
		what string
		resp response
		want int
	}{
		{"the close confirmation", hr.get(base + "/close"), 409},
		{"the due date form", hr.get(base + "/due"), 409},
		{"the version confirmation", hr.get(base + "/version?version=" + itoa(tp.Version.ID)), 409},
		{"close", hr.post(base+"/close", nil), 409},
		{"a new due date", hr.post(base+"/due", form("due_on", "2099-01-01", "reason", "later")), 409},
		{"a new version", hr.post(base+"/version", form("version", itoa(tp.Version.ID))), 422},
	} {
		if r.resp.Status != r.want || !strings.Contains(r.resp.Body, "The portal keeps the cycles of the Authorized poster acknowledgment") {
			t.Errorf("%s: status %d, want %d and the reason", r.what, r.resp.Status, r.want)
		}
	}
	if tp.count(t, `SELECT COUNT(*) FROM cycles WHERE id = ? AND open = 1 AND due_on <> '2099-01-01'`, kept) != 1 ||
		tp.count(t, `SELECT COUNT(*) FROM audit_events`) != before {
		t.Fatal("a refused change to the portal's cycle changed something")
	}
}

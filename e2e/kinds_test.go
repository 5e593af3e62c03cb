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
	d, err := app.OpenQuizDraft(context.Background(), tp.Handler.Acks, tp.Version, app.AudiencePosters, e)
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
		d, err := app.OpenQuizDraft(context.Background(), tp.Handler.Acks, tp.Version, app.AudienceAll, zoe)
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
	})

	t.Run("its certificate is titled with the kind, verifies and is proven in the log", func(t *testing.T) {
		if code == "" {
			t.Skip("not signed")
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

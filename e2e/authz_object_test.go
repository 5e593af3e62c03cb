package e2e

// Object-level authorization: a role that may use a route still sees only its own objects.

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"portal/handlers"
)

// TestObjectAuthorization: a role that may use a route still sees only its
// own objects — certificates, quiz attempts, team members, HR people.
func TestObjectAuthorization(t *testing.T) {
	tp := startTestPortal(t)
	tp.Handler.ExportLimit = handlers.NewRateLimiter(1<<30, time.Minute)
	cycleID := tp.cycleID(t)
	codeOf := func(number string) string {
		code := tp.codeOf(t, tp.employee(t, number).ID)
		if code == "" {
			t.Fatalf("no acknowledgment of %s", number)
		}
		return code
	}
	as := func(number string) *client {
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLink(t, number))
		return c
	}
	status := func(c *client, path string) int { return c.get(path).Status }
	certPaths := func(code string) []string { return []string{"/certificates/" + code, "/certificates/" + code + "/pdf"} }

	// 1006 takes the knowledge check, so there is an attempt of theirs.
	jose := as("1006")
	readAll(t, tp, jose, "1006")
	passQuiz(t, tp, jose, "1006")
	attempt := tp.attemptOf(t, tp.employee(t, "1006").ID, cycleID)
	if attempt == 0 {
		t.Fatal("no attempt of 1006")
	}
	joseAttempt := "/quiz/attempts/" + itoa(attempt)

	type cell struct {
		who, path string
		want      int
	}
	check := func(t *testing.T, cells []cell) {
		t.Helper()
		clients := map[string]*client{}
		for _, c := range cells {
			if clients[c.who] == nil {
				clients[c.who] = as(c.who)
			}
			if got := status(clients[c.who], c.path); got != c.want {
				t.Errorf("%s GET %s: status %d, want %d", c.who, c.path, got, c.want)
			}
		}
	}

	t.Run("certificates: the owner, managers above, HR; nobody else", func(t *testing.T) {
		var cells []cell
		for _, p := range certPaths(codeOf("1008")) {
			cells = append(cells,
				cell{"1008", p, 200}, cell{"1004", p, 200}, cell{"1001", p, 200}, cell{"1002", p, 200},
				cell{"1005", p, 404}, // a peer
				cell{"1003", p, 404}, // admin is not HR and not above 1008
				cell{"2001", p, 404}, // a manager of another tree
				cell{"2002", p, 404},
			)
		}
		for _, p := range certPaths(codeOf("1001")) { // 1004's own manager: a manager sees down, not up
			cells = append(cells, cell{"1004", p, 404}, cell{"1001", p, 200})
		}
		for _, p := range certPaths(codeOf("2006")) { // in 2001's tree, not 1004's
			cells = append(cells, cell{"1004", p, 404}, cell{"2001", p, 200}, cell{"2002", p, 200})
		}
		cells = append(cells, cell{"1005", "/certificates/SMP-NOPE-NOPE", 404}, cell{"1002", "/certificates/not-a-code", 404})
		check(t, cells)
	})

	t.Run("the confirmation after signing: only the signer, not even their manager or HR", func(t *testing.T) {
		p := "/certificates/" + codeOf("1008") + "/confirmation"
		check(t, []cell{
			{"1008", p, 200},
			{"1004", p, 404}, // 1008's manager sees the certificate, not the confirmation
			{"1001", p, 404},
			{"1002", p, 404}, // HR
			{"1005", p, 404}, // a peer
			{"1003", p, 404},
			{"1008", "/certificates/SMP-NOPE-NOPE/confirmation", 404},
			{"1008", "/certificates/not-a-code/confirmation", 404},
		})
	})

	t.Run("quiz attempts: only their owner", func(t *testing.T) {
		check(t, []cell{
			{"1006", joseAttempt, 200},
			{"1005", joseAttempt, 404},
			{"1004", joseAttempt, 404}, // not even 1006's manager
			{"1002", joseAttempt, 404}, // HR reads attempts on the person page
			{"1003", joseAttempt, 404},
			{"1006", "/quiz/attempts/999999", 404},
			{"1006", "/quiz/attempts/abc", 404},
		})
	})

	t.Run("a manager's team and ZIP hold only their tree", func(t *testing.T) {
		for _, tc := range []struct {
			manager string
			inTree  func(number string) bool
			outside string // a name from elsewhere
		}{
			{"1004", func(n string) bool { return n >= "1005" && n <= "1008" }, "Robert Pelletier"},
			{"2001", func(n string) bool { return strings.HasPrefix(n, "2") && n != "2001" }, "Siobhán"},
		} {
			c := as(tc.manager)
			if body := c.get("/team").Body; strings.Contains(body, tc.outside) {
				t.Errorf("%s's team page shows %s", tc.manager, tc.outside)
			}
			r := c.get("/team/certificates.zip")
			if r.Status != 200 {
				t.Fatalf("%s team ZIP: %d", tc.manager, r.Status)
			}
			numbers := checkZip(t, []byte(r.Body))
			if len(numbers) == 0 {
				t.Errorf("%s team ZIP is empty", tc.manager)
			}
			for _, n := range numbers {
				if !tc.inTree(n) {
					t.Errorf("%s team ZIP holds %s, outside the tree", tc.manager, n)
				}
			}
		}
	})

	t.Run("a manager reminds only people of their own tree", func(t *testing.T) {
		remind := func(n string) string { return "/team/people/" + itoa(tp.employee(t, n).ID) + "/remind" }
		before := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'reminder'`)
		for _, c := range []struct{ who, number string }{
			{"1004", "2003"}, // another manager's report
			{"2001", "1006"}, // the other way round
			{"1004", "1001"}, // their own manager: a manager reaches down, not up
			{"1004", "1009"}, // a peer's report
			{"1002", "1006"}, // HR reaches their own tree only from the team page
		} {
			cl := as(c.who)
			cl.get("/team")
			if r := cl.post(remind(c.number), nil); r.Status != 404 {
				t.Errorf("%s reminds %s: status %d, want 404", c.who, c.number, r.Status)
			}
		}
		if tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'reminder'`) != before {
			t.Error("a refused reminder was queued")
		}
		// HR-only pages stay HR's: a manager does not reach their people there.
		check(t, []cell{{"1004", "/hr/people/" + itoa(tp.employee(t, "1006").ID), 403}, {"1004", "/hr/people", 403}})
	})

	t.Run("a roster upload is applied only by who previewed it", func(t *testing.T) {
		hr := as("1002")
		hr.get("/hr/roster")
		r := hr.upload("/hr/roster", "file", "roster.csv", []byte(goodRoster), nil)
		m := applyRE.FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("preview: %d", r.Status)
		}
		other := as("1010") // also HR, not (yet) limited to an agency
		other.get("/hr/roster")
		before := tp.count(t, `SELECT COUNT(*) FROM employees`)
		if r := other.post(m[1], form("sha256", m[2])); r.Status != 404 {
			t.Errorf("another HR user applied the upload: %d", r.Status)
		}
		if r := other.get(strings.TrimSuffix(m[1], "/apply")); r.Status != 404 || strings.Contains(r.Body, "Chidi") {
			t.Errorf("another HR user sees the preview: %d", r.Status)
		}
		if r := hr.get(strings.TrimSuffix(m[1], "/apply")); r.Status != 200 || !strings.Contains(r.Body, "Okafor, Chidi") {
			t.Errorf("the uploader's own preview: %d", r.Status)
		}
		if r := hr.post(m[1], form("sha256", strings.Repeat("0", 64))); r.Status != 404 {
			t.Errorf("a wrong hash applied the upload: %d", r.Status)
		}
		if tp.count(t, `SELECT COUNT(*) FROM employees`) != before {
			t.Error("the roster changed")
		}
	})

	t.Run("an HR user limited to one agency sees nothing of another", func(t *testing.T) {
		admin := as("1003")
		admin.get("/admin/scopes")
		if r := admin.post("/admin/scopes", form("employee", itoa(tp.employee(t, "1010").ID), "agency", dol)); r.Status != 303 {
			t.Fatalf("set scope: %d", r.Status)
		}
		s := as("1010") // DAFS, limited to the Department of Labor
		person := func(n string) string { return "/hr/people/" + itoa(tp.employee(t, n).ID) }
		check(t, []cell{
			{"1010", person("4003"), 200},
			{"1010", person("3003"), 404},
			{"1010", person("1005"), 404},
			{"1010", person("2006"), 404},
			{"1010", "/hr/people/999999", 404},
			{"1010", "/hr?agency=" + urlEscape(mdot), 404},
			{"1010", "/hr/people?agency=" + urlEscape(dhhs), 404},
			{"1010", "/hr/export.csv?agency=" + urlEscape(dafs), 404},
			{"1010", "/hr/export.xlsx?agency=" + urlEscape(dafs), 404},
			{"1010", "/hr/certificates.zip?agency=" + urlEscape(dafs), 404},
			{"1010", "/hr/roster", 403},   // everyone-wide actions need an unscoped HR user
			{"1002", person("3003"), 200}, // the unscoped HR user does
		})
		for _, action := range []string{"/extend", "/exempt", "/exempt/end", "/resend"} {
			r := s.post(person("3003")+action, form("extend_due_on", "2099-01-01", "extend_reason", "x", "exempt_from", "2099-01-01",
				"exempt_reason", "x", "end_reason", "x"))
			if r.Status != 404 {
				t.Errorf("1010 POST %s on someone outside the scope: status %d, want 404", action, r.Status)
			}
		}
		if body := s.get("/hr/people").Body; strings.Contains(body, "Zoë Côté") || !strings.Contains(body, "Ryan Caron") {
			t.Error("the people list leaves the scope")
		}
		r := s.get("/hr/certificates.zip")
		if r.Status != 200 {
			t.Fatalf("scoped ZIP: %d", r.Status)
		}
		for _, n := range checkZip(t, []byte(r.Body)) {
			if !strings.HasPrefix(n, "4") {
				t.Errorf("the scoped ZIP holds %s, outside the Department of Labor", n)
			}
		}
		s.get("/hr/cycles")
		y := itoa(int64(testClockStart().Year() + 1))
		before := tp.count(t, `SELECT COUNT(*) FROM cycles`)
		versions := tp.count(t, `SELECT COUNT(*) FROM policy_versions`) // the shipped ones
		for path, f := range map[string]url.Values{
			"/hr/cycles":                               form("name", "x", "version", itoa(tp.Version.ID), "opens_on", y+"-01-15", "due_on", y+"-03-15", "new_hire_days", "30"),
			"/hr/cycles/" + itoa(cycleID) + "/close":   nil,
			"/hr/cycles/" + itoa(cycleID) + "/version": form("version", itoa(tp.Version.ID)),
		} {
			if r := s.post(path, f); r.Status != 403 {
				t.Errorf("scoped POST %s: %d, want 403", path, r.Status)
			}
		}
		// Every route the table keeps for HR users without an agency limit.
		n := 0
		for _, r := range handlers.Routes() {
			if r.Access != handlers.HRAllAgencies && r.Access != handlers.HRAllAgenciesOrAdmin {
				continue
			}
			n++
			path := strings.ReplaceAll(r.Path, ":id", itoa(cycleID))
			var got response
			if r.Method == "GET" {
				got = s.get(path)
			} else {
				got = s.post(path, form("x", "y"))
			}
			if got.Status != 403 || !strings.Contains(got.Body, "limited to some agencies") {
				t.Errorf("scoped %s %s: %d, want 403 saying why", r.Method, path, got.Status)
			}
		}
		if n < 10 {
			t.Errorf("only %d routes need an HR user without an agency limit", n)
		}
		if r := s.upload("/hr/versions", "bundle", "2099.1.zip", zipDir(t, "../app/content/testdata/2099.1"), nil); r.Status != 403 {
			t.Errorf("scoped publish: %d, want 403", r.Status)
		}
		if tp.count(t, `SELECT COUNT(*) FROM cycles WHERE open = 1 AND kind = 'personal-use'`) != 1 || tp.count(t, `SELECT COUNT(*) FROM cycles`) != before ||
			tp.count(t, `SELECT COUNT(*) FROM policy_versions`) != versions {
			t.Error("a scoped HR user changed cycles or versions")
		}
		// Certificates: their own, and their agency's; not another agency's.
		check(t, []cell{{"1010", "/certificates/" + codeOf("1010"), 200}, {"1010", "/certificates/" + codeOf("4004"), 200}})
		t.Run("the audit log of another agency", func(t *testing.T) {
			as("2006") // Kevin Morin, Department of Health and Human Services, signs in: an audit event
			// The log is theirs to read, limited to their people and their
			// own actions: Kevin's sign-in is not in it, page or CSV.
			r := s.get("/hr/audit")
			if r.Status != 200 || strings.Contains(r.Body, "Kevin Morin") || !strings.Contains(r.Body, "limited to some agencies") {
				t.Errorf("a Department of Labor HR user reads the audit log of another agency: status %d", r.Status)
			}
			if r := s.get("/hr/audit?person=2006"); r.Status != 200 || strings.Contains(r.Body, "Kevin Morin") {
				t.Errorf("a Department of Labor HR user finds Kevin Morin's events by number: status %d", r.Status)
			}
			if r := s.get("/hr/audit.csv"); r.Status != 200 || strings.Contains(r.Body, "Kevin Morin") {
				t.Errorf("a Department of Labor HR user exports the audit log of another agency: status %d", r.Status)
			}
		})
		t.Run("certificate of another agency", func(t *testing.T) {
			check(t, []cell{
				{"1010", "/certificates/" + codeOf("2006"), 404},
				{"1010", "/certificates/" + codeOf("2006") + "/pdf", 404},
				{"1010", "/certificates/" + codeOf("1008"), 404},
			})
		})
	})
}

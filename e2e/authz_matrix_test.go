package e2e

// The authorization matrix and object-level checks (helpers in authz_test.go).

import (
	"net/url"
	"portal/server"
	"strings"
	"testing"
	"time"

	"portal/handlers"
)

// TestAuthorizationMatrix requests every route as every role and checks who
// gets in: anonymous GETs go to sign in, anonymous POSTs are refused (403
// without a CSRF token, 401 with one), the wrong role gets 403, the right
// one reaches the handler.
func TestAuthorizationMatrix(t *testing.T) {
	routes := handlers.Routes()
	seen := map[string]bool{}
	for _, r := range routes {
		key := azKey(r)
		if seen[key] {
			t.Errorf("route %s is in the table twice", key)
		}
		seen[key] = true
		exp, ok := azTable[key]
		if !ok {
			t.Errorf("route %s has no entry in azTable (authz_test.go): say who may use it and what they get", key)
			continue
		}
		if exp.devOnly != (r.Access == handlers.DevOnly) {
			t.Errorf("route %s: azTable devOnly=%v but the route's access level is %d", key, exp.devOnly, r.Access)
		}
		if exp.writes != nil && r.Method != "GET" {
			t.Errorf("route %s: writes is for GET routes", key)
		}
	}
	for key := range azTable {
		if !seen[key] {
			t.Errorf("azTable has %s, which handlers.Routes() does not", key)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Reads: one portal; every role in its own browser.
	t.Run("GET", func(t *testing.T) {
		t.Parallel()
		e := azPortal(t)
		clients := map[azRole]*client{}
		for _, who := range azRoles {
			clients[who] = e.client(who)
		}
		for _, r := range routes {
			if r.Method != "GET" {
				continue
			}
			for _, who := range azRoles {
				q := e.request(r, who)
				azCheckCell(t, r, who, q, clients[who].get(q.path))
			}
		}
		// Signed-in users are still signed in: no GET signed anyone out.
		for _, who := range azRoles[1:] {
			if !strings.Contains(clients[who].get("/").Body, "Sign out") {
				t.Errorf("%s is no longer signed in", who)
			}
		}
	})

	// State changes: a fresh portal per route, so what an allowed request
	// does (close the cycle, sign out, publish) cannot disturb another route.
	// Within a route every role uses a fresh browser.
	for _, r := range routes {
		if r.Method == "GET" {
			continue
		}
		t.Run(azKey(r), func(t *testing.T) {
			t.Parallel()
			e := azPortal(t)
			exp := azTable[azKey(r)]
			for _, who := range azRoles {
				c := e.client(who)
				q := e.request(r, who)
				if who == azAnon {
					before := e.counts()
					res := azSend(c, r.Method, q, nil)
					if res.Status != 403 || !strings.Contains(res.Body, azMsgExpired) {
						t.Errorf("anonymous without a CSRF token: status %d, want 403 %q", res.Status, azMsgExpired)
					}
					if d := azDelta(before, e.counts()); len(d) > 0 {
						t.Errorf("anonymous without a CSRF token changed rows: %v", d)
					}
				}
				before := e.counts()
				res := azSend(c, r.Method, q, &c.csrf)
				azCheckCell(t, r, who, q, res)
				if !exp.allow.has(who) {
					if d := azDelta(before, e.counts()); len(d) > 0 {
						t.Errorf("refused request as %s changed rows: %v", who, d)
					}
				}
			}
		})
	}

	// The development mailbox exists only in demo mode.
	t.Run("DevOnly without demo", func(t *testing.T) {
		t.Parallel()
		e := azPortal(t, func(c *server.Config) { c.Demo = false })
		for _, r := range routes {
			if !azTable[azKey(r)].devOnly {
				continue
			}
			for _, who := range azRoles {
				q := e.request(r, who)
				if res := azSend(e.client(who), r.Method, q, nil); res.Status != 404 {
					t.Errorf("%s as %s without demo: status %d, want 404", azKey(r), who, res.Status)
				}
			}
		}
	})
}

// TestObjectAuthorization: a role that may use a route still sees only its
// own objects — certificates, quiz attempts, team members, HR people.
func TestObjectAuthorization(t *testing.T) {
	tp := startTestPortal(t)
	tp.Handler.ExportLimit = handlers.NewRateLimiter(1<<30, time.Minute)
	ctx := t.Context()
	cycle, err := tp.Handler.Cycles.CurrentCycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	codeOf := func(number string) string {
		acks, _, err := tp.Handler.Acks.FindAcknowledgments(ctx, appAckFilterEmployee(tp.employee(t, number).ID))
		if err != nil || len(acks) != 1 {
			t.Fatalf("acknowledgment of %s: %v", number, err)
		}
		return acks[0].VerifyCode
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
	attempts, err := tp.Handler.Acks.FindQuizAttempts(ctx, tp.employee(t, "1006").ID, cycle.ID)
	if err != nil || len(attempts) == 0 {
		t.Fatal("no attempt of 1006")
	}
	joseAttempt := "/quiz/attempts/" + itoa(attempts[0].ID)

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
		y := itoa(int64(time.Now().Year() + 1))
		before := tp.count(t, `SELECT COUNT(*) FROM cycles`)
		for path, f := range map[string]url.Values{
			"/hr/cycles": form("name", "x", "version", itoa(tp.Version.ID), "opens_on", y+"-01-15", "due_on", y+"-03-15", "new_hire_days", "30"),
			"/hr/cycles/" + itoa(cycle.ID) + "/close":   nil,
			"/hr/cycles/" + itoa(cycle.ID) + "/version": form("version", itoa(tp.Version.ID)),
		} {
			if r := s.post(path, f); r.Status != 403 {
				t.Errorf("scoped POST %s: %d, want 403", path, r.Status)
			}
		}
		if r := s.upload("/hr/versions", "bundle", "2026.2.zip", zipDir(t, "../app/content/testdata/2026.2"), nil); r.Status != 403 {
			t.Errorf("scoped publish: %d, want 403", r.Status)
		}
		if tp.count(t, `SELECT COUNT(*) FROM cycles WHERE open = 1`) != 1 || tp.count(t, `SELECT COUNT(*) FROM cycles`) != before ||
			tp.count(t, `SELECT COUNT(*) FROM policy_versions`) != 1 {
			t.Error("a scoped HR user changed cycles or versions")
		}
		// Certificates: their own, and their agency's; not another agency's.
		check(t, []cell{{"1010", "/certificates/" + codeOf("1010"), 200}, {"1010", "/certificates/" + codeOf("4004"), 200}})
		t.Run("the audit log of another agency", func(t *testing.T) {
			as("2006") // Kevin Morin, Department of Health and Human Services, signs in: an audit event
			r := s.get("/hr/audit")
			if r.Status != 403 || strings.Contains(r.Body, "Kevin Morin") {
				t.Errorf("a Department of Labor HR user reads the whole audit log: status %d", r.Status)
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

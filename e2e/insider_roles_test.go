package e2e

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"portal/app"
	"portal/server"
)

// Separation of duties (issue 11): who may grant the hr and admin roles.

// activeAdmins are the active administrators' addresses.
func (tp *testPortal) activeAdmins(t testing.TB) []string {
	t.Helper()
	es := tp.employees(t, `e.active = 1 AND (';' || e.roles || ';') LIKE '%;admin;%'`)
	var out []string
	for _, e := range es {
		out = append(out, e.Email)
	}
	return out
}

// roleMessages returns the role_change messages sent to addr that mention text.
func (tp *testPortal) roleMessages(t testing.TB, addr, text string) []*app.Message {
	t.Helper()
	var out []*app.Message
	for _, m := range tp.sentTo(t, addr, app.MailRoleChange) {
		if strings.Contains(m.Text, text) {
			out = append(out, m)
		}
	}
	return out
}

func TestInsiderRolesOnlyFromAnAdministrator(t *testing.T) {
	tp := startTestPortal(t)
	hannah := hrClient(t, tp) // 1002, HR: the insider
	adam := newClient(t, tp.BaseURL)
	adam.signIn(tp.signInLink(t, "1003")) // the administrator
	dmitri := newClient(t, tp.BaseURL)
	dmitri.signIn(tp.signInLink(t, "1011")) // no role
	hannahID, adamID := tp.employee(t, "1002").ID, tp.employee(t, "1003").ID
	dmitriID := tp.employee(t, "1011").ID
	roleMail := func() int { return tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = ?`, app.MailRoleChange) }
	setRole := func(number, role, action string) response {
		t.Helper()
		adam.get("/admin/roles")
		return adam.post("/admin/roles", form("employee_number", number, "role", role, "action", action))
	}

	t.Run("HR cannot grant herself admin with a roster upload; the poster role still applies", func(t *testing.T) {
		hannahChanges := tp.count(t, `SELECT COUNT(*) FROM roster_changes WHERE employee_id IN (?, ?)`, hannahID, dmitriID)
		mails := roleMail()
		preview := previewRoster(t, hannah, "roles.csv", tp.rosterFile(t, []string{"1002", "1011", "1012"}, map[string]map[string]string{
			"1002": {"roles": "hr;admin"}, "1011": {"roles": "hr"}, "1012": {"roles": "poster"}}))
		mustContain(t, preview, "The hr and admin roles in this file are not applied (2 rows).",
			"Only an administrator grants or removes them, on the roles page", "The poster role is applied.",
			"<dt>Updated</dt><dd>1</dd>")
		mustContain(t, applyRoster(t, hannah, preview), "Roster imported: 0 added, 1 updated")
		if r := hannah.get("/admin/roles"); r.Status != 403 {
			t.Fatalf("after her upload HR opens the roles page: status %d", r.Status)
		}
		if got := tp.employee(t, "1002").RolesString(); got != "hr" {
			t.Fatalf("1002's roles are %q", got)
		}
		if got := tp.employee(t, "1011").RolesString(); got != "" {
			t.Fatalf("1011's roles are %q", got)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM roster_changes WHERE employee_id IN (?, ?)`, hannahID, dmitriID); n != hannahChanges {
			t.Fatal("a roster change of 1002 or 1011 was recorded")
		}
		if n := roleMail(); n != mails {
			t.Fatal("administrators were told of a role change that did not happen")
		}
		if n := tp.loggedRosterChanges(t, tp.employee(t, "1012").ID, &hannahID, "roster upload roles.csv", [3]string{app.FieldRoles, "", "poster"}); n != 1 {
			t.Fatalf("%d logged grants of the poster role", n)
		}
	})

	t.Run("only administrators reach the roles page", func(t *testing.T) {
		before := tp.identityState(t)
		for who, c := range map[string]*client{"HR": hannah, "an employee": dmitri} {
			if r := c.get("/admin/roles"); r.Status != 403 || !strings.Contains(r.Body, "You do not have access to this page.") {
				t.Errorf("%s GET: status %d", who, r.Status)
			}
			c.get("/")
			if c.csrf == "" {
				t.Fatalf("%s has no form token: a refusal would prove nothing", who)
			}
			if r := c.post("/admin/roles", form("employee_number", "1011", "role", "admin", "action", "grant")); r.Status != 403 ||
				!strings.Contains(r.Body, "You do not have access to this page.") {
				t.Errorf("%s POST: status %d", who, r.Status)
			}
		}
		if tp.identityState(t) != before {
			t.Fatal("a refused request changed something")
		}
		mustContain(t, adam.get("/admin/roles").Body, "Hannah Roy", "Adam Ouellette", "Your own: another administrator can change them")
	})

	t.Run("an administrator grants a second administrator, and both are told", func(t *testing.T) {
		if r := setRole("1001", "admin", "grant"); r.Status != 303 || r.Location != "/admin/roles" {
			t.Fatalf("status %d location %q", r.Status, r.Location)
		}
		mustContain(t, adam.get("/admin/roles").Body, "Margaret Thibodeau now has the admin role. Every administrator has been told by e-mail.")
		if !tp.employee(t, "1001").HasRole(app.RoleAdmin) {
			t.Fatal("1001 is not an administrator")
		}
		admins := tp.activeAdmins(t)
		if len(admins) != 2 {
			t.Fatalf("%d administrators, want 2", len(admins))
		}
		for _, addr := range admins {
			if n := len(tp.roleMessages(t, addr, "Margaret Thibodeau (employee 1001)")); n != 1 {
				t.Errorf("%s: %d messages about 1001", addr, n)
			}
		}
	})

	t.Run("an administrator grants hr: the person opens HR pages, the grant is logged and every administrator is told", func(t *testing.T) {
		if r := dmitri.get("/hr"); r.Status != 403 {
			t.Fatalf("before the grant: status %d", r.Status)
		}
		if r := setRole("1011", "hr", "grant"); r.Status != 303 {
			t.Fatalf("grant: status %d", r.Status)
		}
		mustContain(t, adam.get("/admin/roles").Body, "Dmitri Volkov now has the hr role.")
		if r := dmitri.get("/hr"); r.Status != 200 {
			t.Fatalf("after the grant: status %d", r.Status)
		}
		if n := tp.loggedRosterChanges(t, dmitriID, &adamID, "roles page", [3]string{app.FieldRoles, "", "hr"}); n != 1 {
			t.Fatalf("%d logged grants", n)
		}
		for _, addr := range tp.activeAdmins(t) {
			ms := tp.roleMessages(t, addr, "Dmitri Volkov (employee 1011)")
			if len(ms) != 1 {
				t.Fatalf("%s: %d messages about 1011", addr, len(ms))
			}
			mustContain(t, ms[0].Text, "Adam Ouellette changed the portal roles of Dmitri Volkov", "before: none", "now:    hr",
				"undo it on the roles page and find out why")
		}
		if n := len(tp.sentTo(t, tp.employee(t, "1002").Email, app.MailRoleChange)); n != 0 {
			t.Fatalf("HR, not an administrator, got %d role messages", n)
		}
	})

	t.Run("an administrator cannot change his own roles", func(t *testing.T) {
		before := tp.identityState(t)
		for _, x := range [][2]string{{"admin", "remove"}, {"hr", "grant"}} {
			r := setRole("1003", x[0], x[1])
			if r.Status != 422 || !strings.Contains(r.Body, "You cannot change your own roles. Ask another administrator.") {
				t.Fatalf("%s %s: status %d", x[1], x[0], r.Status)
			}
			wantFieldError(t, r, "employee_number", "You cannot change your own roles. Ask another administrator.")
		}
		if tp.identityState(t) != before {
			t.Fatal("a refused change of his own roles changed something")
		}
	})

	t.Run("an administrator removes hr: the person no longer opens HR pages", func(t *testing.T) {
		if r := setRole("1011", "hr", "remove"); r.Status != 303 {
			t.Fatalf("remove: status %d", r.Status)
		}
		mustContain(t, adam.get("/admin/roles").Body, "Dmitri Volkov no longer has the hr role.")
		if r := dmitri.get("/hr"); r.Status != 403 {
			t.Fatalf("after the removal: status %d", r.Status)
		}
		if n := tp.loggedRosterChanges(t, dmitriID, &adamID, "roles page", [3]string{app.FieldRoles, "hr", ""}); n != 1 {
			t.Fatalf("%d logged removals", n)
		}
	})

	badInput := func(t *testing.T, cases [][4]string) {
		t.Helper()
		before := tp.identityState(t)
		for _, c := range cases {
			r := setRole(c[0], c[1], c[2])
			if r.Status != 422 || !strings.Contains(r.Body, c[3]) {
				t.Errorf("number %q role %q action %q: status %d, want 422 saying %q", c[0], c[1], c[2], r.Status, c[3])
			}
			// A bad role is about the role buttons; every other refusal about the person.
			field := "employee_number"
			if strings.HasPrefix(c[3], "Choose the hr") {
				field = "role-hr"
			}
			wantFieldError(t, r, field, c[3])
		}
		if tp.identityState(t) != before {
			t.Fatal("bad input changed something")
		}
	}

	t.Run("bad input on the roles page gets a clear message and changes nothing", func(t *testing.T) {
		badInput(t, [][4]string{
			{"99999", "hr", "grant", "Nobody on the roster has employee number 99999."},
			{"", "hr", "grant", "Enter the employee number of the person."},
			{"   ", "hr", "grant", "Enter the employee number of the person."},
			{"1011", "poster", "grant", "Choose the hr or the admin role."},
			{"1011", "superuser", "grant", "Choose the hr or the admin role."},
			{"1011", "", "grant", "Choose the hr or the admin role."},
			{"1011", "hr", "promote", "Choose whether to grant or to remove the role."},
			{"1011", "hr", "", "Choose whether to grant or to remove the role."},
			{"1011", "hr", "remove", "Employee 1011 does not have the hr role."},
			{"1010", "hr", "grant", "Employee 1010 already has the hr role."},
		})
	})

	var file string
	t.Run("the operator's import-roster sets roles and addresses directly, logged with no actor", func(t *testing.T) {
		es := tp.employees(t, `e.active = 1`)
		var numbers []string
		for _, e := range es {
			if e.EmployeeNumber != "4012" { // a full roster without 4012 deactivates her
				numbers = append(numbers, e.EmployeeNumber)
			}
		}
		francois := tp.employee(t, "1004")
		newAddr := "francois.levesque@new.example"
		file = filepath.Join(t.TempDir(), "people.csv")
		if err := writeFile(file, string(tp.rosterFile(t, numbers, map[string]map[string]string{
			"1011": {"roles": "hr"}, "1004": {"email": newAddr}}))); err != nil {
			t.Fatal(err)
		}
		tp.commandEnv(t)
		var out bytes.Buffer
		if err := server.Run(context.Background(), []string{"import-roster", file, "--deactivate-missing"}, &out, &out); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		mustContain(t, out.String(), "2 updated", "1 deactivated")
		if !tp.employee(t, "1011").HasRole(app.RoleHR) {
			t.Fatal("import-roster did not grant hr")
		}
		if r := dmitri.get("/hr"); r.Status != 200 {
			t.Fatalf("1011 with hr from import-roster: status %d", r.Status)
		}
		if got := tp.employee(t, "1004").Email; got != newAddr {
			t.Fatalf("import-roster did not change the address: %s", got)
		}
		source := "import-roster " + file
		if tp.loggedRosterChanges(t, dmitriID, nil, source, [3]string{app.FieldRoles, "", "hr"}) != 1 ||
			tp.loggedRosterChanges(t, francois.ID, nil, source, [3]string{app.FieldEmail, francois.Email, newAddr}) != 1 ||
			tp.loggedRosterChanges(t, tp.employee(t, "4012").ID, nil, source, [3]string{app.FieldActive, "true", "false"}) != 1 {
			t.Fatal("the operator's changes are not logged field by field with no actor")
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM address_changes WHERE employee_id = ?`, francois.ID); n != 0 {
			t.Fatal("the operator's change of address waits for approval")
		}
		for _, addr := range tp.activeAdmins(t) {
			ms := tp.roleMessages(t, addr, "Dmitri Volkov (employee 1011)")
			if len(ms) != 3 { // granted and removed on the roles page, granted again by the operator
				t.Fatalf("%s: %d messages about 1011, want 3", addr, len(ms))
			}
			mustContain(t, ms[0].Text, "The operator ("+source+") changed the portal roles of Dmitri Volkov", "before: none", "now:    hr")
		}
	})

	t.Run("an inactive person cannot be given a role", func(t *testing.T) {
		if tp.employee(t, "4012").Active {
			t.Fatal("4012 is still active")
		}
		badInput(t, [][4]string{{"4012", "hr", "grant", "Employee 4012 is not active on the roster."}})
	})

	t.Run("audit-verify passes after these changes", func(t *testing.T) {
		if out, err := runAuditVerify(t, tp); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	})

	t.Run("roles edited in the database file are caught by audit-verify", func(t *testing.T) {
		tamper(t, tp, `UPDATE employees SET roles = 'admin;hr' WHERE employee_number = '1002'`)
		_, err := runAuditVerify(t, tp)
		if err == nil {
			t.Fatal("audit-verify passed with roles changed outside the portal")
		}
		for _, want := range []string{"employee 1002's roles", "changed outside the portal"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q does not say %q", err, want)
			}
		}
		tamper(t, tp, `UPDATE employees SET roles = 'hr' WHERE employee_number = '1002'`)
		if out, err := runAuditVerify(t, tp); err != nil {
			t.Fatalf("with the roles put back: %v\n%s", err, out)
		}
	})
}

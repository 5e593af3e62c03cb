package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"portal/app"
	"portal/server"
)

// Separation of duties (issue 11), end to end: what an HR user, an
// administrator, the operator and someone holding the database file can and
// cannot do to who people are and what they may do. The roles half is in
// insider_roles_test.go.

// rosterColumns are the columns rosterFile writes.
var rosterColumns = []string{"employee_number", "full_name", "email", "agency", "department", "title",
	"manager_employee_number", "hire_date", "roles", "bargaining_unit"}

// rosterRecord is a person's roster record as stored, by column.
func (tp *testPortal) rosterRecord(t testing.TB, number string) map[string]string {
	t.Helper()
	e := tp.employee(t, number)
	manager := ""
	if e.ManagerID != nil {
		manager = tp.employeeByID(t, *e.ManagerID).EmployeeNumber
	}
	return map[string]string{"employee_number": e.EmployeeNumber, "full_name": e.FullName, "email": e.Email,
		"agency": e.Agency, "department": e.Department, "title": e.Title, "manager_employee_number": manager,
		"hire_date": e.HireDate, "roles": e.RolesString(), "bargaining_unit": e.BargainingUnit}
}

// rosterFile is a roster CSV of the given people as stored, except for the
// fields in edits (by employee number, then column). A row that matches the
// database changes nothing, so only the edits are asked for.
func (tp *testPortal) rosterFile(t testing.TB, numbers []string, edits map[string]map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(rosterColumns); err != nil {
		t.Fatal(err)
	}
	for _, n := range numbers {
		rec := tp.rosterRecord(t, n)
		for k, v := range edits[n] {
			rec[k] = v
		}
		row := make([]string, len(rosterColumns))
		for i, col := range rosterColumns {
			row[i] = rec[col]
		}
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// previewRoster uploads a roster file and returns the preview page.
func previewRoster(t *testing.T, c *client, name string, content []byte) string {
	t.Helper()
	c.get("/hr/roster")
	r := c.upload("/hr/roster", "file", name, content, nil)
	if r.Status != 200 {
		t.Fatalf("preview of %s: status %d", name, r.Status)
	}
	return r.Body
}

// applyRoster confirms a preview and returns the message the roster page then shows.
func applyRoster(t *testing.T, c *client, preview string) string {
	t.Helper()
	m := applyRE.FindStringSubmatch(preview)
	if m == nil {
		t.Fatal("the preview has no apply form")
	}
	if r := c.post(m[1], form("sha256", m[2])); r.Status != 303 {
		t.Fatalf("apply: status %d", r.Status)
	}
	return c.get("/hr/roster").Body
}

// identityState sums up everything a refused request must leave alone:
// each person's address, roles and status, and the number of roster
// changes, address changes, log entries and queued messages.
func (tp *testPortal) identityState(t testing.TB) string {
	t.Helper()
	return tp.text(t, `SELECT (SELECT string_agg(employee_number || ' ' || email || ' ' || roles || ' ' || active, '; ')
		FROM (SELECT * FROM employees ORDER BY id) x)
		|| ' | roster changes ' || (SELECT COUNT(*) FROM roster_changes)
		|| ' | address changes ' || (SELECT COUNT(*) FROM address_changes)
		|| ' | log entries ' || (SELECT COUNT(*) FROM log_entries)
		|| ' | messages ' || (SELECT COUNT(*) FROM outbox)`)
}

// changesJSON is how roster_changes.changes stores field changes: [field, old, new] triples.
func changesJSON(t testing.TB, triples ...[3]string) string {
	t.Helper()
	b, err := json.Marshal(triples)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// loggedRosterChanges counts a person's roster changes with exactly these
// field changes, made by actor (nil: the operator) through source, that
// are entries of the evidence log.
func (tp *testPortal) loggedRosterChanges(t testing.TB, employeeID int64, actor *int64, source string, triples ...[3]string) int {
	t.Helper()
	return tp.count(t, `SELECT COUNT(*) FROM roster_changes c JOIN log_entries l ON l.kind = 'roster_change' AND l.ref_id = c.id
		WHERE c.employee_id = ? AND c.actor_id IS NOT DISTINCT FROM ? AND c.source = ? AND c.changes = ?`,
		employeeID, actor, source, changesJSON(t, triples...))
}

// sentTo waits until the mail worker has sent every message of kind queued
// for addr, and returns those it sent there, newest first.
func (tp *testPortal) sentTo(t testing.TB, addr, kind string) []*app.Message {
	t.Helper()
	for try := 0; try < 250; try++ {
		queued := 0
		for _, m := range tp.outboxTo(t, addr) {
			if m.Kind == kind && m.Status == "queued" {
				queued++
			}
		}
		if queued == 0 {
			var out []*app.Message
			for _, m := range tp.DevMail.Messages() {
				if strings.EqualFold(m.ToAddr, addr) && m.Kind == kind {
					out = append(out, m)
				}
			}
			return out
		}
		tp.Worker.Kick()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s messages to %s were not sent", kind, addr)
	return nil
}

// runAuditVerify runs the operator's audit-verify against the test portal's database.
func runAuditVerify(t *testing.T, tp *testPortal) (string, error) {
	t.Helper()
	tp.commandEnv(t)
	var out bytes.Buffer
	err := server.Run(context.Background(), []string{"audit-verify"}, &out, &out)
	return out.String(), err
}

// requestSignIn asks for a sign-in link for addr on the public form.
func requestSignIn(t *testing.T, tp *testPortal, addr string) {
	t.Helper()
	c := newClient(t, tp.BaseURL)
	c.get("/signin")
	if r := c.post("/signin", form("email", addr)); r.Status != 303 || r.Location != "/signin/sent" {
		t.Fatalf("sign-in request for %s: status %d location %q", addr, r.Status, r.Location)
	}
}

func TestInsiderAddressChangeNeedsASecondPerson(t *testing.T) {
	tp := startTestPortal(t)
	hannah := hrClient(t, tp) // 1002, HR: the insider
	chloe := newClient(t, tp.BaseURL)
	chloe.signIn(tp.signInLink(t, "1010")) // another HR user
	adam := newClient(t, tp.BaseURL)
	adam.signIn(tp.signInLink(t, "1003")) // an administrator
	hannahID, chloeID := tp.employee(t, "1002").ID, tp.employee(t, "1010").ID
	jose := tp.employee(t, "1006")
	oldAddr, newAddr := jose.Email, "hannah.roy.private@mailbox.example" // an address Hannah reads
	joseChanges := func() int { return tp.count(t, `SELECT COUNT(*) FROM roster_changes WHERE employee_id = ?`, jose.ID) }
	changesBefore := joseChanges()
	var reqID int

	t.Run("HR re-pointing someone's address only asks for the change", func(t *testing.T) {
		preview := previewRoster(t, hannah, "people.csv", tp.rosterFile(t, []string{"1006"}, map[string]map[string]string{"1006": {"email": newAddr}}))
		mustContain(t, preview, "<dt>New e-mail addresses</dt><dd>1, each waiting for a second person's approval</dd>",
			"Sign-in links go to the old address until another HR user or an administrator approves the change")
		mustContain(t, applyRoster(t, hannah, preview), "1 new e-mail addresses wait for a second person&#39;s approval")
		if got := tp.employee(t, "1006").Email; got != oldAddr {
			t.Fatalf("the address changed at upload: %s", got)
		}
		reqID = tp.count(t, `SELECT a.id FROM address_changes a JOIN log_entries l ON l.kind = 'address_change' AND l.ref_id = a.id
			WHERE a.employee_id = ? AND a.action = 'request' AND a.request_id IS NULL AND a.old_email = ? AND a.new_email = ? AND a.actor_id = ?`,
			jose.ID, oldAddr, newAddr, hannahID)
		if reqID == 0 {
			t.Fatal("no logged address change request")
		}
		if n := joseChanges(); n != changesBefore {
			t.Fatalf("%d roster changes recorded for an address that has not changed", n-changesBefore)
		}
	})

	t.Run("both the old and the new address are told of the request, the old one to contact HR", func(t *testing.T) {
		old, nu := tp.sentTo(t, oldAddr, app.MailAddressChange), tp.sentTo(t, newAddr, app.MailAddressChange)
		if len(old) != 1 || len(nu) != 1 {
			t.Fatalf("%d messages to the old address, %d to the new one, want 1 each", len(old), len(nu))
		}
		for _, m := range []*app.Message{old[0], nu[0]} {
			if m.Subject != "A change of your e-mail address was asked for" {
				t.Errorf("subject %q", m.Subject)
			}
			mustContain(t, m.Text, "José Núñez", oldAddr+" to "+newAddr, "sign-in links go to "+oldAddr+" only")
		}
		mustContain(t, old[0].Text, "If you did not expect this change, tell your HR office straight away.")
		if strings.Contains(nu[0].Text, "tell your HR office") {
			t.Error("the new address, which the uploader may read, is the one told to raise the alarm")
		}
	})

	t.Run("until approved, sign-in links go to the old address only", func(t *testing.T) {
		requestSignIn(t, tp, newAddr)
		if links := tp.mailedLinks(t, newAddr); len(links) != 0 {
			t.Fatalf("a sign-in link went to the requested address: %q", links)
		}
		before := len(tp.mailedLinks(t, oldAddr))
		requestSignIn(t, tp, oldAddr)
		if n := len(tp.mailedLinks(t, oldAddr)); n != before+1 {
			t.Fatalf("%d new links to the old address, want 1", n-before)
		}
	})

	t.Run("the uploader cannot approve or refuse her own upload", func(t *testing.T) {
		mustContain(t, hannah.get("/hr/address-changes").Body, "José Núñez", newAddr, "You uploaded it: someone else decides")
		before := tp.identityState(t)
		for _, decision := range []string{"approve", "reject"} {
			r := hannah.post("/hr/address-changes", form("id", itoa(int64(reqID)), "decision", decision))
			if r.Status != 422 {
				t.Fatalf("%s: status %d", decision, r.Status)
			}
			mustContain(t, r.Body, "You uploaded the change of José Núñez&#39;s address, so someone else must decide it.")
			wantListError(t, r, "pending", "You uploaded the change of José Núñez's address, so someone else must decide it.")
		}
		for _, f := range [][]string{{"decision", "approve"}, {"id", "x", "decision", "approve"}} {
			wantListError(t, hannah.post("/hr/address-changes", form(f...)), "pending", "Choose an address change from the list.")
		}
		wantListError(t, hannah.post("/hr/address-changes", form("id", itoa(int64(reqID)), "decision", "maybe")), "pending", "Choose whether to approve or to refuse.")
		if tp.identityState(t) != before {
			t.Fatal("a refused decision changed something")
		}
	})

	t.Run("the person whose address it is cannot decide it", func(t *testing.T) {
		joseC := newClient(t, tp.BaseURL)
		joseC.signIn(tp.signInLink(t, "1006"))
		if joseC.csrf == "" {
			t.Fatal("no form token: a refusal would prove nothing")
		}
		before := tp.identityState(t)
		if r := joseC.get("/hr/address-changes"); r.Status != 403 || !strings.Contains(r.Body, "You do not have access to this page.") {
			t.Fatalf("a plain employee's GET: status %d", r.Status)
		}
		if r := joseC.post("/hr/address-changes", form("id", itoa(int64(reqID)), "decision", "approve")); r.Status != 403 ||
			!strings.Contains(r.Body, "You do not have access to this page.") {
			t.Fatalf("a plain employee's POST: status %d", r.Status)
		}
		// Even holding the hr role, he may not decide his own address.
		adam.get("/admin/roles")
		if r := adam.post("/admin/roles", form("employee_number", "1006", "role", "hr", "action", "grant")); r.Status != 303 {
			t.Fatalf("grant hr to 1006: status %d", r.Status)
		}
		mustContain(t, joseC.get("/hr/address-changes").Body, "Your own address: someone else decides")
		mid := tp.identityState(t)
		r := joseC.post("/hr/address-changes", form("id", itoa(int64(reqID)), "decision", "approve"))
		if r.Status != 422 || !strings.Contains(r.Body, "Someone else must decide a change of your own address.") {
			t.Fatalf("1006 as HR: status %d", r.Status)
		}
		wantListError(t, r, "pending", "Someone else must decide a change of your own address.")
		if tp.identityState(t) != mid {
			t.Fatal("his refused decision changed something")
		}
		adam.get("/admin/roles")
		if r := adam.post("/admin/roles", form("employee_number", "1006", "role", "hr", "action", "remove")); r.Status != 303 {
			t.Fatalf("remove hr from 1006: status %d", r.Status)
		}
		if got := tp.employee(t, "1006").Email; got != oldAddr {
			t.Fatalf("the address is %s", got)
		}
		if before == mid {
			t.Fatal("granting the hr role changed nothing")
		}
	})

	t.Run("another HR user approves: the address moves, both are told, and the change is logged", func(t *testing.T) {
		mustContain(t, chloe.get("/hr/address-changes").Body, `name="id" value="`+itoa(int64(reqID))+`"`)
		r := chloe.post("/hr/address-changes", form("id", itoa(int64(reqID)), "decision", "approve"))
		if r.Status != 303 || r.Location != "/hr/address-changes" {
			t.Fatalf("approve: status %d location %q", r.Status, r.Location)
		}
		mustContain(t, chloe.get("/hr/address-changes").Body, "1 address change(s) approved", "No address change is waiting.")
		if got := tp.employee(t, "1006").Email; got != newAddr {
			t.Fatalf("the address is %s, want %s", got, newAddr)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM address_changes a JOIN log_entries l ON l.kind = 'address_change' AND l.ref_id = a.id
			WHERE a.request_id = ? AND a.action = 'approve' AND a.actor_id = ? AND a.old_email = ? AND a.new_email = ?`,
			reqID, chloeID, oldAddr, newAddr); n != 1 {
			t.Fatalf("%d logged approvals", n)
		}
		if n := tp.loggedRosterChanges(t, jose.ID, &chloeID, "address change "+itoa(int64(reqID))+" approved",
			[3]string{app.FieldEmail, oldAddr, newAddr}); n != 1 {
			t.Fatalf("%d logged roster changes of the address by 1010", n)
		}
		for _, addr := range []string{oldAddr, newAddr} {
			ms := tp.sentTo(t, addr, app.MailAddressChange)
			if len(ms) != 2 || ms[0].Subject != "Your e-mail address for the policy portal has changed" {
				t.Fatalf("%s: %d address messages, want the request and the approval", addr, len(ms))
			}
			mustContain(t, ms[0].Text, oldAddr, newAddr, "Chloé Thériault approved it")
			if told := strings.Contains(ms[0].Text, "tell your HR office"); told != (addr == oldAddr) {
				t.Errorf("%s: told to contact HR: %v", addr, told)
			}
		}
	})

	t.Run("the HR person page shows the history of the address", func(t *testing.T) {
		r := hannah.get("/hr/people/" + itoa(jose.ID))
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		mustContain(t, r.Body, "Roster history", "E-mail: "+oldAddr+" → "+newAddr, "Chloé Thériault",
			"address change "+itoa(int64(reqID))+" approved", "Address changes",
			"Asked: "+oldAddr+" → "+newAddr+"</td><td>Hannah Roy", "Approved: "+oldAddr+" → "+newAddr+"</td><td>Chloé Thériault")
	})

	t.Run("after approval, sign-in links go to the new address only", func(t *testing.T) {
		before := len(tp.mailedLinks(t, oldAddr))
		requestSignIn(t, tp, oldAddr)
		if n := len(tp.mailedLinks(t, oldAddr)); n != before {
			t.Fatal("a sign-in link went to the old address after the change")
		}
		requestSignIn(t, tp, newAddr)
		if links := tp.mailedLinks(t, newAddr); len(links) != 1 {
			t.Fatalf("%d links to the new address, want 1", len(links))
		}
	})

	t.Run("a signature records the address the sign-in link went to", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.mailedLinks(t, newAddr)[0])
		readAll(t, tp, c, "1006")
		passQuiz(t, tp, c, "1006")
		consent(t, c)
		c.get("/sign")
		r := c.post("/sign", form("typed_name", "José Núñez", "intent", "yes"))
		if r.Status != 303 || !strings.HasPrefix(r.Location, "/certificates/") {
			t.Fatalf("sign: status %d location %q", r.Status, r.Location)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM acknowledgments a JOIN log_entries l ON l.kind = 'acknowledgment' AND l.ref_id = a.id
			WHERE a.employee_id = ? AND a.auth_method = 'email-link' AND a.sign_in_identity = ?`, jose.ID, newAddr); n != 1 {
			t.Fatalf("%d logged acknowledgments by way of %s", n, newAddr)
		}
	})

	t.Run("refusing a change changes nothing but is logged and told", func(t *testing.T) {
		lan := tp.employee(t, "1007")
		lanNew := "lan.nguyen@elsewhere.example"
		applyRoster(t, hannah, previewRoster(t, hannah, "lan.csv", tp.rosterFile(t, []string{"1007"}, map[string]map[string]string{"1007": {"email": lanNew}})))
		id := tp.count(t, `SELECT id FROM address_changes WHERE employee_id = ? AND action = 'request' AND new_email = ?`, lan.ID, lanNew)
		lanChanges := tp.count(t, `SELECT COUNT(*) FROM roster_changes WHERE employee_id = ?`, lan.ID)
		chloe.get("/hr/address-changes")
		if r := chloe.post("/hr/address-changes", form("id", itoa(int64(id)), "decision", "reject")); r.Status != 303 {
			t.Fatalf("refuse: status %d", r.Status)
		}
		mustContain(t, chloe.get("/hr/address-changes").Body, "1 address change(s) refused", "No address change is waiting.")
		if got := tp.employee(t, "1007").Email; got != lan.Email {
			t.Fatalf("a refused change moved the address to %s", got)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM roster_changes WHERE employee_id = ?`, lan.ID); n != lanChanges {
			t.Fatal("a refused change was recorded as a roster change")
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM address_changes a JOIN log_entries l ON l.kind = 'address_change' AND l.ref_id = a.id
			WHERE a.request_id = ? AND a.action = 'reject' AND a.actor_id = ?`, id, chloeID); n != 1 {
			t.Fatalf("%d logged refusals", n)
		}
		for _, addr := range []string{lan.Email, lanNew} {
			ms := tp.sentTo(t, addr, app.MailAddressChange)
			if len(ms) != 2 || ms[0].Subject != "A change of your e-mail address was refused" {
				t.Fatalf("%s: %d address messages", addr, len(ms))
			}
			mustContain(t, ms[0].Text, "refused by Chloé Thériault", "Nothing changed")
		}
		before := tp.identityState(t)
		r := chloe.post("/hr/address-changes", form("id", itoa(int64(id)), "decision", "approve"))
		if r.Status != 422 || !strings.Contains(r.Body, "has already been decided") {
			t.Fatalf("deciding twice: status %d", r.Status)
		}
		wantListError(t, r, "pending", "has already been decided")
		if tp.identityState(t) != before {
			t.Fatal("deciding twice changed something")
		}
	})

	t.Run("addresses swapped in one upload are approved together or not at all", func(t *testing.T) {
		a, b := tp.employee(t, "1008"), tp.employee(t, "1009")
		preview := previewRoster(t, hannah, "swap.csv", tp.rosterFile(t, []string{"1008", "1009"},
			map[string]map[string]string{"1008": {"email": b.Email}, "1009": {"email": a.Email}}))
		mustContain(t, preview, "<dt>New e-mail addresses</dt><dd>2, each")
		applyRoster(t, hannah, preview)
		idA := tp.count(t, `SELECT id FROM address_changes WHERE employee_id = ? AND action = 'request' AND new_email = ?`, a.ID, b.Email)
		idB := tp.count(t, `SELECT id FROM address_changes WHERE employee_id = ? AND action = 'request' AND new_email = ?`, b.ID, a.Email)
		if idA == 0 || idB == 0 {
			t.Fatal("the swap was not asked for")
		}
		mustContain(t, chloe.get("/hr/address-changes").Body, "Approve every change shown that you may decide", "Addresses that swap between two people must be approved together.")
		before := tp.identityState(t)
		for _, id := range []int{idA, idB} {
			r := chloe.post("/hr/address-changes", form("id", itoa(int64(id)), "decision", "approve"))
			if r.Status != 422 {
				t.Fatalf("approving %d alone: status %d", id, r.Status)
			}
			wantListError(t, r, "pending", "If their address is changing too, approve both changes together.")
		}
		if tp.identityState(t) != before {
			t.Fatal("a refused half of a swap changed something")
		}
		r := chloe.post("/hr/address-changes", form("id", itoa(int64(idA)), "id", itoa(int64(idB)), "decision", "approve"))
		if r.Status != 303 {
			t.Fatalf("approving both: status %d", r.Status)
		}
		mustContain(t, chloe.get("/hr/address-changes").Body, "2 address change(s) approved")
		if gotA, gotB := tp.employee(t, "1008").Email, tp.employee(t, "1009").Email; gotA != b.Email || gotB != a.Email {
			t.Fatalf("after the swap 1008 has %s and 1009 has %s", gotA, gotB)
		}
		if tp.loggedRosterChanges(t, a.ID, &chloeID, "address change "+itoa(int64(idA))+" approved", [3]string{app.FieldEmail, a.Email, b.Email}) != 1 ||
			tp.loggedRosterChanges(t, b.ID, &chloeID, "address change "+itoa(int64(idB))+" approved", [3]string{app.FieldEmail, b.Email, a.Email}) != 1 {
			t.Fatal("the swap is not logged as two roster changes")
		}
	})

	t.Run("audit-verify passes after these changes", func(t *testing.T) {
		if out, err := runAuditVerify(t, tp); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	})

	t.Run("an address edited in the database file is caught by audit-verify", func(t *testing.T) {
		addr := tp.employee(t, "1007").Email
		tamper(t, tp, `UPDATE employees SET email = 'attacker@mailbox.example' WHERE employee_number = '1007'`)
		_, err := runAuditVerify(t, tp)
		if err == nil {
			t.Fatal("audit-verify passed with an address changed outside the portal")
		}
		for _, want := range []string{"employee 1007's email", "attacker@mailbox.example", "changed outside the portal"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q does not say %q", err, want)
			}
		}
		tamper(t, tp, `UPDATE employees SET email = ? WHERE employee_number = '1007'`, addr)
		if out, err := runAuditVerify(t, tp); err != nil {
			t.Fatalf("with the address put back: %v\n%s", err, out)
		}
	})
}

package e2e

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"portal/server"
)

// goodRoster adds two people to the demo; the first was hired ten days
// ago, so that the new-hire window (30 days) ends after the demo cycle's
// due date (15 days ago) on whatever day the tests run.
var goodRoster = "\ufeffEmployee Number,Full Name,E-mail,Agency,Department,Title,Manager_Employee_Number,Hire Date,Roles\r\n" +
	"9001,Ana Lúcia Ferreira,ana.ferreira@new.example,Department of Labor,Bureau of Employment Services,Counselor,4002," +
	testClockStart().AddDate(0, 0, -10).Format("2006-01-02") + ",\r\n" +
	"9002,\"Okafor, Chidi\",chidi.okafor@new.example,Department of Labor,Bureau of Employment Services,Analyst,9001,,poster\r\n"

var applyRE = regexp.MustCompile(`action="(/hr/roster/\d+/apply)"[\s\S]*?name="sha256" value="([0-9a-f]+)"`)

func hrClient(t *testing.T, tp *testPortal) *client {
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, "1002")) // Hannah Roy, HR
	return c
}

func TestRosterImportInTheBrowserFlow(t *testing.T) {
	tp := startTestPortal(t)
	c := hrClient(t, tp)
	employees := func() int { return tp.count(t, `SELECT COUNT(*) FROM employees`) }
	before := employees()

	t.Run("a good file is previewed, then applied atomically", func(t *testing.T) {
		c.get("/hr/roster")
		r := c.upload("/hr/roster", "file", "roster.csv", []byte(goodRoster), nil)
		if r.Status != 200 {
			t.Fatalf("preview: status %d", r.Status)
		}
		mustContain(t, r.Body, "The file is valid", "<dt>Added</dt><dd>2</dd>")
		if employees() != before {
			t.Fatal("the preview changed the roster")
		}
		m := applyRE.FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatal("no apply form")
		}
		if r := c.post(m[1], form("sha256", m[2])); r.Status != 303 {
			t.Fatalf("apply: status %d", r.Status)
		}
		mustContain(t, c.get("/hr/roster").Body, "Roster imported: 2 added")
		if employees() != before+2 {
			t.Fatalf("%d employees, want %d", employees(), before+2)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM employees e JOIN employees m ON m.id = e.manager_id
			WHERE e.employee_number = '9002' AND m.employee_number = '9001' AND e.full_name = 'Okafor, Chidi' AND e.roles = 'poster'`); n != 1 {
			t.Fatal("the second row was not stored as written")
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM assignments a JOIN employees e ON e.id = a.employee_id
			WHERE e.employee_number = '9001' AND a.due_on > (SELECT due_on FROM cycles WHERE open = 1 AND kind = 'personal-use')`); n != 1 {
			t.Fatal("the new hire was not given the new-hire window")
		}
		if r := c.post(m[1], form("sha256", m[2])); r.Status != 303 || !strings.Contains(c.get("/hr/roster").Body, "already imported") {
			t.Fatalf("second apply: status %d", r.Status)
		}
	})

	t.Run("the same file again changes nothing", func(t *testing.T) {
		events := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'roster.imported'`)
		r := c.upload("/hr/roster", "file", "roster.csv", []byte(goodRoster), nil)
		mustContain(t, r.Body, "<dt>Unchanged</dt><dd>2</dd>", "nothing to apply")
		if tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'roster.imported'`) != events {
			t.Fatal("a no-op import was recorded as a change")
		}
	})

	t.Run("a file with errors lists every bad line and changes nothing", func(t *testing.T) {
		bad := "employee_number,full_name,email,agency,department,hire_date,manager_employee_number,roles\n" +
			"9101,Good Person,good@new.example,A,D,,,\n" +
			"9102,,missing.name@new.example,A,D,,,\n" +
			"9103,Bad Mail,not-an-address,A,D,,,\n" +
			"9101,Duplicate,dup@new.example,A,D,,,\n" +
			"9104,Bad Date,date@new.example,A,D,2026-02-30,,\n" +
			"9105,No Boss,boss@new.example,A,D,,77777,\n" +
			"9106,Loop One,l1@new.example,A,D,,9107,\n" +
			"9107,Loop Two,l2@new.example,A,D,,9106,\n" +
			"9108,Wrong Role,role@new.example,A,D,,,superuser\n"
		n := employees()
		r := c.upload("/hr/roster", "file", "bad.csv", []byte(bad), nil)
		if r.Status != 422 {
			t.Fatalf("status %d", r.Status)
		}
		for _, line := range []string{">3<", ">4<", ">5<", ">6<", ">7<", ">8<", ">10<"} {
			if !strings.Contains(r.Body, `<td class="num"`+line) {
				t.Errorf("line %s not reported", line)
			}
		}
		mustContain(t, r.Body, "nothing was imported")
		wantFieldError(t, r, "file", "The file has problems, so nothing was imported.")
		if employees() != n {
			t.Fatal("a bad file changed the roster")
		}
	})

	t.Run("an address that belongs to someone else is refused", func(t *testing.T) {
		other := tp.employee(t, "1006").Email
		f := "employee_number,full_name,email,agency,department\n9201,New Person," + other + ",A,D\n"
		r := c.upload("/hr/roster", "file", "clash.csv", []byte(f), nil)
		if r.Status != 422 || !strings.Contains(r.Body, "already belongs to employee 1006") {
			t.Fatalf("status %d", r.Status)
		}
		wantFieldError(t, r, "file", "nothing was imported")
	})

	t.Run("an oversized upload gets a clear message", func(t *testing.T) {
		big := bytes.Repeat([]byte("x"), 21<<20)
		r := c.upload("/hr/roster", "file", "big.csv", big, nil)
		if r.Status != 413 || !strings.Contains(r.Body, "larger than 20 MB") {
			t.Fatalf("status %d", r.Status)
		}
		wantFieldErrorStatus(t, r, 413, "file", "The file is larger than 20 MB.")
	})

	t.Run("no file, or a forged token, is refused", func(t *testing.T) {
		n := employees()
		wantFieldError(t, c.upload("/hr/roster", "other", "x.csv", []byte("x"), nil), "file", "Choose a CSV file to upload.")
		if employees() != n {
			t.Fatal("a form without a file changed the roster")
		}
		if r := c.upload("/hr/roster", "file", "x.csv", []byte(goodRoster), map[string]string{"_csrf": "forged"}); r.Status != 403 {
			t.Fatalf("forged token: status %d", r.Status)
		}
	})

	t.Run("employees and managers cannot import", func(t *testing.T) {
		emp := newClient(t, tp.BaseURL)
		emp.signIn(tp.signInLink(t, "1004"))
		if r := emp.get("/hr/roster"); r.Status != 403 {
			t.Fatalf("status %d", r.Status)
		}
		if r := emp.upload("/hr/roster", "file", "roster.csv", []byte(goodRoster), nil); r.Status != 403 {
			t.Fatalf("status %d", r.Status)
		}
	})
}

func TestImportRosterCommand(t *testing.T) {
	tp := startTestPortal(t)
	tp.commandEnv(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := dir + "/" + name
		if err := writeFile(p, body); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx := context.Background()
	var out bytes.Buffer
	t.Run("a bad file exits non-zero and lists every bad row", func(t *testing.T) {
		p := write("bad.csv", "employee_number,full_name,email,agency,department\n1,A,a@x.example,A,D\n2,,b@x.example,A,D\n3,C,nope,A,D\n")
		out.Reset()
		err := server.Run(ctx, []string{"import-roster", p}, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "2 problem") {
			t.Fatalf("err %v", err)
		}
		mustContain(t, out.String(), p+":3", p+":4")
	})
	good := write("good.csv", goodRoster)
	t.Run("a dry run changes nothing", func(t *testing.T) {
		n := tp.count(t, `SELECT COUNT(*) FROM employees`)
		out.Reset()
		if err := server.Run(ctx, []string{"import-roster", good, "--dry-run"}, &out, &out); err != nil {
			t.Fatal(err)
		}
		mustContain(t, out.String(), "dry run", "2 added")
		if tp.count(t, `SELECT COUNT(*) FROM employees`) != n {
			t.Fatal("a dry run changed the roster")
		}
	})
	t.Run("a good file imports, twice is a no-op", func(t *testing.T) {
		out.Reset()
		if err := server.Run(ctx, []string{"import-roster", good}, &out, &out); err != nil {
			t.Fatal(err)
		}
		mustContain(t, out.String(), "2 added")
		out.Reset()
		if err := server.Run(ctx, []string{"import-roster", good}, &out, &out); err != nil {
			t.Fatal(err)
		}
		mustContain(t, out.String(), "0 added, 0 updated, 0 reactivated, 0 deactivated, 2 unchanged")
	})
	t.Run("a full roster may not deactivate someone's manager", func(t *testing.T) {
		p := write("orphans.csv", "employee_number,full_name,email,agency,department,manager_employee_number\n"+
			"9501,Report Person,report@new.example,A,D,1004\n")
		out.Reset()
		if err := server.Run(ctx, []string{"import-roster", p, "--deactivate-missing"}, &out, &out); err == nil {
			t.Fatal("accepted")
		}
		mustContain(t, out.String(), p+":2 (manager_employee_number): manager 1004 is not in this full roster")
	})
	t.Run("a full roster deactivates the missing, deletes nobody and keeps the evidence", func(t *testing.T) {
		total := tp.count(t, `SELECT COUNT(*) FROM employees`)
		acks := tp.count(t, `SELECT COUNT(*) FROM acknowledgments`)
		full := write("full.csv", strings.Replace(goodRoster, ",4002,", ",,", 1))
		out.Reset()
		if err := server.Run(ctx, []string{"import-roster", full, "--deactivate-missing"}, &out, &out); err != nil {
			t.Fatal(err)
		}
		if tp.count(t, `SELECT COUNT(*) FROM employees`) != total || tp.count(t, `SELECT COUNT(*) FROM employees WHERE active = 1`) != 2 {
			t.Fatal("deactivation deleted people or missed some")
		}
		if tp.count(t, `SELECT COUNT(*) FROM acknowledgments`) != acks {
			t.Fatal("evidence lost")
		}
		out.Reset()
		if err := server.Run(ctx, []string{"audit-verify"}, &out, &out); err != nil {
			t.Fatalf("chain after deactivation: %v", err)
		}
		c := newClient(t, tp.BaseURL)
		if r := c.get(tp.signInLink(t, "1006")); r.Status != 401 {
			t.Fatalf("a deactivated employee's link still works: %d", r.Status)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		if _, ok := server.Run(ctx, []string{"import-roster"}, &out, &out).(server.UsageError); !ok {
			t.Fatal("no file: not a usage error")
		}
		if err := server.Run(ctx, []string{"import-roster", good, "--nope"}, &out, &out); err == nil {
			t.Fatal("unknown option accepted")
		}
	})
}

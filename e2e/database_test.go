package e2e

// The end-to-end tests' only way into the database file, kept in one place:
// reading it as an auditor would (read-only, through a fresh connection that
// also sees what is still in the -wal file) to assert what the portal
// stored, and writing it as an insider holding the file would, with plain
// SQL and no portal code. Everything else goes through HTTP, the command
// line and the browser.

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the driver the file is read with

	"portal/app"
	"portal/app/store"
)

// readFile opens a database file read-only.
func readFile(t testing.TB, path string) *sql.DB {
	t.Helper()
	if store.IsPostgres(path) {
		db, err := store.OpenPostgresSQL(path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// count runs a COUNT query on the test portal's database file.
func (tp *testPortal) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	db := readFile(t, tp.DB.Path)
	defer db.Close()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// text runs a query that returns one text value on the test portal's database file.
func (tp *testPortal) text(t testing.TB, query string, args ...any) string {
	t.Helper()
	db := readFile(t, tp.DB.Path)
	defer db.Close()
	var s sql.NullString
	if err := db.QueryRow(query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s.String
}

// evString runs a query returning one text value on a database file.
func evString(t *testing.T, path, query string, args ...any) string {
	t.Helper()
	db := readFile(t, path)
	defer db.Close()
	var s string
	if err := db.QueryRow(query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s
}

// evRaw opens a database file for writing as an attacker would: plain SQL,
// no portal code.
func evRaw(t testing.TB, path string) *sql.DB {
	t.Helper()
	if store.IsPostgres(path) {
		return readFile(t, path) // a plain connection, which writes as well
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

// evExec runs a statement on a database opened with evRaw.
func evExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// tamper edits one row of the test portal's database file, as someone who
// can write the file.
func tamper(t *testing.T, tp *testPortal, query string, args ...any) {
	t.Helper()
	raw := evRaw(t, tp.DB.Path)
	defer raw.Close()
	res, err := raw.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("%s changed %d rows: %v", query, n, err)
	}
}

// employees reads the people a WHERE clause on the employees table (e)
// selects, in id order, as the table holds them.
func (tp *testPortal) employees(t testing.TB, where string, args ...any) []*app.Employee {
	t.Helper()
	db := readFile(t, tp.DB.Path)
	defer db.Close()
	rows, err := db.Query(`SELECT e.id, e.employee_number, e.full_name, e.email, e.agency, e.department, e.title,
		e.manager_id, e.hire_date, e.roles, e.bargaining_unit, e.active,
		EXISTS (SELECT 1 FROM employees r WHERE r.manager_id = e.id AND r.active = 1),
		COALESCE((SELECT s.agency FROM agency_supervisors s WHERE s.employee_id = e.id AND e.active = 1), ''),
		COALESCE((SELECT string_agg(pa.starts_on || '/' || pa.ends_on, ' ') FROM poster_authorizations pa
			WHERE pa.employee_id = e.id AND e.active = 1 AND pa.agency = e.agency
				AND NOT EXISTS (SELECT 1 FROM authorization_ends x WHERE x.authorization_id = pa.id)), '')
		FROM employees e WHERE `+where+` ORDER BY e.id`, args...)
	if err != nil {
		t.Fatalf("employees where %s: %v", where, err)
	}
	defer rows.Close()
	var out []*app.Employee
	for rows.Next() {
		var e app.Employee
		var manager sql.NullInt64
		var roles, posting string
		if err := rows.Scan(&e.ID, &e.EmployeeNumber, &e.FullName, &e.Email, &e.Agency, &e.Department, &e.Title,
			&manager, &e.HireDate, &roles, &e.BargainingUnit, &e.Active, &e.IsManager, &e.SupervisorOf, &posting); err != nil {
			t.Fatal(err)
		}
		// A poster by authorization, as the portal works it out for today.
		for _, p := range strings.Fields(posting) {
			from, to, _ := strings.Cut(p, "/")
			e.PostingPeriods = append(e.PostingPeriods, app.PostingPeriod{From: from, To: to})
		}
		e.AuthorizedPoster = e.PostsOn(tp.DB.Today())
		if manager.Valid {
			e.ManagerID = &manager.Int64
		}
		for _, r := range strings.Split(roles, ";") {
			if r = strings.TrimSpace(r); r != "" {
				e.Roles = append(e.Roles, app.Role(r))
			}
		}
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// employee returns a demo employee by number.
func (tp *testPortal) employee(t testing.TB, number string) *app.Employee {
	t.Helper()
	es := tp.employees(t, `e.employee_number = ?`, number)
	if len(es) != 1 {
		t.Fatalf("employee %s: %d found", number, len(es))
	}
	return es[0]
}

// employeeByID returns an employee by id.
func (tp *testPortal) employeeByID(t testing.TB, id int64) *app.Employee {
	t.Helper()
	es := tp.employees(t, `e.id = ?`, id)
	if len(es) != 1 {
		t.Fatalf("employee %d: %d found", id, len(es))
	}
	return es[0]
}

// codeOf is the verification code of the employee's latest acknowledgment ("" if none).
func (tp *testPortal) codeOf(t testing.TB, employeeID int64) string {
	t.Helper()
	if tp.count(t, `SELECT COUNT(*) FROM acknowledgments WHERE employee_id = ?`, employeeID) == 0 {
		return ""
	}
	return tp.text(t, `SELECT verify_code FROM acknowledgments WHERE employee_id = ? ORDER BY id DESC LIMIT 1`, employeeID)
}

// attemptOf is the id of the employee's latest knowledge-check attempt in the cycle (0 if none).
func (tp *testPortal) attemptOf(t testing.TB, employeeID, cycleID int64) int64 {
	t.Helper()
	return int64(tp.count(t, `SELECT COALESCE(MAX(id), 0) FROM quiz_attempts WHERE employee_id = ? AND cycle_id = ?`, employeeID, cycleID))
}

// cycleID is the open cycle's id (the demo has one).
func (tp *testPortal) cycleID(t testing.TB) int64 {
	t.Helper()
	if n := tp.count(t, `SELECT COUNT(*) FROM cycles WHERE open = 1 AND kind = 'personal-use'`); n != 1 {
		t.Fatalf("%d open cycles", n)
	}
	return int64(tp.count(t, `SELECT id FROM cycles WHERE open = 1 AND kind = 'personal-use'`))
}

// logIndexOf is the evidence log entry of the acknowledgment with the code.
func (tp *testPortal) logIndexOf(t testing.TB, code string) int64 {
	t.Helper()
	return int64(tp.count(t, `SELECT l.idx FROM log_entries l JOIN acknowledgments a ON l.kind = 'acknowledgment' AND l.ref_id = a.id
		WHERE a.verify_code = ?`, code))
}

// ackByCode is an acknowledgment as the store reads it back, the form its
// canonical log entry is built from: a test rebuilds the entry from it and
// checks it against what the public routes serve.
func (tp *testPortal) ackByCode(t testing.TB, code string) *app.Acknowledgment {
	t.Helper()
	a, err := tp.Handler.Acks.FindAcknowledgmentByCode(context.Background(), code)
	if err != nil {
		t.Fatalf("acknowledgment %s: %v", code, err)
	}
	return a
}

// outboxTo reads the messages queued or kept for an address, newest first,
// as the outbox table holds them.
func (tp *testPortal) outboxTo(t testing.TB, addr string) []*app.Message {
	t.Helper()
	db := readFile(t, tp.DB.Path)
	defer db.Close()
	rows, err := db.Query(`SELECT id, dedupe_key, kind, to_addr, subject, text_body, sealed, status, attempts
		FROM outbox WHERE lower(to_addr) = lower(?) ORDER BY id DESC`, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []*app.Message
	for rows.Next() {
		var m app.Message
		if err := rows.Scan(&m.ID, &m.DedupeKey, &m.Kind, &m.ToAddr, &m.Subject, &m.Text, &m.Sealed, &m.Status, &m.Attempts); err != nil {
			t.Fatal(err)
		}
		out = append(out, &m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// outboxClaims reads the messages a worker holds leased, by id and
// address; owner is a LIKE pattern on the lease's owner.
func (tp *testPortal) outboxClaims(t testing.TB, owner string) map[int64]string {
	t.Helper()
	db := readFile(t, tp.DB.Path)
	defer db.Close()
	rows, err := db.Query(`SELECT id, lower(to_addr) FROM outbox WHERE status = 'queued' AND locked_at IS NOT NULL
		AND lease_owner LIKE ?`, owner)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var addr string
		if err := rows.Scan(&id, &addr); err != nil {
			t.Fatal(err)
		}
		out[id] = addr
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sentPerAddress counts the messages the outbox records as sent, by address
// in lower case.
func (tp *testPortal) sentPerAddress(t testing.TB) map[string]int {
	t.Helper()
	db := readFile(t, tp.DB.Path)
	defer db.Close()
	rows, err := db.Query(`SELECT lower(to_addr), COUNT(*) FROM outbox WHERE status = 'sent' GROUP BY lower(to_addr)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var addr string
		var n int
		if err := rows.Scan(&addr, &n); err != nil {
			t.Fatal(err)
		}
		out[addr] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

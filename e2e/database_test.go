package e2e

// The end-to-end tests' only way into the database file, kept in one place:
// reading it as an auditor would (read-only, through a fresh connection that
// also sees what is still in the -wal file) to assert what the portal
// stored, and writing it as an insider holding the file would, with plain
// SQL and no portal code. Everything else goes through HTTP, the command
// line and the browser.

import (
	"database/sql"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the driver the file is read with
)

// readFile opens a database file read-only.
func readFile(t testing.TB, path string) *sql.DB {
	t.Helper()
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

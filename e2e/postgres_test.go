package e2e

import (
	"database/sql"
	"os"
	"testing"

	"portal/app/pgtest"
	"portal/app/store"
)

// The end-to-end tests run on SQLite, and again on PostgreSQL with
// PORTAL_TEST_DB=postgres (`make test` runs both): each test portal then
// gets a fresh database of a throwaway PostgreSQL server that the package
// starts on first use and stops at the end.
func onPostgres() bool { return os.Getenv("PORTAL_TEST_DB") == "postgres" }

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// tablesQuery lists the database's tables by name, on SQLite or on
// PostgreSQL (path is the database's PORTAL_DB value).
func tablesQuery(path string) string {
	if store.IsPostgres(path) {
		return `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
			AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	return `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
}

// queryStrings runs a query of one text column and returns its rows.
func queryStrings(t testing.TB, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// dropTrigger removes one trigger of table, as someone holding the
// database can: SQLite names triggers database-wide, PostgreSQL per table.
func dropTrigger(t testing.TB, db *sql.DB, name, table string) {
	t.Helper()
	q := `DROP TRIGGER ` + name
	if onPostgres() {
		q += ` ON ` + table
	}
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

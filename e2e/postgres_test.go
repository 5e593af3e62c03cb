package e2e

import (
	"os"
	"testing"

	"portal/app/pgtest"
)

// The end-to-end tests run on SQLite, and again on PostgreSQL with
// PORTAL_TEST_DB=postgres (`make test` runs both): each test portal then
// gets a fresh database of a throwaway PostgreSQL server that the package
// starts on first use and stops at the end.
func onPostgres() bool { return os.Getenv("PORTAL_TEST_DB") == "postgres" }

// sqliteOnly skips, on PostgreSQL, a test of what only an SQLite file has
// (its journal, its file on disk, its pragmas), saying which PostgreSQL
// test covers the same ground, if any.
func sqliteOnly(t testing.TB, why string) {
	t.Helper()
	if onPostgres() {
		t.Skip("SQLite only: " + why)
	}
}

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

package pgtest

import (
	"database/sql"
	"os"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// TestDatabasesAreSeparate: each test gets a database of its own, which
// answers queries and keeps what one writes from the others.
func TestDatabasesAreSeparate(t *testing.T) {
	a, b := Database(t), Database(t)
	if a == b {
		t.Fatalf("two tests share %s", a)
	}
	da, err := sql.Open("pgx", a)
	if err != nil {
		t.Fatal(err)
	}
	defer da.Close()
	db, err := sql.Open("pgx", b)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := da.Exec(`CREATE TABLE x (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM pg_tables WHERE tablename = 'x'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the second database sees the first one's table: %d %v", n, err)
	}
	var v string
	if err := da.QueryRow(`SHOW server_version`).Scan(&v); err != nil || v == "" {
		t.Fatalf("server version %q: %v", v, err)
	}
}

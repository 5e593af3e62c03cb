package sqlite

import (
	"context"
	"database/sql"
	"testing"

	"github.com/mattn/go-sqlite3"
)

// Every connection, writer and readers, runs with the query planner
// stability guarantee, so cached statements are not compiled again on
// each run (see qpsg).
func TestConnectionsHoldPlansStable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for name, pool := range map[string]*sql.DB{"writer": f.db.write, "reader": f.db.read} {
		conn, err := pool.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		state := 0
		if err := conn.Raw(func(dc any) error {
			state = qpsg(dc.(*sqlite3.SQLiteConn), -1)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		_ = conn.Close()
		if state != 1 {
			t.Errorf("%s connection: query planner stability guarantee is %d, want 1", name, state)
		}
	}
	// The writer keeps its savepoints' journal in memory (2 = MEMORY).
	var store int
	if err := f.db.write.QueryRow(`PRAGMA temp_store`).Scan(&store); err != nil || store != 2 {
		t.Errorf("writer temp_store = %d (%v), want 2", store, err)
	}
	// A plain go-sqlite3 connection has it off, so the check can fail.
	raw, err := sql.Open("sqlite3", f.db.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error {
		if s := qpsg(dc.(*sqlite3.SQLiteConn), -1); s != 0 {
			t.Errorf("plain connection: %d, want 0", s)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

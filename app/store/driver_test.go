package store

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

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
	var auto int
	if err := f.db.write.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != writerAutoCheckpoint {
		t.Errorf("writer wal_autocheckpoint = %d (%v), want %d", auto, err, writerAutoCheckpoint)
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

// The checkpointer copies committed pages from the WAL into the database
// file by itself: 5 MB committed (far below the writer's own threshold)
// reach the file without anyone asking.
func TestCheckpointerCopiesTheWALBack(t *testing.T) {
	f := newFixture(t)
	if _, err := f.db.write.Exec(`CREATE TABLE blob_test (b BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(f.db.Path)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := f.db.write.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 80; i++ {
		if _, err := tx.Exec(`INSERT INTO blob_test (b) VALUES (zeroblob(65536))`); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := os.Stat(f.db.Path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() >= before.Size()+5<<20 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes (was %d): the WAL was not copied back", st.Size(), before.Size())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCloseTwice(t *testing.T) {
	f := newFixture(t)
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	_ = f.db.Close() // the fixture's cleanup closes it again too
}

package store

import (
	"database/sql"
	"testing"
)

// Every connection, the writer's and the readers', bounds the WAL left on
// disk: SQLite applies journal_size_limit on the connection that resets
// the WAL, whichever that is.
func TestEveryConnectionBoundsTheWAL(t *testing.T) {
	f := newFixture(t)
	for name, pool := range map[string]*sql.DB{"writer": f.db.write, "reader": f.db.read, "checkpointer": f.db.ckpt.conn} {
		var n int64
		if err := pool.QueryRow(`PRAGMA journal_size_limit`).Scan(&n); err != nil || n != journalSizeLimit {
			t.Errorf("%s: journal_size_limit %d (%v), want %d", name, n, err, journalSizeLimit)
		}
	}
}

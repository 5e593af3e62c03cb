package sqlite

import (
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// checkpointInterval is how often the checkpointer copies the WAL back.
const checkpointInterval = 100 * time.Millisecond

// writerAutoCheckpoint is the WAL size, in pages, at which the writer
// checkpoints by itself: a safety net that the checkpointer keeps it from
// reaching (40 MB; SQLite's default is 1,000 pages).
const writerAutoCheckpoint = 10000

// checkpointer copies the write-ahead log back into the database file on a
// connection of its own, so that the writer's commits — every signature's
// answer waits on one — do not stop to do it. A passive checkpoint never
// waits for readers or the writer; durability does not depend on it, since
// a committed transaction is in the WAL already.
type checkpointer struct {
	conn *sql.DB
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func startCheckpointer(dsn string) (*checkpointer, error) {
	conn, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open checkpoint connection: %w", err)
	}
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			// A failure (a busy database) is retried at the next tick; if
			// checkpoints kept failing, the writer's own would take over.
			_, _ = c.conn.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// close stops the checkpointer; closing twice is harmless.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return c.conn.Close()
}

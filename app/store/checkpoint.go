package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointInterval is how often the checkpointer copies the WAL back.
const checkpointInterval = 100 * time.Millisecond

// checkpointIdle is how long the WAL must go without a new frame before the
// checkpointer truncates it: the portal is idle for a moment.
const checkpointIdle = time.Second

// writerAutoCheckpoint is the WAL size, in pages, at which the writer
// checkpoints by itself: a safety net that the checkpointer keeps it from
// reaching (40 MB; SQLite's default is 1,000 pages).
const writerAutoCheckpoint = 10000

// journalSizeLimit bounds the WAL file that stays on disk (bytes): SQLite
// reuses the file after a checkpoint rather than shrinking it, so a burst of
// writes (a large import while people read) would otherwise leave a WAL of
// tens of megabytes beside a small database for good, and on a full disk it
// is the WAL, not the data, that takes the space. Set on every connection;
// the writer truncates the file to this size whenever it starts the WAL
// afresh.
const journalSizeLimit = 8 << 20

// checkpointer copies the write-ahead log back into the database file on a
// connection of its own, so that the writer's commits — every signature's
// answer waits on one — do not stop to do it. A passive checkpoint never
// waits for readers or the writer; durability does not depend on it, since
// a committed transaction is in the WAL already. Once the WAL has taken no
// new frame for checkpointIdle, a truncating checkpoint empties the file.
// Its connection has no busy timeout, so that checkpoint never waits for a
// reader or the writer (and so never holds a writer up): if either is busy
// it does what it can and is tried again at the next tick.
type checkpointer struct {
	conn *sql.DB
	log  *atomic.Pointer[slog.Logger]
	stop chan struct{}
	done chan struct{}
	once sync.Once

	// What the last tick saw: the WAL's frames, since when, and whether it
	// was truncated since the last new frame.
	frames    int64
	since     time.Time
	truncated bool
	failing   string // the error of a failing streak, logged once
}

func startCheckpointer(dsn string, log *atomic.Pointer[slog.Logger]) (*checkpointer, error) {
	conn, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open checkpoint connection: %w", err)
	}
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, log: log, stop: make(chan struct{}), done: make(chan struct{})}
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
		case now := <-t.C:
			c.tick(now)
		}
	}
}

// tick checkpoints once: passively while the WAL is growing, truncating
// once it has been still for checkpointIdle.
func (c *checkpointer) tick(now time.Time) {
	mode := "PASSIVE"
	if !c.truncated && c.frames > 0 && now.Sub(c.since) >= checkpointIdle {
		mode = "TRUNCATE"
	}
	busy, frames, _, err := c.checkpoint(mode)
	c.report(mode, err)
	if err != nil {
		return
	}
	if frames != c.frames {
		c.frames, c.since, c.truncated = frames, now, false
	}
	if mode == "TRUNCATE" && busy == 0 {
		c.frames, c.truncated = 0, true
	}
}

// checkpoint runs one checkpoint and returns SQLite's answer: whether it was
// blocked, the WAL's frames and how many are in the database file.
func (c *checkpointer) checkpoint(mode string) (busy, frames, copied int64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &copied) // #nosec G202 -- mode is PASSIVE or TRUNCATE
	return busy, frames, copied, err
}

// report logs the first error of a failing streak and its end: a failure
// is retried at the next tick (and if checkpoints kept failing the
// writer's own would take over), so one line each way is enough.
func (c *checkpointer) report(mode string, err error) {
	log := c.log.Load()
	switch {
	case err != nil && c.failing == "":
		c.failing = err.Error()
		if log != nil {
			log.Error("database checkpoint failed; retrying", "mode", mode, "err", err)
		}
	case err == nil && c.failing != "":
		if log != nil {
			log.Info("database checkpoint works again", "after", c.failing)
		}
		c.failing = ""
	}
}

// close stops the checkpointer; closing twice is harmless.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return c.conn.Close()
}

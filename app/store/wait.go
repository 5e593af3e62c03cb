package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Waiting for the write lock. SQLite lets one connection write at a time,
// across processes: while `portal import-roster` or `portal remind` writes a
// batch, the server's writer cannot begin. SQLite's own busy handler would
// wait, but it sleeps up to 100 ms between looks and gives up at the busy
// timeout, so a writer that takes the lock back at once (an import's next
// batch) can starve it until it fails with "database is locked". The
// writer connection therefore has no busy timeout of its own, and every write
// here begins through waitForWriter, which looks again every few
// milliseconds until the request's context is done. Batch writers
// (ImportRoster) pause for longer than that between batches, so whoever
// waits gets in between two batches.
const (
	// writerBusyTimeout is the writer connection's own busy timeout (ms).
	writerBusyTimeout = 0
	// writeWaitLimit bounds a wait whose context never ends (the group
	// committer, the command line).
	writeWaitLimit = 2 * time.Minute
	// maxWritePause is the longest pause between two looks at the lock.
	maxWritePause = 4 * time.Millisecond
	// batchPause is how long a batch writer leaves the lock free between
	// batches: longer than maxWritePause, so every waiting writer looks
	// at least once while it is free.
	batchPause = 10 * time.Millisecond
)

// waitForWriter runs try until it does not fail because another connection
// holds the write lock, ctx is done or writeWaitLimit has passed.
func waitForWriter(ctx context.Context, try func() error) error {
	deadline := time.Now().Add(writeWaitLimit)
	pause := 250 * time.Microsecond
	for {
		err := try()
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, maxWritePause)
	}
}

// beginWrite starts a write transaction on the single writer connection,
// waiting for any other process's writer to finish. Because the DSN asks
// for BEGIN IMMEDIATE, it holds the write lock from the start and never
// fails half way with "database is locked".
func (db *DB) beginWrite(ctx context.Context) (*sql.Tx, error) {
	if db.pg {
		return db.beginPostgres(ctx)
	}
	var tx *sql.Tx
	err := waitForWriter(ctx, func() (err error) {
		tx, err = db.write.BeginTx(ctx, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return tx, nil
}

// execWrite runs one statement on the writer, in a transaction of its own,
// waiting for the write lock as beginWrite does.
func (db *DB) execWrite(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if db.pg {
		tx, err := db.beginPostgres(ctx)
		if err != nil {
			return nil, err
		}
		defer tx.Rollback()
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		return res, tx.Commit()
	}
	var res sql.Result
	err := waitForWriter(ctx, func() (err error) {
		res, err = db.write.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// isBusy reports whether err is SQLite's "database is locked" (another
// connection holds the lock).
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

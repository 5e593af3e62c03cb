package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"portal/app"
)

// The queries of MonitorStats (a test checks that each uses an index).
const (
	monitorWaiting    = `SELECT COUNT(*), MIN(id) FROM outbox INDEXED BY outbox_due WHERE status = 'queued' AND locked_at IS NULL`
	monitorInFlight   = `SELECT COUNT(*), MIN(id) FROM outbox INDEXED BY outbox_lease_until WHERE locked_at IS NOT NULL AND status = 'queued'`
	monitorQueuedAt   = `SELECT created_at FROM outbox WHERE id = ?`
	monitorLogSize    = `SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries`
	monitorCheckpoint = `SELECT size, signed_at FROM log_checkpoints WHERE id = (SELECT MAX(id) FROM log_checkpoints)`
)

// MonitorStats reads the figures a metrics scrape shows, from the read pool
// and without a transaction: each is an indexed look-up, so a scrape every
// few seconds costs the portal nothing it would notice.
//
//   - Queued messages: the outbox_due partial index holds every queued
//     message not in flight (locked_at IS NULL), the lease index the few in
//     flight; the oldest is the lowest id (ids grow with created_at), found
//     in the same walk of the index and then read by its key.
//   - The log's size is its highest index plus one; the latest checkpoint
//     is the row with the highest id.
func (db *DB) MonitorStats(ctx context.Context) (*app.MonitorStats, error) {
	s := &app.MonitorStats{}
	var waiting, inFlight int
	var oldestWaiting, oldestInFlight sql.NullInt64
	if err := db.read.QueryRowContext(ctx, monitorWaiting).Scan(&waiting, &oldestWaiting); err != nil {
		return nil, fmt.Errorf("monitor: queued messages: %w", err)
	}
	if err := db.read.QueryRowContext(ctx, monitorInFlight).Scan(&inFlight, &oldestInFlight); err != nil {
		return nil, fmt.Errorf("monitor: messages in flight: %w", err)
	}
	s.OutboxQueued = waiting + inFlight
	oldest := oldestWaiting
	if oldestInFlight.Valid && (!oldest.Valid || oldestInFlight.Int64 < oldest.Int64) {
		oldest = oldestInFlight
	}
	if oldest.Valid {
		var at string
		if err := db.read.QueryRowContext(ctx, monitorQueuedAt, oldest.Int64).Scan(&at); err != nil &&
			!errors.Is(err, sql.ErrNoRows) { // sent between the two reads: nothing older is waiting
			return nil, fmt.Errorf("monitor: oldest queued message: %w", err)
		}
		if at != "" {
			s.OldestQueued = parseTime(at)
		}
	}
	if err := db.read.QueryRowContext(ctx, monitorLogSize).Scan(&s.LogEntries); err != nil {
		return nil, fmt.Errorf("monitor: log size: %w", err)
	}
	var signedAt string
	err := db.read.QueryRowContext(ctx, monitorCheckpoint).Scan(&s.CheckpointSize, &signedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("monitor: latest checkpoint: %w", err)
	default:
		s.LatestCheckpointAt = parseTime(signedAt)
	}
	return s, nil
}

// PoolStats returns the connection statistics of the writer (one
// connection, so its waits are writes queueing for it) and of the read pool.
func (db *DB) PoolStats() (write, read sql.DBStats) {
	if db.write != nil {
		write = db.write.Stats()
	}
	return write, db.read.Stats()
}

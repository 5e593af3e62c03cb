package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// steadyClock is the time sign-in links and sessions expire by: the
// portal's clock (DB.Now), except that it never goes back. Were expiry
// checked against the clock alone, a clock set back (by hand, or by a
// machine that booted with a wrong time and was corrected) would bring back
// to life every expired link and session not yet deleted.
//
// It keeps a high-water mark, the latest time handed out. A reading behind
// the mark by more than jumpTolerance is a jump back: from then on the
// clock's readings are taken with the size of the jump added (offset), so
// steady time carries on from the mark at the clock's pace. Nothing made or
// expired before the jump comes back, and what is made after it lives its
// full life; pinning the time at the mark until the clock caught up would
// expire at once every link made meanwhile, and after a clock that had run
// hours ahead and was put right, nobody could sign in for hours.
//
// The mark is kept in the database too (table clock), so that it survives a
// restart and another process on the same database shares it (merge).
// Without any jump, steady time is the clock's time.
type steadyClock struct {
	mu     sync.Mutex
	offset time.Duration // the clock's jumps back so far, in all
	mark   time.Time     // the latest steady time handed out
}

// jumpTolerance is how far back a reading may be without counting as a jump:
// goroutines that read the clock at the same moment report in any order.
// Within it, steady time waits at the mark for the clock to catch up.
const jumpTolerance = time.Second

// at returns the steady time for a reading of the clock, after taking in
// a mark kept elsewhere (zero for none).
func (c *steadyClock) at(wall, kept time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if kept.After(c.mark) {
		c.mark = kept
	}
	now := wall.Add(c.offset)
	if !c.mark.IsZero() && now.Before(c.mark.Add(-jumpTolerance)) {
		c.offset += c.mark.Sub(now)
		now = c.mark
	}
	if now.After(c.mark) {
		c.mark = now
	}
	return c.mark
}

// steadyNow reads the portal's clock once and returns it (wall) with the
// steady time (steady), taking in the mark q's database holds.
func (db *DB) steadyNow(ctx context.Context, q querier) (wall, steady time.Time, err error) {
	var kept string
	if err := q.QueryRowContext(ctx, `SELECT high_water FROM clock WHERE id = 1`).Scan(&kept); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("read the clock's mark: %w", err)
	}
	wall, steady = db.steadyAt(kept)
	return wall, steady, nil
}

// steadyAt reads the portal's clock once and returns it with the steady
// time, taking in a mark read from the database (kept, as stored).
func (db *DB) steadyAt(kept string) (wall, steady time.Time) {
	wall = db.Now().UTC()
	return wall, db.steady.at(wall, parseMark(kept))
}

// saveMark raises the mark kept in the database to steady, in tx.
func saveMark(ctx context.Context, tx querier, steady time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE clock SET high_water = ? WHERE id = 1 AND high_water < ?`, formatTime(steady), formatTime(steady)); err != nil {
		return fmt.Errorf("keep the clock's mark: %w", err)
	}
	return nil
}

// SaveClockMark writes the steady clock's mark to the database, so that a
// restart, or another process, carries on from it.
func (db *DB) SaveClockMark(ctx context.Context) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, steady, err := db.steadyNow(ctx, tx)
	if err != nil {
		return err
	}
	if err := saveMark(ctx, tx, steady); err != nil {
		return err
	}
	return tx.Commit()
}

// parseMark reads a stored mark; the empty mark of a new database is zero.
func parseMark(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	return parseTime(s)
}

package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"
)

// RateLimiter allows at most Limit events per key in any Window (a sliding
// window), counted in the database so that every node of a deployment
// shares the count: a client cannot get N times the limit by being sent to
// N nodes in turn. Keys are kept as their SHA-256 only.
type RateLimiter struct {
	db     *DB
	bucket string
	Limit  int
	Window time.Duration
}

// NewRateLimiter returns the limiter named bucket.
func NewRateLimiter(db *DB, bucket string, limit int, window time.Duration) *RateLimiter {
	return &RateLimiter{db: db, bucket: bucket, Limit: limit, Window: window}
}

// rateLimitWait bounds how long one check may wait for the database.
const rateLimitWait = 5 * time.Second

func hashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// Allow records an event for key and reports whether it is within the
// limit. If the database cannot answer, it allows the event (and logs why):
// the action it guards then meets the same database and fails on its own,
// where refusing would tell the person a false "too many requests".
func (r *RateLimiter) Allow(key string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), rateLimitWait)
	defer cancel()
	ok, err := r.allow(ctx, hashKey(key))
	if err != nil {
		if l := r.db.logger.Load(); l != nil {
			l.Warn("rate limit not checked", slog.String("limit", r.bucket), slog.String("error", err.Error()))
		}
		return true
	}
	return ok
}

func (r *RateLimiter) allow(ctx context.Context, key string) (bool, error) {
	now := r.db.Now()
	tx, err := r.db.beginWrite(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM rate_hits WHERE bucket = ? AND key = ? AND at <= ?`,
		r.bucket, key, formatTime(now.Add(-r.Window))); err != nil {
		return false, fmt.Errorf("rate limit: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM rate_hits WHERE bucket = ? AND key = ?`, r.bucket, key).Scan(&n); err != nil {
		return false, fmt.Errorf("rate limit: %w", err)
	}
	if n >= r.Limit {
		return false, tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO rate_hits (bucket, key, at, until) VALUES (?, ?, ?, ?)`,
		r.bucket, key, formatTime(now), formatTime(now.Add(r.Window))); err != nil {
		return false, fmt.Errorf("rate limit: %w", err)
	}
	return true, tx.Commit()
}

// RetryAfter is how long until key may have another event: zero when it
// may now.
func (r *RateLimiter) RetryAfter(key string) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), rateLimitWait)
	defer cancel()
	var at string
	// The oldest of the last Limit events: the next is allowed once it leaves the window.
	err := r.db.read.QueryRowContext(ctx, `SELECT at FROM rate_hits WHERE bucket = ? AND key = ? ORDER BY at DESC LIMIT 1 OFFSET ?`,
		r.bucket, hashKey(key), r.Limit-1).Scan(&at)
	if err != nil {
		return 0
	}
	return max(parseTime(at).Add(r.Window).Sub(r.db.Now()), 0)
}

// sweepRateHits deletes up to batch events that no longer count.
func sweepRateHits(ctx context.Context, tx querier, now time.Time, batch int) (int, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM rate_hits WHERE until IN (SELECT until FROM rate_hits WHERE until <= ? LIMIT ?) AND until <= ?`,
		formatTime(now), batch, formatTime(now))
	if err != nil {
		return 0, fmt.Errorf("sweep rate limits: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

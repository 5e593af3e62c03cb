package handlers

import (
	"sync"
	"time"
)

// Limiter limits how often something may happen per key: the portal's are
// kept in the database (store.RateLimiter), shared by every node; tests may
// set a RateLimiter of this package, kept in memory.
type Limiter interface {
	// Allow records an event for key and reports whether it is within the limit.
	Allow(key string) bool
	// RetryAfter is how long until key may have another event.
	RetryAfter(key string) time.Duration
}

// RateLimiter allows at most Limit events per key in any Window (a sliding
// window). It is safe for concurrent use; keys that go quiet are dropped.
type RateLimiter struct {
	Limit  int
	Window time.Duration
	Now    func() time.Time

	mu   sync.Mutex
	hits map[string][]time.Time
}

// NewRateLimiter returns a limiter of limit events per window.
func NewRateLimiter(limit int, window time.Duration) *RateLimiter {
	return &RateLimiter{Limit: limit, Window: window, Now: time.Now, hits: map[string][]time.Time{}}
}

// Allow records an event for key and reports whether it is within the limit.
func (r *RateLimiter) Allow(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.Now()
	cut := now.Add(-r.Window)
	if len(r.hits) > 10000 { // forget quiet keys so the map cannot grow without bound
		for k, ts := range r.hits {
			if len(ts) == 0 || ts[len(ts)-1].Before(cut) {
				delete(r.hits, k)
			}
		}
	}
	ts := r.hits[key]
	i := 0
	for i < len(ts) && ts[i].Before(cut) {
		i++
	}
	ts = ts[i:]
	if len(ts) >= r.Limit {
		r.hits[key] = ts
		return false
	}
	r.hits[key] = append(ts, now)
	return true
}

// RetryAfter is how long until key may have another event: zero when it
// may now.
func (r *RateLimiter) RetryAfter(key string) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	ts := r.hits[key]
	if len(ts) < r.Limit {
		return 0
	}
	return max(ts[len(ts)-r.Limit].Add(r.Window).Sub(r.Now()), 0)
}

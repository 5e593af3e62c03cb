package storetest

// The contract's tests of what nodes share: sign-in links, sessions and
// rate limits.

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/app"
)

func testLoginTokens(t *testing.T, s *Store) {
	f := newFixture(t, s)
	ctx := context.Background()
	token, err := s.SignIn.CreateLoginToken(ctx, f.emp.ID, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) < 43 { // 32 random bytes
		t.Fatalf("token too short: %q", token)
	}
	t.Run("a token is used exactly once, even by racing requests", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := 0; i < 8; i++ {
			wg.Go(func() {
				if _, _, err := s.SignIn.ConsumeLoginToken(ctx, token); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				} else if app.ErrorCode(err) != app.EUNAUTHORIZED {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("%d successful uses", ok)
		}
	})
	t.Run("an expired token is refused", func(t *testing.T) {
		tok, err := s.SignIn.CreateLoginToken(ctx, f.emp.ID, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		s.SetClock(func() time.Time { return time.Now().Add(2 * time.Minute) }, time.UTC)
		defer s.SetClock(time.Now, time.UTC)
		if _, err := s.SignIn.PeekLoginToken(ctx, tok); app.ErrorCode(err) != app.EUNAUTHORIZED {
			t.Fatalf("peek: %v", err)
		}
		if _, _, err := s.SignIn.ConsumeLoginToken(ctx, tok); app.ErrorCode(err) != app.EUNAUTHORIZED {
			t.Fatalf("consume: %v", err)
		}
	})
	t.Run("an unknown token is refused", func(t *testing.T) {
		if _, _, err := s.SignIn.ConsumeLoginToken(ctx, strings.Repeat("A", 43)); app.ErrorCode(err) != app.EUNAUTHORIZED {
			t.Fatalf("consume: %v", err)
		}
	})
}

// Active every 20 minutes, a session never idles out but ends at 12 hours.
func testSessionTimeouts(t *testing.T, s *Store) {
	f := newFixture(t, s)
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now()
	s.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }, time.UTC)
	sess, err := s.Sessions.CreateSession(ctx, f.emp.ID, app.AuthEmailLink, f.emp.Email)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 37; i++ {
		mu.Lock()
		now = now.Add(20 * time.Minute)
		mu.Unlock()
		_, err := s.Sessions.FindSession(ctx, sess.ID)
		if time.Duration(i)*20*time.Minute < 12*time.Hour && err != nil {
			t.Fatalf("after %d minutes: %v", i*20, err)
		}
		if time.Duration(i)*20*time.Minute >= 12*time.Hour && app.ErrorCode(err) != app.EUNAUTHORIZED {
			t.Fatalf("still alive after %d minutes", i*20)
		}
	}
}

// testRateLimitsAreSharedAndSlide: two limiters of one name, as two nodes
// of a deployment hold, count against one limit per key; other keys and
// other names count apart; an event stops counting once out of the window,
// and RetryAfter says when that is.
func testRateLimitsAreSharedAndSlide(t *testing.T, s *Store) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now }, time.UTC)
	nodeA, nodeB := s.RateLimiter("signin", 3, 10*time.Minute), s.RateLimiter("signin", 3, 10*time.Minute)
	other := s.RateLimiter("export", 3, 10*time.Minute)
	for i, l := range []Limiter{nodeA, nodeB, nodeA} {
		if !l.Allow("ip:192.0.2.1") {
			t.Fatalf("event %d refused within the limit", i+1)
		}
		now = now.Add(time.Minute)
	}
	if nodeB.Allow("ip:192.0.2.1") || nodeA.Allow("ip:192.0.2.1") {
		t.Fatal("a fourth event in ten minutes was allowed by one of the two nodes")
	}
	if !nodeB.Allow("ip:192.0.2.2") || !other.Allow("ip:192.0.2.1") {
		t.Fatal("another key, or another limit, was counted with the first")
	}
	// The first event was at 9:00: the next is allowed at 9:10.
	if got, want := nodeA.RetryAfter("ip:192.0.2.1"), 7*time.Minute; got != want {
		t.Fatalf("retry after %v, want %v", got, want)
	}
	if nodeA.RetryAfter("ip:192.0.2.9") != 0 {
		t.Fatal("a key never seen must wait")
	}
	now = now.Add(7 * time.Minute)
	if !nodeB.Allow("ip:192.0.2.1") {
		t.Fatal("an event was refused after the oldest left the window")
	}
	if nodeA.Allow("ip:192.0.2.1") {
		t.Fatal("the window let a fifth event through")
	}
}

package store

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/app"
)

// setClock gives db a clock that a test moves by hand, starting now.
func setClock(db *DB) (move func(d time.Duration)) {
	var mu sync.Mutex
	now := time.Now()
	db.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	return func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
}

func (f *fixture) rows(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.db.read.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Issue 13, point 11: a sign-in used to delete every expired session with a
// scan of the whole table, on the request. Now it deletes nothing, and the
// background sweep removes expired sessions and links a batch at a time.
func TestExpiredRowsGoInTheSweepNotOnSignIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ss := NewSessionService(f.db)
	move := setClock(f.db)
	for i := 0; i < 5; i++ {
		if _, err := ss.CreateSession(ctx, f.emp.ID, app.AuthEmailLink, f.emp.Email); err != nil {
			t.Fatal(err)
		}
		if _, err := ss.CreateLoginToken(ctx, f.emp.ID, 15*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	move(13 * time.Hour) // past every session's 12 hours and every link's 15 minutes

	live, err := ss.CreateSession(ctx, f.emp.ID, app.AuthEmailLink, f.emp.Email)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ss.CreateLoginToken(ctx, f.emp.ID, 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Run("signing in and asking for a link delete nothing", func(t *testing.T) {
		if s, l := f.rows(t, "sessions"), f.rows(t, "login_tokens"); s != 6 || l != 6 {
			t.Fatalf("%d sessions and %d links left, want the 6 of each made", s, l)
		}
	})
	t.Run("the sweep removes the expired rows a batch at a time and keeps the live ones", func(t *testing.T) {
		n, err := ss.SweepExpired(ctx, 2)
		if err != nil || n != 4 {
			t.Fatalf("first batch of 2 a table: %d deleted, %v", n, err)
		}
		for n == 4 {
			if n, err = ss.SweepExpired(ctx, 2); err != nil {
				t.Fatal(err)
			}
		}
		if s, l := f.rows(t, "sessions"), f.rows(t, "login_tokens"); s != 1 || l != 1 {
			t.Fatalf("%d sessions and %d links left, want the live one of each", s, l)
		}
		if _, err := ss.FindSession(ctx, live.ID); err != nil {
			t.Fatalf("the live session: %v", err)
		}
	})
	t.Run("the sweep finds expired sessions through the index", func(t *testing.T) {
		var plan, detail string
		var id, parent, unused int
		rows, err := f.db.read.Query(`EXPLAIN QUERY PLAN SELECT rowid FROM sessions WHERE expires_at <= ? LIMIT 10`, formatTime(time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan += detail + "\n"
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if want := "USING COVERING INDEX sessions_expires"; !strings.Contains(plan, want) {
			t.Fatalf("plan %q lacks %q", plan, want)
		}
	})
}

// Issue 13, point 12: a clock set back used to bring back expired sign-in
// links and sessions not yet deleted.
func TestClockGoingBackRevivesNothing(t *testing.T) {
	ctx := context.Background()
	refused := func(t *testing.T, what string, err error) {
		t.Helper()
		if app.ErrorCode(err) != app.EUNAUTHORIZED {
			t.Fatalf("%s: %v, want refused", what, err)
		}
	}
	t.Run("an expired link and session stay expired when the clock goes back into their life", func(t *testing.T) {
		f := newFixture(t)
		ss := NewSessionService(f.db)
		move := setClock(f.db)
		tok, err := ss.CreateLoginToken(ctx, f.emp.ID, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := ss.CreateSession(ctx, f.emp.ID, app.AuthEmailLink, f.emp.Email)
		if err != nil {
			t.Fatal(err)
		}
		move(31 * time.Minute) // past the link's 15 minutes and the session's 30 idle ones
		_, err = ss.PeekLoginToken(ctx, tok)
		refused(t, "the link, expired", err)
		_, err = ss.FindSession(ctx, sess.ID)
		refused(t, "the session, expired", err)
		move(-26 * time.Minute) // five minutes after they were made
		_, err = ss.PeekLoginToken(ctx, tok)
		refused(t, "the link, clock set back", err)
		_, _, err = ss.ConsumeLoginToken(ctx, tok)
		refused(t, "using the link, clock set back", err)
		_, err = ss.FindSession(ctx, sess.ID)
		refused(t, "the session, clock set back", err)

		// Another process on the same database (or this one restarted)
		// with its clock still back carries on from the mark kept.
		if err := f.db.SaveClockMark(ctx); err != nil {
			t.Fatal(err)
		}
		other, err := Open(f.db.Path, testOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		other.Now = f.db.Now
		os := NewSessionService(other)
		_, err = os.PeekLoginToken(ctx, tok)
		refused(t, "the link, in another process", err)
		_, err = os.FindSession(ctx, sess.ID)
		refused(t, "the session, in another process", err)
	})
	t.Run("a link and a session made before the clock went back to before they were made are refused", func(t *testing.T) {
		f := newFixture(t)
		ss := NewSessionService(f.db)
		move := setClock(f.db)
		tok, err := ss.CreateLoginToken(ctx, f.emp.ID, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := ss.CreateSession(ctx, f.emp.ID, app.AuthEmailLink, f.emp.Email)
		if err != nil {
			t.Fatal(err)
		}
		move(-time.Hour)
		_, err = ss.PeekLoginToken(ctx, tok)
		refused(t, "the link", err)
		_, err = ss.FindSession(ctx, sess.ID)
		refused(t, "the session", err)
	})
	t.Run("after the clock goes back, what is made then lives its full life and no more", func(t *testing.T) {
		f := newFixture(t)
		ss := NewSessionService(f.db)
		move := setClock(f.db)
		if _, err := ss.CreateSession(ctx, f.emp.ID, app.AuthEmailLink, f.emp.Email); err != nil {
			t.Fatal(err)
		}
		// A clock hours ahead, put right: pinned at the mark, a new link
		// would expire at once and nobody could sign in for hours.
		move(5 * time.Hour)
		if _, err := ss.CreateLoginToken(ctx, f.emp.ID, time.Minute); err != nil {
			t.Fatal(err)
		}
		move(-5 * time.Hour)
		tok, err := ss.CreateLoginToken(ctx, f.emp.ID, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := ss.CreateSession(ctx, f.emp.ID, app.AuthEmailLink, f.emp.Email)
		if err != nil {
			t.Fatal(err)
		}
		move(14 * time.Minute)
		if _, err := ss.PeekLoginToken(ctx, tok); err != nil {
			t.Fatalf("the link 14 minutes on: %v", err)
		}
		if _, err := ss.FindSession(ctx, sess.ID); err != nil {
			t.Fatalf("the session 14 minutes on: %v", err)
		}
		move(2 * time.Minute)
		_, err = ss.PeekLoginToken(ctx, tok)
		refused(t, "the link 16 minutes on", err)
		move(31 * time.Minute)
		_, err = ss.FindSession(ctx, sess.ID)
		refused(t, "the session idle 31 minutes", err)
	})
}

// Sessions open at the upgrade keep their time-outs: the migration's own
// statements, run on a session as it was stored before.
func TestSessionsOpenAtTheUpgradeKeepTheirTimeOuts(t *testing.T) {
	f := newFixture(t)
	if _, err := f.db.write.Exec(`INSERT INTO sessions (id_hash, employee_id, auth_method, identity, created_at, last_seen_at)
		VALUES ('x', ?, 'email-link', '', '2026-12-03T07:55:24.123456Z', '2026-12-03T08:00:00.500000Z')`, f.emp.ID); err != nil {
		t.Fatal(err)
	}
	body, err := migrationFS.ReadFile("migrations/007_sessions.sql")
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "UPDATE sessions") {
			if _, err := f.db.write.Exec(line); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			ran++
		}
	}
	var ends, expires string
	if err := f.db.read.QueryRow(`SELECT ends_at, expires_at FROM sessions WHERE id_hash = 'x'`).Scan(&ends, &expires); err != nil {
		t.Fatal(err)
	}
	if ran != 2 || ends != "2026-12-03T19:55:24.000000Z" || expires != "2026-12-03T08:30:00.000000Z" {
		t.Fatalf("%d statements: ends %s, expires %s", ran, ends, expires)
	}
}

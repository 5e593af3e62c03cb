// Package storetest is the contract every store of the portal keeps,
// written once against the app interfaces: a store's own tests call Run with
// a function that opens a fresh, empty store, and pass when the store
// behaves as the portal expects. app/store runs it; a second store (such as
// PostgreSQL) runs it unchanged.
//
// What only one store can show (SQLite's triggers refusing an UPDATE, a raw
// token never reaching a table) stays in that store's own tests.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/app"
)

// Store is one opened store: a service for each capability the contract
// covers, and its clock.
type Store struct {
	Employees app.EmployeeService
	Policies  app.PolicyService
	Cycles    app.CycleService
	Acks      app.AckService
	SignIn    app.SignInService
	Sessions  app.SessionService
	Reminders app.ReminderService
	Outbox    app.Outbox
	// RateLimiter makes a limiter of limit events per key in any window,
	// named bucket, kept by the store.
	RateLimiter func(bucket string, limit int, window time.Duration) Limiter
	// SetClock replaces the store's clock: now is the time, loc the time
	// zone whose calendar says what today is.
	SetClock func(now func() time.Time, loc *time.Location)
}

// Limiter is a rate limit kept by the store.
type Limiter interface {
	Allow(key string) bool
	RetryAfter(key string) time.Duration
}

// Run runs every contract test against stores that open returns. open
// makes a new, empty store for each test and arranges its closing (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) *Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *Store)
	}{
		{"AcknowledgmentIsCreatedOnce", testAcknowledgmentIsCreatedOnce},
		{"PublishVersionIsImmutable", testPublishVersionIsImmutable},
		{"LoginTokens", testLoginTokens},
		{"SessionTimeouts", testSessionTimeouts},
		{"ProgressFollowsEachStep", testProgressFollowsEachStep},
		{"ConsentIsRecordedOnce", testConsentIsRecordedOnce},
		{"NewHiresAreDueLater", testNewHiresAreDueLater},
		{"CurrentCycleFollowsTheLocalCalendar", testCurrentCycleFollowsTheLocalCalendar},
		{"RemindersFollowTheLocalCalendar", testRemindersFollowTheLocalCalendar},
		{"RateLimitsAreSharedAndSlide", testRateLimitsAreSharedAndSlide},
		{"SignatureNeedsTheCycleAsRead", testSignatureNeedsTheCycleAsRead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// fixture is a store with one employee, a version and an open cycle.
type fixture struct {
	*Store
	emp     *app.Employee
	version *app.PolicyVersion
	cycle   *app.Cycle
}

func newFixture(t *testing.T, s *Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{Store: s}
	f.emp = &app.Employee{EmployeeNumber: "1", FullName: "Zoë Côté", Email: "zoe@x.example", Agency: "A", Department: "D", Active: true}
	if err := s.Employees.CreateEmployee(ctx, f.emp); err != nil {
		t.Fatal(err)
	}
	f.version = Version("1.0", "x")
	if err := s.Policies.PublishVersion(ctx, f.version); err != nil {
		t.Fatal(err)
	}
	f.cycle = &app.Cycle{Name: "2026", PolicyVersionID: f.version.ID, OpensOn: "2026-01-01", DueOn: "2026-03-01", NewHireDays: 30, Open: true}
	if err := s.Cycles.CreateCycle(ctx, f.cycle); err != nil {
		t.Fatal(err)
	}
	return f
}

// Version is a small policy version with a content hash of its own (not the
// content package's canonical hash, which the store does not check).
func Version(code, body string) *app.PolicyVersion {
	v := &app.PolicyVersion{Code: code, Title: "Policy", Kind: app.KindMaterial, Effective: "2026-01-01", Intent: "I agree.",
		Modules:   []app.Module{{Slug: "m", Title: "M", Audience: app.AudienceAll, Body: body}},
		Questions: []app.Question{{ID: "q", Module: "m", Options: []app.Option{{Key: "a", Text: "A"}, {Key: "b", Text: "B"}}, Answer: "a"}}}
	sum := sha256.Sum256([]byte(code + "\x00" + body))
	v.SHA256 = hex.EncodeToString(sum[:])
	return v
}

// sign records a passing attempt, a consent and an acknowledgment.
func (f *fixture) sign(t *testing.T) (*app.Acknowledgment, bool) {
	t.Helper()
	ack, created, err := f.signAs(f.emp, f.version)
	if err != nil {
		t.Error(err)
		return nil, false
	}
	return ack, created
}

// signAs is sign for emp, who read version.
func (f *fixture) signAs(emp *app.Employee, version *app.PolicyVersion) (*app.Acknowledgment, bool, error) {
	ctx := context.Background()
	a := &app.QuizAttempt{EmployeeID: emp.ID, CycleID: f.cycle.ID, PolicyVersionID: version.ID,
		Answers: map[string]string{"q": "a"}, Score: 1, Total: 1, PassMark: 80, Passed: true}
	if err := f.Acks.CreateQuizAttempt(ctx, a); err != nil {
		return nil, false, err
	}
	c := &app.ConsentRecord{EmployeeID: emp.ID, CycleID: f.cycle.ID, Version: "1", SHA256: "c"}
	if err := f.Acks.RecordConsent(ctx, c); err != nil {
		return nil, false, err
	}
	return f.Acks.CreateAcknowledgment(ctx, &app.Acknowledgment{EmployeeID: emp.ID, CycleID: f.cycle.ID,
		PolicyVersionID: version.ID, PolicySHA256: version.SHA256, TypedName: emp.FullName, ConsentID: c.ID,
		ConsentVersion: "1", ConsentSHA256: "c", IntentText: "I agree.", IP: "127.0.0.1", UserAgent: "test",
		AuthMethod: app.AuthEmailLink, QuizAttemptID: a.ID})
}

// A signature is taken only for the cycle as the signer read it: open, and
// asking for the version they read. Another node's copy of the current
// cycle may be two seconds old, so the store checks under its write lock.
// A retry of a signature made before the change still finds it.
func testSignatureNeedsTheCycleAsRead(t *testing.T, s *Store) {
	ctx := context.Background()
	f := newFixture(t, s)
	if _, created := f.sign(t); !created {
		t.Fatal("the first signature was not created")
	}
	other := &app.Employee{EmployeeNumber: "2", FullName: "Lê Văn", Email: "le@x.example", Agency: "A", Department: "D", Active: true}
	if err := s.Employees.CreateEmployee(ctx, other); err != nil {
		t.Fatal(err)
	}
	v2 := Version("2.0", "y")
	if err := s.Policies.PublishVersion(ctx, v2); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		_, n, err := s.Acks.FindAcknowledgments(ctx, app.AckFilter{CycleID: &f.cycle.ID})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	refused := func(what string, version *app.PolicyVersion, words string) {
		t.Helper()
		_, _, err := f.signAs(other, version)
		if app.ErrorCode(err) != app.ECONFLICT || !strings.Contains(app.ErrorMessage(err), words) {
			t.Fatalf("%s: %v, want a conflict saying %q", what, err, words)
		}
		if n := count(); n != 1 {
			t.Fatalf("%s: %d acknowledgments in the cycle, want still 1", what, n)
		}
	}
	refused("a version the cycle does not ask for", v2, "changed while you were signing")
	if err := s.Cycles.SetCycleVersion(ctx, f.cycle.ID, v2.ID, nil); err != nil {
		t.Fatal(err)
	}
	refused("the version read before the cycle moved to a new one", f.version, "changed while you were signing")
	if ack, created := f.sign(t); ack == nil || created {
		t.Fatalf("a retry of the signature made before the change: %+v, created %v; want the one made", ack, created)
	}
	if err := s.Cycles.CloseCycle(ctx, f.cycle.ID, nil); err != nil {
		t.Fatal(err)
	}
	refused("the version asked for, in a cycle closed meanwhile", v2, "closed while you were signing")
}

// Eight racing signatures make one acknowledgment, one code, one number.
func testAcknowledgmentIsCreatedOnce(t *testing.T, s *Store) {
	f := newFixture(t, s)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, codes := 0, map[string]bool{}
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			ack, c := f.sign(t)
			if ack == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			codes[ack.VerifyCode] = true
			if c {
				created++
			}
		})
	}
	wg.Wait()
	if created != 1 || len(codes) != 1 {
		t.Fatalf("created %d acknowledgments with %d codes; want 1 and 1", created, len(codes))
	}
	acks, total, err := f.Acks.FindAcknowledgments(context.Background(), app.AckFilter{EmployeeID: &f.emp.ID})
	if err != nil || total != 1 || acks[0].LogIndex < 0 || acks[0].CertificateNo != "SMP-2026-000001" {
		t.Fatalf("%d acknowledgments, %+v, %v", total, acks, err)
	}
	byCode, err := f.Acks.FindAcknowledgmentByCode(context.Background(), acks[0].VerifyCode)
	if err != nil || byCode.ID != acks[0].ID || byCode.TypedName != "Zoë Côté" {
		t.Fatalf("by code: %+v %v", byCode, err)
	}
}

// The same content may be published again; other content under the same code may not.
func testPublishVersionIsImmutable(t *testing.T, s *Store) {
	f := newFixture(t, s)
	same := *f.version
	same.ID = 0
	if err := s.Policies.PublishVersion(context.Background(), &same); err != nil || same.ID != f.version.ID {
		t.Fatalf("republishing the same content: %v (id %d)", err, same.ID)
	}
	changed := *f.version
	changed.SHA256 = strings.Repeat("ef", 32)
	if err := s.Policies.PublishVersion(context.Background(), &changed); app.ErrorCode(err) != app.ECONFLICT {
		t.Fatalf("changed content under the same code: %v", err)
	}
}

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

// Progress, read in one go, shows each step as it is written.
func testProgressFollowsEachStep(t *testing.T, s *Store) {
	f := newFixture(t, s)
	ctx := context.Background()
	empty, err := f.Acks.Progress(ctx, f.cycle.ID, f.emp.ID, f.version.ID)
	if err != nil || empty.Attempts != 0 || empty.Passed != nil || empty.Consent != nil || len(empty.Read) != 0 ||
		empty.Assignment.SignedAt != nil || empty.Assignment.DueOn != "2026-03-01" {
		t.Fatalf("before anything: %+v %v", empty, err)
	}
	before := time.Now().Add(-time.Second)
	if err := f.Acks.MarkModuleRead(ctx, f.emp.ID, f.cycle.ID, "m"); err != nil {
		t.Fatal(err)
	}
	p, err := f.Acks.Progress(ctx, f.cycle.ID, f.emp.ID, f.version.ID)
	if err != nil || len(p.Read) != 1 || p.Read["m"].Before(before) || p.Read["m"].After(time.Now().Add(time.Second)) {
		t.Fatalf("after reading: %+v %v", p, err)
	}
	failed := &app.QuizAttempt{EmployeeID: f.emp.ID, CycleID: f.cycle.ID, PolicyVersionID: f.version.ID,
		Answers: map[string]string{"q": "b"}, Score: 0, Total: 1, PassMark: 80}
	if err := f.Acks.CreateQuizAttempt(ctx, failed); err != nil {
		t.Fatal(err)
	}
	if p, err = f.Acks.Progress(ctx, f.cycle.ID, f.emp.ID, f.version.ID); err != nil || p.Attempts != 1 || p.Passed != nil {
		t.Fatalf("after a failed attempt: %+v %v", p, err)
	}
	ack, _ := f.sign(t)
	p, err = f.Acks.Progress(ctx, f.cycle.ID, f.emp.ID, f.version.ID)
	if err != nil {
		t.Fatal(err)
	}
	attempts, err := f.Acks.FindQuizAttempts(ctx, f.emp.ID, f.cycle.ID)
	if err != nil || len(attempts) != 2 {
		t.Fatalf("attempts: %d %v", len(attempts), err)
	}
	if p.Attempts != 2 || p.Passed == nil || p.Passed.ID != ack.QuizAttemptID || p.Passed.Percent() != 100 ||
		p.Consent == nil || p.Consent.ID != ack.ConsentID || p.Consent.SHA256 != "c" ||
		p.Assignment.AckID == nil || *p.Assignment.AckID != ack.ID || p.Assignment.SignedAt == nil {
		t.Fatalf("after signing: %+v", p)
	}
	asg, err := f.Acks.FindAssignment(ctx, f.cycle.ID, f.emp.ID)
	if err != nil || asg.AckID == nil || *asg.AckID != ack.ID || asg.DueOn != p.Assignment.DueOn {
		t.Fatalf("assignment %+v %v", asg, err)
	}
	if other, err := f.Acks.Progress(ctx, f.cycle.ID, f.emp.ID, f.version.ID+1); err != nil || other.Passed != nil {
		t.Fatalf("a passing attempt of another version counted: %+v %v", other, err)
	}
	if _, err := f.Acks.Progress(ctx, f.cycle.ID, 999, f.version.ID); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("no assignment: %v", err)
	}
}

// Eight racing consents to the same notice (a double click) record one; a
// new notice is a new consent.
func testConsentIsRecordedOnce(t *testing.T, s *Store) {
	f := newFixture(t, s)
	ctx := context.Background()
	ids := make([]int64, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			c := &app.ConsentRecord{EmployeeID: f.emp.ID, CycleID: f.cycle.ID, Version: "1", SHA256: "c", IP: "127.0.0.1", UserAgent: "double click"}
			if err := f.Acks.RecordConsent(ctx, c); err != nil {
				t.Error(err)
			}
			ids[i] = c.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id == 0 || id != ids[0] {
			t.Fatalf("consent ids %v: not all the one recorded", ids)
		}
	}
	next := &app.ConsentRecord{EmployeeID: f.emp.ID, CycleID: f.cycle.ID, Version: "2", SHA256: "d"}
	if err := f.Acks.RecordConsent(ctx, next); err != nil || next.ID == ids[0] || next.ID == 0 {
		t.Fatalf("a new notice: id %d, %v", next.ID, err)
	}
	p, err := f.Acks.Progress(ctx, f.cycle.ID, f.emp.ID, f.version.ID)
	if err != nil || p.Consent == nil || p.Consent.ID != next.ID {
		t.Fatalf("the latest consent: %+v %v", p, err)
	}
}

// People hired after a cycle opens get its new-hire days from their hire
// date, never a due date earlier than the cycle's own.
func testNewHiresAreDueLater(t *testing.T, s *Store) {
	f := newFixture(t, s) // the cycle opens 2026-01-01, is due 2026-03-01, 30 days for new hires
	ctx := context.Background()
	for i, tc := range []struct{ hired, due string }{
		{"", "2026-03-01"},
		{"2019-05-01", "2026-03-01"},
		{"2026-01-15", "2026-03-01"}, // hired after the opening, but 30 days still fall before the due date
		{"2026-02-20", "2026-03-22"},
		{"2026-12-31", "2027-01-30"},
	} {
		e := &app.Employee{EmployeeNumber: "h" + string(rune('0'+i)), FullName: "New Hire", Email: "h" + string(rune('0'+i)) + "@x.example",
			Agency: "A", Department: "D", Active: true, HireDate: tc.hired}
		if err := s.Employees.CreateEmployee(ctx, e); err != nil {
			t.Fatal(err)
		}
		asg, err := f.Acks.FindAssignment(ctx, f.cycle.ID, e.ID)
		if err != nil || asg.DueOn != tc.due {
			t.Errorf("hired %q: due %+v %v, want %s", tc.hired, asg, err, tc.due)
		}
	}
}

// at is a wall-clock time in loc.
func at(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A cycle opening on a day is current from midnight of that day in the
// portal's time zone: not at 7 p.m. the evening before, when the day has
// already begun in UTC; and across the change to daylight-saving time.
func testCurrentCycleFollowsTheLocalCalendar(t *testing.T, s *Store) {
	ctx := context.Background()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	v := Version("1.0", "x")
	if err := s.Policies.PublishVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	// 2026-03-08 is the day the clocks go forward in New York.
	for _, opens := range []string{"2026-03-02", "2026-03-08", "2026-03-09"} {
		c := &app.Cycle{Name: "Cycle " + opens, PolicyVersionID: v.ID, OpensOn: opens, DueOn: "2026-12-31", NewHireDays: 30, Open: true}
		if err := s.Cycles.CreateCycle(ctx, c); err != nil { // one open cycle a year: each is closed below
			t.Fatal(err)
		}
		day, _ := time.ParseInLocation(app.DateLayout, opens, ny)
		eve := day.Add(-30 * time.Minute) // 23:30 the evening before, local time
		s.SetClock(func() time.Time { return eve }, ny)
		if cur, err := s.Cycles.CurrentCycle(ctx); err == nil && cur.ID == c.ID {
			t.Errorf("at %s local (%s UTC) the cycle opening on %s is already current", eve.In(ny).Format("2006-01-02 15:04"),
				eve.UTC().Format("2006-01-02 15:04"), opens)
		}
		morning := day.Add(30 * time.Minute)
		s.SetClock(func() time.Time { return morning }, ny)
		if cur, err := s.Cycles.CurrentCycle(ctx); err != nil || cur.ID != c.ID {
			t.Errorf("at %s local the cycle opening on %s is not current: %+v %v", morning.In(ny).Format("2006-01-02 15:04"), opens, cur, err)
		}
		if err := s.Cycles.CloseCycle(ctx, c.ID, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// At 23:30 local time on the due date a person is due today, not overdue:
// the pass queues the day's reminder (in UTC it is already the next day);
// the same holds on the day the clocks go forward.
func testRemindersFollowTheLocalCalendar(t *testing.T, s *Store) {
	ctx := context.Background()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	v := Version("1.0", "x")
	if err := s.Policies.PublishVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	for i, due := range []string{"2026-02-10", "2026-03-08"} {
		e := &app.Employee{EmployeeNumber: "r" + string(rune('0'+i)), FullName: "Due Today", Email: "due" + string(rune('0'+i)) + "@x.example",
			Agency: "A", Department: "D", Active: true}
		if err := s.Employees.CreateEmployee(ctx, e); err != nil {
			t.Fatal(err)
		}
		c := &app.Cycle{Name: "Cycle " + due, PolicyVersionID: v.ID, OpensOn: "2026-01-01", DueOn: due, NewHireDays: 30, Open: true}
		if err := s.Cycles.CreateCycle(ctx, c); err != nil {
			t.Fatal(err)
		}
		// The invitation goes out a week before; the day's reminder needs it at least a day old.
		week := at(t, ny, due+" 09:00").AddDate(0, 0, -7)
		s.SetClock(func() time.Time { return week }, ny)
		if _, err := s.Reminders.RunPass(ctx, week, ny, app.DefaultSchedule, false); err != nil {
			t.Fatal(err)
		}
		late := at(t, ny, due+" 23:30")
		s.SetClock(func() time.Time { return late }, ny)
		if _, err := s.Reminders.RunPass(ctx, late, ny, app.DefaultSchedule, false); err != nil {
			t.Fatal(err)
		}
		msgs, err := s.Outbox.FindMessagesTo(ctx, e.Email, 10)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, m := range msgs {
			keys = append(keys, m.DedupeKey)
		}
		if !strings.Contains(strings.Join(keys, " "), ":due-0") {
			t.Errorf("due %s, at 23:30 local (%s UTC): messages %q, want the due-today reminder", due, late.UTC().Format("2006-01-02 15:04"), keys)
		}
		if err := s.Cycles.CloseCycle(ctx, c.ID, nil); err != nil {
			t.Fatal(err)
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

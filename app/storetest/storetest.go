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

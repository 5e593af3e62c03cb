package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/app"
	"portal/app/evidence"
	"portal/app/pgtest"
	"portal/server"
)

// testPortal is a whole portal serving on 127.0.0.1 for one test: a real
// SQLite file in t.TempDir(), the demo roster and cycle, the mail worker and
// the Fiber app on a real listener. It stops when the test ends.
//
// Tests drive it as its users do, through HTTP, the command line and the
// browser, and read what it stored through database_test.go. Beyond that
// they hold only the controls a test needs and a user has in other ways:
// the clock (Clock), the mail worker's kick and the reminder pass (which
// cron and the timers run), the wait for sign-in requests to be handled
// (which a person does by reading their mail), the development mailbox (the test's inbox), a
// fresh sign-in link for a demo person (signInLink, as if read from their
// mail), and the export rate limit (raised where a test exports hundreds of
// times).
type testPortal struct {
	*server.Portal
	BaseURL string
	Logs    *syncBuffer
	Clock   *testClock
	// Stop stops the portal before the test ends (it is also run at the
	// end); its database file stays.
	Stop func()
}

// testClock is the portal's clock in tests: real time plus an offset that a
// test may move forward.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// startClock starts at real time, or at PORTAL_TEST_CLOCK (RFC 3339) when
// set: a run of the suite at a chosen instant, say a few minutes before
// midnight in the portal's time zone or on the last day of a year, shows
// the tests that only pass at some hours of the day.
func startClock(t testing.TB) *testClock {
	start, err := testClockAt()
	if err != nil {
		t.Fatal(err)
	}
	return &testClock{offset: time.Until(start)}
}

// testClockStart is where test portals' clocks start now (in the portals'
// time zone): for data that must be recent whatever day the tests run.
func testClockStart() time.Time {
	start, err := testClockAt()
	if err != nil {
		panic(err)
	}
	return start.In(testZone)
}

var testZone = func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return loc
}()

func testClockAt() (time.Time, error) {
	v := os.Getenv("PORTAL_TEST_CLOCK")
	if v == "" {
		return time.Now(), nil
	}
	at, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("PORTAL_TEST_CLOCK: %v", err)
	}
	return at, nil
}

// Advance moves the clock by d (back, when d is negative).
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startTestPortal(t testing.TB, options ...func(*server.Config)) *testPortal {
	t.Helper()
	dir := t.TempDir()
	cfg := &server.Config{Host: "127.0.0.1", DB: filepath.Join(dir, "portal.db"),
		TimeZone: mustLocation(t, "America/New_York"), PassMark: 80, Synchronous: "NORMAL", LogFormat: "json",
		SMTPTLS: "none", MailFrom: "Portal <portal@test.invalid>", PolicyVersion: "2026.2", Demo: true,
		SMTPConns: 1, Schedule: app.DefaultSchedule, Secret: testSecret, LogKeyFile: testLogKey(t, dir),
		ShutdownGrace: time.Second}
	if onPostgres() {
		cfg.DB = pgtest.Database(t)
	}
	for _, o := range options {
		o(cfg)
	}
	// Port 0 unless an option names one (a second process on the same address).
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	if cfg.BaseURL == "" {
		cfg.BaseURL = base
	}
	k := mustKeys(t, cfg)
	db, err := server.OpenDB(cfg, k)
	if err != nil {
		t.Fatal(err)
	}
	clock := startClock(t)
	db.Now = clock.Now
	logs := &syncBuffer{}
	ctx := context.Background()
	p, err := server.Wire(ctx, cfg, db, k, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := server.SeedDemo(ctx, p, cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	p.Worker.Interval = 50 * time.Millisecond   // tests move the clock; the worker should notice quickly
	p.Worker.FaultPause = 50 * time.Millisecond // and a mail server put right
	p.Log.Every = 50 * time.Millisecond
	sctx, cancel := context.WithCancel(ctx)
	ready, served := make(chan struct{}), make(chan error, 1)
	go func() { served <- p.Serve(sctx, ln, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-served:
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-served; err != nil {
				t.Error(err)
			}
			db.Close()
		})
	}
	t.Cleanup(stop)
	t.Cleanup(func() {
		// A failed test shows what the portal logged as errors: a 500's
		// cause is there, never on the page.
		if t.Failed() {
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) {
					t.Log(line)
				}
			}
		}
	})
	return &testPortal{Portal: p, BaseURL: base, Logs: logs, Clock: clock, Stop: stop}
}

func mustLocation(t testing.TB, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// signInLink creates a fresh one-time sign-in link for a demo employee.
func (tp *testPortal) signInLink(t testing.TB, number string) string {
	t.Helper()
	e := tp.employee(t, number)
	token, err := tp.Handler.SignIn.CreateLoginToken(context.Background(), e.ID, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tp.BaseURL + "/signin/link/" + token
}

// signInRequestsHandled waits until every sign-in request answered so far
// has been handled by the sign-in mailer (its link queued, or not sent).
func (tp *testPortal) signInRequestsHandled(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a fail-safe only
	defer cancel()
	if err := tp.Handler.SignInMail.Wait(ctx); err != nil {
		t.Fatalf("sign-in requests not handled: %v", err)
	}
}

var linkRE = regexp.MustCompile(`https?://\S+/signin/link/\S+`)

// mailedLinks returns the sign-in links delivered to email, newest first.
// They were never stored: the development mailbox keeps sent messages in
// memory only. It waits for the sign-in requests made so far to be handled
// (after their answer), then briefly for the mail worker.
func (tp *testPortal) mailedLinks(t testing.TB, email string) []string {
	t.Helper()
	tp.signInRequestsHandled(t)
	var out []string
	for try := 0; try < 100; try++ {
		// The outbox first, then the mailbox: once nothing is queued, every
		// link has reached the mailbox by the time it is read.
		queued := 0
		for _, m := range tp.outboxTo(t, email) {
			if m.Kind == app.MailSignIn && m.Status == "queued" {
				queued++
			}
		}
		if queued == 0 {
			out = out[:0]
			for _, m := range tp.DevMail.Messages() {
				if strings.EqualFold(m.ToAddr, email) {
					out = append(out, linkRE.FindAllString(m.Text, -1)...)
				}
			}
			return out
		}
		tp.Worker.Kick()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sign-in messages to %s were not delivered", email)
	return nil
}

// testSecret is PORTAL_SECRET in tests.
const testSecret = "test-secret-0123456789-test-secret-0123456789"

// testLogKey writes an evidence log key into dir and returns its path.
func testLogKey(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "log.key")
	if _, err := evidence.WriteKeyFile(path, "127.0.0.1/test/log"); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustKeys reads the keys a test configuration names.
func mustKeys(t testing.TB, cfg *server.Config) *server.Keys {
	t.Helper()
	k, err := server.LoadKeys(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// kind reads an acknowledgment kind ("personal-use", "agency-use").
func (tp *testPortal) kind(code string) *app.AcknowledgmentKind {
	k, err := tp.Handler.Kinds.FindKind(context.Background(), code)
	if err != nil {
		panic("read the kind " + code + ": " + err.Error())
	}
	return k
}

// answers returns the right answers to the questions drawn for the
// employee's annual knowledge check in progress (drawing it, as opening
// the check does, if none is), as form values with the draw they answer.
func (tp *testPortal) answers(e *app.Employee) map[string]string {
	return tp.answersFor(e, "personal-use")
}

// answersFor is answers for the check of another acknowledgment kind.
func (tp *testPortal) answersFor(e *app.Employee, kind string) map[string]string {
	d, err := app.OpenQuizDraft(context.Background(), tp.Handler.Acks, tp.Version, tp.kind(kind), e)
	if err != nil {
		panic("open the knowledge check of " + e.EmployeeNumber + ": " + err.Error())
	}
	out := map[string]string{"draw": app.DrawID(d.Shown)}
	for _, s := range d.Shown {
		out["q."+s.ID] = tp.Version.Question(s.ID).Answer
	}
	return out
}

// passedAttempt is a passing attempt at a check drawn for e, as the pages
// draw it, graded but not stored: for tests that record evidence directly.
func passedAttempt(v *app.PolicyVersion, e *app.Employee) (*app.QuizAttempt, error) {
	shown, err := app.DrawQuiz(v, app.AudienceAll, app.CryptoIntn)
	if err != nil {
		return nil, err
	}
	answers := map[string]string{}
	for _, s := range shown {
		answers[s.ID] = v.Question(s.ID).Answer
	}
	return app.GradeDraw(v, app.AudienceAll, e, shown, answers, 80)
}

// drawn returns the questions of the employee's knowledge check in
// progress, in the order drawn (drawing it if none is).
func (tp *testPortal) drawn(e *app.Employee) []app.Question {
	d, err := app.OpenQuizDraft(context.Background(), tp.Handler.Acks, tp.Version, tp.kind("personal-use"), e)
	if err != nil {
		panic("open the knowledge check of " + e.EmployeeNumber + ": " + err.Error())
	}
	var out []app.Question
	for _, s := range d.Shown {
		out = append(out, *tp.Version.Question(s.ID))
	}
	return out
}

// signInLinkFor creates a fresh one-time sign-in link for any employee.
func (tp *testPortal) signInLinkFor(t testing.TB, e *app.Employee) string {
	t.Helper()
	token, err := tp.Handler.SignIn.CreateLoginToken(context.Background(), e.ID, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tp.BaseURL + "/signin/link/" + token
}

// commandEnv sets what an operator command run against this portal's
// database reads: the database, the log key and the secret.
func (tp *testPortal) commandEnv(t *testing.T) {
	t.Setenv("PORTAL_DB", tp.DB.Path)
	t.Setenv("PORTAL_LOG_KEY", tp.Config.LogKeyFile)
	t.Setenv("PORTAL_SECRET", testSecret)
}

// logRounds waits until the evidence log's loop has run n more rounds (each
// signs a checkpoint if the log grew and mails the witnesses if due).
func (tp *testPortal) logRounds(t *testing.T, n int64) {
	t.Helper()
	want := tp.Log.Rounds() + n
	eventually(t, "the evidence log's rounds", func() bool { return tp.Log.Rounds() >= want })
}

package app

import "time"

// Metrics receives the events the portal counts for its monitoring
// (Prometheus, in app/metrics). Each call is made once the event has
// happened — after its transaction committed — and only adds to a counter
// in memory: it never touches the database or holds up the work it counts.
// Every label is one of a few values the code knows (a route pattern, a
// kind, a method), never a person, an address or a raw path.
type Metrics interface {
	// HTTPRequest counts one answered request: route is the route table's
	// pattern, or "unmatched".
	HTTPRequest(method, route string, status int, elapsed time.Duration)
	// SignedIn counts a session started, by sign-in method (AuthEmailLink …).
	SignedIn(method string)
	// Signed counts an acknowledgment recorded: its kind's code and how it
	// was signed (the sign-in method, or AuthPaper).
	Signed(kind, method string)
	// QuizAttempt counts a knowledge-check attempt recorded.
	QuizAttempt(kind string, passed bool)
	// MailSent counts a message the mail server accepted; MailFailed one it
	// did not take, with one of the MailFailure values.
	MailSent(kind string)
	MailFailed(kind, failure string)
	// ReminderPass records a reminder pass that finished: how long it took
	// and what it queued (nil when it failed).
	ReminderPass(elapsed time.Duration, queued *PassSummary)
}

// How a delivery failed, as metrics name it.
const (
	// MailFailTemporary: a 4xx answer, a timeout, a render error; retried.
	MailFailTemporary = "temporary"
	// MailFailPermanent: the server refused the address or the message; not retried.
	MailFailPermanent = "permanent"
	// MailFailConfig: the server refused the portal itself (the
	// configuration); the message went back to the queue untried.
	MailFailConfig = "config"
)

// NoMetrics counts nothing: the Metrics of a part wired without them.
type NoMetrics struct{}

func (NoMetrics) HTTPRequest(string, string, int, time.Duration) {}
func (NoMetrics) SignedIn(string)                                {}
func (NoMetrics) Signed(string, string)                          {}
func (NoMetrics) QuizAttempt(string, bool)                       {}
func (NoMetrics) MailSent(string)                                {}
func (NoMetrics) MailFailed(string, string)                      {}
func (NoMetrics) ReminderPass(time.Duration, *PassSummary)       {}

// MonitorStats are the figures read from the store each time metrics are
// scraped, each with a cheap indexed query.
type MonitorStats struct {
	OutboxQueued       int       // messages not yet sent (due, waiting for a retry, or in flight)
	OldestQueued       time.Time // when the oldest of them was queued; zero when none
	LogEntries         int64     // entries in the evidence log
	CheckpointSize     int64     // entries the latest signed checkpoint covers
	LatestCheckpointAt time.Time // when it was signed; zero when none
}

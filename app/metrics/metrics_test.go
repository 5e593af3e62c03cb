package metrics

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"portal/app"
)

// TestNamesFollowPrometheusConventions: promlint, Prometheus's own checker
// of names, units and help texts, finds nothing to say of the portal's.
func TestNamesFollowPrometheusConventions(t *testing.T) {
	m := newTestMetrics(t, nil)
	exerciseAll(m)
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "portal_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}

// TestEventsCount: each event adds one to its own series and nothing else.
func TestEventsCount(t *testing.T) {
	m := newTestMetrics(t, nil)
	m.Signed("personal-use", app.AuthEmailLink)
	m.Signed("personal-use", app.AuthEmailLink)
	m.Signed("agency-use", app.AuthPaper)
	m.QuizAttempt("personal-use", false)
	m.MailFailed(app.MailReminder, app.MailFailTemporary)
	m.HTTPRequest("POST", "/sign", 303, 20*time.Millisecond)
	m.HTTPRequest("POST", "/sign", 422, 20*time.Millisecond)
	m.ReminderPass(2*time.Second, &app.PassSummary{Invitations: 3, Reminders: 2})
	m.ReminderPass(time.Second, nil)
	for _, c := range []struct {
		got  float64
		want float64
		what string
	}{
		{testutil.ToFloat64(m.signatures.WithLabelValues("personal-use", app.AuthEmailLink)), 2, "signatures by link"},
		{testutil.ToFloat64(m.signatures.WithLabelValues("agency-use", app.AuthPaper)), 1, "signatures on paper"},
		{testutil.ToFloat64(m.quizAttempts.WithLabelValues("personal-use", "failed")), 1, "failed attempts"},
		{testutil.ToFloat64(m.quizAttempts.WithLabelValues("personal-use", "passed")), 0, "passed attempts"},
		{testutil.ToFloat64(m.mailFailures.WithLabelValues(app.MailReminder, app.MailFailTemporary)), 1, "failures"},
		{testutil.ToFloat64(m.requests.WithLabelValues("POST", "/sign", "3xx")), 1, "3xx"},
		{testutil.ToFloat64(m.requests.WithLabelValues("POST", "/sign", "4xx")), 1, "4xx"},
		{testutil.ToFloat64(m.reminderSent.WithLabelValues("invitation")), 3, "invitations"},
		{testutil.ToFloat64(m.reminderSent.WithLabelValues("reminder")), 2, "reminders"},
		{testutil.ToFloat64(m.reminderSent.WithLabelValues("digest")), 0, "digests"},
		{testutil.ToFloat64(m.reminderFails), 1, "failed passes"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.reminderPass); n != 1 {
		t.Errorf("reminder pass histogram: %d series", n)
	}
}

// TestStatusClass: a status is counted by its class only.
func TestStatusClass(t *testing.T) {
	for status, want := range map[int]string{200: "2xx", 204: "2xx", 303: "3xx", 404: "4xx", 422: "4xx", 500: "5xx", 503: "5xx", 0: "other", 99: "other", 600: "other"} {
		if got := StatusClass(status); got != want {
			t.Errorf("StatusClass(%d) = %q, want %q", status, got, want)
		}
	}
}

// TestScrapeFigures: the store's figures and the pools are read when
// scraped; ages follow the portal's clock; a store that fails leaves its
// figures out and the rest is still served.
func TestScrapeFigures(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	stats := &app.MonitorStats{OutboxQueued: 7, OldestQueued: now.Add(-90 * time.Second), LogEntries: 1234,
		CheckpointSize: 1200, LatestCheckpointAt: now.Add(-30 * time.Second)}
	var fail error
	m := New(Options{
		Stats: func(context.Context) (*app.MonitorStats, error) { return stats, fail },
		Pools: func() (sql.DBStats, sql.DBStats) {
			return sql.DBStats{MaxOpenConnections: 1, InUse: 1, WaitCount: 5, WaitDuration: 3 * time.Second},
				sql.DBStats{MaxOpenConnections: 4, Idle: 3, InUse: 1}
		},
		Now:    func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	want := `
# HELP portal_outbox_queued_messages Messages in the outbox not yet sent: due, waiting for a retry, or being delivered.
# TYPE portal_outbox_queued_messages gauge
portal_outbox_queued_messages 7
# HELP portal_outbox_oldest_queued_age_seconds How long the oldest message not yet sent has been in the outbox; 0 when none waits.
# TYPE portal_outbox_oldest_queued_age_seconds gauge
portal_outbox_oldest_queued_age_seconds 90
# HELP portal_evidence_log_entries Entries in the evidence log.
# TYPE portal_evidence_log_entries gauge
portal_evidence_log_entries 1234
# HELP portal_evidence_checkpoint_entries Entries the latest signed checkpoint of the evidence log covers.
# TYPE portal_evidence_checkpoint_entries gauge
portal_evidence_checkpoint_entries 1200
# HELP portal_evidence_checkpoint_age_seconds How long ago the latest checkpoint of the evidence log was signed (absent before the first).
# TYPE portal_evidence_checkpoint_age_seconds gauge
portal_evidence_checkpoint_age_seconds 30
# HELP portal_db_wait_count_total Times a query waited for a free connection of the pool.
# TYPE portal_db_wait_count_total counter
portal_db_wait_count_total{pool="read"} 0
portal_db_wait_count_total{pool="write"} 5
# HELP portal_db_wait_duration_seconds_total Time spent waiting for a free connection of the pool, in all.
# TYPE portal_db_wait_duration_seconds_total counter
portal_db_wait_duration_seconds_total{pool="read"} 0
portal_db_wait_duration_seconds_total{pool="write"} 3
# HELP portal_db_connections_idle Idle connections of the pool now.
# TYPE portal_db_connections_idle gauge
portal_db_connections_idle{pool="read"} 3
portal_db_connections_idle{pool="write"} 0
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "portal_outbox_queued_messages",
		"portal_outbox_oldest_queued_age_seconds", "portal_evidence_log_entries", "portal_evidence_checkpoint_entries",
		"portal_evidence_checkpoint_age_seconds", "portal_db_wait_count_total", "portal_db_wait_duration_seconds_total",
		"portal_db_connections_idle"); err != nil {
		t.Error(err)
	}

	t.Run("nothing queued, no checkpoint yet", func(t *testing.T) {
		stats = &app.MonitorStats{LogEntries: 3}
		body := serve(t, m)
		if !strings.Contains(body, "portal_outbox_oldest_queued_age_seconds 0\n") || strings.Contains(body, "portal_evidence_checkpoint_age_seconds") {
			t.Errorf("empty outbox, no checkpoint:\n%s", body)
		}
	})

	t.Run("a clock that went back shows no negative age", func(t *testing.T) {
		stats = &app.MonitorStats{OutboxQueued: 1, OldestQueued: now.Add(time.Minute)}
		if body := serve(t, m); !strings.Contains(body, "portal_outbox_oldest_queued_age_seconds 0\n") {
			t.Errorf("age:\n%s", body)
		}
	})

	t.Run("a store that fails", func(t *testing.T) {
		fail = errors.New("database is locked")
		body := serve(t, m)
		if strings.Contains(body, "portal_outbox_queued_messages") || !strings.Contains(body, `portal_db_connections_max{pool="write"} 1`) {
			t.Errorf("the store's figures left out, the rest served:\n%s", body)
		}
	})
}

// serve scrapes the handler as Prometheus would.
func serve(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	return rec.Body.String()
}

// TestRegistriesApart: two portals in one process count apart.
func TestRegistriesApart(t *testing.T) {
	a, b := newTestMetrics(t, nil), newTestMetrics(t, nil)
	a.SignedIn(app.AuthEmailLink)
	if got := testutil.ToFloat64(b.signIns.WithLabelValues(app.AuthEmailLink)); got != 0 {
		t.Errorf("the other portal counted %v sign-ins", got)
	}
	if got := testutil.ToFloat64(a.signIns.WithLabelValues(app.AuthEmailLink)); got != 1 {
		t.Errorf("sign-ins: %v", got)
	}
}

func newTestMetrics(t *testing.T, stats *app.MonitorStats) *Metrics {
	t.Helper()
	if stats == nil {
		stats = &app.MonitorStats{}
	}
	return New(Options{Stats: func(context.Context) (*app.MonitorStats, error) { return stats, nil },
		Pools: func() (sql.DBStats, sql.DBStats) { return sql.DBStats{}, sql.DBStats{} }})
}

// exerciseAll makes every family show a series.
func exerciseAll(m *Metrics) {
	m.HTTPRequest("GET", "/", 200, time.Millisecond)
	m.SignedIn(app.AuthEmailLink)
	m.Signed("personal-use", app.AuthEmailLink)
	m.QuizAttempt("personal-use", true)
	m.MailSent(app.MailReminder)
	m.MailFailed(app.MailReminder, app.MailFailPermanent)
	m.ReminderPass(time.Second, &app.PassSummary{})
}

// BenchmarkHTTPRequest is what counting adds to each request: a counter and
// a histogram observation under the request's labels.
func BenchmarkHTTPRequest(b *testing.B) {
	m := New(Options{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.HTTPRequest("POST", "/sign", 303, 3*time.Millisecond)
		}
	})
}

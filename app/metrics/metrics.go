// Package metrics is the portal's Prometheus instrumentation: it counts the
// events app.Metrics names, reads the store's figures and the database pools
// when scraped, and serves the text exposition. Each portal has its own
// registry, never the process-wide default one, so that tests can run
// several portals in one process and each scrape shows one portal.
package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"portal/app"
)

// Options are what the scrape-time figures are read from.
type Options struct {
	// Stats reads the outbox and evidence log figures; nil leaves them out.
	Stats func(ctx context.Context) (*app.MonitorStats, error)
	// Pools returns the database's connection statistics: the writer's and
	// the read pool's; nil leaves them out.
	Pools func() (write, read sql.DBStats)
	// Now is the portal's clock, for the ages (default time.Now).
	Now func() time.Time
	// Logger receives a scrape's errors (a figure that could not be read).
	Logger *slog.Logger
	// StatsTimeout bounds the store's queries of one scrape (default 5 s).
	StatsTimeout time.Duration
}

// Metrics is the portal's registry and its instruments. It implements
// app.Metrics; every method only adds to a counter in memory.
type Metrics struct {
	reg    *prometheus.Registry
	logger *slog.Logger

	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	signIns       *prometheus.CounterVec
	signatures    *prometheus.CounterVec
	quizAttempts  *prometheus.CounterVec
	mailSent      *prometheus.CounterVec
	mailFailures  *prometheus.CounterVec
	reminderPass  prometheus.Histogram
	reminderFails prometheus.Counter
	reminderSent  *prometheus.CounterVec
}

var _ app.Metrics = (*Metrics)(nil)

// New makes a registry with the portal's instruments, the store's figures,
// the database pools and the Go and process collectors.
func New(o Options) *Metrics {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.StatsTimeout <= 0 {
		o.StatsTimeout = 5 * time.Second
	}
	m := &Metrics{reg: prometheus.NewRegistry(), logger: o.Logger}
	f := factory{m.reg}
	m.requests = f.counterVec("portal_http_requests_total",
		"HTTP requests answered, by method, route pattern (never the raw path; unmatched for none) and status class.",
		"method", "route", "status")
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "portal_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by method, route pattern and status class.",
		// From a cached page to a certificate ZIP of a whole agency.
		Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
		[]string{"method", "route", "status"})
	m.reg.MustRegister(m.latency)
	m.signIns = f.counterVec("portal_signins_total", "Sessions started, by sign-in method.", "method")
	m.signatures = f.counterVec("portal_signatures_total",
		"Acknowledgments recorded, by acknowledgment kind and method (the sign-in method, or paper for one HR recorded).", "kind", "method")
	m.quizAttempts = f.counterVec("portal_quiz_attempts_total", "Knowledge-check attempts recorded, by acknowledgment kind and result (passed, failed).",
		"kind", "result")
	m.mailSent = f.counterVec("portal_mail_sent_total", "Messages the mail server accepted, by message kind.", "kind")
	m.mailFailures = f.counterVec("portal_mail_delivery_failures_total",
		"Deliveries that failed, by message kind and failure: temporary (retried), permanent (the address or message refused), "+
			"config (the server refused the portal itself; the message waits).", "kind", "failure")
	m.reminderPass = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "portal_reminder_pass_duration_seconds",
		Help:    "Time a reminder pass of the server's took, failed or not.",
		Buckets: prometheus.ExponentialBuckets(0.01, 3, 10)}) // 10 ms to about 3 min
	m.reg.MustRegister(m.reminderPass)
	m.reminderFails = prometheus.NewCounter(prometheus.CounterOpts{Name: "portal_reminder_pass_failures_total",
		Help: "Reminder passes of the server's that failed (the log says why)."})
	m.reg.MustRegister(m.reminderFails)
	m.reminderSent = f.counterVec("portal_reminder_messages_queued_total",
		"Messages reminder passes queued, by type (invitation, reminder, escalation, digest, account_review, authorization_ending).", "type")
	if o.Stats != nil {
		m.reg.MustRegister(&statsCollector{stats: o.Stats, now: o.Now, timeout: o.StatsTimeout, logger: o.Logger})
	}
	if o.Pools != nil {
		m.reg.MustRegister(&poolCollector{pools: o.Pools})
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// factory registers counter vectors on one registry.
type factory struct{ reg *prometheus.Registry }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

// Registry is the portal's own registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the exposition format the scraper asks
// for. A figure that cannot be read is logged and left out; the rest is
// served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            slogPrinter{m.logger},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4, // a scrape reads the database: a flood of them must not
		// No Timeout here: promhttp's http.TimeoutHandler would watch the
		// request's context from a goroutine of its own, and under Fiber
		// that context is the fasthttp request, which the server's shutdown
		// writes to (a data race). The store's queries of a scrape are
		// bounded by StatsTimeout instead.
	})
}

// slogPrinter is promhttp's error log on the portal's logger.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.l.Error("metrics", "err", fmt.Sprint(v...)) }

// StatusClass is a status code's class: "2xx" … "5xx".
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// HTTPRequest implements app.Metrics.
func (m *Metrics) HTTPRequest(method, route string, status int, elapsed time.Duration) {
	class := StatusClass(status)
	m.requests.WithLabelValues(method, route, class).Inc()
	m.latency.WithLabelValues(method, route, class).Observe(elapsed.Seconds())
}

// SignedIn implements app.Metrics.
func (m *Metrics) SignedIn(method string) { m.signIns.WithLabelValues(method).Inc() }

// Signed implements app.Metrics.
func (m *Metrics) Signed(kind, method string) { m.signatures.WithLabelValues(kind, method).Inc() }

// QuizAttempt implements app.Metrics.
func (m *Metrics) QuizAttempt(kind string, passed bool) {
	result := "failed"
	if passed {
		result = "passed"
	}
	m.quizAttempts.WithLabelValues(kind, result).Inc()
}

// MailSent implements app.Metrics.
func (m *Metrics) MailSent(kind string) { m.mailSent.WithLabelValues(kind).Inc() }

// MailFailed implements app.Metrics.
func (m *Metrics) MailFailed(kind, failure string) {
	m.mailFailures.WithLabelValues(kind, failure).Inc()
}

// ReminderPass implements app.Metrics.
func (m *Metrics) ReminderPass(elapsed time.Duration, s *app.PassSummary) {
	m.reminderPass.Observe(elapsed.Seconds())
	if s == nil {
		m.reminderFails.Inc()
		return
	}
	for _, q := range []struct {
		typ string
		n   int
	}{{"invitation", s.Invitations}, {"reminder", s.Reminders}, {"escalation", s.Escalations}, {"digest", s.Digests},
		{"account_review", s.AccountReviews}, {"authorization_ending", s.AuthorizationsEnding}} {
		// Every type is shown from the first pass on, at zero, so that a
		// rate() over it starts at once.
		m.reminderSent.WithLabelValues(q.typ).Add(float64(q.n))
	}
}

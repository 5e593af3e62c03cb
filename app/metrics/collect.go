package metrics

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"portal/app"
)

// Figures read from the store when scraped (gauges: what is, not what happened).
var (
	descQueued = prometheus.NewDesc("portal_outbox_queued_messages",
		"Messages in the outbox not yet sent: due, waiting for a retry, or being delivered.", nil, nil)
	descOldest = prometheus.NewDesc("portal_outbox_oldest_queued_age_seconds",
		"How long the oldest message not yet sent has been in the outbox; 0 when none waits.", nil, nil)
	descLogEntries = prometheus.NewDesc("portal_evidence_log_entries",
		"Entries in the evidence log.", nil, nil)
	descCheckpointEntries = prometheus.NewDesc("portal_evidence_checkpoint_entries",
		"Entries the latest signed checkpoint of the evidence log covers.", nil, nil)
	descCheckpointAge = prometheus.NewDesc("portal_evidence_checkpoint_age_seconds",
		"How long ago the latest checkpoint of the evidence log was signed (absent before the first).", nil, nil)
)

// statsCollector reads app.MonitorStats on each scrape.
type statsCollector struct {
	stats   func(ctx context.Context) (*app.MonitorStats, error)
	now     func() time.Time
	timeout time.Duration
	logger  *slog.Logger
}

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueued, descOldest, descLogEntries, descCheckpointEntries, descCheckpointAge} {
		ch <- d
	}
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	s, err := c.stats(ctx)
	if err != nil {
		// The scrape goes on without these; promhttp logs the error and
		// Prometheus sees the figures missing (alert on absent()).
		ch <- prometheus.NewInvalidMetric(descQueued, err)
		return
	}
	now := c.now()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	gauge(descQueued, float64(s.OutboxQueued))
	gauge(descOldest, age(now, s.OldestQueued))
	gauge(descLogEntries, float64(s.LogEntries))
	gauge(descCheckpointEntries, float64(s.CheckpointSize))
	if !s.LatestCheckpointAt.IsZero() {
		gauge(descCheckpointAge, age(now, s.LatestCheckpointAt))
	}
}

// age is the seconds from t to now; 0 for no time, never negative (a clock
// that went back a little must not show an age below zero).
func age(now, t time.Time) float64 {
	if t.IsZero() || !now.After(t) {
		return 0
	}
	return now.Sub(t).Seconds()
}

// The database's connection pools, by pool: "write" (the one writer
// connection: waits are writes queueing for it) and "read".
var (
	poolLabels     = []string{"pool"}
	descPoolWaits  = prometheus.NewDesc("portal_db_wait_count_total", "Times a query waited for a free connection of the pool.", poolLabels, nil)
	descPoolWaited = prometheus.NewDesc("portal_db_wait_duration_seconds_total",
		"Time spent waiting for a free connection of the pool, in all.", poolLabels, nil)
	descPoolInUse = prometheus.NewDesc("portal_db_connections_in_use", "Connections of the pool in use now.", poolLabels, nil)
	descPoolIdle  = prometheus.NewDesc("portal_db_connections_idle", "Idle connections of the pool now.", poolLabels, nil)
	descPoolMax   = prometheus.NewDesc("portal_db_connections_max", "The most connections the pool opens.", poolLabels, nil)
)

// poolCollector reads database/sql's DBStats of both pools on each scrape.
type poolCollector struct {
	pools func() (write, read sql.DBStats)
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPoolWaits, descPoolWaited, descPoolInUse, descPoolIdle, descPoolMax} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	write, read := c.pools()
	for _, p := range []struct {
		name string
		s    sql.DBStats
	}{{"write", write}, {"read", read}} {
		ch <- prometheus.MustNewConstMetric(descPoolWaits, prometheus.CounterValue, float64(p.s.WaitCount), p.name)
		ch <- prometheus.MustNewConstMetric(descPoolWaited, prometheus.CounterValue, p.s.WaitDuration.Seconds(), p.name)
		ch <- prometheus.MustNewConstMetric(descPoolInUse, prometheus.GaugeValue, float64(p.s.InUse), p.name)
		ch <- prometheus.MustNewConstMetric(descPoolIdle, prometheus.GaugeValue, float64(p.s.Idle), p.name)
		ch <- prometheus.MustNewConstMetric(descPoolMax, prometheus.GaugeValue, float64(p.s.MaxOpenConnections), p.name)
	}
}

package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// listenMetrics starts the metrics listener of PORTAL_METRICS_ADDR, if set:
// plain net/http, serving /metrics and nothing else, without a token. It
// is meant for a private network (or the host itself), where only the
// monitoring system reaches it; the web application's /metrics, behind its
// token, is the way in from anywhere else.
func (p *Portal) listenMetrics() (*http.Server, error) {
	if p.Config.MetricsAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", p.Config.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("PORTAL_METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", p.Metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	addr := ln.Addr().String()
	p.metricsAddr.Store(&addr)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.Logger.Error("metrics listener", "err", err)
		}
	}()
	p.Logger.Info("metrics listening", "addr", addr)
	return srv, nil
}

// MetricsAddr is the address the metrics listener listens on ("" when
// there is none, or before Serve has started it).
func (p *Portal) MetricsAddr() string {
	if a := p.metricsAddr.Load(); a != nil {
		return *a
	}
	return ""
}

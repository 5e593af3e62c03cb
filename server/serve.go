package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

func serve(ctx context.Context, demo bool, stdout, stderr io.Writer) error {
	cfg, err := LoadConfig(demo)
	if err != nil {
		return err
	}
	if err := checkServeConfig(cfg); err != nil {
		return err
	}
	k, err := LoadKeys(cfg, stdout)
	if err != nil {
		return err
	}
	if k.Log == nil {
		return errNoLogKey
	}
	if k.Secrets == nil {
		return errNoSecret
	}
	logger := newLogger(cfg, stderr)
	db, err := OpenDB(cfg, k)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := Wire(ctx, cfg, db, k, logger)
	if err != nil {
		return err
	}
	// The demo's sign-in links are printed once everything runs, last, so
	// that start-up lines cannot push them off the screen.
	var links bytes.Buffer
	if demo {
		if err := SeedDemo(ctx, p, cfg, &links); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return err
	}
	return p.Serve(ctx, ln, func() {
		logger.Info("portal listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "demo", demo)
		_, _ = links.WriteTo(stdout)
		fmt.Fprintf(stdout, "Portal running at %s (Ctrl-C to stop)\n", cfg.BaseURL)
	})
}

// Serve publishes a first checkpoint, starts the mail worker, the reminder
// loop, the evidence log, the sweep of expired sessions and the sign-in
// mailer, and serves the web application on ln until
// ctx is done; ready is called once all of that runs. It returns when every
// part has stopped; the database stays open.
func (p *Portal) Serve(ctx context.Context, ln net.Listener, ready func()) error {
	defer ln.Close()
	web, err := p.Handler.NewApp()
	if err != nil {
		return fmt.Errorf("load views: %w", err)
	}
	// A first checkpoint before anyone can ask for one; a log that does not
	// extend the last one signed is refused here, loudly, before serving.
	if _, err := p.Log.Publish(ctx, false); err != nil {
		return fmt.Errorf("evidence log: %w", err)
	}
	metricsSrv, err := p.listenMetrics()
	if err != nil {
		return err
	}
	workerCtx, stopWorker := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	workers.Go(func() { p.Worker.Run(workerCtx) })
	workers.Go(func() { p.remindLoop(workerCtx, p.Config.RemindEvery) })
	workers.Go(func() { p.Log.Run(workerCtx) })
	workers.Go(func() { p.checkLoop(workerCtx) })
	workers.Go(func() { p.sweepLoop(workerCtx, p.Config.SweepEvery) })
	workers.Go(func() { p.Handler.SignInMail.Run(workerCtx) })
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.Listener(ln) }()
	if ready != nil {
		ready()
	}
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		p.Logger.Info("shutting down")
		grace := p.Config.ShutdownGrace
		if grace <= 0 {
			grace = 10 * time.Second
		}
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		if err = web.ShutdownWithContext(sctx); errors.Is(err, context.DeadlineExceeded) {
			// A client still mid-request after the grace period is cut off
			// when the process ends; that is no failure of the shutdown.
			p.Logger.Warn("shutting down: requests still open after the grace period", "grace", grace.String())
			err = nil
		}
		cancel()
		// If the server goroutine had not started serving yet, Shutdown did
		// not know the listener; closing it makes a late Listener return.
		_ = ln.Close() // the deferred close reports nothing either: the listener is done
		<-serveErr
	}
	if metricsSrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = metricsSrv.Shutdown(sctx) // a scrape cut off is retried by the scraper
		cancel()
	}
	stopWorker()
	workers.Wait()
	return err
}

// checkServeConfig refuses a production configuration that would lose mail
// silently: with no SMTP server, messages are only logged, and only when
// the operator says so.
func checkServeConfig(cfg *Config) error {
	if !cfg.Demo && cfg.SMTPHost == "" && cfg.MailMode != "log" {
		return errors.New("PORTAL_SMTP_HOST is not set, so no mail would be delivered. Set it, or set PORTAL_MAIL=log " +
			"to run without mail (messages are then logged without their content, and sign-in links are never delivered)")
	}
	return nil
}

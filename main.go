// Command portal is the social-media policy acknowledgment portal: one binary
// that serves the web application and runs its operator commands.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"portal/app"
	"portal/app/content"
	"portal/app/mail"
	"portal/app/pdf"
	"portal/app/sqlite"
	"portal/data"
	"portal/handlers"
)

const usage = `usage: portal <command> [arguments]

commands:
  serve          run the web server (configured by environment variables)
  demo           run the web server on a demo database with sample data
  import-roster FILE [--dry-run] [--deactivate-missing]
                 load a roster CSV; exit 1 and list every bad row if the file is bad
  remind [--dry-run]
                 one reminder pass (safe from cron while the server runs)
  export-certificates [--agency NAME] [--department NAME] [--manager EMPLOYEE_NUMBER] --out FILE.zip
                 the signed certificates of the current cycle with a SHA-256 manifest
  audit-verify   walk the evidence chain; exit 1 and name the first broken record
  backup FILE    write an online, consistent copy of the database to FILE
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "portal:", err)
		os.Exit(1)
	}
}

type usageError struct{}

func (usageError) Error() string { return "usage" }

// run executes one command. It is main without the exits, so tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{}
	}
	switch args[0] {
	case "serve", "demo":
		if len(args) != 1 {
			return usageError{}
		}
		return serve(ctx, args[0] == "demo", stdout, stderr)
	case "audit-verify":
		return auditVerify(ctx, stdout)
	case "import-roster":
		return importRoster(ctx, args[1:], stdout)
	case "remind":
		return remind(ctx, args[1:], stdout, stderr)
	case "export-certificates":
		return exportCertificates(ctx, args[1:], stdout, stderr)
	case "backup":
		if len(args) != 2 {
			return usageError{}
		}
		return backup(ctx, args[1], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{}
}

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

func openDB(cfg *config) (*sqlite.DB, error) {
	return sqlite.Open(cfg.DB, sqlite.Options{Synchronous: cfg.Synchronous})
}

// portal is the wired application: database, services and web handler.
type portal struct {
	db        *sqlite.DB
	handler   *handlers.Handler
	outbox    *sqlite.Outbox
	worker    *mail.Worker
	version   *app.PolicyVersion
	reminders *sqlite.ReminderService
	cfg       *config
	logger    *slog.Logger
}

// remindLoop runs a reminder pass at start and then every interval until
// ctx is done. Passes are idempotent, so a cron `portal remind` may run too.
func (p *portal) remindLoop(ctx context.Context, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		sum, err := p.reminders.RunPass(ctx, p.db.Now(), p.cfg.TimeZone, p.cfg.Schedule, false)
		if err != nil {
			if ctx.Err() == nil {
				p.logger.Error("reminder pass", "err", err)
			}
		} else {
			p.logger.Info("reminder pass", "invitations", sum.Invitations, "reminders", sum.Reminders,
				"escalations", sum.Escalations, "digests", sum.Digests)
			if sum.Total() > 0 {
				p.worker.Kick()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func wire(ctx context.Context, cfg *config, db *sqlite.DB, logger *slog.Logger) (*portal, error) {
	version, err := content.LoadVersion(data.FS, "policies/"+cfg.PolicyVersion)
	if err != nil {
		return nil, fmt.Errorf("load policy version %s: %w", cfg.PolicyVersion, err)
	}
	consent, err := content.LoadConsent(data.FS, "consent/2026-1.md")
	if err != nil {
		return nil, fmt.Errorf("load consent notice: %w", err)
	}
	policies := sqlite.NewPolicyService(db)
	if err := policies.PublishVersion(ctx, version); err != nil {
		return nil, fmt.Errorf("publish shipped policy version: %w", err)
	}
	secret := cfg.Secret
	if secret == "" {
		if secret, err = db.SettingOrCreate(ctx, "secret", func() (string, error) {
			b := make([]byte, 32)
			_, err := rand.Read(b)
			return hex.EncodeToString(b), err
		}); err != nil {
			return nil, err
		}
	}
	templates, err := mail.ParseTemplates()
	if err != nil {
		return nil, fmt.Errorf("parse mail templates: %w", err)
	}
	certs, err := pdf.New()
	if err != nil {
		return nil, fmt.Errorf("load certificate fonts: %w", err)
	}
	var sender app.Sender = &mail.DevSender{Logger: logger}
	if cfg.SMTPHost != "" {
		sender = mail.NewSMTPSender(mail.SMTPConfig{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername,
			Password: cfg.SMTPPassword, TLS: cfg.SMTPTLS, From: cfg.MailFrom, Connections: cfg.SMTPConns})
	}
	outbox := sqlite.NewOutbox(db)
	worker := mail.NewWorker(outbox, sender, logger)
	worker.Concurrency = cfg.SMTPConns
	// Certificate copies and reminders wait while people are signing.
	worker.Busy = func() bool { return db.Signing(200 * time.Millisecond) }
	md := content.NewRenderer()
	h := &handlers.Handler{
		Config: handlers.Config{
			BaseURL: cfg.BaseURL, Demo: cfg.Demo, DevMailbox: cfg.SMTPHost == "", PassMark: cfg.PassMark,
			Location: cfg.TimeZone, LinkTTL: 15 * time.Minute, SecureCookies: len(cfg.BaseURL) > 8 && cfg.BaseURL[:8] == "https://",
			Secret: []byte(secret), SSOHeader: cfg.SSOHeader, SSOProxies: cfg.SSOProxies, TrustedProxies: cfg.TrustedProxies,
			// Roster files are up to 20 MB; each upload handler checks its own, smaller limit
			// so the person gets a clear message rather than a dropped connection.
			BodyLimit: 32 << 20,
		},
		Employees: sqlite.NewEmployeeService(db),
		Policies:  policies,
		Cycles:    sqlite.NewCycleService(db),
		Acks:      sqlite.NewAckService(db),
		Sessions:  sqlite.NewSessionService(db),
		Audit:     sqlite.NewAuditService(db),
		Roster:    sqlite.NewRosterService(db),
		Dashboard: sqlite.NewDashboardService(db),
		Outbox:    outbox,
		Messages:  templates,
		Certs:     certs,
		Consent:   consent,
		Markdown:  md.Markdown,
		Ping:      db.Ping,
		KickMail:  worker.Kick,
		// Five exports a user per ten minutes: enough for an audit, not for a scraper.
		ExportLimit: handlers.NewRateLimiter(5, 10*time.Minute),
		// Three links an address and 30 a client address per 15 minutes: a person
		// who mistypes is fine, a script probing or flooding mailboxes is not.
		SignInLimit:   handlers.NewRateLimiter(3, 15*time.Minute),
		SignInIPLimit: handlers.NewRateLimiter(30, 15*time.Minute),
		Logger:        logger,
		Now:           db.Now,
	}
	worker.Renderer = &mail.Composer{Templates: templates, Employees: h.Employees, Cycles: h.Cycles, Acks: h.Acks,
		Dashboard: h.Dashboard, Certs: certs, BaseURL: cfg.BaseURL, Location: cfg.TimeZone, Now: db.Now}
	return &portal{db: db, handler: h, outbox: outbox, worker: worker, version: version,
		reminders: sqlite.NewReminderService(db), cfg: cfg, logger: logger}, nil
}

func serve(ctx context.Context, demo bool, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(demo)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	db, err := openDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := wire(ctx, cfg, db, logger)
	if err != nil {
		return err
	}
	if demo {
		if err := seedDemo(ctx, p, cfg, stdout); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	web, err := p.handler.NewApp()
	if err != nil {
		return fmt.Errorf("load views: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return err
	}
	workerCtx, stopWorker := context.WithCancel(context.Background())
	workerDone := make(chan struct{}, 2)
	go func() { defer func() { workerDone <- struct{}{} }(); p.worker.Run(workerCtx) }()
	go func() { defer func() { workerDone <- struct{}{} }(); p.remindLoop(workerCtx, cfg.RemindEvery) }()
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.Listener(ln) }()
	logger.Info("portal listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "demo", demo)
	fmt.Fprintf(stdout, "Portal running at %s (Ctrl-C to stop)\n", cfg.BaseURL)
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		logger.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = web.ShutdownWithContext(sctx)
		cancel()
	}
	stopWorker()
	<-workerDone
	<-workerDone
	return err
}

func auditVerify(ctx context.Context, stdout io.Writer) error {
	_, db, err := openForCommand()
	if err != nil {
		return err
	}
	defer db.Close()
	n, brk, err := sqlite.NewAuditService(db).VerifyChain(ctx)
	if err != nil {
		return err
	}
	if brk != nil {
		return fmt.Errorf("evidence chain broken after %d good records: %s %d (chain record %d): %s", n, brk.Kind, brk.RefID, brk.Seq, brk.Reason)
	}
	fmt.Fprintf(stdout, "evidence chain verified: %d records, no break\n", n)
	return nil
}

func backup(ctx context.Context, path string, stdout io.Writer) error {
	_, db, err := openForCommand()
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", path)
	return nil
}

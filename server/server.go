// Package server wires the social-media policy acknowledgment portal
// together: configuration, keys, the database, services, the mail worker,
// the evidence log and the web application, and the operator commands.
// The command (main.go) is Main and nothing else; the end-to-end tests in
// e2e/ start a whole portal through Start.
package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"portal/app"
	"portal/app/content"
	"portal/app/evidence"
	"portal/app/export"
	"portal/app/mail"
	"portal/app/metrics"
	"portal/app/pdf"
	"portal/app/secret"
	"portal/app/store"
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
  audit-verify [--checkpoint FILE] [--key VERIFIER-KEY]
                 check every evidence record against the log, its seals and its
                 checkpoints (and a checkpoint saved earlier); exit 1 and name
                 the first bad record. Reads the database and nothing else.
  log-keygen FILE [--origin NAME]
                 write a new evidence log key to FILE (mode 0600) and print its
                 public verifier key
  secret-keygen FILE
                 write a new PORTAL_SECRET to FILE (mode 0600)
  witness --url URL --state FILE [--key VERIFIER-KEY] [--certificate CODE]
                 check a portal's log from another machine: its latest
                 checkpoint extends the one kept in FILE; exit 1 with "the log
                 was rewritten" if not
  backup FILE    write an online, consistent copy of the database to FILE
  api-token create --name NAME --scope SCOPE[,SCOPE]
                 make an API token and print it (once: only its hash is kept);
                 scopes: completion:read, certificates:read, roster:write
  api-token list | api-token revoke ID
                 list the API tokens; revoke one for good
`

// Main runs the command line args (without the program name) until ctx is
// done and returns the process's exit code: 0, 1 for a failure (printed on
// stderr), 2 for a usage error (the usage is printed).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := Run(ctx, args, stdout, stderr)
	if err == nil {
		return 0
	}
	var ue UsageError
	if errors.As(err, &ue) {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fmt.Fprintln(stderr, "portal:", err)
	return 1
}

type UsageError struct{}

func (UsageError) Error() string { return "usage" }

// Run executes one command and returns its error: Main without the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return UsageError{}
	}
	switch args[0] {
	case "serve", "demo":
		if len(args) != 1 {
			return UsageError{}
		}
		return serve(ctx, args[0] == "demo", stdout, stderr)
	case "audit-verify":
		return auditVerify(ctx, args[1:], stdout)
	case "log-keygen":
		return logKeygen(args[1:], stdout)
	case "secret-keygen":
		if len(args) != 2 {
			return UsageError{}
		}
		return secretKeygen(args[1], stdout)
	case "witness":
		return witness(ctx, args[1:], stdout)
	case "import-roster":
		return importRoster(ctx, args[1:], stdout)
	case "remind":
		return remind(ctx, args[1:], stdout, stderr)
	case "export-certificates":
		return exportCertificates(ctx, args[1:], stdout, stderr)
	case "backup":
		if len(args) != 2 {
			return UsageError{}
		}
		return backup(ctx, args[1], stdout)
	case "api-token":
		return apiToken(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return UsageError{}
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	if cfg.LogFormat == "human" {
		return slog.New(newHumanHandler(w))
	}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// Keys are what the portal reads from outside its database: the evidence
// log's private key and its own secret. Either may be nil for a command
// that does not need it.
type Keys struct {
	Log     *evidence.Key
	Secrets *secret.Keys
}

// LoadKeys reads the keys the configuration names. The demo makes them on
// first run, beside its database.
func LoadKeys(cfg *Config, stdout io.Writer) (*Keys, error) {
	k := &Keys{}
	if cfg.LogKeyFile != "" {
		if _, err := os.Stat(cfg.LogKeyFile); errors.Is(err, os.ErrNotExist) && cfg.Demo { // #nosec G703 -- the operator names the key file
			if err := os.MkdirAll(filepath.Dir(cfg.LogKeyFile), 0o750); err != nil { // #nosec G703 -- beside the operator's database
				return nil, err
			}
			vkey, err := evidence.WriteKeyFile(cfg.LogKeyFile, logOrigin(cfg.BaseURL))
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(stdout, "Created the evidence log key %s; its verifier key is %s\n", cfg.LogKeyFile, vkey)
		}
		var err error
		if k.Log, err = evidence.LoadKeyFile(cfg.LogKeyFile); err != nil {
			return nil, fmt.Errorf("PORTAL_LOG_KEY: %w", err)
		}
	}
	raw := []byte(cfg.Secret)
	if len(raw) == 0 && cfg.SecretFile != "" {
		if _, err := os.Stat(cfg.SecretFile); errors.Is(err, os.ErrNotExist) && cfg.Demo { // #nosec G703 -- the operator names the secret file
			if err := secret.WriteFile(cfg.SecretFile); err != nil {
				return nil, err
			}
		}
		var err error
		if raw, err = secret.ReadFile(cfg.SecretFile); err != nil {
			return nil, fmt.Errorf("PORTAL_SECRET_FILE: %w", err)
		}
	}
	if len(raw) > 0 {
		var err error
		if k.Secrets, err = secret.New(raw); err != nil {
			return nil, fmt.Errorf("PORTAL_SECRET: %w", err)
		}
	}
	return k, nil
}

// logOrigin names a new log after the portal's address: its host and path
// and "/log", as the checkpoint format recommends (no scheme).
func logOrigin(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return "portal/log"
	}
	return strings.TrimSuffix(u.Host+u.Path, "/") + "/log"
}

// errNoLogKey explains what serve needs.
var errNoLogKey = errors.New("PORTAL_LOG_KEY is not set. The evidence log's private key must live in a file outside the database: " +
	"make one with `portal log-keygen /etc/portal/log.key` (it prints the public verifier key to publish) and set PORTAL_LOG_KEY to its path")

var errNoSecret = errors.New("PORTAL_SECRET (or PORTAL_SECRET_FILE) is not set. The portal's own secret never lives in the database: " +
	"make one with `portal secret-keygen /etc/portal/secret.key` and set PORTAL_SECRET_FILE to its path")

func OpenDB(cfg *Config, k *Keys) (*store.DB, error) {
	var lk *evidence.Key
	if k != nil {
		lk = k.Log
	}
	return store.Open(cfg.DB, store.Options{Synchronous: cfg.Synchronous, ReadConns: cfg.DBConns, LogKey: lk, Location: cfg.TimeZone})
}

// Portal is the wired application: database, services, mail worker,
// evidence log and web handler.
type Portal struct {
	DB        *store.DB
	Handler   *handlers.Handler
	Outbox    *store.Outbox
	Worker    *mail.Worker
	Log       *evidence.Log   // nil without the log key
	DevMail   *mail.DevSender // the development mailbox's sender, when mail is not sent
	Version   *app.PolicyVersion
	Reminders *store.ReminderService
	Sessions  *store.SessionService
	Config    *Config
	Logger    *slog.Logger
	Metrics   *metrics.Metrics // the portal's own Prometheus registry
	checks    chan struct{}    // wakes checkLoop

	metricsAddr atomic.Pointer[string] // where the metrics listener listens, once it does

	sweeps atomic.Int64 // rounds of sweepLoop done
}

// kickChecks wakes the evidence check loop without waiting.
func (p *Portal) kickChecks() {
	select {
	case p.checks <- struct{}{}:
	default:
	}
}

// checkLoop runs the evidence checks people ask for, as soon as they ask,
// and queues one of its own when none has been asked for in a day. It never
// runs on a request: a check of a million records takes seconds.
func (p *Portal) checkLoop(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	audit := p.Handler.Audit
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.checks:
		case <-t.C:
			if err := p.dailyCheck(ctx); err != nil && ctx.Err() == nil {
				p.Logger.Error("evidence check: queue the daily check", "err", err)
			}
		}
		if n, err := audit.RunQueuedChecks(ctx); err != nil && ctx.Err() == nil {
			p.Logger.Error("evidence check", "err", err)
		} else if n > 0 {
			done, _, err := audit.EvidenceChecks(ctx)
			if err == nil && done != nil && done.Problem != "" {
				p.Logger.Error("evidence check: some evidence is not as it was recorded", "problem", done.Problem)
			} else if err == nil {
				p.Logger.Info("evidence check", "checks", n)
			}
		}
	}
}

// dailyCheck queues a check when the newest was asked for a day ago or more.
func (p *Portal) dailyCheck(ctx context.Context) error {
	done, pending, err := p.Handler.Audit.EvidenceChecks(ctx)
	if err != nil || pending != nil || (done != nil && p.DB.Now().Sub(done.RequestedAt) < 24*time.Hour) {
		return err
	}
	_, _, err = p.Handler.Audit.RequestCheck(ctx, nil)
	return err
}

// remindLoop runs a reminder pass at start and then every interval until
// ctx is done. Passes are idempotent, so a cron `portal remind` may run too.
func (p *Portal) remindLoop(ctx context.Context, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_, _ = p.RemindPass(ctx) // logged and counted there; the next tick tries again
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RemindPass runs one reminder pass of the server's, as the loop does at
// each interval: it logs the outcome, counts its time and what it queued in
// the metrics, and wakes the mail worker when it queued anything.
func (p *Portal) RemindPass(ctx context.Context) (*app.PassSummary, error) {
	start := time.Now()
	sum, err := p.Reminders.RunPass(ctx, p.DB.Now(), p.Config.TimeZone, p.Config.Schedule, false)
	if ctx.Err() != nil { // cut short by shutdown: no failure of the pass
		return sum, err
	}
	if err != nil {
		p.Metrics.ReminderPass(time.Since(start), nil)
		p.Logger.Error("reminder pass", "err", err)
		return nil, err
	}
	p.Metrics.ReminderPass(time.Since(start), sum)
	p.Logger.Info("reminder pass", "invitations", sum.Invitations, "reminders", sum.Reminders,
		"escalations", sum.Escalations, "digests", sum.Digests, "account_reviews", sum.AccountReviews,
		"authorizations_ending", sum.AuthorizationsEnding)
	if sum.Total() > 0 {
		p.Worker.Kick()
	}
	return sum, nil
}

// sweepBatch is how many expired sessions (and as many sign-in links) one
// short write transaction of the sweep deletes.
const sweepBatch = 500

// sweepLoop removes expired sessions and sign-in links at start and then
// every interval until ctx is done, a batch at a time so that web writes
// go in between; sign-ins no longer do it. It also keeps the steady clock's
// mark in the database, once more as it stops, so that a restart carries
// on from it.
func (p *Portal) sweepLoop(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 5 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			n, err := p.Sessions.SweepExpired(ctx, sweepBatch)
			if err != nil {
				if ctx.Err() == nil {
					p.Logger.Error("removing expired sessions", "err", err)
				}
				break
			}
			if n < sweepBatch {
				break
			}
		}
		p.sweeps.Add(1)
		select {
		case <-ctx.Done():
			if err := p.DB.SaveClockMark(context.WithoutCancel(ctx)); err != nil {
				p.Logger.Error("keeping the clock's mark", "err", err)
			}
			return
		case <-t.C:
		}
	}
}

// Sweeps returns how many rounds the sweep of expired sessions has done.
func (p *Portal) Sweeps() int64 { return p.sweeps.Load() }

// commandSecrets returns the portal's secret keys; a command run without
// them (no web server, no sign-in link to send) gets keys for this run
// only, never stored.
func commandSecrets(k *Keys) (*secret.Keys, error) {
	if k.Secrets != nil {
		return k.Secrets, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return secret.New([]byte(hex.EncodeToString(b)))
}

// newSenders returns the SMTP senders when a server is configured — one
// for sign-in links, over a connection of its own, and one for everything
// else — or else the development sender (which only logs, and in the demo
// keeps a mailbox in memory) for both; the development sender is returned
// either way for its mailbox.
func newSenders(cfg *Config, logger *slog.Logger) (main, signIn app.Sender, dev *mail.DevSender) {
	dev = &mail.DevSender{Logger: logger}
	if cfg.Demo && cfg.SMTPHost == "" {
		// The demo's messages are read at /dev/mailbox; a line for each would
		// bury the sign-in links, so they are logged at debug level only.
		dev.Keep, dev.Level = 200, slog.LevelDebug
	}
	if cfg.SMTPHost == "" {
		return dev, dev, dev
	}
	smtp := mail.SMTPConfig{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
		TLS: cfg.SMTPTLS, From: cfg.MailFrom, Connections: cfg.SMTPConns, Timeout: cfg.SMTPTimeout}
	main = mail.NewSMTPSender(smtp)
	smtp.Connections = 1
	return main, mail.NewSMTPSender(smtp), dev
}

func Wire(ctx context.Context, cfg *Config, db *store.DB, k *Keys, logger *slog.Logger) (*Portal, error) {
	db.SetLogger(logger) // the checkpointer's errors
	shipped, err := content.LoadShipped(data.FS, "policies")
	if err != nil {
		return nil, fmt.Errorf("load shipped policy versions: %w", err)
	}
	var version *app.PolicyVersion // the one cfg.PolicyVersion names: the demo's
	for _, v := range shipped {
		if v.Code == cfg.PolicyVersion {
			version = v
		}
	}
	if version == nil {
		return nil, fmt.Errorf("PORTAL_POLICY_VERSION %q: no such shipped policy version", cfg.PolicyVersion)
	}
	consent, err := content.LoadConsent(data.FS, "consent/2026-1.md")
	if err != nil {
		return nil, fmt.Errorf("load consent notice: %w", err)
	}
	policies := store.NewPolicyService(db)
	// Every shipped version, oldest first: a database made by an older
	// portal keeps what it has (publishing the same content again is a
	// no-op) and gains the newer versions, the newest being the default
	// for new cycles. Existing cycles keep their version; HR moves them.
	for _, v := range shipped {
		if err := policies.PublishVersion(ctx, v); err != nil {
			return nil, fmt.Errorf("publish shipped policy version %s: %w", v.Code, err)
		}
	}
	secrets, err := commandSecrets(k)
	if err != nil {
		return nil, err
	}
	templates, err := mail.ParseTemplates()
	if err != nil {
		return nil, fmt.Errorf("parse mail templates: %w", err)
	}
	certs, err := pdf.New()
	if err != nil {
		return nil, fmt.Errorf("load certificate fonts: %w", err)
	}
	sender, signInSender, dev := newSenders(cfg, logger)
	outbox := store.NewOutbox(db)
	met := metrics.New(metrics.Options{Stats: db.MonitorStats, Pools: db.PoolStats, Now: db.Now, Logger: logger})
	worker := mail.NewWorker(outbox, sender, logger)
	worker.Metrics = met
	worker.Concurrency = cfg.SMTPConns
	worker.SignInSender = signInSender
	if cfg.MailLease > 0 {
		worker.Lease = cfg.MailLease
	}
	// Certificate copies and reminders wait while people are signing.
	worker.Busy = func() bool { return db.Signing(200 * time.Millisecond) }
	md := content.NewRenderer()
	sessions, dashboard := store.NewSessionService(db), store.NewDashboardService(db)
	h := &handlers.Handler{
		Config: handlers.Config{
			BaseURL: cfg.BaseURL, Demo: cfg.Demo, DevMailbox: cfg.SMTPHost == "", PassMark: cfg.PassMark,
			Location: cfg.TimeZone, LinkTTL: 15 * time.Minute, SecureCookies: len(cfg.BaseURL) > 8 && cfg.BaseURL[:8] == "https://",
			Secret: secrets.CSRF, SSOHeader: cfg.SSOHeader, SSOProxies: cfg.SSOProxies, TrustedProxies: cfg.TrustedProxies,
			ExportsAtOnce: cfg.ExportsAtOnce, ExportWriteTimeout: cfg.ExportWriteTimeout, ExportTimeLimit: cfg.ExportTimeLimit,
			OrgName: cfg.OrgName, OrgLogo: cfg.OrgLogo, HelpEmail: cfg.HelpEmail,
			MetricsToken: cfg.MetricsToken,
		},
		Employees:    store.NewEmployeeService(db),
		Policies:     policies,
		Cycles:       store.NewCycleService(db),
		Acks:         store.NewAckService(db),
		Kinds:        store.NewKindService(db),
		SignIn:       sessions,
		Sessions:     sessions,
		Audit:        store.NewAuditService(db),
		Roster:       rosterWithSync(db),
		Dashboard:    dashboard,
		Exports:      dashboard,
		Scopes:       dashboard,
		Outbox:       outbox,
		Identity:     store.NewIdentityService(db),
		Witnesses:    store.NewWitnessService(db),
		Paper:        store.NewPaperService(db),
		Team:         store.NewTeamService(db),
		Messages:     &mail.SignInLinks{Sealer: secrets},
		Mailbox:      dev.Messages,
		Certs:        certs,
		PolicyPDF:    certs,
		Certificates: &export.Certificates{Exports: dashboard, Certs: certs, BaseURL: cfg.BaseURL, Location: cfg.TimeZone, Now: db.Now},
		Consent:      consent,
		Markdown:     md.Markdown,
		Ping:         db.Ping,
		Unavailable:  store.Unavailable,
		KickMail:     worker.Kick,
		// The limits are kept in the database, shared by every node.
		// Five exports a user per ten minutes: enough for an audit, not for a scraper.
		ExportLimit: store.NewRateLimiter(db, "export", 5, 10*time.Minute),
		// 30 sign-in requests a client address per 15 minutes (and three links
		// an address, below): a person who mistypes is fine, a script probing
		// or flooding mailboxes is not.
		SignInIPLimit: store.NewRateLimiter(db, "signin-ip", 30, 15*time.Minute),
		Logger:        logger,
		Now:           db.Now,
		Metrics:       met,
		MetricsPage:   met.Handler(),
	}
	h.PersonActions = store.NewPersonActionService(db)
	// The Social Media Supervisors and the registry of agency accounts.
	h.Supervisors = store.NewSupervisorService(db)
	h.Accounts = store.NewAccountService(db)
	// Who owes an acknowledgment assigned by authorization (the agency-use
	// one) follows each authorization change at once, not at the next
	// home page visit or reminder pass.
	authorizations := store.NewAuthorizationService(db)
	authorizations.OnPostersChanged = store.NewKindService(db).SyncAuthorizationKinds
	h.Authorizations = authorizations
	h.Terms = store.NewTermsService(db)
	// The API's bearer tokens, and the calls each may make a minute.
	h.APITokens = store.NewAPITokenService(db)
	apiRate := cfg.APIRatePerMinute
	if apiRate <= 0 {
		apiRate = defaultAPIRate
	}
	h.APILimit = store.NewRateLimiter(db, "api", apiRate, time.Minute)
	h.Config.EmailLinksOff = cfg.EmailLinksOff
	if cfg.OIDC.Issuer != "" {
		h.OIDC = &handlers.OIDC{Config: cfg.OIDC, RedirectURL: cfg.BaseURL + "/signin/oidc/callback", Logger: logger}
		// A provider down at start does not stop the portal: the first
		// sign-in tries again.
		if _, err := h.OIDC.Discover(ctx); err != nil {
			logger.Warn("openid connect provider not reachable at start; sign-in will try again", "issuer", cfg.OIDC.Issuer, "err", err)
		} else {
			logger.Info("openid connect sign-in on", "issuer", cfg.OIDC.Issuer, "claim", cfg.OIDC.Claim)
		}
	}
	h.SignInMail = &handlers.SignInMailer{Employees: h.Employees, SignIn: sessions, Messages: h.Messages, Outbox: outbox,
		KickMail: worker.Kick, BaseURL: cfg.BaseURL, LinkTTL: h.Config.LinkTTL, Logger: logger,
		// Three links an address in a link's life: an address refused a new link has a live one.
		Limit: store.NewRateLimiter(db, "signin-address", 3, h.Config.LinkTTL)}
	worker.Renderer = &mail.Composer{Templates: templates, Employees: h.Employees, Cycles: h.Cycles, Acks: h.Acks, Kinds: h.Kinds,
		Dashboard: h.Dashboard, Certs: certs, Identity: h.Identity, Sealer: secrets, LinkMinutes: int(h.Config.LinkTTL.Minutes()),
		BaseURL: cfg.BaseURL, Location: cfg.TimeZone, Now: db.Now, Accounts: h.Accounts}
	p := &Portal{DB: db, Handler: h, Outbox: outbox, Worker: worker, Version: version, DevMail: dev,
		Reminders: store.NewReminderService(db), Sessions: sessions, Config: cfg, Logger: logger, checks: make(chan struct{}, 1),
		Metrics: met}
	h.KickChecks = p.kickChecks
	if k.Log != nil {
		p.Log = &evidence.Log{Store: store.NewLogStore(db), Key: k.Log, Dir: cfg.CheckpointDir, Logger: logger, Now: db.Now,
			Location: cfg.TimeZone, Every: 2 * time.Second, Daily: p.mailWitnesses(templates)}
		h.Log = p.Log
	}
	return p, nil
}

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

// mailWitnesses queues the day's checkpoint to every witness address.
func (p *Portal) mailWitnesses(t *mail.Templates) func(ctx context.Context, cp *app.SignedCheckpoint) error {
	return func(ctx context.Context, cp *app.SignedCheckpoint) error {
		addrs, err := p.Handler.Witnesses.Witnesses(ctx)
		if err != nil {
			return err
		}
		day := p.DB.Today()
		queued := false
		for _, a := range addrs {
			m, err := t.Checkpoint(a, string(cp.Note), p.Log.VerifierKey(), p.Config.BaseURL, day)
			if err != nil {
				return err
			}
			ok, err := p.Outbox.Enqueue(ctx, m)
			if err != nil {
				return err
			}
			queued = queued || ok
		}
		if queued {
			p.Worker.Kick()
		}
		return nil
	}
}

func backup(ctx context.Context, path string, stdout io.Writer) error {
	_, db, _, err := openForCommand(false)
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

// rosterWithSync is the roster store whose changes to poster authorizations
// (a person deactivated or moved ends theirs) bring the acknowledgments
// assigned by authorization up to date in the same call.
func rosterWithSync(db *store.DB) *store.RosterService {
	rs := store.NewRosterService(db)
	rs.OnPostersChanged = store.NewKindService(db).SyncAuthorizationKinds
	return rs
}

// Package server wires the social-media policy acknowledgment portal
// together: configuration, keys, the database, services, the mail worker,
// the evidence log and the web application, and the operator commands.
// The command (main.go) is Main and nothing else; the end-to-end tests in
// e2e/ start a whole portal through Start.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
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

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	if cfg.LogFormat == "human" {
		return slog.New(newHumanHandler(w))
	}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
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

// rosterWithSync is the roster store whose changes to poster authorizations
// (a person deactivated or moved ends theirs) bring the acknowledgments
// assigned by authorization up to date in the same call.
func rosterWithSync(db *store.DB) *store.RosterService {
	rs := store.NewRosterService(db)
	rs.OnPostersChanged = store.NewKindService(db).SyncAuthorizationKinds
	return rs
}

// Package handlers is the portal's web layer: Fiber routes, middleware, page
// models and the one error handler. It talks to the domain only through the
// interfaces in package app.
package handlers

import (
	"context"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/template/html/v2"
	"github.com/valyala/fasthttp"

	"portal/app"
	"portal/app/export"
	"portal/views"
)

// Config is the web layer's configuration, read once in main.
type Config struct {
	BaseURL        string         // absolute URL the portal is reached at, no trailing slash
	Demo           bool           // demo/development mode: enables the development mailbox
	DevMailbox     bool           // no SMTP configured: show the development mailbox (only with Demo)
	PassMark       int            // knowledge-check pass mark in percent
	Location       *time.Location // time zone shown to people
	LinkTTL        time.Duration  // lifetime of sign-in links
	SecureCookies  bool           // cookies marked Secure (set when BaseURL is https)
	Secret         []byte         // key for CSRF tokens (derived from PORTAL_SECRET, never stored)
	SSOHeader      string         // header carrying the signed-in user's e-mail from a trusted proxy
	SSOProxies     []netip.Prefix // addresses the SSO header is trusted from
	TrustedProxies []string       // proxies whose X-Forwarded-For is believed
	BodyLimit      int            // largest request body in bytes
}

// MessageBuilder makes the e-mails the web layer enqueues.
type MessageBuilder interface {
	SignInLink(e *app.Employee, link string, minutes int) (*app.Message, error)
}

// Handler holds everything the routes need; main sets every field.
type Handler struct {
	Config    Config
	Employees app.EmployeeService
	Policies  app.PolicyService
	Cycles    app.CycleService
	Acks      app.AckService
	SignIn    app.SignInService
	Sessions  app.SessionService
	Audit     app.AuditService
	Roster    app.RosterService
	Dashboard app.DashboardService
	Exports   app.ExportService
	Scopes    app.ScopeService
	Outbox    app.Outbox
	Identity  app.IdentityService
	Log       app.EvidenceLog
	Witnesses app.WitnessService
	Messages  MessageBuilder
	// Mailbox returns the messages the development mailbox shows (demo
	// only); they are kept in memory, never in the database.
	Mailbox func() []*app.Message
	Certs   app.CertificateRenderer
	// Certificates writes the certificate ZIPs (shared with the command line).
	Certificates  *export.Certificates
	Consent       *app.Consent
	Markdown      func(src string) (template.HTML, error)
	Ping          func(ctx context.Context) error
	KickMail      func()
	ExportLimit   *RateLimiter // certificate and report exports per user
	SignInLimit   *RateLimiter // sign-in links per address
	SignInIPLimit *RateLimiter // sign-in links per client address
	Logger        *slog.Logger
	Now           func() time.Time

	// Unavailable reports whether an error means the store cannot save
	// right now but will recover by itself (a full disk): such errors are
	// answered 503 "try again in a moment", not "Internal error".
	Unavailable func(err error) bool
}

// NewApp builds the Fiber application. It parses every template first and
// returns the error, because Fiber would only log a broken view.
func (h *Handler) NewApp() (*fiber.App, error) {
	viewFS, err := fs.Sub(views.FS, ".")
	if err != nil {
		return nil, err
	}
	engine := html.NewFileSystem(http.FS(viewFS), ".html")
	engine.AddFuncMap(templateFuncs(h))
	if err := engine.Load(); err != nil {
		return nil, err
	}
	cfg := fiber.Config{
		Views:                 engine,
		ErrorHandler:          h.errorHandler,
		DisableStartupMessage: true,
		BodyLimit:             h.Config.BodyLimit,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		ReadBufferSize:        16 * 1024,
	}
	if len(h.Config.TrustedProxies) > 0 {
		cfg.EnableTrustedProxyCheck = true
		cfg.TrustedProxies = h.Config.TrustedProxies
		cfg.ProxyHeader = fiber.HeaderXForwardedFor
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = 1 << 20
	}
	a := fiber.New(cfg)
	h.Register(a)
	// Fiber lists its mounted apps for views on the first Render, unguarded,
	// so the first pages rendered at once race on that list (seen with -race
	// under a burst of requests at start). One render here, before serving,
	// makes the list while nothing else runs.
	c := a.AcquireCtx(&fasthttp.RequestCtx{})
	err = h.render(c, fiber.StatusOK, "error", errorPage{Page: h.page(c, "Start"), Status: fiber.StatusOK})
	a.ReleaseCtx(c)
	if err != nil {
		return nil, err
	}
	return a, nil
}

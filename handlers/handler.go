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
	TrustedProxies []netip.Prefix // proxies whose X-Forwarded-For is believed (see clientIP)
	// Exports (certificate ZIPs, CSV, XLSX) at once server-wide, the longest
	// wait for a client to take each piece, the longest one may take in all;
	// zero means 2, 60 s and 30 min.
	ExportsAtOnce      int
	ExportWriteTimeout time.Duration
	ExportTimeLimit    time.Duration
	// Who runs the portal, shown in the header and footer of every page
	// (site.go): the organisation's name, its logo (nil for none) and the
	// address people write to for help ("" for none).
	OrgName   string
	OrgLogo   *Logo
	HelpEmail string
	// MetricsToken is the bearer token /metrics takes (PORTAL_METRICS_TOKEN);
	// "" turns /metrics off (404).
	MetricsToken string
	// EmailLinksOff turns sign-in links by e-mail off (PORTAL_EMAIL_LINKS=off):
	// people sign in with their agency account only.
	EmailLinksOff bool
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
	Kinds     app.KindService // acknowledgment kinds, and the cycles the portal keeps for the agency-use one
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
	Paper     app.PaperService // paper acknowledgments and their scans
	Team      app.TeamService  // the team page's progress and reminders
	Messages  MessageBuilder
	// Mailbox returns the messages the development mailbox shows (demo
	// only); they are kept in memory, never in the database.
	Mailbox func() []*app.Message
	Certs   app.CertificateRenderer
	// PolicyPDF renders a version's policy text as a PDF.
	PolicyPDF app.PolicyRenderer
	// Certificates writes the certificate ZIPs (shared with the command line).
	Certificates  *export.Certificates
	Consent       *app.Consent
	Markdown      func(src string) (template.HTML, error)
	Ping          func(ctx context.Context) error
	KickMail      func()
	KickChecks    func()  // wakes the background evidence check
	ExportLimit   Limiter // certificate and report exports per user
	SignInIPLimit Limiter // sign-in requests per client address
	// SignInMail does the work of each sign-in request after its answer
	// (the limit per address is its own).
	SignInMail *SignInMailer
	Logger     *slog.Logger
	Now        func() time.Time

	exports exportGate // the exports running, server-wide (made by NewApp)

	// Unavailable reports whether an error means the store cannot save
	// right now but will recover by itself (a full disk): such errors are
	// answered 503 "try again in a moment", not "Internal error".
	Unavailable func(err error) bool

	// PersonActions are HR's extensions, exemptions and resent invitations.
	PersonActions app.PersonActionService

	// Supervisors are the agencies' Social Media Supervisors; Accounts the
	// registry of accounts held in the agencies' names.
	Supervisors app.SupervisorService
	Accounts    app.AccountService
	// Authorizations are the supervisors' poster authorizations; Terms the
	// agencies' Terms of Comment, their delivery and receipts.
	Authorizations app.AuthorizationService
	Terms          app.TermsService

	// APITokens are the API's bearer tokens; APILimit the calls each token
	// may make (keyed by the token's id).
	APITokens app.APITokenService
	APILimit  Limiter
	// Metrics counts requests, sign-ins, signatures and knowledge-check
	// attempts (nil: nothing is counted); MetricsPage serves them at
	// /metrics (see metricsToken).
	Metrics     app.Metrics
	MetricsPage http.Handler
	routes      routeIndex // the route table's patterns, the labels of requests (made by Register)
	// OIDC is sign-in with the agency's OpenID Connect provider; nil when
	// PORTAL_OIDC_ISSUER is not set.
	OIDC *OIDC
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
		// Bodies are read by readBody and readUploadBody, with the limit of
		// the route and the sender (body.go); fasthttp only starts them.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		BodyLimit:                    BodyLimit,
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 60 * time.Second,
		IdleTimeout:                  120 * time.Second,
		ReadBufferSize:               16 * 1024,
	}
	if len(h.Config.TrustedProxies) > 0 {
		// For c.Protocol (X-Forwarded-Proto) only: the client's address is
		// clientIP's, never Fiber's c.IP.
		cfg.EnableTrustedProxyCheck = true
		for _, p := range h.Config.TrustedProxies {
			cfg.TrustedProxies = append(cfg.TrustedProxies, p.String())
		}
	}
	h.exports = newExportGate(h.Config.ExportsAtOnce)
	a := fiber.New(cfg)
	a.Server().HeaderReceived = headerReceived
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

package handlers

import (
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"portal/app"
	"portal/static"
)

// Access says who may use a route.
type Access int

// Access levels, from the most open.
const (
	Public               Access = iota // anyone, signed in or not
	Employee                           // any signed-in active employee
	Manager                            // someone with reports
	HR                                 // the hr role
	HRAllAgencies                      // the hr role with no agency limit: work that touches every agency
	HROrAdmin                          // the hr or the admin role
	HRAllAgenciesOrAdmin               // the admin role, or the hr role with no agency limit
	Admin                              // the admin role
	Supervisor                         // an agency's Social Media Supervisor: their own agency only, checked in the handler or store
	SupervisorHROrAdmin                // a supervisor (their own agency only), the hr role (their scope) or the admin role
	DevOnly                            // only in demo mode with the development mailbox
	SupervisorOrAdmin                  // a supervisor (their own agency only, checked in the handler) or the admin role
	// The API's levels: a bearer token with the scope (api_auth.go), never
	// a browser session. Their routes live under apiPrefixes, take no CSRF
	// token and answer in JSON.
	APICompletionRead   // an API token with the completion:read scope
	APICertificatesRead // an API token with the certificates:read scope
	APIRosterWrite      // an API token with the roster:write scope
	MetricsToken        // the monitoring system: Authorization: Bearer PORTAL_METRICS_TOKEN; no session ever opens it (404 when unset)
)

// APIScope is the token scope an API access level needs ("" for the levels
// of browser sessions).
func (a Access) APIScope() string {
	switch a {
	case APICompletionRead:
		return app.ScopeCompletionRead
	case APICertificatesRead:
		return app.ScopeCertificatesRead
	case APIRosterWrite:
		return app.ScopeRosterWrite
	}
	return ""
}

// Route is one entry of the route table. Tests walk the table, so every
// route has a declared access level and state-changing routes are POSTs.
type Route struct {
	Method  string
	Path    string
	Access  Access
	Handler func(h *Handler, c *fiber.Ctx) error
}

// Routes is the portal's route table.
func Routes() []Route {
	return []Route{
		{"GET", "/", Public, (*Handler).home},
		{"GET", "/signin", Public, (*Handler).signInForm},
		{"POST", "/signin", Public, (*Handler).signInRequest},
		{"GET", "/signin/sent", Public, (*Handler).signInSent},
		{"GET", "/signin/link/:token", Public, (*Handler).signInConfirm},
		{"POST", "/signin/link/:token", Public, (*Handler).signInComplete},
		{"POST", "/signout", Employee, (*Handler).signOut},
		{"GET", "/guidance", Employee, (*Handler).guidanceIndex},
		{"GET", "/guidance/changes", Employee, (*Handler).guidanceChanges},
		{"GET", "/guidance/:slug", Employee, (*Handler).guidanceModule},
		{"POST", "/guidance/:slug/read", Employee, (*Handler).guidanceRead},
		{"GET", "/policy", Employee, (*Handler).policyCurrent},
		{"GET", "/policy.pdf", Employee, (*Handler).policyCurrentPDF},
		{"GET", "/policy/:code", Public, (*Handler).policyByCode},
		{"GET", "/policy/:code/pdf", Public, (*Handler).policyByCodePDF},
		{"GET", "/policy/:code/documents/:name", Public, (*Handler).policyDocument},
		{"GET", "/quiz", Employee, (*Handler).quizForm},
		{"POST", "/quiz", Employee, (*Handler).quizSubmit},
		{"POST", "/quiz/start", Employee, (*Handler).quizStart},
		{"GET", "/quiz/section/:n", Employee, (*Handler).quizSectionForm},
		{"POST", "/quiz/section/:n", Employee, (*Handler).quizSectionSave},
		{"GET", "/quiz/check", Employee, (*Handler).quizCheck},
		{"GET", "/quiz/attempts/:id", Employee, (*Handler).quizResult},
		{"GET", "/sign", Employee, (*Handler).signForm},
		{"POST", "/sign/consent", Employee, (*Handler).signConsent},
		{"POST", "/sign/review", Employee, (*Handler).signReview},
		{"POST", "/sign/edit", Employee, (*Handler).signEdit},
		{"POST", "/sign", Employee, (*Handler).signSubmit},
		{"GET", "/certificates/:code", Employee, (*Handler).certificatePage},
		{"GET", "/certificates/:code/pdf", Employee, (*Handler).certificatePDF},
		{"GET", "/certificates/:code/confirmation", Employee, (*Handler).signConfirmation}, // the signer only: checked in the handler
		{"GET", "/verify", Public, (*Handler).verifyPage},
		{"GET", "/verify/:code", Public, (*Handler).verifyPage},
		{"GET", "/log/checkpoint", Public, (*Handler).logCheckpoint},
		{"GET", "/log/key", Public, (*Handler).logKey},
		{"GET", "/log/proof/inclusion", Public, (*Handler).logInclusion},
		{"GET", "/log/proof/consistency", Public, (*Handler).logConsistency},
		{"GET", "/log/certificate/:code", Public, (*Handler).logCertificate},
		{"GET", "/team", Manager, (*Handler).team},
		{"GET", "/team/certificates.zip", Manager, (*Handler).teamZip},
		{"GET", "/hr", HR, (*Handler).hrDashboard},
		{"GET", "/hr/certificates.zip", HR, (*Handler).hrZip},
		{"GET", "/hr/people", HR, (*Handler).hrPeople},
		{"GET", "/hr/people/:id", HR, (*Handler).hrPerson},
		{"POST", "/hr/people/:id/reachable", HR, (*Handler).hrPersonRetryAddress},
		{"GET", "/hr/people/:id/paper", HR, (*Handler).paperFormPage},
		{"POST", "/hr/people/:id/paper", HR, (*Handler).paperRecord},
		{"GET", "/hr/people/:id/paper/recorded", HR, (*Handler).paperRecorded},
		{"GET", "/hr/people/:id/scans/:ack", HR, (*Handler).paperScan},
		{"POST", "/hr/people/:id/extend", HR, (*Handler).hrPersonExtend},
		{"POST", "/hr/people/:id/exempt", HR, (*Handler).hrPersonExempt},
		{"POST", "/hr/people/:id/exempt/end", HR, (*Handler).hrPersonEndExemption},
		{"POST", "/hr/people/:id/resend", HR, (*Handler).hrPersonResend},
		{"GET", "/hr/export.csv", HR, (*Handler).exportCSV},
		{"GET", "/hr/export.xlsx", HR, (*Handler).exportXLSX},
		{"GET", "/hr/roster", HRAllAgencies, (*Handler).rosterForm},
		{"POST", "/hr/roster", HRAllAgencies, (*Handler).rosterPreview},
		{"POST", "/hr/roster/:id/apply", HRAllAgencies, (*Handler).rosterApply},
		{"GET", "/hr/roster/template.csv", HRAllAgencies, (*Handler).rosterTemplate},
		{"GET", "/hr/roster/:id", HRAllAgencies, (*Handler).rosterPreviewPage}, // the uploader only: checked in the handler
		{"GET", "/hr/address-changes", HRAllAgenciesOrAdmin, (*Handler).addressChanges},
		{"POST", "/hr/address-changes", HRAllAgenciesOrAdmin, (*Handler).addressDecide},
		{"GET", "/hr/cycles", HR, (*Handler).cyclesIndex},
		{"POST", "/hr/cycles", HRAllAgencies, (*Handler).cycleOpen},
		{"POST", "/hr/cycles/:id/close", HRAllAgencies, (*Handler).cycleClose},
		{"POST", "/hr/cycles/:id/version", HRAllAgencies, (*Handler).cycleVersion},
		{"GET", "/hr/cycles/:id/close", HRAllAgencies, (*Handler).cycleCloseConfirm},
		{"GET", "/hr/cycles/:id/version", HRAllAgencies, (*Handler).cycleVersionConfirm},
		{"GET", "/hr/cycles/:id/due", HRAllAgencies, (*Handler).cycleDueForm},
		{"POST", "/hr/cycles/:id/due", HRAllAgencies, (*Handler).cycleDueSet},
		{"GET", "/hr/versions", HROrAdmin, (*Handler).versionsIndex},
		{"POST", "/hr/versions", HRAllAgenciesOrAdmin, (*Handler).versionPublish},
		{"GET", "/hr/versions/:id", HROrAdmin, (*Handler).versionShow},
		{"GET", "/hr/audit", HROrAdmin, (*Handler).auditIndex}, // an HR user limited to some agencies sees their people's events: filtered in the handler
		{"POST", "/hr/audit/check", HRAllAgenciesOrAdmin, (*Handler).auditCheck},
		{"GET", "/hr/audit.csv", HROrAdmin, (*Handler).auditCSV}, // the same filters and scope as /hr/audit
		{"GET", "/admin/roles", Admin, (*Handler).rolesIndex},
		{"POST", "/admin/roles", Admin, (*Handler).rolesSet},
		{"GET", "/admin/witnesses", Admin, (*Handler).witnessesIndex},
		{"POST", "/admin/witnesses", Admin, (*Handler).witnessesSet},
		{"GET", "/admin/scopes", Admin, (*Handler).scopesIndex},
		{"POST", "/admin/scopes", Admin, (*Handler).scopesSet},
		{"GET", "/dev/mailbox", DevOnly, (*Handler).devMailbox},
		{"GET", "/healthz", Public, (*Handler).healthz},
		{"POST", "/team/people/:id/remind", Manager, (*Handler).teamRemind}, // people of the manager's own tree only: checked in the store
		{"GET", "/team/remind-overdue", Manager, (*Handler).teamRemindOverdueForm},
		{"POST", "/team/remind-overdue", Manager, (*Handler).teamRemindOverdue},
		{"GET", "/accessibility", Public, (*Handler).accessibility},
		{"GET", "/privacy", Public, (*Handler).privacy},
		{"GET", "/org-logo", Public, (*Handler).orgLogo},
		{"GET", "/admin/supervisors", Admin, (*Handler).supervisorsIndex},
		{"POST", "/admin/supervisors", Admin, (*Handler).supervisorsDesignate},
		{"POST", "/admin/supervisors/end", Admin, (*Handler).supervisorsEnd},
		{"GET", "/accounts", SupervisorHROrAdmin, (*Handler).accountsIndex},      // each viewer's own agencies: filtered in the handler
		{"GET", "/accounts.csv", SupervisorHROrAdmin, (*Handler).accountsCSV},    // the same agencies as /accounts
		{"GET", "/accounts/new", SupervisorOrAdmin, (*Handler).accountNew},       // HR reads the registry but does not change it
		{"POST", "/accounts", SupervisorOrAdmin, (*Handler).accountCreate},       // a supervisor for their own agency only
		{"GET", "/accounts/:id", SupervisorHROrAdmin, (*Handler).accountShow},    // another agency's account: 404, checked in the handler
		{"GET", "/accounts/:id/edit", SupervisorOrAdmin, (*Handler).accountEdit}, // the same
		{"POST", "/accounts/:id", SupervisorOrAdmin, (*Handler).accountUpdate},   // the same
		{"GET", "/posters", SupervisorHROrAdmin, (*Handler).posters},             // each viewer's own agencies: filtered in the handler
		{"GET", "/posters/new", Supervisor, (*Handler).posterNew},
		{"POST", "/posters", Supervisor, (*Handler).posterAuthorize},         // the supervisor's own agency: checked in the store
		{"POST", "/posters/:id/revoke", Supervisor, (*Handler).posterRevoke}, // another agency's authorization: 404, checked in the store
		{"GET", "/terms", SupervisorHROrAdmin, (*Handler).termsIndex},        // each viewer's own agencies: checked in the handler
		{"POST", "/terms", Supervisor, (*Handler).termsPublish},              // the supervisor's own agency only
		{"GET", "/terms/:id", SupervisorHROrAdmin, (*Handler).termsShow},     // another agency's version: 404, checked in the handler
		{"GET", "/my/terms/:id", Employee, (*Handler).myTerms},               // a version given to the signed-in person only
		{"POST", "/my/terms/:id", Employee, (*Handler).myTermsReceive},       // the same
		// Another acknowledgment kind's journey (the agency-use one): the
		// annual one's handlers under the kind's prefix (see kinds.go); the
		// kind is looked up, and the person's own cycle of it, in progress.
		{"GET", "/acknowledgments/:kind/guidance", Employee, (*Handler).guidanceIndex},
		{"GET", "/acknowledgments/:kind/guidance/changes", Employee, (*Handler).guidanceChanges},
		{"GET", "/acknowledgments/:kind/guidance/:slug", Employee, (*Handler).guidanceModule},
		{"POST", "/acknowledgments/:kind/guidance/:slug/read", Employee, (*Handler).guidanceRead},
		{"GET", "/acknowledgments/:kind/quiz", Employee, (*Handler).quizForm},
		{"POST", "/acknowledgments/:kind/quiz", Employee, (*Handler).quizSubmit},
		{"POST", "/acknowledgments/:kind/quiz/start", Employee, (*Handler).quizStart},
		{"GET", "/acknowledgments/:kind/quiz/section/:n", Employee, (*Handler).quizSectionForm},
		{"POST", "/acknowledgments/:kind/quiz/section/:n", Employee, (*Handler).quizSectionSave},
		{"GET", "/acknowledgments/:kind/quiz/check", Employee, (*Handler).quizCheck},
		{"GET", "/acknowledgments/:kind/sign", Employee, (*Handler).signForm},
		{"POST", "/acknowledgments/:kind/sign/consent", Employee, (*Handler).signConsent},
		{"POST", "/acknowledgments/:kind/sign/review", Employee, (*Handler).signReview},
		{"POST", "/acknowledgments/:kind/sign/edit", Employee, (*Handler).signEdit},
		{"POST", "/acknowledgments/:kind/sign", Employee, (*Handler).signSubmit},
		// The API (api_*.go): bearer tokens only, JSON. Every /api/v1/ route
		// is also in the OpenAPI document (api_openapi.go); a test holds the two together.
		{"GET", "/api/v1/openapi.json", Public, (*Handler).apiOpenAPI},
		{"GET", "/api/v1/completion", APICompletionRead, (*Handler).apiCompletion},
		{"GET", "/api/v1/people/:number/acknowledgments", APICompletionRead, (*Handler).apiPersonAcks},
		{"GET", "/api/v1/certificates/:code", APICertificatesRead, (*Handler).apiCertificate},
		{"GET", "/admin/api-tokens", Admin, (*Handler).apiTokensIndex},
		{"POST", "/admin/api-tokens", Admin, (*Handler).apiTokenCreate},
		{"POST", "/admin/api-tokens/:id/revoke", Admin, (*Handler).apiTokenRevoke},
		// Roster sync from the directory (api_roster.go, scim*.go): roster:write tokens.
		{"PUT", "/api/v1/roster", APIRosterWrite, (*Handler).apiRosterPut},
		{"GET", "/scim/v2/Users", APIRosterWrite, (*Handler).scimListUsers},
		{"POST", "/scim/v2/Users", APIRosterWrite, (*Handler).scimCreateUser},
		{"GET", "/scim/v2/Users/:id", APIRosterWrite, (*Handler).scimGetUser},
		{"PUT", "/scim/v2/Users/:id", APIRosterWrite, (*Handler).scimReplaceUser},
		{"PATCH", "/scim/v2/Users/:id", APIRosterWrite, (*Handler).scimPatchUser},
		{"DELETE", "/scim/v2/Users/:id", APIRosterWrite, (*Handler).scimDeleteUser},
		{"GET", "/scim/v2/ServiceProviderConfig", APIRosterWrite, (*Handler).scimServiceProviderConfig},
		{"GET", "/scim/v2/ResourceTypes", APIRosterWrite, (*Handler).scimResourceTypes},
		{"GET", "/scim/v2/Schemas", APIRosterWrite, (*Handler).scimSchemas},
		{"GET", "/metrics", MetricsToken, (*Handler).metrics}, // Prometheus; mounted before the session machinery (Register)
		{"GET", "/signin/oidc", Public, (*Handler).signInOIDC},
		{"GET", "/signin/oidc/callback", Public, (*Handler).signInOIDCCallback},
	}
}

// Register mounts the middleware and every route of the table.
func (h *Handler) Register(a *fiber.App) {
	// The body is read first, whatever the route, so that nothing reads
	// more than its limit; an upload's once the session says who sends it.
	a.Use(h.requestContext, h.readBody)
	a.Use("/static", filesystem.New(filesystem.Config{
		Root:   http.FS(static.FS),
		MaxAge: int((24 * time.Hour).Seconds()),
	}))
	h.routes = newRouteIndex(Routes())
	a.Use(h.securityHeaders)
	// A route a bearer token opens, and never a session, comes before the
	// session, cookie and CSRF machinery: a monitoring system has none.
	bearer := func(r Route) bool { return r.Access == MetricsToken }
	h.mount(a, bearer)
	a.Use(h.refuseDuplicateCookies, h.loadSession, h.readUploadBody, h.csrf, h.ssoSession)
	h.mount(a, func(r Route) bool { return !bearer(r) })
	a.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}

// mount adds the routes of the table that which picks.
func (h *Handler) mount(a *fiber.App, which func(Route) bool) {
	for _, r := range Routes() {
		if !which(r) {
			continue
		}
		fn := r.Handler
		a.Add(r.Method, r.Path, routeOf(r.Path), h.authorize(r.Access), func(c *fiber.Ctx) error { return fn(h, c) })
	}
}

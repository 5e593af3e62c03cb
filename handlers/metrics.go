package handlers

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"portal/app"
)

// metrics serves the Prometheus exposition; authorize has checked the
// bearer token (MetricsToken).
func (h *Handler) metrics(c *fiber.Ctx) error {
	return adaptor.HTTPHandler(h.MetricsPage)(c)
}

// metricsToken is the access rule of MetricsToken: the route does not
// exist (404) unless a token is configured, and then it takes
// `Authorization: Bearer TOKEN` and nothing else — no session, whoever's,
// opens it. Both sides are hashed before the constant-time comparison, so
// that neither the token's bytes nor its length show in the time taken.
func (h *Handler) metricsToken(c *fiber.Ctx) error {
	if h.Config.MetricsToken == "" || h.MetricsPage == nil {
		return fiber.ErrNotFound
	}
	auth := c.Get(fiber.HeaderAuthorization)
	scheme, token, _ := strings.Cut(auth, " ")
	want := sha256.Sum256([]byte(h.Config.MetricsToken))
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
		return c.Status(fiber.StatusUnauthorized).SendString("A valid metrics token is needed: Authorization: Bearer PORTAL_METRICS_TOKEN.\n")
	}
	return c.Next()
}

// metricsOrNone is the Metrics to count with: none when unset.
func (h *Handler) metricsOrNone() app.Metrics {
	if h.Metrics == nil {
		return app.NoMetrics{}
	}
	return h.Metrics
}

// countRequest counts an answered request under its route pattern.
func (h *Handler) countRequest(c *fiber.Ctx, status int, elapsed time.Duration) {
	if h.Metrics == nil {
		return
	}
	h.Metrics.HTTPRequest(methodLabel(c.Method()), h.routes.label(c), status, elapsed)
}

// methodLabel is the request's method as a constant string: Fiber's
// c.Method() shares the request's buffer, which the next request on the
// connection overwrites, and a label is kept for the life of the process.
func methodLabel(m string) string {
	for _, known := range []string{fiber.MethodGet, fiber.MethodPost, fiber.MethodHead, fiber.MethodPut, fiber.MethodDelete,
		fiber.MethodPatch, fiber.MethodOptions} {
		if m == known {
			return known
		}
	}
	return "other"
}

// localRoute holds the route pattern of the table's route that took the
// request (a *string: no allocation per request).
const localRoute = "route"

// routeOf marks the request with the route's pattern, before its access
// rule runs, so that a refused request counts under its route too.
func routeOf(pattern string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(localRoute, &pattern)
		return c.Next()
	}
}

// Labels of requests that no route of the table took.
const (
	routeUnmatched = "unmatched" // no route: a 404 or a 405
	routeStatic    = "/static/*" // the embedded assets
)

// routeIndex knows the route table's patterns, so that a request is
// counted under its pattern and never under its raw path (which holds ids,
// certificate codes and sign-in tokens, and which anyone can vary without
// end).
type routeIndex struct {
	table []routePattern
}

type routePattern struct {
	method, path string
	segments     []string
}

func newRouteIndex(routes []Route) routeIndex {
	var ri routeIndex
	for _, r := range routes {
		ri.table = append(ri.table, routePattern{method: r.Method, path: r.Path, segments: strings.Split(strings.Trim(r.Path, "/"), "/")})
	}
	return ri
}

// label is the pattern of the route that took the request (routeOf). A
// request that a middleware answered before its route ran (a form that
// expired, a body too large) is matched against the table here, as Fiber
// would have matched it.
func (ri routeIndex) label(c *fiber.Ctx) string {
	if p, ok := c.Locals(localRoute).(*string); ok {
		return *p
	}
	path := c.Path()
	if strings.HasPrefix(path, "/static/") {
		return routeStatic
	}
	if p, ok := ri.match(c.Method(), path); ok {
		return p
	}
	return routeUnmatched
}

// match finds the pattern of the table that method and path fit: static
// segments compare without regard to case (Fiber's default), a :param
// takes any one segment, a trailing slash is ignored.
func (ri routeIndex) match(method, path string) (string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, p := range ri.table {
		if p.method != method || len(p.segments) != len(segs) {
			continue
		}
		ok := true
		for i, s := range p.segments {
			if strings.HasPrefix(s, ":") {
				ok = segs[i] != ""
			} else {
				ok = strings.EqualFold(s, segs[i])
			}
			if !ok {
				break
			}
		}
		if ok {
			return p.path, true
		}
	}
	return "", false
}

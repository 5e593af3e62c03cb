package handlers

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// Cookie and locals names.
const (
	sessionCookie = "portal_session"
	csrfCookie    = "portal_csrf"
	flashCookie   = "portal_flash"

	localRequestID = "request_id"
	localUser      = "user"
	localSession   = "session"
	localCSRF      = "csrf"
)

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the platform's randomness is gone: nothing is safe
	}
	return hex.EncodeToString(b)
}

// requestContext gives every request an id, logs it when done, and turns a
// panic into a 500 without taking the server down.
func (h *Handler) requestContext(c *fiber.Ctx) (err error) {
	start := time.Now()
	id := randomHex(8)
	c.Locals(localRequestID, id)
	c.Set("X-Request-ID", id)
	defer func() {
		if r := recover(); r != nil {
			h.Logger.Error("panic", "request_id", id, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = h.errorHandler(c, fmt.Errorf("panic: %v", r))
		}
		status := c.Response().StatusCode()
		if err != nil {
			if herr := h.errorHandler(c, err); herr != nil {
				h.Logger.Error("error handler failed", "request_id", id, "err", herr)
			}
			err = nil
			status = c.Response().StatusCode()
		}
		elapsed := time.Since(start)
		h.Logger.Info("request", "request_id", id, "method", c.Method(), "path", logPath(c), "status", status,
			"duration_ms", float64(elapsed.Microseconds())/1000)
		h.countRequest(c, status, elapsed)
	}()
	return c.Next()
}

// logPath is the request path fit for a log: a sign-in link's token is a
// password for 15 minutes, so that route is logged by its pattern.
func logPath(c *fiber.Ctx) string {
	if p := c.Path(); !strings.HasPrefix(p, "/signin/link/") {
		return p
	}
	return "/signin/link/:token"
}

// securityHeaders sets the headers every response carries. Pages are personal,
// so nothing but static files may be cached.
func (h *Handler) securityHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	c.Set("Cache-Control", "no-store")
	if h.secure(c) {
		c.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	return c.Next()
}

func (h *Handler) secure(c *fiber.Ctx) bool { return h.Config.SecureCookies || c.Protocol() == "https" }

// cookie is the name a cookie has on this portal. Served over HTTPS, the
// portal's cookies carry the __Host- prefix, which browsers keep only when
// set by this very host, Secure, for Path=/ and without a Domain: a sibling
// host or a plain-http page cannot plant one (one of the ways a duplicate
// comes about). Over plain http, as in the demo, the prefix is not allowed.
func (h *Handler) cookie(name string) string {
	if h.Config.SecureCookies {
		return "__Host-" + name
	}
	return name
}

func (h *Handler) setCookie(c *fiber.Ctx, name, value string, maxAge time.Duration) {
	ck := &fiber.Cookie{Name: h.cookie(name), Value: value, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: h.secure(c)}
	if maxAge > 0 {
		ck.MaxAge = int(maxAge.Seconds())
	}
	if maxAge < 0 {
		ck.Expires = time.Unix(1, 0)
		ck.MaxAge = -1
	}
	c.Cookie(ck)
}

var errDuplicateCookie = &requestError{fiber.StatusBadRequest, "Your browser sent two copies of one of this portal's cookies, " +
	"so the request was refused and nothing was changed. Clear this site's cookies in your browser (or close every window of it), then sign in again."}

// refuseDuplicateCookies refuses a request that carries the session or the
// CSRF cookie twice. Which copy a server reads is its own choice, so a
// second copy planted for another path or domain could otherwise decide
// who the request is from.
func (h *Handler) refuseDuplicateCookies(c *fiber.Ctx) error {
	session, csrf := h.cookie(sessionCookie), h.cookie(csrfCookie)
	var sessions, csrfs int
	for name := range c.Request().Header.Cookies() {
		switch string(name) {
		case session:
			sessions++
		case csrf:
			csrfs++
		}
	}
	if sessions > 1 || csrfs > 1 {
		return errDuplicateCookie
	}
	return c.Next()
}

// csrfToken is the form token for a binding: the session's id once signed
// in, the browser's pre-session CSRF cookie before. A token is good for its
// own binding only, so one made for an attacker's cookie or session is
// refused with anyone else's, and a forger needs the server key as well.
func (h *Handler) csrfToken(binding, key string) string {
	m := hmac.New(sha256.New, h.Config.Secret)
	m.Write([]byte("csrf\x00" + binding + "\x00" + key))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sessionCSRF is the form token of a signed-in session.
func (h *Handler) sessionCSRF(s *app.Session) string { return h.csrfToken("session", s.ID) }

var errCSRF = app.Errorf(app.EFORBIDDEN, "This form has expired or did not come from the portal. Go back, reload the page and try again.")

// csrf issues the pre-session CSRF cookie and rejects any state-changing
// request whose token does not match the session (or, before sign-in, that
// cookie). The token is taken from the form body or the X-CSRF-Token
// header, never from the address: a token in a URL ends up in logs,
// histories and Referer headers.
func (h *Handler) csrf(c *fiber.Ctx) error {
	if IsAPIPath(c.Path()) {
		return c.Next() // bearer tokens, no cookies: see api_auth.go
	}
	key := c.Cookies(h.cookie(csrfCookie))
	fresh := len(key) != 32
	if fresh {
		key = randomHex(16)
		h.setCookie(c, csrfCookie, key, 0)
	}
	token := h.csrfToken("browser", key)
	if s := currentSession(c); s != nil {
		token, fresh = h.sessionCSRF(s), false
	}
	c.Locals(localCSRF, token)
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if fresh || !hmac.Equal([]byte(sentCSRF(c)), []byte(token)) {
		return errCSRF
	}
	return c.Next()
}

// sentCSRF is the token the request carries in its form body (urlencoded
// or multipart) or, failing that, in the X-CSRF-Token header.
func sentCSRF(c *fiber.Ctx) string {
	req := c.Request()
	ct := req.Header.ContentType()
	switch {
	case bytes.HasPrefix(ct, []byte(fiber.MIMEApplicationForm)):
		if v := req.PostArgs().Peek("_csrf"); len(v) > 0 {
			return string(v)
		}
	case bytes.HasPrefix(ct, []byte(fiber.MIMEMultipartForm)):
		if form, err := req.MultipartForm(); err == nil && len(form.Value["_csrf"]) > 0 && form.Value["_csrf"][0] != "" {
			return form.Value["_csrf"][0]
		}
	}
	return string(req.Header.Peek("X-CSRF-Token"))
}

// loadSession finds the signed-in employee from the session cookie.
func (h *Handler) loadSession(c *fiber.Ctx) error {
	id := c.Cookies(h.cookie(sessionCookie))
	if id == "" || IsAPIPath(c.Path()) { // API calls are the token's, never a session's
		return c.Next()
	}
	ctx := c.UserContext()
	sess, err := h.Sessions.FindSession(ctx, id)
	if err == nil {
		e := sess.Employee
		if e == nil {
			if e, err = h.Employees.FindEmployeeByID(ctx, sess.EmployeeID); err != nil {
				return err
			}
		}
		c.Locals(localSession, sess)
		c.Locals(localUser, e)
		return c.Next()
	}
	if app.ErrorCode(err) != app.EUNAUTHORIZED {
		return err
	}
	h.setCookie(c, sessionCookie, "", -1)
	return c.Next()
}

// ssoSession signs in from the SSO header when nobody is signed in and the
// request comes straight from a trusted proxy. It runs after the CSRF check,
// so a refused request starts no session.
func (h *Handler) ssoSession(c *fiber.Ctx) error {
	if currentUser(c) != nil || IsAPIPath(c.Path()) {
		return c.Next()
	}
	if email := h.ssoIdentity(c); email != "" {
		e, err := h.Employees.FindEmployeeByEmail(c.UserContext(), email)
		if err == nil && e.Active {
			// Each sign-in is evidence: a client that keeps no cookie is
			// refused (429) past a few sign-ins, and nothing more is recorded.
			if err := h.startSession(c, e, app.AuthSSOHeader, email); err != nil {
				return err
			}
			return c.Next()
		}
		if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
			return err
		}
		h.Logger.Warn("sso: identity not on the roster", "request_id", c.Locals(localRequestID))
	}
	return c.Next()
}

// ssoIdentity returns the SSO header's value when SSO is configured and the
// request's peer address (not a forwarded one) is a trusted proxy.
func (h *Handler) ssoIdentity(c *fiber.Ctx) string {
	if h.Config.SSOHeader == "" {
		return ""
	}
	v := strings.TrimSpace(c.Get(h.Config.SSOHeader))
	if v == "" {
		return ""
	}
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return ""
	}
	for _, p := range h.Config.SSOProxies {
		if p.Contains(peer.Unmap()) {
			return v
		}
	}
	return ""
}

// startSession discards any session the browser had and starts a new one,
// signed in by method as identity; the forms from now on carry the new
// session's token, and the browser gets a new pre-session key for after.
func (h *Handler) startSession(c *fiber.Ctx, e *app.Employee, method, identity string) error {
	return h.startIssuedSession(c, e, method, identity, "")
}

// startIssuedSession is startSession for an identity an issuer vouches for
// (OpenID Connect: the subject and its issuer).
func (h *Handler) startIssuedSession(c *fiber.Ctx, e *app.Employee, method, identity, issuer string) error {
	ctx := c.UserContext()
	if old := c.Cookies(h.cookie(sessionCookie)); old != "" {
		if err := h.Sessions.DeleteSession(ctx, old); err != nil {
			return err
		}
	}
	sess, err := h.Sessions.CreateIssuedSession(ctx, e.ID, method, identity, issuer)
	if err != nil {
		return err
	}
	h.metricsOrNone().SignedIn(method)
	h.setCookie(c, sessionCookie, sess.ID, 0)
	h.setCookie(c, csrfCookie, randomHex(16), 0)
	c.Locals(localCSRF, h.sessionCSRF(sess))
	c.Locals(localSession, sess)
	c.Locals(localUser, e)
	return nil
}

func currentUser(c *fiber.Ctx) *app.Employee {
	e, _ := c.Locals(localUser).(*app.Employee)
	return e
}

func currentSession(c *fiber.Ctx) *app.Session {
	s, _ := c.Locals(localSession).(*app.Session)
	return s
}

// authorize enforces a route's access level on the server.
func (h *Handler) authorize(level Access) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if level == Public {
			return c.Next()
		}
		if scope := level.APIScope(); scope != "" {
			return h.authorizeAPI(c, scope) // the token alone: a session never authorizes an API call
		}
		if level == MetricsToken {
			return h.metricsToken(c)
		}
		if level == DevOnly {
			if h.Config.Demo && h.Config.DevMailbox {
				return c.Next()
			}
			return fiber.ErrNotFound
		}
		u := currentUser(c)
		if u == nil {
			if c.Method() == fiber.MethodGet {
				return c.Redirect("/signin?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
			}
			return app.Errorf(app.EUNAUTHORIZED, "Please sign in first.")
		}
		ok := true
		switch level {
		case Manager:
			ok = u.IsManager
		case HR, HRAllAgencies:
			ok = u.HasRole(app.RoleHR)
		case HROrAdmin:
			ok = u.HasRole(app.RoleHR) || u.HasRole(app.RoleAdmin)
		case HRAllAgenciesOrAdmin:
			ok = u.HasRole(app.RoleHR) || u.HasRole(app.RoleAdmin)
			if u.HasRole(app.RoleAdmin) {
				return c.Next()
			}
		case Admin:
			ok = u.HasRole(app.RoleAdmin)
		case Supervisor:
			ok = u.SupervisorOf != ""
		case SupervisorHROrAdmin:
			ok = u.SupervisorOf != "" || u.HasRole(app.RoleHR) || u.HasRole(app.RoleAdmin)
		case SupervisorOrAdmin:
			ok = u.SupervisorOf != "" || u.HasRole(app.RoleAdmin)
		}
		if !ok {
			return app.Errorf(app.EFORBIDDEN, "You do not have access to this page.")
		}
		if level == HRAllAgencies || level == HRAllAgenciesOrAdmin {
			// Work that touches every agency is not for an HR user limited to some.
			scope, err := h.Scopes.Scope(c.UserContext(), u.ID)
			if err != nil {
				return err
			}
			if len(scope) > 0 {
				return app.Errorf(app.EFORBIDDEN, "Your HR access is limited to some agencies, so you cannot do this for everyone. Ask an administrator.")
			}
		}
		return c.Next()
	}
}

// setFlash leaves a one-time message for the next page.
func (h *Handler) setFlash(c *fiber.Ctx, msg string) {
	h.setCookie(c, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(msg)), time.Minute)
}

func (h *Handler) takeFlash(c *fiber.Ctx) string {
	v := c.Cookies(h.cookie(flashCookie))
	if v == "" {
		return ""
	}
	h.setCookie(c, flashCookie, "", -1)
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) > 300 {
		return ""
	}
	return string(b)
}

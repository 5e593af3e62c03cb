package handlers

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

// The API's authentication: a bearer token in the Authorization header,
// nothing else. API routes live under apiPrefixes; there the session and
// CSRF middleware step aside (no cookie is read or set), errors are
// answered in JSON, and authorize checks the token and its scope.
//
// Why the CSRF check may step aside: CSRF rides on what a browser sends by
// itself, cookies. A bearer token is never sent by a browser on its own,
// and under these prefixes a session cookie authorizes nothing. A test
// holds every route under these prefixes to an API access level (or a
// public GET), so no cookie-authenticated route can sit here unchecked.

// apiPrefixes are the paths of routes for API clients. (The SCIM routes
// add theirs here.)
var apiPrefixes = []string{"/api/", "/scim/"}

// IsAPIPath reports whether path is under one of the API's prefixes. Fiber
// matches routes regardless of case, so neither does this.
func IsAPIPath(path string) bool {
	p := strings.ToLower(path)
	for _, pre := range apiPrefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// localAPIToken holds the *app.APIToken of an authorized API call, for
// handlers that record who made a change.
const localAPIToken = "api_token"

// bearerToken is the token of an "Authorization: Bearer …" header ("" for none).
func bearerToken(c *fiber.Ctx) string {
	v := strings.TrimSpace(c.Get(fiber.HeaderAuthorization))
	scheme, token, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// authorizeAPI lets a request through with a live token that has scope,
// within the token's rate, and records the call (with its answer's status)
// in the audit log. A token with the wrong scope is recorded too: someone
// holding it tried. Requests without a valid token are not recorded (they
// name nobody, and would let anyone fill the log); they are logged.
func (h *Handler) authorizeAPI(c *fiber.Ctx, scope string) error {
	secret := bearerToken(c)
	if secret == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="portal"`)
		return app.Errorf(app.EUNAUTHORIZED, "Send an API token: Authorization: Bearer smp_…")
	}
	tok, err := h.APITokens.AuthenticateAPIToken(c.UserContext(), secret)
	if app.ErrorCode(err) == app.EUNAUTHORIZED {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="portal", error="invalid_token"`)
		h.Logger.Info("api: bad token", "request_id", requestID(c), "path", c.Path())
		return err
	}
	if err != nil {
		return err
	}
	key := strconv.FormatInt(tok.ID, 10)
	if h.APILimit != nil && !h.APILimit.Allow(key) {
		wait := int(h.APILimit.RetryAfter(key).Seconds()) + 1
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(wait))
		h.Logger.Warn("api: token over its rate", "request_id", requestID(c), "token", tok.ID)
		return &requestError{fiber.StatusTooManyRequests, "This token has made too many calls. Wait " + strconv.Itoa(wait) + " seconds and try again."}
	}
	c.Locals(localAPIToken, tok)
	if !tok.HasScope(scope) {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="portal", error="insufficient_scope", scope="`+scope+`"`)
		err = app.Errorf(app.EFORBIDDEN, "This token does not have the %s scope this call needs.", scope)
	} else {
		err = c.Next()
	}
	// The answer is made here, so that its status is known when the call
	// is recorded.
	if err != nil {
		if herr := h.errorHandler(c, err); herr != nil {
			return herr
		}
	}
	call := app.APICall{TokenID: tok.ID, Method: utils.CopyString(c.Method()), Route: utils.CopyString(c.Path()),
		Status: c.Response().StatusCode(), IP: h.clientIP(c)}
	if err := h.APITokens.RecordAPICall(c.UserContext(), call); err != nil {
		// An answer that cannot be audited is not given.
		c.Response().ResetBody()
		c.Response().Header.Del(fiber.HeaderContentDisposition)
		return err
	}
	return nil
}

// apiErrorCodes name an error status for programs.
var apiErrorCodes = map[int]string{
	400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
	413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "too_many_requests", 503: "unavailable",
}

// apiError is the body of every error the API answers.
type apiError struct {
	Error   string `json:"error"`   // a code for programs: apiErrorCodes
	Message string `json:"message"` // words for people
}

// apiErrorResponse answers an error on an API path in JSON.
func apiErrorResponse(c *fiber.Ctx, status int, msg string) error {
	if isSCIMPath(c.Path()) { // SCIM clients read SCIM's error format (scim_user.go)
		return writeSCIMError(c, status, "", msg)
	}
	code := apiErrorCodes[status]
	if code == "" {
		code = "internal"
	}
	c.Status(status)
	return c.JSON(apiError{Error: code, Message: msg})
}

// apiBadRequest refuses an API request whose parameters are wrong.
func apiBadRequest(format string, args ...any) error {
	return &requestError{fiber.StatusBadRequest, app.Errorf(app.EINVALID, format, args...).Message}
}

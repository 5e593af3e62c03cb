package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// statusOf maps an app error code to an HTTP status.
var statusOf = map[string]int{
	app.EINVALID:      fiber.StatusUnprocessableEntity,
	app.ENOTFOUND:     fiber.StatusNotFound,
	app.ECONFLICT:     fiber.StatusConflict,
	app.EUNAUTHORIZED: fiber.StatusUnauthorized,
	app.EFORBIDDEN:    fiber.StatusForbidden,
	app.ETOOLARGE:     fiber.StatusRequestEntityTooLarge,
	app.ETOOMANY:      fiber.StatusTooManyRequests,
	app.EINTERNAL:     fiber.StatusInternalServerError,
}

// unavailableMessage is what a person sees when nothing could be saved for
// a reason that passes (a full disk); retryAfter is the Retry-After header
// sent with it, in seconds.
const (
	unavailableMessage = "The portal cannot save right now. Please try again in a moment."
	retryAfter         = "10"
)

// fiberMessages are the words shown for Fiber's own errors.
var fiberMessages = map[int]string{
	fiber.StatusNotFound:              "There is no page at this address.",
	fiber.StatusMethodNotAllowed:      "That is not something this page can do.",
	fiber.StatusRequestEntityTooLarge: "What you sent is too large.",
	fiber.StatusBadRequest:            "The request could not be understood.",
	fiber.StatusTooManyRequests:       "Too many requests. Please wait a minute and try again.",
}

// requestError refuses the request itself rather than what it asks for (a
// body that cannot be read, cookies sent twice), with its own status. The
// message is shown as it is.
type requestError struct {
	Status  int
	Message string
}

func (e *requestError) Error() string { return e.Message }

type errorPage struct {
	Page
	Status  int
	Message string
}

// errorHandler is the one place errors become responses. Internal errors are
// logged with the request id and shown only as "Internal error".
func (h *Handler) errorHandler(c *fiber.Ctx, err error) error {
	status, msg := fiber.StatusInternalServerError, "Internal error."
	var fe *fiber.Error
	var re *requestError
	switch {
	case errors.As(err, &re):
		status, msg = re.Status, re.Message
	case errors.As(err, &fe):
		status = fe.Code
		if m, ok := fiberMessages[fe.Code]; ok {
			msg = m
		} else if status < 500 {
			msg = "The request could not be completed."
		}
	case h.Unavailable != nil && h.Unavailable(err):
		status, msg = fiber.StatusServiceUnavailable, unavailableMessage
	default:
		code := app.ErrorCode(err)
		status = statusOf[code]
		msg = app.ErrorMessage(err)
	}
	if status == fiber.StatusServiceUnavailable {
		// Logged for the operator (a disk to free), but the person is told
		// to try again: the write was undone whole and the next one works
		// once there is room.
		h.Logger.Error("cannot save", "request_id", c.Locals(localRequestID), "method", c.Method(), "path", logPath(c), "err", err)
		c.Set(fiber.HeaderRetryAfter, retryAfter)
	} else if status >= 500 {
		h.Logger.Error("internal error", "request_id", c.Locals(localRequestID), "method", c.Method(), "path", logPath(c), "err", err)
		msg = "Internal error. The problem has been logged; quote reference " + requestID(c) + " if you contact the help desk."
	}
	if IsAPIPath(c.Path()) {
		c.Set(fiber.HeaderCacheControl, "no-store")
		return apiErrorResponse(c, status, msg)
	}
	title := map[int]string{400: "Request refused", 401: "Please sign in", 403: "Not allowed", 404: "Page not found", 413: "Too large", 415: "Request refused",
		422: "Please check what you entered", 429: "Too many requests", 503: "Please try again in a moment"}[status]
	if title == "" {
		title = "Something went wrong"
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Status(status)
	if rerr := c.Render("error", errorPage{Page: h.page(c, title), Status: status, Message: msg}); rerr != nil {
		h.Logger.Error("render error page", "request_id", c.Locals(localRequestID), "err", rerr)
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(status).SendString(msg)
	}
	return nil
}

func requestID(c *fiber.Ctx) string {
	s, _ := c.Locals(localRequestID).(string)
	return s
}

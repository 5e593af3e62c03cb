package handlers

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"regexp"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"portal/app"
)

// Request bodies.
//
// Fasthttp is run with StreamRequestBody: it hands a request to the portal
// once the headers are in (and at most 8 KB of the body), and the portal
// reads the rest itself, here, before anything else looks at it. Without
// streaming, fasthttp allocates the whole announced length before any
// handler runs: a hundred clients announcing 32 MB and sending two bytes
// cost gigabytes. With streaming, fasthttp enforces no limit at all, so
// every body is read through readBody or readUploadBody, which do.
const (
	// BodyLimit is the largest body of any request but an upload. Forms are
	// a few kilobytes; the largest, the approval of every waiting address
	// change, carries some 6,000 of them in 64 KB.
	BodyLimit = 64 << 10
	// UploadBodyLimit is the largest body of an upload by an HR user or an
	// administrator. It is well above the largest file taken (the roster's
	// 20 MB), so that someone whose file is a little too large gets the
	// page that says so rather than a dropped connection.
	UploadBodyLimit = 32 << 20
	// maxFormFields bounds the fields of a form, counted before the form is
	// parsed. The largest form the portal makes, the approval of every
	// waiting address change, is refused past 10,000 by its handler anyway.
	// (An upload's parts are bounded lower, at mime/multipart's 1,000.)
	maxFormFields = 10_000
)

// uploadRoutes are the routes that take a file. Only these, and only for
// an HR user or an administrator, may send more than BodyLimit; anyone
// else is refused at BodyLimit like everywhere.
var uploadRoutes = map[string]string{
	"/hr/roster":   "The file is larger than 20 MB. Split it, or import it with the import-roster command.",
	"/hr/versions": "The ZIP is larger than 16 MB.",
}

// The scan of a paper form (POST /hr/people/:id/paper) is an upload too,
// with a lower limit of its own: the 10 MB the scan may have, and room for
// the form's other fields. A scan a little over 10 MB fits in the body and
// gets the form back with its own message beside the field.
var paperUploadPath = regexp.MustCompile(`^/hr/people/[0-9]+/paper/?$`)

// PaperBodyLimit is the largest body of a paper acknowledgment.
const PaperBodyLimit = app.MaxScanSize + 256<<10

const paperTooLarge = "The scan is larger than 10 MB. Scan the form again at a lower resolution, or in black and white, and choose it again."

// uploadRoute returns what to say of a body too large for the upload route
// at path, and the route's limit.
func uploadRoute(path string) (tooLarge string, limit int, ok bool) {
	if msg, ok := uploadRoutes[path]; ok {
		return msg, UploadBodyLimit, true
	}
	if paperUploadPath.MatchString(path) {
		return paperTooLarge, PaperBodyLimit, true
	}
	return "", 0, false
}

const localUpload = "upload_body" // set while an upload's body waits for readUploadBody

var (
	errBodyTooLarge  = app.Errorf(app.ETOOLARGE, "What you sent is too large for this page. If you were filling in a form, go back, reload the page and try again.")
	errTooManyFields = app.Errorf(app.ETOOLARGE, "The form has too many fields, so nothing was changed. Go back, reload the page and try again.")
	errEncodedBody   = &requestError{fiber.StatusUnsupportedMediaType, "The request body is compressed, which this portal does not accept. Send it again uncompressed."}
	errBodyUnread    = &requestError{fiber.StatusBadRequest, "What you sent could not be read to the end. Please try again."}
)

// headerReceived tells fasthttp how much of a body to read before calling
// the portal. For a body announced larger than BodyLimit it is one byte, so
// that the refusal is sent at once rather than after 8 KB that may never
// come (and an upload is streamed from its first byte).
func headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if h.ContentLength() > BodyLimit {
		return fasthttp.RequestConfig{MaxRequestBodySize: 1}
	}
	return fasthttp.RequestConfig{}
}

// readBody is the first middleware. It refuses a body announced larger
// than the route can take, before reading it, and reads any other body
// whole (at most BodyLimit, whether announced or chunked) so that nothing
// after it can read more. An upload's body is left for readUploadBody,
// which knows who is sending it.
//
// A body not read to the end must close the connection: what is left of
// it would otherwise be read as the next request on the connection.
func (h *Handler) readBody(c *fiber.Ctx) error {
	err := h.takeBody(c)
	if err == nil {
		err = c.Next()
	}
	if c.Request().BodyStream() != nil {
		c.Context().SetConnectionClose()
	}
	return err
}

func (h *Handler) takeBody(c *fiber.Ctx) error {
	req := c.Request()
	if len(req.Header.ContentEncoding()) > 0 {
		// A compressed form is a few kilobytes that unpack to gigabytes.
		return errEncodedBody
	}
	if req.BodyStream() == nil {
		return nil // no body at all
	}
	if apiRosterBody(c) {
		// The roster sync's body is read by its handler once the token is
		// checked (api_roster.go), so nobody without one sends 20 MB.
		if req.Header.ContentLength() > MaxRosterBytes {
			return errAPIRosterTooLarge
		}
		return nil
	}
	limit, upload := BodyLimit, h.uploadCandidate(c)
	if upload {
		_, limit, _ = uploadRoute(c.Path())
	}
	if req.Header.ContentLength() > limit {
		return tooLarge(c, upload)
	}
	if upload {
		c.Locals(localUpload, true)
		return nil
	}
	// The stream ends at the announced length, or at the last chunk: read
	// one byte past the limit to tell a body that fits from one that does not.
	body, err := io.ReadAll(io.LimitReader(req.BodyStream(), BodyLimit+1))
	if err != nil {
		return errBodyUnread
	}
	if len(body) > BodyLimit {
		return errBodyTooLarge
	}
	req.SetBody(body) // also lets go of the stream: the body is read
	return checkFields(c, body)
}

// uploadCandidate reports whether the request may be an upload: a
// multipart POST to an upload route. Whether its sender may send one is
// decided once the session is known.
func (h *Handler) uploadCandidate(c *fiber.Ctx) bool {
	_, _, ok := uploadRoute(c.Path())
	return ok && c.Method() == fiber.MethodPost && len(c.Request().Header.MultipartFormBoundary()) > 0
}

// tooLarge refuses a body larger than the route takes: an upload that may
// be one with the route's own words (the file is too large), anything else
// with the general ones.
func tooLarge(c *fiber.Ctx, upload bool) error {
	if upload {
		msg, _, _ := uploadRoute(c.Path())
		return app.Errorf(app.ETOOLARGE, "%s", msg)
	}
	return errBodyTooLarge
}

// readUploadBody reads an upload's body once the session is known: up to
// UploadBodyLimit for an HR user or an administrator, up to BodyLimit for
// anyone else. The files are streamed to temporary files (fasthttp keeps 8
// KB of a form in memory and removes the files after the request), so an
// upload is never held whole in memory.
func (h *Handler) readUploadBody(c *fiber.Ctx) error {
	if c.Locals(localUpload) == nil {
		return c.Next()
	}
	c.Locals(localUpload, nil)
	limit, upload := BodyLimit, false
	if u := currentUser(c); u != nil && (u.HasRole(app.RoleHR) || u.HasRole(app.RoleAdmin)) {
		_, limit, _ = uploadRoute(c.Path())
		upload = true
	}
	req := c.Request()
	if req.Header.ContentLength() > limit {
		return tooLarge(c, upload)
	}
	form, err := req.MultipartFormWithLimit(limit)
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return tooLarge(c, upload)
	case errors.Is(err, multipart.ErrMessageTooLarge):
		return errTooManyFields // more parts, or more part headers, than mime/multipart reads
	case err != nil:
		h.Logger.Info("upload could not be read", "request_id", requestID(c), "err", err)
		return errBodyUnread
	}
	n := 0
	for _, vs := range form.Value {
		n += len(vs)
	}
	for _, fs := range form.File {
		n += len(fs)
	}
	if n > maxFormFields {
		return errTooManyFields
	}
	// What follows the form's last boundary is read too (it is small, or
	// the connection is closed), so that the next request starts where
	// this one ends.
	if rest, err := io.Copy(io.Discard, io.LimitReader(req.BodyStream(), BodyLimit)); err == nil && rest < BodyLimit {
		_ = req.CloseBodyStream() // a request stream's close only returns it to its pool
	}
	return c.Next()
}

// checkFields refuses a form with more than maxFormFields fields. They are
// counted by their separators, which costs nothing, rather than parsed.
func checkFields(c *fiber.Ctx, body []byte) error {
	var n int
	switch ct := c.Request().Header.ContentType(); {
	case bytes.HasPrefix(ct, []byte(fiber.MIMEApplicationForm)):
		n = bytes.Count(body, []byte("&")) + 1
	case bytes.HasPrefix(ct, []byte(fiber.MIMEMultipartForm)):
		if b := c.Request().Header.MultipartFormBoundary(); len(b) > 0 {
			n = bytes.Count(body, append([]byte("--"), b...)) - 1
		}
	}
	if n > maxFormFields {
		return errTooManyFields
	}
	return nil
}

package handlers

import (
	"html/template"
	"mime/multipart"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// pageSize is how many rows a long list shows at a time.
const pageSize = 50

// listCap is the most rows a list without pages shows (the sections of a
// person's page, the requests waiting for a decision, the holders of a
// role); the page says how many there are in all. These lists are short in
// the ordinary course; the cap keeps a page's cost bounded when one is not.
const listCap = 200

// Pager is where a long list is: the page shown, how many there are, and
// what its links need. Every paged list fills one and renders it with the
// "partials/pager" template.
type Pager struct {
	PageNo int
	Pages  int
	Total  int
	Path   string       // the list's own path, e.g. /hr/people
	Query  template.URL // the list's filters as an escaped query string, without page
	Prev   string       // the links' words: "Previous page", "Newer events"
	Next   string
}

// newPager reads ?page= (1 when missing or out of range) for the list at
// path with the given filters; fill in the total with setTotal.
func newPager(c *fiber.Ctx, path string, query template.URL) Pager {
	n, err := strconv.Atoi(c.Query("page", "1"))
	if err != nil || n < 1 || n > 1_000_000 {
		n = 1
	}
	return Pager{PageNo: n, Path: path, Query: query, Prev: "Previous page", Next: "Next page"}
}

// Offset and Limit are the rows of the page.
func (p *Pager) Offset() int { return (p.PageNo - 1) * pageSize }
func (p *Pager) Limit() int  { return pageSize }

// setTotal records how many rows there are in all.
func (p *Pager) setTotal(total int) {
	p.Total = total
	p.Pages = (total + pageSize - 1) / pageSize
}

// Href is the link to page n, keeping the filters.
func (p Pager) Href(n int) template.URL {
	q := string(p.Query)
	if q != "" {
		q += "&"
	}
	return template.URL(p.Path + "?" + q + "page=" + strconv.Itoa(n)) // #nosec G203 -- Path is a constant, Query escaped by its maker
}

// The status filters each list offers, in the order its form shows them.
var (
	hrStatuses   = []string{app.StatusOverdue, app.StatusNotStarted, app.StatusInProgress, app.StatusSigned, app.StatusPaper, app.StatusExempt, app.StatusUnreachable}
	teamStatuses = []string{app.StatusOverdue, app.StatusNotStarted, app.StatusInProgress, app.StatusSigned, app.StatusPaper, app.StatusExempt}
)

// checkStatus refuses a status filter the list does not offer.
func checkStatus(status string, offered []string) error {
	if status != "" && !slices.Contains(offered, status) {
		return app.Invalid("status", "Unknown status filter. Choose a status from the list.")
	}
	return nil
}

// upload is a file sent with a form. readUploadBody streamed it to a
// temporary file (a small one stays in memory), which fasthttp removes
// after the request; File is the handler's to close.
type upload struct {
	Name string
	Size int64
	File multipart.File
}

// uploadProblem is what the person is told about a file that cannot be
// taken, with the status the page is sent with.
type uploadProblem struct {
	Status  int
	Message string
}

// readUpload opens the form's file field, refusing a missing file and one
// larger than limit (the body limit is larger, so that the person gets this
// message rather than a dropped connection). missing and tooLarge are the
// messages shown.
func readUpload(c *fiber.Ctx, field string, limit int64, missing, tooLarge string) (*upload, *uploadProblem, error) {
	fh, err := c.FormFile(field)
	if err != nil {
		return nil, &uploadProblem{fiber.StatusUnprocessableEntity, missing}, nil
	}
	if fh.Size > limit {
		return nil, &uploadProblem{fiber.StatusRequestEntityTooLarge, tooLarge}, nil
	}
	f, err := fh.Open()
	if err != nil {
		return nil, nil, err
	}
	return &upload{Name: fh.Filename, Size: fh.Size, File: f}, nil, nil
}

package handlers

import (
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
	"portal/app/roster"
)

// The roster preview, person by person: what an upload would add, change,
// reactivate and deactivate, paged and filtered. The dry run's result is
// saved with the upload when the file is checked, so a page of a
// 13,000-person file reads 50 saved rows instead of planning the import
// again.

// previewPerson is one person of the preview as the page shows them.
type previewPerson struct {
	*app.RosterPreviewRow
	Lines []previewLine
}

// previewLine is one field of a person's change: "Department: Finance → Payroll".
type previewLine struct {
	Label    string
	Old, New string // "" for no value
	ShowOld  bool   // a change, not a new person's field
	Approval bool   // a new address that waits for a second person
}

// rosterKindLabel names a kind of change on the page.
func rosterKindLabel(kind string) string {
	switch kind {
	case app.RosterAdded:
		return "Added"
	case app.RosterChanged:
		return "Changed"
	case app.RosterReactivated:
		return "Reactivated"
	case app.RosterDeactivated:
		return "Deactivated"
	}
	return kind
}

// previewLabel names a field in the preview.
func previewLabel(field string) string {
	if field == app.FieldManager {
		return "Manager"
	}
	return fieldLabel(field)
}

func previewPeople(rows []*app.RosterPreviewRow) []previewPerson {
	out := make([]previewPerson, len(rows))
	for i, r := range rows {
		p := previewPerson{RosterPreviewRow: r}
		for _, c := range r.Changes {
			if r.Kind == app.RosterAdded && (c.Field == app.FieldEmployeeNumber || c.Field == app.FieldFullName) {
				continue // the row's heading shows them
			}
			p.Lines = append(p.Lines, previewLine{Label: previewLabel(c.Field), Old: c.Old, New: c.New, ShowOld: r.Kind != app.RosterAdded})
		}
		if r.NewEmail != "" {
			p.Lines = append(p.Lines, previewLine{Label: previewLabel(app.FieldEmail), Old: r.OldEmail, New: r.NewEmail, ShowOld: true, Approval: true})
		}
		out[i] = p
	}
	return out
}

// previewFilter reads the preview's filters from the query string.
func previewFilter(c *fiber.Ctx, uploadID int64) (app.RosterPreviewFilter, error) {
	f := app.RosterPreviewFilter{UploadID: uploadID, Kind: utils.CopyString(c.Query("kind")),
		Query: utils.CopyString(strings.TrimSpace(c.Query("q")))}
	if f.Kind != "" && !slices.Contains(app.RosterKinds, f.Kind) {
		return f, app.Invalid("kind", "Unknown kind of change. Choose one from the list.")
	}
	if len(f.Query) > 200 {
		return f, app.Invalid("q", "The search must be 200 characters or fewer.")
	}
	return f, nil
}

// previewQuery writes the filters back as a query string (each value escaped).
func previewQuery(f app.RosterPreviewFilter) template.URL {
	var v []string
	if f.Kind != "" {
		v = append(v, "kind="+url.QueryEscape(f.Kind))
	}
	if f.Query != "" {
		v = append(v, "q="+url.QueryEscape(f.Query))
	}
	return template.URL(strings.Join(v, "&")) // #nosec G203 -- every value is escaped with url.QueryEscape
}

// showPreview renders the preview of a saved upload: the counts, the
// filters, and one page of people.
func (h *Handler) showPreview(c *fiber.Ctx, pg *rosterPage) error {
	ctx := c.UserContext()
	status := fiber.StatusOK
	path := "/hr/roster/" + strconv.FormatInt(pg.Upload.ID, 10)
	pg.PreviewPath = path
	pg.Kinds = app.RosterKinds
	if cur, err := h.Cycles.CurrentCycle(ctx); err == nil {
		pg.Cycle = cur
	} else if app.ErrorCode(err) != app.ENOTFOUND {
		return err
	}
	f, ferr := previewFilter(c, pg.Upload.ID)
	pg.Filter = f
	if ferr != nil {
		// The form comes back with the message beside the field, and the
		// counts; no list, which would not match the form.
		pg.Errors, status = formErrors(ferr), fiber.StatusUnprocessableEntity
		f = app.RosterPreviewFilter{UploadID: pg.Upload.ID, Limit: 1}
	} else {
		pg.Pager = newPager(c, path, previewQuery(f))
		f.Offset, f.Limit = pg.Pager.Offset(), pg.Pager.Limit()
	}
	pv, err := h.Roster.FindPreview(ctx, f)
	if err != nil {
		return err
	}
	pg.Counts = pv.Counts
	if ferr == nil {
		pg.Matching = pv.Total
		pg.Pager.setTotal(pv.Total)
		pg.People = previewPeople(pv.Rows)
	}
	return h.render(c, status, "hr_roster", pg)
}

// rosterUploadParam finds the upload named by :id, if it is the HR user's
// own: an upload is seen and applied only by who sent it.
func (h *Handler) rosterUploadParam(c *fiber.Ctx) (*app.RosterUpload, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return nil, app.Errorf(app.ENOTFOUND, "Upload not found.")
	}
	up, err := h.Roster.FindUpload(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	if up.UploadedBy != currentUser(c).ID {
		return nil, app.Errorf(app.ENOTFOUND, "Upload not found.")
	}
	return up, nil
}

// rosterPreviewPage shows a page of a saved upload's preview.
func (h *Handler) rosterPreviewPage(c *fiber.Ctx) error {
	up, err := h.rosterUploadParam(c)
	if err != nil {
		return err
	}
	if up.Summary == nil { // saved before previews were kept
		return app.Errorf(app.ENOTFOUND, "This upload has no preview. Upload the file again.")
	}
	pg := &rosterPage{Page: h.page(c, "Preview of "+up.Filename), Upload: up, Summary: up.Summary}
	pg.Nav = "hr"
	return h.showPreview(c, pg)
}

// rosterTemplate downloads an empty roster file: every column the import
// reads, and one example row that the import refuses.
func (h *Handler) rosterTemplate(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, ContentDisposition("roster-template.csv"))
	return c.Send(roster.Template())
}

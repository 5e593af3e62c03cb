package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"portal/app"
	"portal/app/export"
)

// FormulaSafe neutralises a cell that a spreadsheet would run as a formula
// (one that begins with =, +, -, @, or a tab or carriage return before one)
// by putting an apostrophe in front of it. The certificate ZIP's manifest
// uses the same rule.
func FormulaSafe(s string) string { return export.FormulaSafe(s) }

// refuseCrossSite stops a link on another site from starting an export: the
// export is a GET (a download link) that records an audit event and counts
// against the user's export limit. Browsers say where a request came from.
func refuseCrossSite(c *fiber.Ctx) error {
	if c.Get("Sec-Fetch-Site") == "cross-site" {
		return app.Errorf(app.EFORBIDDEN, "Exports can only be started from the portal's own pages.")
	}
	return nil
}

// export prepares an export: its place among the exports at once, the
// cycle, the filters, an audit event. The caller ends with slot.done().
func (h *Handler) export(c *fiber.Ctx, format string) (app.PeopleFilter, string, *exportSlot, error) {
	if err := refuseCrossSite(c); err != nil {
		return app.PeopleFilter{}, "", nil, err
	}
	slot, err := h.enterExport(c)
	if err != nil {
		return app.PeopleFilter{}, "", nil, err
	}
	f, name, err := h.prepareExport(c, format)
	if err != nil {
		slot.done()
		return f, "", nil, err
	}
	return f, name, slot, nil
}

// prepareExport reads the cycle and the filters, checks the user's limit and
// records the export.
func (h *Handler) prepareExport(c *fiber.Ctx, format string) (app.PeopleFilter, string, error) {
	cycle, _, err := h.hrCycle(c)
	if err != nil {
		return app.PeopleFilter{}, "", err
	}
	if cycle == nil {
		return app.PeopleFilter{}, "", app.Errorf(app.ENOTFOUND, "No cycle has been opened yet.")
	}
	scope, err := h.hrScope(c)
	if err != nil {
		return app.PeopleFilter{}, "", err
	}
	f, err := h.peopleFilter(c, cycle, scope)
	if err != nil {
		return f, "", err
	}
	actor := currentUser(c).ID
	if !h.ExportLimit.Allow("report:" + strconv.FormatInt(actor, 10)) {
		return f, "", app.Errorf(app.ETOOMANY, "You have made several exports in the last few minutes. Please wait a few minutes and try again.")
	}
	if err := h.Audit.RecordEvent(c.UserContext(), &app.AuditEvent{ActorID: &actor, Action: "report.exported",
		SubjectType: "cycle", SubjectID: cycle.ID, Detail: format + " " + filterQuery(f), IP: h.clientIP(c)}); err != nil {
		return f, "", err
	}
	name := fmt.Sprintf("completion-%d-%s.%s", cycle.Year, h.today(), format)
	return f, name, nil
}

// exportCSV streams the completion report as CSV (export.WriteReportCSV:
// statuses in words and their codes, UTF-8 with a BOM, formula-safe).
func (h *Handler) exportCSV(c *fiber.Ctx) error {
	f, name, slot, err := h.export(c, "csv")
	if err != nil {
		return err
	}
	defer slot.done()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, ContentDisposition(name))
	h.streamExport(c, slot, "csv", func(ctx context.Context, w io.Writer) error {
		return export.WriteReportCSV(w, func(fn func(*app.PersonStatus) error) error { return h.Exports.EachPerson(ctx, f, fn) })
	})
	return nil
}

// exportXLSX writes the completion report as a real spreadsheet
// (export.WriteReportXLSX: dates as dates, the signing time in the portal's
// time zone, a bold frozen header, a filter, column widths). The finished
// file is built in memory (the rows read in short queries, see
// app.ExportService), then sent like the other exports, its place among
// the exports at once kept until it is sent.
func (h *Handler) exportXLSX(c *fiber.Ctx) error {
	f, name, slot, err := h.export(c, "xlsx")
	if err != nil {
		return err
	}
	defer slot.done()
	var buf bytes.Buffer
	ctx := c.UserContext()
	if err := export.WriteReportXLSX(&buf, h.Config.Location,
		func(fn func(*app.PersonStatus) error) error { return h.Exports.EachPerson(ctx, f, fn) }); err != nil {
		return err
	}
	body := buf.Bytes()
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, ContentDisposition(name))
	h.streamExport(c, slot, "xlsx", func(ctx context.Context, w io.Writer) error {
		// In pieces, so the write timeout applies to each, not to the whole file.
		for len(body) > 0 {
			n := min(len(body), 32<<10)
			if _, err := w.Write(body[:n]); err != nil {
				return err
			}
			body = body[n:]
		}
		return nil
	})
	return nil
}

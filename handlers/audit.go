package handlers

import (
	"context"
	"encoding/csv"
	"errors"
	"html/template"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

type auditPage struct {
	Page
	Events  []*app.AuditEvent
	Pager   Pager
	Check   *app.EvidenceCheck // the newest finished check of every record
	Pending *app.EvidenceCheck // the check queued or running
	Form    auditForm
	Kinds   []app.EventKind
	Query   template.URL // the filters as a query string, for the pager and the CSV link (each value escaped by auditQuery)
	// Scoped is set for an HR user limited to some agencies: the list holds
	// only events about their people and their own actions, and the check
	// of every record is not theirs to ask for.
	Scoped bool
	// More is set when more events match than the log counts
	// (app.AuditCountLimit): the pages reach that many.
	More bool
}

// auditForm is the audit log's filter form as typed.
type auditForm struct {
	Event, Actor, Person, From, To string
}

// Filtered reports whether any filter is set.
func (f auditForm) Filtered() bool { return f != auditForm{} }

// auditQuery writes the filters back as a query string, so that a page of
// the log can be shared by its address.
func auditQuery(f auditForm) string {
	v := make([]string, 0, 5)
	add := func(k, val string) {
		if val != "" {
			v = append(v, k+"="+url.QueryEscape(val))
		}
	}
	add("event", f.Event)
	add("actor", f.Actor)
	add("person", f.Person)
	add("from", f.From)
	add("to", f.To)
	return strings.Join(v, "&")
}

// auditFilter reads the filters from the query string and checks them,
// reporting every problem at once. Dates are days in the portal's time
// zone: "to" includes the whole of its day.
func (h *Handler) auditFilter(c *fiber.Ctx) (auditForm, app.AuditFilter, error) {
	form := auditForm{Event: utils.CopyString(c.Query("event")), Actor: utils.CopyString(strings.TrimSpace(c.Query("actor"))),
		Person: utils.CopyString(strings.TrimSpace(c.Query("person"))), From: utils.CopyString(strings.TrimSpace(c.Query("from"))),
		To: utils.CopyString(strings.TrimSpace(c.Query("to")))}
	f := app.AuditFilter{Action: form.Event, Actor: form.Actor, Person: form.Person}
	var errs []error
	if f.Action != "" && !app.KnownEventLabel(f.Action) {
		errs = append(errs, app.Invalid("event", "Choose a kind of event from the list."))
	}
	if len(f.Actor) > 200 {
		errs = append(errs, app.Invalid("actor", "The name or number of who did it must be 200 characters or fewer."))
	}
	if len(f.Person) > 200 {
		errs = append(errs, app.Invalid("person", "The name or number of the person must be 200 characters or fewer."))
	}
	var from, to time.Time
	var err error
	if form.From != "" {
		if from, err = time.ParseInLocation(app.DateLayout, form.From, h.Config.Location); err != nil {
			errs = append(errs, app.Invalid("from", "Enter the start date as a real date, year-month-day, for example 2026-03-01."))
		} else {
			f.Since = from
		}
	}
	if form.To != "" {
		if to, err = time.ParseInLocation(app.DateLayout, form.To, h.Config.Location); err != nil {
			errs = append(errs, app.Invalid("to", "Enter the end date as a real date, year-month-day, for example 2026-03-31."))
		} else {
			f.Before = to.AddDate(0, 0, 1) // the whole of the end day
		}
	}
	if !f.Since.IsZero() && !f.Before.IsZero() && to.Before(from) {
		errs = append(errs, app.Invalid("to", "The end date must be the same as the start date or after it."))
	}
	u := currentUser(c)
	if !u.HasRole(app.RoleAdmin) {
		scope, err := h.hrScope(c)
		if err != nil {
			return form, f, err
		}
		f.Scope, f.ViewerID = scope, u.ID
	}
	return form, f, errors.Join(errs...)
}

// auditIndex lists audit events, newest first, filtered, in pages, and the
// newest check of every evidence record. The check itself runs in the
// background (a million records take seconds): the page only shows its
// result and when it ran.
func (h *Handler) auditIndex(c *fiber.Ctx) error {
	pg := auditPage{Page: h.page(c, "Audit log"), Kinds: app.EventKinds()}
	pg.Nav = "hr"
	form, f, ferr := h.auditFilter(c)
	if ferr != nil && app.ErrorCode(ferr) != app.EINVALID {
		return ferr
	}
	pg.Form, pg.Scoped = form, len(f.Scope) > 0
	var err error
	if pg.Check, pg.Pending, err = h.Audit.EvidenceChecks(c.UserContext()); err != nil {
		return err
	}
	if ferr != nil {
		// A filter that cannot be used: the form comes back with the
		// messages beside it, and no list, which would not match the form.
		pg.Errors = formErrors(ferr)
		return h.render(c, fiber.StatusUnprocessableEntity, "hr_audit", pg)
	}
	pg.Query = template.URL(auditQuery(form)) // #nosec G203 -- auditQuery escapes every value with url.QueryEscape
	pg.Pager = newPager(c, "/hr/audit", pg.Query)
	pg.Pager.Prev, pg.Pager.Next = "Newer events", "Older events"
	f.Offset, f.Limit = pg.Pager.Offset(), pg.Pager.Limit()
	events, total, err := h.Audit.FindAuditEvents(c.UserContext(), f)
	if app.ErrorCode(err) == app.EINVALID {
		pg.Errors = formErrors(err)
		return h.render(c, fiber.StatusUnprocessableEntity, "hr_audit", pg)
	}
	if err != nil {
		return err
	}
	pg.Events = events
	if total > app.AuditCountLimit {
		pg.More, total = true, app.AuditCountLimit
	}
	pg.Pager.setTotal(total)
	return h.render(c, fiber.StatusOK, "hr_audit", pg)
}

// auditHeader names the columns of the audit log's CSV.
var auditHeader = []string{"time", "event", "event_code", "actor", "subject", "detail"}

// auditCSV streams the events the filters select as CSV: UTF-8 with a
// byte-order mark (so a spreadsheet reads accents right), times in the
// portal's time zone with their offset, every cell safe from being run as
// a formula. The export is itself an audit event, written before the file.
func (h *Handler) auditCSV(c *fiber.Ctx) error {
	if err := refuseCrossSite(c); err != nil {
		return err
	}
	form, f, err := h.auditFilter(c)
	if err != nil {
		return err
	}
	slot, err := h.enterExport(c)
	if err != nil {
		return err
	}
	defer slot.done()
	u := currentUser(c)
	if !h.ExportLimit.Allow("audit:" + strconv.FormatInt(u.ID, 10)) {
		return app.Errorf(app.ETOOMANY, "You have made several exports in the last few minutes. Please wait a few minutes and try again.")
	}
	// Checked before the export is recorded: a person filter matching too
	// many people is refused here with its message, not mid-file.
	if f.Actor != "" || f.Person != "" {
		if _, _, err := h.Audit.FindAuditEvents(c.UserContext(), app.AuditFilter{Actor: f.Actor, Person: f.Person, Limit: 1}); err != nil {
			return err
		}
	}
	detail := auditQuery(form)
	if detail == "" {
		detail = "every event"
	}
	if err := h.Audit.RecordEvent(c.UserContext(), &app.AuditEvent{ActorID: &u.ID, Action: "audit.exported",
		SubjectType: "audit_log", Detail: detail, IP: h.clientIP(c)}); err != nil {
		return err
	}
	loc := h.Config.Location
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, ContentDisposition("audit-log-"+h.today()+".csv"))
	h.streamExport(c, slot, "audit csv", func(ctx context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return err
		}
		cw := csv.NewWriter(w)
		if err := cw.Write(auditHeader); err != nil {
			return err
		}
		err := h.Audit.EachAuditEvent(ctx, f, func(e *app.AuditEvent) error {
			row := []string{e.At.In(loc).Format(time.RFC3339), app.EventLabel(e.Action), e.Action, e.ActorWords(), e.SubjectWords(), e.Detail}
			for i := range row {
				row[i] = FormulaSafe(row[i])
			}
			return cw.Write(row)
		})
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
		return err
	})
	return nil
}

// auditCheck queues a check of every evidence record, or points to the one
// already queued or running.
func (h *Handler) auditCheck(c *fiber.Ctx) error {
	actor := currentUser(c).ID
	_, queued, err := h.Audit.RequestCheck(c.UserContext(), &actor)
	if err != nil {
		return err
	}
	if queued {
		h.KickChecks()
		h.setFlash(c, "The check has started. It takes a few seconds for every 100,000 records; reload this page for its result.")
	} else {
		h.setFlash(c, "A check is already running; reload this page for its result.")
	}
	return c.Redirect("/hr/audit", fiber.StatusSeeOther)
}

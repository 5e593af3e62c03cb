package handlers

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// Paper acknowledgments: HR records that a person signed the paper form
// the consent notice offers, with a scan of it. Every route goes through
// hrPersonParam, so an HR user limited to some agencies neither sees nor
// records anyone outside them.

// paperPanel is what the person page shows about paper acknowledgments
// (views/partials/paper_form.html).
type paperPanel struct {
	Person *app.Employee
	// Cycle is the open cycle the person still has to sign: a paper
	// acknowledgment may be recorded for it. Nil when there is none.
	Cycle *app.Cycle
	Acks  []*app.Acknowledgment // the person's paper acknowledgments, newest first
}

// paperPanelFor builds the person page's panel from what the page has read.
func (h *Handler) paperPanelFor(ctx context.Context, e *app.Employee, assignments []*app.Assignment, acks []*app.Acknowledgment) (paperPanel, error) {
	p := paperPanel{Person: e}
	for _, a := range acks {
		if a.Paper != nil {
			p.Acks = append(p.Acks, a)
		}
	}
	cycle, err := h.Cycles.CurrentCycle(ctx)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	for _, as := range assignments {
		if as.CycleID == cycle.ID && as.Active && as.SignedAt == nil && e.Active {
			p.Cycle = cycle
		}
	}
	return p, nil
}

type paperForm struct {
	SignedOn string
	Note     string
}

type paperPage struct {
	Page
	Person *app.Employee
	Cycle  *app.Cycle // the open cycle; nil when none is open
	// Signed is the acknowledgment that already satisfies the open cycle,
	// when there is one: no paper one can be added.
	Signed *app.Acknowledgment
	Form   paperForm
	Today  string
}

// paperPageFor reads what the form page shows for the person.
func (h *Handler) paperPageFor(c *fiber.Ctx, e *app.Employee) (paperPage, error) {
	ctx := c.UserContext()
	pg := paperPage{Page: h.page(c, "Record a paper acknowledgment"), Person: e, Today: h.today()}
	pg.Nav = "hr"
	cycle, err := h.Cycles.CurrentCycle(ctx)
	switch app.ErrorCode(err) {
	case "":
		pg.Cycle = cycle
	case app.ENOTFOUND:
		return pg, nil
	default:
		return pg, err
	}
	as, err := h.Acks.FindAssignment(ctx, cycle.ID, e.ID)
	if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
		return pg, err
	}
	if as != nil && as.AckID != nil && as.SignedAt != nil {
		acks, _, err := h.Acks.FindAcknowledgments(ctx, app.AckFilter{ID: as.AckID})
		if err != nil {
			return pg, err
		}
		if len(acks) > 0 {
			pg.Signed = acks[0]
		}
	}
	return pg, nil
}

// paperFormPage shows the form to record a paper acknowledgment.
func (h *Handler) paperFormPage(c *fiber.Ctx) error {
	e, err := h.hrPersonParam(c)
	if err != nil {
		return err
	}
	pg, err := h.paperPageFor(c, e)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "hr_paper", pg)
}

// paperRecord records a paper acknowledgment. Any problem re-renders the
// form with every message and changes nothing; the scan must be chosen
// again (a browser never refills a file input).
func (h *Handler) paperRecord(c *fiber.Ctx) error {
	e, err := h.hrPersonParam(c)
	if err != nil {
		return err
	}
	pg, err := h.paperPageFor(c, e)
	if err != nil {
		return err
	}
	pg.Form = paperForm{SignedOn: c.FormValue("signed_on"), Note: c.FormValue("note")}
	if pg.Cycle == nil {
		pg.Errors = formError("", "No cycle is open, so there is nothing a paper acknowledgment could count for.")
		return h.render(c, fiber.StatusConflict, "hr_paper", pg)
	}
	if pg.Signed != nil {
		pg.Errors = formError("", e.FullName+" has already signed "+pg.Cycle.Name+", so a paper acknowledgment cannot be added.")
		return h.render(c, fiber.StatusConflict, "hr_paper", pg)
	}
	req := &app.PaperAckRequest{EmployeeID: e.ID, CycleID: pg.Cycle.ID, SignedOn: pg.Form.SignedOn, Note: pg.Form.Note,
		RecordedBy: currentUser(c).ID, IP: c.IP(), UserAgent: string(c.Request().Header.UserAgent())}
	if req.Scan, err = readScan(c); err != nil {
		return err
	}
	ctype, err := req.Validate(pg.Cycle, pg.Today)
	if err == nil {
		_, err = h.Paper.RecordPaperAcknowledgment(c.UserContext(), req, ctype)
	}
	switch code := app.ErrorCode(err); code {
	case "":
	case app.EINVALID, app.ECONFLICT, app.ENOTFOUND:
		// Field errors link to their field; a conflict (signed meanwhile,
		// the cycle closed) is about the whole form.
		pg.Form.SignedOn, pg.Form.Note = req.SignedOn, req.Note
		pg.Errors = formErrors(err)
		return h.render(c, statusOf[code], "hr_paper", pg)
	default:
		return err
	}
	h.metricsOrNone().Signed(pg.Cycle.Kind, app.AuthPaper)
	h.setFlash(c, "The paper acknowledgment of "+e.FullName+" is recorded.")
	return c.Redirect("/hr/people/"+strconv.FormatInt(e.ID, 10)+"/paper/recorded", fiber.StatusSeeOther)
}

// readScan reads the uploaded scan: nil when no file was chosen, and at
// most one byte more than a scan may have, so that Validate can say it is
// too large without the portal holding more.
func readScan(c *fiber.Ctx) ([]byte, error) {
	fh, err := c.FormFile("scan")
	if err != nil || fh.Size == 0 {
		return nil, nil // no file: Validate says so
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, app.MaxScanSize+1))
}

type paperDonePage struct {
	Page
	Person *app.Employee
	Ack    *app.Acknowledgment
	Cert   *app.Certificate
}

// paperRecorded is the confirmation page: the person's paper
// acknowledgment in the open cycle.
func (h *Handler) paperRecorded(c *fiber.Ctx) error {
	e, err := h.hrPersonParam(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	cycle, err := h.Cycles.CurrentCycle(ctx)
	if err != nil {
		return err
	}
	acks, _, err := h.Acks.FindAcknowledgments(ctx, app.AckFilter{EmployeeID: &e.ID, CycleID: &cycle.ID})
	if err != nil {
		return err
	}
	for _, a := range acks {
		if a.Paper != nil {
			pg := paperDonePage{Page: h.page(c, "Paper acknowledgment recorded"), Person: e, Ack: a, Cert: h.certificate(a)}
			pg.Nav = "hr"
			return h.render(c, fiber.StatusOK, "hr_paper_done", pg)
		}
	}
	return app.Errorf(app.ENOTFOUND, "%s has no paper acknowledgment in %s.", e.FullName, cycle.Name)
}

// paperScan serves the scan of a paper form, to HR within their scope only
// (it is personal data), after checking its bytes against the SHA-256 in
// the logged acknowledgment. Each download is an audit event.
func (h *Handler) paperScan(c *fiber.Ctx) error {
	e, err := h.hrPersonParam(c)
	if err != nil {
		return err
	}
	notFound := app.Errorf(app.ENOTFOUND, "Scan not found.")
	id, err := strconv.ParseInt(c.Params("ack"), 10, 64)
	if err != nil {
		return notFound
	}
	ctx := c.UserContext()
	acks, _, err := h.Acks.FindAcknowledgments(ctx, app.AckFilter{ID: &id, EmployeeID: &e.ID})
	if err != nil {
		return err
	}
	if len(acks) == 0 || acks[0].Paper == nil {
		return notFound
	}
	a := acks[0]
	// Bytes that no longer match the logged SHA-256 are an internal error:
	// logged with the request id (and named by the evidence check), never
	// served.
	sc, err := h.Paper.FindPaperScan(ctx, a.ID)
	if err != nil {
		return err
	}
	actor := currentUser(c).ID
	if err := h.Audit.RecordEvent(ctx, &app.AuditEvent{ActorID: &actor, Action: "acknowledgment.scan_downloaded", SubjectType: "employee",
		SubjectID: e.ID, IP: c.IP(), Detail: fmt.Sprintf("scan of the paper form of %s, SHA-256 %s", a.CertificateNo, sc.SHA256)}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, sc.ContentType)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentDisposition, ContentDisposition("Paper form "+a.CertificateNo+" "+a.EmployeeName+app.ScanExtension(sc.ContentType)))
	return c.Send(sc.Data)
}

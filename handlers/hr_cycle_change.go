package handlers

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

// Closing a cycle and moving it to another version change what thousands
// of people are asked to do, so neither happens from the cycles list: each
// has a page (a GET) that says what will happen, with the numbers, and only
// that page has the button that does it (a POST).

type cycleConfirmPage struct {
	Page
	Cycle     *app.Cycle
	Impact    *app.CycleImpact
	Action    string // "close" or "version"
	VersionID int64
	Version   *app.PolicyVersion // the version moved to
}

// cycleParam finds the cycle named by :id, one HR changes: a cycle the
// portal keeps itself is a conflict (the store refuses its changes too).
func (h *Handler) cycleParam(c *fiber.Ctx) (*app.Cycle, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return nil, app.Errorf(app.ENOTFOUND, "Cycle not found.")
	}
	cy, err := h.Cycles.FindCycleByID(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	k, err := h.Kinds.FindKind(c.UserContext(), cy.Kind)
	if err != nil {
		return nil, err
	}
	if k.ByAuthorization() {
		return nil, app.KeptCycleError(k)
	}
	return cy, nil
}

// cycleCloseConfirm says what closing the cycle will do.
func (h *Handler) cycleCloseConfirm(c *fiber.Ctx) error {
	cy, err := h.cycleParam(c)
	if err != nil {
		return err
	}
	pg := cycleConfirmPage{Page: h.page(c, "Close "+cy.Name+"?"), Cycle: cy, Action: "close"}
	pg.Nav = "hr"
	if pg.Impact, err = h.Cycles.CloseImpact(c.UserContext(), cy.ID); err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "hr_cycle_confirm", pg)
}

// cycleVersionConfirm says what moving the cycle to ?version= will do. A
// version that cannot be chosen sends the cycles page back with the
// message beside the cycle's version list.
func (h *Handler) cycleVersionConfirm(c *fiber.Ctx) error {
	cy, err := h.cycleParam(c)
	if err != nil {
		return err
	}
	vid, _ := strconv.ParseInt(c.Query("version"), 10, 64)
	pg := cycleConfirmPage{Page: h.page(c, "Move "+cy.Name+" to another version?"), Cycle: cy, Action: "version", VersionID: vid}
	pg.Nav = "hr"
	if pg.Impact, err = h.Cycles.VersionImpact(c.UserContext(), cy.ID, vid); err != nil {
		return h.cycleVersionError(c, cy.ID, err)
	}
	if pg.Version, err = h.Policies.FindVersionByID(c.UserContext(), vid); err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "hr_cycle_confirm", pg)
}

// cycleVersionError shows a version that cannot be chosen on the cycles
// page, beside the cycle's version list; other errors go to the error page.
func (h *Handler) cycleVersionError(c *fiber.Ctx, id int64, err error) error {
	if code := app.ErrorCode(err); code != app.EINVALID && code != app.ECONFLICT {
		return err
	}
	pg, perr := h.cyclesData(c)
	if perr != nil {
		return perr
	}
	// The message sits beside the version list of the cycle's row; a
	// cycle closed meanwhile has no list, so the message links nowhere.
	field := ""
	for _, cy := range pg.Cycles {
		if cy.ID == id && cy.Open {
			field = "version-" + strconv.FormatInt(id, 10)
		}
	}
	pg.Errors = formErrorsAt(err, field)
	return h.render(c, fiber.StatusUnprocessableEntity, "hr_cycles", pg)
}

type cycleDuePage struct {
	Page
	Cycle  *app.Cycle
	DueOn  string
	Reason string
}

// cycleDueForm is the form to change an open cycle's due date.
func (h *Handler) cycleDueForm(c *fiber.Ctx) error {
	cy, err := h.cycleParam(c)
	if err != nil {
		return err
	}
	if !cy.Open {
		return app.Errorf(app.ECONFLICT, "That cycle is closed: its due date can no longer change.")
	}
	pg := cycleDuePage{Page: h.page(c, "Change the due date of "+cy.Name), Cycle: cy, DueOn: cy.DueOn}
	pg.Nav = "hr"
	return h.render(c, fiber.StatusOK, "hr_cycle_due", pg)
}

// cycleDueSet changes the due date, or sends the form back with what is
// wrong and nothing changed.
func (h *Handler) cycleDueSet(c *fiber.Ctx) error {
	cy, err := h.cycleParam(c)
	if err != nil {
		return err
	}
	pg := cycleDuePage{Page: h.page(c, "Change the due date of "+cy.Name), Cycle: cy,
		DueOn: strings.TrimSpace(utils.CopyString(c.FormValue("due_on"))), Reason: utils.CopyString(c.FormValue("reason"))}
	pg.Nav = "hr"
	actor := currentUser(c).ID
	moved, err := h.Cycles.SetCycleDueDate(c.UserContext(), cy.ID, pg.DueOn, pg.Reason, &actor)
	if app.ErrorCode(err) == app.EINVALID {
		pg.Errors = formErrors(err)
		return h.render(c, fiber.StatusUnprocessableEntity, "hr_cycle_due", pg)
	}
	if err != nil {
		return err
	}
	people := strconv.Itoa(moved) + " people's due dates"
	if moved == 1 {
		people = "1 person's due date"
	}
	h.setFlash(c, "“"+cy.Name+"” is now due on "+longDay(pg.DueOn)+"; "+people+" moved with it.")
	return c.Redirect("/hr/cycles", fiber.StatusSeeOther)
}

// longDay writes a YYYY-MM-DD date as the pages do ("March 1, 2026").
func longDay(d string) string {
	t, err := time.Parse(app.DateLayout, d)
	if err != nil {
		return d
	}
	return t.Format("January 2, 2006")
}

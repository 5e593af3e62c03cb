package handlers

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

// personActions is what the person page shows of HR's actions on one
// person in the open cycle: the forms, and the evidence of earlier ones.
type personActions struct {
	OpenCycle  *app.Cycle
	Current    *app.Assignment // the person's assignment in the open cycle; nil when not asked to sign
	Status     string          // Current's status today
	Extensions []*app.DueExtension
	Exemptions []*app.Exemption
	Form       actionForm // what was typed, when a form comes back with errors
}

// actionForm holds the fields of the person page's forms (their ids are
// their names, unique on the page).
type actionForm struct {
	ExtendDueOn, ExtendReason          string
	ExemptFrom, ExemptTo, ExemptReason string
	EndReason                          string
}

// CanAct says whether the forms for the open cycle apply: the person is
// asked to sign in it and has not signed.
func (p personActions) CanAct() bool {
	return p.Current != nil && p.Current.SignedAt == nil
}

// loadPersonActions fills the open cycle's part of the person page.
func (h *Handler) loadPersonActions(c *fiber.Ctx, pg *personPage) error {
	ctx := c.UserContext()
	cycle, err := h.Cycles.CurrentCycle(ctx)
	switch app.ErrorCode(err) {
	case "":
		pg.OpenCycle = cycle
	case app.ENOTFOUND:
	default:
		return err
	}
	if pg.OpenCycle != nil {
		for _, a := range pg.Assignments {
			if a.CycleID == pg.OpenCycle.ID && a.Active {
				pg.Current, pg.Status = a, a.Status(pg.Today)
			}
		}
	}
	if pg.Form.ExemptFrom == "" {
		pg.Form.ExemptFrom = pg.Today
	}
	if pg.Extensions, err = h.PersonActions.Extensions(ctx, pg.Person.ID); err != nil {
		return err
	}
	pg.Exemptions, err = h.PersonActions.Exemptions(ctx, pg.Person.ID)
	return err
}

// readActionForm reads whichever of the forms was sent.
func readActionForm(c *fiber.Ctx) actionForm {
	v := func(k string) string { return strings.TrimSpace(utils.CopyString(c.FormValue(k))) }
	return actionForm{ExtendDueOn: v("extend_due_on"), ExtendReason: v("extend_reason"),
		ExemptFrom: v("exempt_from"), ExemptTo: v("exempt_to"), ExemptReason: v("exempt_reason"), EndReason: v("end_reason")}
}

// personAction runs one of HR's actions on the person named by :id (404
// outside the HR user's agencies), in the open cycle. On success the flash
// says what was done and the person page follows; on bad input, a conflict
// or a refusal the person page comes back with the message at field.
func (h *Handler) personAction(c *fiber.Ctx, field string,
	act func(ctx context.Context, e *app.Employee, cycle *app.Cycle, f actionForm, actor *int64) (string, error)) error {
	e, err := h.hrPersonParam(c)
	if err != nil {
		return err
	}
	f := readActionForm(c)
	actor := currentUser(c).ID
	cycle, err := h.Cycles.CurrentCycle(c.UserContext())
	if app.ErrorCode(err) == app.ENOTFOUND {
		err = app.Errorf(app.ECONFLICT, "No cycle is open, so nothing was changed.")
	}
	var done string
	if err == nil {
		done, err = act(c.UserContext(), e, cycle, f, &actor)
	}
	if err == nil {
		h.setFlash(c, done)
		return c.Redirect("/hr/people/"+strconv.FormatInt(e.ID, 10), fiber.StatusSeeOther)
	}
	status := fiber.StatusUnprocessableEntity
	switch app.ErrorCode(err) {
	case app.EINVALID:
	case app.ECONFLICT:
		status = fiber.StatusConflict
	case app.ETOOMANY:
		status = fiber.StatusTooManyRequests
	default:
		return err
	}
	pg, perr := h.personData(c, e)
	if perr != nil {
		return perr
	}
	pg.Form, pg.Errors = f, formErrorsAt(err, field)
	if status == fiber.StatusConflict {
		// About the person's state (signed, not in the cycle), not a field:
		// the form it would link to may not even be shown any more.
		pg.Errors = formErrors(err)
	}
	if pg.Form.ExemptFrom == "" {
		pg.Form.ExemptFrom = pg.Today
	}
	return h.render(c, status, "hr_person", pg)
}

// longDate writes a date (YYYY-MM-DD) as pages do.
func longDate(s string) string {
	t, err := time.Parse(app.DateLayout, s)
	if err != nil {
		return s
	}
	return t.Format("January 2, 2006")
}

// hrPersonExtend moves the person's due date later, with a reason.
func (h *Handler) hrPersonExtend(c *fiber.Ctx) error {
	return h.personAction(c, "extend_due_on", func(ctx context.Context, e *app.Employee, cycle *app.Cycle, f actionForm, actor *int64) (string, error) {
		x := &app.DueExtension{CycleID: cycle.ID, EmployeeID: e.ID, NewDueOn: f.ExtendDueOn, Reason: f.ExtendReason, ActorID: actor}
		if err := h.PersonActions.ExtendDue(ctx, x, h.clientIP(c)); err != nil {
			return "", err
		}
		return "Due date extended to " + longDate(x.NewDueOn) + " (it was " + longDate(x.OldDueOn) + ").", nil
	})
}

// hrPersonExempt excuses the person from the open cycle.
func (h *Handler) hrPersonExempt(c *fiber.Ctx) error {
	return h.personAction(c, "exempt_reason", func(ctx context.Context, e *app.Employee, cycle *app.Cycle, f actionForm, actor *int64) (string, error) {
		x := &app.Exemption{CycleID: cycle.ID, EmployeeID: e.ID, FromOn: f.ExemptFrom, ToOn: f.ExemptTo, Reason: f.ExemptReason, ActorID: actor}
		if err := h.PersonActions.Exempt(ctx, x, h.clientIP(c)); err != nil {
			return "", err
		}
		return "Marked exempt from " + cycle.Name + ": no reminders, not counted as overdue.", nil
	})
}

// hrPersonEndExemption makes an exempt person due again.
func (h *Handler) hrPersonEndExemption(c *fiber.Ctx) error {
	return h.personAction(c, "end_reason", func(ctx context.Context, e *app.Employee, cycle *app.Cycle, f actionForm, actor *int64) (string, error) {
		x := &app.Exemption{CycleID: cycle.ID, EmployeeID: e.ID, Reason: f.EndReason, ActorID: actor}
		if err := h.PersonActions.EndExemption(ctx, x, h.clientIP(c)); err != nil {
			return "", err
		}
		return "The exemption has ended: they must sign " + cycle.Name + " again.", nil
	})
}

// hrPersonResend queues the invitation to the person again, at once.
func (h *Handler) hrPersonResend(c *fiber.Ctx) error {
	return h.personAction(c, "resend", func(ctx context.Context, e *app.Employee, cycle *app.Cycle, _ actionForm, actor *int64) (string, error) {
		if err := h.PersonActions.ResendInvitation(ctx, cycle.ID, e.ID, actor, h.clientIP(c)); err != nil {
			return "", err
		}
		h.KickMail()
		return "The invitation is on its way again to " + e.Email + ".", nil
	})
}

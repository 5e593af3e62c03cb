package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

// The administrator's list of Social Media Supervisors: the list the
// central IT office keeps of who supervises each agency's accounts, since
// when, with the history of every designation and its end.

type supervisorsPage struct {
	Page
	Agencies []*app.AgencySupervisor
	History  []*app.SupervisorDesignation
	Form     struct{ Agency, Number, Reason string }
	End      struct{ Agency, Reason string }
}

func (h *Handler) supervisorsData(c *fiber.Ctx) (*supervisorsPage, error) {
	pg := &supervisorsPage{Page: h.page(c, "Social Media Supervisors")}
	pg.Nav = "admin"
	var err error
	if pg.Agencies, err = h.Supervisors.Supervisors(c.UserContext()); err != nil {
		return nil, err
	}
	if pg.History, err = h.Supervisors.Designations(c.UserContext(), ""); err != nil {
		return nil, err
	}
	return pg, nil
}

func (h *Handler) supervisorsIndex(c *fiber.Ctx) error {
	pg, err := h.supervisorsData(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "admin_supervisors", pg)
}

// knownAgency reports whether agency is one of the roster's.
func (h *Handler) knownAgency(c *fiber.Ctx, agency string) (bool, error) {
	all, err := h.Employees.Agencies(c.UserContext())
	if err != nil {
		return false, err
	}
	for _, a := range all {
		if a == agency {
			return true, nil
		}
	}
	return false, nil
}

// supervisorsDesignate designates an agency's supervisor, ending the
// previous one's designation.
func (h *Handler) supervisorsDesignate(c *fiber.Ctx) error {
	agency := utils.CopyString(c.FormValue("agency"))
	number := strings.TrimSpace(utils.CopyString(c.FormValue("employee_number")))
	reason := strings.TrimSpace(utils.CopyString(c.FormValue("reason")))
	var err error
	switch ok, kerr := h.knownAgency(c, agency); {
	case kerr != nil:
		return kerr
	case !ok:
		err = app.Invalid("agency", "Choose the agency from the list.")
	case len(number) > 100:
		err = app.Invalid("employee_number", "Enter the employee number of the person to designate.")
	default:
		var who *app.AgencySupervisor
		who, err = h.Supervisors.Designate(c.UserContext(), agency, number, reason, currentUser(c).ID)
		if err == nil {
			h.setFlash(c, who.FullName+" is now the Social Media Supervisor of "+agency+".")
			return c.Redirect("/admin/supervisors", fiber.StatusSeeOther)
		}
	}
	if app.ErrorCode(err) != app.EINVALID {
		return err
	}
	pg, perr := h.supervisorsData(c)
	if perr != nil {
		return perr
	}
	pg.Form.Agency, pg.Form.Number, pg.Form.Reason, pg.Errors = agency, number, reason, formErrorsAt(err, "employee_number")
	return h.render(c, fiber.StatusUnprocessableEntity, "admin_supervisors", pg)
}

// supervisorsEnd ends an agency's designation.
func (h *Handler) supervisorsEnd(c *fiber.Ctx) error {
	agency := utils.CopyString(c.FormValue("agency"))
	reason := strings.TrimSpace(utils.CopyString(c.FormValue("end_reason")))
	err := h.Supervisors.EndDesignation(c.UserContext(), agency, reason, currentUser(c).ID)
	if err == nil {
		h.setFlash(c, agency+" has no Social Media Supervisor now. Designate the next one below.")
		return c.Redirect("/admin/supervisors", fiber.StatusSeeOther)
	}
	if app.ErrorCode(err) != app.EINVALID {
		return err
	}
	pg, perr := h.supervisorsData(c)
	if perr != nil {
		return perr
	}
	// The end form's fields are its own: its reason, its agency.
	fe := formErrors(err)
	for i := range fe {
		switch fe[i].Field {
		case "reason":
			fe[i].Field = "end_reason"
		default:
			fe[i].Field = "end_agency"
		}
	}
	pg.End.Agency, pg.End.Reason, pg.Errors = agency, reason, fe
	return h.render(c, fiber.StatusUnprocessableEntity, "admin_supervisors", pg)
}

package handlers

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

type cyclesPage struct {
	Page
	Cycles   []*app.Cycle
	Versions map[int64]*app.PolicyVersion
	Latest   []*app.PolicyVersion
	Form     cycleForm
	// Kinds HR opens cycles of (assign 'cycle'): the form offers a choice
	// only when there is more than the annual one.
	Kinds []*app.AcknowledgmentKind
	// Kept are the cycles the portal keeps for the kinds it assigns by
	// authorization: listed, with no actions (Cycles holds HR's own).
	Kept []*app.Cycle
}

type cycleForm struct {
	Name, OpensOn, DueOn, NewHireDays string
	VersionID                         int64
	Kind                              string
}

func (h *Handler) cyclesData(c *fiber.Ctx) (*cyclesPage, error) {
	ctx := c.UserContext()
	pg := &cyclesPage{Page: h.page(c, "Annual cycles"), Versions: map[int64]*app.PolicyVersion{}}
	pg.Nav = "hr"
	var err error
	if pg.Cycles, err = h.Cycles.FindCycles(ctx); err != nil {
		return nil, err
	}
	if pg.Latest, err = h.Policies.FindVersions(ctx); err != nil {
		return nil, err
	}
	for _, v := range pg.Latest {
		pg.Versions[v.ID] = v
	}
	kinds, err := h.Kinds.FindKinds(ctx)
	if err != nil {
		return nil, err
	}
	byHR := map[string]bool{}
	for _, k := range kinds {
		if k.Assign == app.AssignCycle {
			pg.Kinds = append(pg.Kinds, k)
			byHR[k.Code] = true
		}
	}
	hrs := pg.Cycles[:0:0]
	for _, cy := range pg.Cycles {
		if byHR[cy.Kind] {
			hrs = append(hrs, cy)
		} else {
			pg.Kept = append(pg.Kept, cy)
		}
	}
	pg.Cycles = hrs
	// Suggest the first year from this one that has no cycle yet, so the
	// form never offers the name and dates of a cycle that exists: this
	// year's opening today, a later one opening on its first day.
	now := h.Now().In(h.Config.Location)
	year, opens := now.Year(), now
	for taken := true; taken; {
		taken = false
		for _, cy := range pg.Cycles {
			if strings.HasPrefix(cy.OpensOn, strconv.Itoa(year)+"-") {
				taken = true
			}
		}
		if taken {
			year++
			opens = time.Date(year, time.January, 1, 0, 0, 0, 0, h.Config.Location)
		}
	}
	pg.Form = cycleForm{Name: strconv.Itoa(year) + " annual acknowledgment", NewHireDays: "30",
		OpensOn: opens.Format(app.DateLayout), DueOn: opens.AddDate(0, 0, 60).Format(app.DateLayout)}
	if len(pg.Latest) > 0 {
		pg.Form.VersionID = pg.Latest[0].ID
	}
	return pg, nil
}

func (h *Handler) cyclesIndex(c *fiber.Ctx) error {
	pg, err := h.cyclesData(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "hr_cycles", pg)
}

// cycleOpen opens an annual cycle: everyone active is asked to sign.
func (h *Handler) cycleOpen(c *fiber.Ctx) error {
	pg, err := h.cyclesData(c)
	if err != nil {
		return err
	}
	pg.Form = cycleForm{Name: strings.TrimSpace(utils.CopyString(c.FormValue("name"))), OpensOn: utils.CopyString(c.FormValue("opens_on")),
		DueOn: utils.CopyString(c.FormValue("due_on")), NewHireDays: utils.CopyString(c.FormValue("new_hire_days"))}
	pg.Form.VersionID, _ = strconv.ParseInt(c.FormValue("version"), 10, 64)
	pg.Form.Kind = utils.CopyString(c.FormValue("kind")) // "": the annual acknowledgment
	days, err := strconv.Atoi(pg.Form.NewHireDays)
	if err != nil {
		days = 0
	}
	actor := currentUser(c).ID
	cy := &app.Cycle{Name: pg.Form.Name, PolicyVersionID: pg.Form.VersionID, OpensOn: pg.Form.OpensOn, DueOn: pg.Form.DueOn,
		NewHireDays: days, Open: true, OpenedBy: &actor, Kind: pg.Form.Kind}
	if _, ok := pg.Versions[cy.PolicyVersionID]; !ok {
		cy.PolicyVersionID = 0
	}
	if err := h.Cycles.CreateCycle(c.UserContext(), cy); err != nil {
		return h.cycleFormError(c, pg, err)
	}
	h.setFlash(c, "Cycle “"+cy.Name+"” is open.")
	return c.Redirect("/hr/cycles", fiber.StatusSeeOther)
}

func (h *Handler) cycleFormError(c *fiber.Ctx, pg *cyclesPage, err error) error {
	switch app.ErrorCode(err) {
	case app.EINVALID, app.ECONFLICT:
		if fe := formErrors(err); len(fe) == 1 && fe[0].Field == "kind" {
			pg.Errors = fe
			return h.render(c, fiber.StatusUnprocessableEntity, "hr_cycles", pg)
		}
		// A conflict (a cycle already open that year) is about the dates.
		pg.Errors = formErrorsAt(err, "opens_on")
		return h.render(c, fiber.StatusUnprocessableEntity, "hr_cycles", pg)
	}
	return err
}

func (h *Handler) cycleClose(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return app.Errorf(app.ENOTFOUND, "Cycle not found.")
	}
	actor := currentUser(c).ID
	if err := h.Cycles.CloseCycle(c.UserContext(), id, &actor); err != nil {
		return err
	}
	h.setFlash(c, "The cycle is closed.")
	return c.Redirect("/hr/cycles", fiber.StatusSeeOther)
}

// cycleVersion moves an open cycle to a newer version.
func (h *Handler) cycleVersion(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return app.Errorf(app.ENOTFOUND, "Cycle not found.")
	}
	vid, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	actor := currentUser(c).ID
	if err := h.Cycles.SetCycleVersion(c.UserContext(), id, vid, &actor); err != nil {
		return h.cycleVersionError(c, id, err)
	}
	h.setFlash(c, "The cycle now asks for the new version.")
	return c.Redirect("/hr/cycles", fiber.StatusSeeOther)
}

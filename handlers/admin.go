package handlers

import (
	"net/mail"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

// The administrator's pages: roles, HR scopes and the evidence log's witnesses.

type rolesPage struct {
	Page
	People []*app.Employee
	More   int // holders not listed past listCap a role
	Form   struct{ Number, Role string }
}

func (h *Handler) rolesData(c *fiber.Ctx) (*rolesPage, error) {
	pg := &rolesPage{Page: h.page(c, "Roles")}
	pg.Nav = "admin"
	seen := map[int64]bool{}
	for _, r := range app.PrivilegedRoles {
		es, total, err := h.Employees.FindEmployees(c.UserContext(), app.EmployeeFilter{Role: ptr(string(r)), Limit: listCap})
		if err != nil {
			return nil, err
		}
		pg.More += total - len(es)
		for _, e := range es {
			if !seen[e.ID] {
				seen[e.ID] = true
				pg.People = append(pg.People, e)
			}
		}
	}
	slices.SortFunc(pg.People, func(a, b *app.Employee) int { return strings.Compare(a.FullName, b.FullName) })
	return pg, nil
}

// rolesIndex lists who holds the hr and admin roles.
func (h *Handler) rolesIndex(c *fiber.Ctx) error {
	pg, err := h.rolesData(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "admin_roles", pg)
}

// rolesSet grants or removes a role. It is the only way the hr and admin
// roles change from the web; every change is logged and e-mailed to every
// administrator.
func (h *Handler) rolesSet(c *fiber.Ctx) error {
	ctx := c.UserContext()
	number := strings.TrimSpace(utils.CopyString(c.FormValue("employee_number")))
	role := app.Role(c.FormValue("role"))
	action := c.FormValue("action")
	fail := func(err error) error {
		switch app.ErrorCode(err) {
		case app.EINVALID, app.ECONFLICT, app.ENOTFOUND, app.EFORBIDDEN:
		default:
			return err
		}
		pg, perr := h.rolesData(c)
		if perr != nil {
			return perr
		}
		pg.Form.Number, pg.Form.Role, pg.Errors = number, string(role), formErrorsAt(err, "employee_number")
		return h.render(c, fiber.StatusUnprocessableEntity, "admin_roles", pg)
	}
	if number == "" || len(number) > 100 {
		return fail(app.Invalid("employee_number", "Enter the employee number of the person."))
	}
	if !slices.Contains(app.PrivilegedRoles, role) {
		return fail(app.Invalid("role-hr", "Choose the hr or the admin role."))
	}
	if action != "grant" && action != "remove" {
		return fail(app.Errorf(app.EINVALID, "Choose whether to grant or to remove the role."))
	}
	es, _, err := h.Employees.FindEmployees(ctx, app.EmployeeFilter{EmployeeNumber: &number})
	if err != nil {
		return err
	}
	if len(es) == 0 {
		return fail(app.Errorf(app.ENOTFOUND, "Nobody on the roster has employee number %s.", number))
	}
	if err := h.Identity.SetRole(ctx, es[0].ID, role, action == "grant", currentUser(c).ID); err != nil {
		return fail(err)
	}
	verb := "now has"
	if action == "remove" {
		verb = "no longer has"
	}
	h.KickMail()
	h.setFlash(c, es[0].FullName+" "+verb+" the "+string(role)+" role. Every administrator has been told by e-mail.")
	return c.Redirect("/admin/roles", fiber.StatusSeeOther)
}

type witnessesPage struct {
	Page
	Witnesses  []string
	Key        string
	Checkpoint *app.SignedCheckpoint
	Email      string
}

func (h *Handler) witnessesData(c *fiber.Ctx) (*witnessesPage, error) {
	pg := &witnessesPage{Page: h.page(c, "Evidence log witnesses"), Key: h.Log.VerifierKey()}
	pg.Nav = "admin"
	var err error
	if pg.Witnesses, err = h.Witnesses.Witnesses(c.UserContext()); err != nil {
		return nil, err
	}
	if pg.Checkpoint, err = h.Log.Checkpoint(c.UserContext(), 0); err != nil {
		return nil, err
	}
	return pg, nil
}

// witnessesIndex lists the addresses that receive each day's checkpoint.
func (h *Handler) witnessesIndex(c *fiber.Ctx) error {
	pg, err := h.witnessesData(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "admin_witnesses", pg)
}

// witnessesSet adds or removes a witness address.
func (h *Handler) witnessesSet(c *fiber.Ctx) error {
	email := strings.TrimSpace(utils.CopyString(c.FormValue("email")))
	add := c.FormValue("action") != "remove"
	addr, err := mail.ParseAddress(email)
	if email == "" || len(email) > 254 || err != nil || addr.Address != email {
		err = app.Errorf(app.EINVALID, "Enter an e-mail address, for example auditor@agency.example.")
	} else {
		err = h.Witnesses.SetWitness(c.UserContext(), email, add, currentUser(c).ID)
	}
	switch app.ErrorCode(err) {
	case "":
	case app.EINVALID, app.ECONFLICT, app.ENOTFOUND:
		pg, perr := h.witnessesData(c)
		if perr != nil {
			return perr
		}
		pg.Email, pg.Errors = email, formErrorsAt(err, "email")
		return h.render(c, fiber.StatusUnprocessableEntity, "admin_witnesses", pg)
	default:
		return err
	}
	if add {
		h.setFlash(c, email+" will receive each day's checkpoint.")
	} else {
		h.setFlash(c, email+" will no longer receive checkpoints.")
	}
	return c.Redirect("/admin/witnesses", fiber.StatusSeeOther)
}

type scopesPage struct {
	Page
	HRUsers  []*app.Employee
	Scopes   map[int64][]string
	Agencies []string
	Pager    Pager
}

func (h *Handler) scopesIndex(c *fiber.Ctx) error {
	pg, err := h.scopesData(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "admin_scopes", pg)
}

func (h *Handler) scopesData(c *fiber.Ctx) (*scopesPage, error) {
	ctx := c.UserContext()
	pg := &scopesPage{Page: h.page(c, "HR access by agency"), Scopes: map[int64][]string{}}
	pg.Nav = "admin"
	pg.Pager = newPager(c, "/admin/scopes", "")
	all, total, err := h.Employees.FindEmployees(ctx, app.EmployeeFilter{Role: ptr(string(app.RoleHR)), Active: ptr(true),
		Offset: pg.Pager.Offset(), Limit: pg.Pager.Limit()})
	if err != nil {
		return nil, err
	}
	pg.Pager.setTotal(total)
	pg.HRUsers = all
	for _, e := range all {
		if pg.Scopes[e.ID], err = h.Scopes.Scope(ctx, e.ID); err != nil {
			return nil, err
		}
	}
	if pg.Agencies, err = h.Employees.Agencies(ctx); err != nil {
		return nil, err
	}
	return pg, nil
}

func (h *Handler) scopesSet(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id, _ := strconv.ParseInt(c.FormValue("employee"), 10, 64)
	// Only a changed form can send these: the page comes back with the
	// message, beside the person's agencies when they are on it.
	fail := func(msg string) error {
		pg, err := h.scopesData(c)
		if err != nil {
			return err
		}
		field := ""
		for _, e := range pg.HRUsers {
			if e.ID == id && len(pg.Agencies) > 0 {
				field = "s-" + strconv.FormatInt(id, 10) + "-0"
			}
		}
		pg.Errors = formError(field, msg)
		return h.render(c, fiber.StatusUnprocessableEntity, "admin_scopes", pg)
	}
	e, err := h.Employees.FindEmployeeByID(ctx, id)
	if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
		return err
	}
	if err != nil || !e.HasRole(app.RoleHR) {
		return fail("Choose an HR user from the list.")
	}
	known, err := h.Employees.Agencies(ctx)
	if err != nil {
		return err
	}
	var chosen []string
	args := c.Request().PostArgs()
	for _, v := range args.PeekMulti("agency") {
		a := string(v)
		found := false
		for _, k := range known {
			found = found || k == a
		}
		if !found {
			return fail("Tick agencies from the list: " + a + " is not one of them.")
		}
		chosen = append(chosen, a)
	}
	actor := currentUser(c).ID
	if err := h.Scopes.SetScope(ctx, id, chosen, &actor); err != nil {
		return err
	}
	h.setFlash(c, "HR access for "+e.FullName+" is saved.")
	return c.Redirect("/admin/scopes", fiber.StatusSeeOther)
}

func ptr[T any](v T) *T { return &v }

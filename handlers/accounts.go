package handlers

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

// The registry of accounts held in the agencies' names. HR and
// administrators read every agency's (an HR user limited to some agencies
// only theirs), a supervisor their own. A supervisor adds and changes their
// agency's accounts, an administrator any agency's; HR reads but does not
// change them: the registry is the supervisor's record, and HR's part is
// the people.

// registryAgencies is whose accounts, posters and Terms of Comment the
// signed-in user may see: every
// agency (all) for an administrator or an HR user with no agency limit; an
// HR user's agencies; a supervisor's own.
func (h *Handler) registryAgencies(c *fiber.Ctx) (agencies []string, all bool, err error) {
	u := currentUser(c)
	if u.HasRole(app.RoleAdmin) {
		return nil, true, nil
	}
	if u.HasRole(app.RoleHR) {
		scope, err := h.hrScope(c)
		if err != nil {
			return nil, false, err
		}
		if len(scope) == 0 {
			return nil, true, nil
		}
		agencies = append(agencies, scope...)
	}
	if u.SupervisorOf != "" && !slices.Contains(agencies, u.SupervisorOf) {
		agencies = append(agencies, u.SupervisorOf)
	}
	return agencies, false, nil
}

// mayChangeAccounts reports whether the user adds and changes agency's
// accounts: its supervisor, or an administrator.
func mayChangeAccounts(u *app.Employee, agency string) bool {
	return u.HasRole(app.RoleAdmin) || (u.SupervisorOf != "" && u.SupervisorOf == agency)
}

type accountsPage struct {
	Page
	Accounts []*app.SocialAccount
	Agencies []string // the agencies the viewer may filter by
	Agency   string
	Status   string
	Statuses []string
	Today    string
	CanAdd   bool
	Overdue  int
}

// accountsIndex lists the accounts the viewer may see, filtered by agency
// and status.
func (h *Handler) accountsIndex(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u := currentUser(c)
	agencies, all, err := h.registryAgencies(c)
	if err != nil {
		return err
	}
	pg := &accountsPage{Page: h.page(c, "Agency accounts"), Statuses: app.AccountStatuses, Today: h.today(),
		CanAdd: u.HasRole(app.RoleAdmin) || u.SupervisorOf != ""}
	pg.Nav = "accounts"
	pg.Wide = true
	if all {
		if agencies, err = h.Employees.Agencies(ctx); err != nil {
			return err
		}
	}
	slices.Sort(agencies)
	pg.Agencies = agencies
	pg.Agency, pg.Status = utils.CopyString(c.Query("agency")), utils.CopyString(c.Query("status"))
	var errs FormErrors
	if pg.Agency != "" && !slices.Contains(agencies, pg.Agency) {
		errs = append(errs, FieldError{"agency", "Choose an agency from the list."})
	}
	if pg.Status != "" && !slices.Contains(app.AccountStatuses, pg.Status) {
		errs = append(errs, FieldError{"status", "Choose a status from the list."})
	}
	if len(errs) > 0 {
		pg.Errors = errs
		return h.render(c, fiber.StatusUnprocessableEntity, "accounts", pg)
	}
	if pg.Accounts, err = h.Accounts.FindAccounts(ctx, app.AccountFilter{All: all, Agencies: agencies, Agency: pg.Agency, Status: pg.Status}); err != nil {
		return err
	}
	for _, a := range pg.Accounts {
		if a.ReviewOverdue(pg.Today) {
			pg.Overdue++
		}
	}
	return h.render(c, fiber.StatusOK, "accounts", pg)
}

// accountFor reads the account named by :id if the viewer may see it;
// another agency's account is "not found", as one that does not exist.
func (h *Handler) accountFor(c *fiber.Ctx, change bool) (*app.SocialAccount, error) {
	notFound := app.Errorf(app.ENOTFOUND, "Account not found.")
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, notFound
	}
	a, err := h.Accounts.FindAccountByID(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	if change {
		if !mayChangeAccounts(currentUser(c), a.Agency) {
			return nil, notFound
		}
		return a, nil
	}
	agencies, all, err := h.registryAgencies(c)
	if err != nil {
		return nil, err
	}
	if !all && !slices.Contains(agencies, a.Agency) {
		return nil, notFound
	}
	return a, nil
}

type accountPage struct {
	Page
	Account   *app.SocialAccount
	Changes   []*app.AccountChange
	Today     string
	CanChange bool
	// CanAuthorize: the viewer is the account's agency's supervisor.
	CanAuthorize bool
	// Posters are the authorizations on the account, running ones first,
	// each newest first.
	Posters []posterRow
}

// accountShow shows an account and its change history in words.
func (h *Handler) accountShow(c *fiber.Ctx) error {
	a, err := h.accountFor(c, false)
	if err != nil {
		return err
	}
	pg := &accountPage{Page: h.page(c, a.Platform+" "+a.Handle), Account: a, Today: h.today(),
		CanChange: mayChangeAccounts(currentUser(c), a.Agency), CanAuthorize: currentUser(c).SupervisorOf == a.Agency}
	pg.Nav = "accounts"
	pg.Wide = true
	if pg.Changes, err = h.Accounts.AccountChanges(c.UserContext(), a.ID); err != nil {
		return err
	}
	auths, err := h.Authorizations.FindAuthorizations(c.UserContext(), app.AuthorizationFilter{AccountID: &a.ID, Today: pg.Today})
	if err != nil {
		return err
	}
	var ended []posterRow
	for _, au := range auths {
		if r := newPosterRow(au, pg.Today, ""); r.StatusCode == app.AuthEnded {
			ended = append(ended, r)
		} else {
			pg.Posters = append(pg.Posters, r)
		}
	}
	pg.Posters = append(pg.Posters, ended...)
	return h.render(c, fiber.StatusOK, "account", pg)
}

type accountFormPage struct {
	Page
	Account  *app.SocialAccount
	Agencies []string // an administrator chooses the agency of a new account
	Statuses []string
	Action   string
	New      bool
}

func (h *Handler) accountForm(c *fiber.Ctx, a *app.SocialAccount, status int, errs FormErrors) error {
	title := "Add an account"
	pg := &accountFormPage{Account: a, Statuses: app.AccountStatuses, Action: "/accounts", New: a.ID == 0}
	if !pg.New {
		title, pg.Action = "Change "+a.Platform+" "+a.Handle, "/accounts/"+strconv.FormatInt(a.ID, 10)
	}
	pg.Page = h.page(c, title)
	pg.Nav = "accounts"
	pg.Errors = errs
	if pg.New && currentUser(c).HasRole(app.RoleAdmin) {
		var err error
		if pg.Agencies, err = h.Employees.Agencies(c.UserContext()); err != nil {
			return err
		}
	}
	return h.render(c, status, "account_form", pg)
}

// accountNew is the form for a new account: a supervisor's is for their
// agency, an administrator chooses one.
func (h *Handler) accountNew(c *fiber.Ctx) error {
	u := currentUser(c)
	a := &app.SocialAccount{Status: app.AccountActive}
	if !u.HasRole(app.RoleAdmin) {
		a.Agency = u.SupervisorOf
	}
	return h.accountForm(c, a, fiber.StatusOK, nil)
}

// accountFromForm reads the form's fields into a.
func accountFromForm(c *fiber.Ctx, a *app.SocialAccount) {
	v := func(k string) string { return strings.TrimSpace(utils.CopyString(c.FormValue(k))) }
	a.Platform, a.Handle, a.URL, a.Purpose = v("platform"), v("handle"), v("url"), v("purpose")
	a.TermsAcceptedBy, a.TermsAcceptedOn, a.ArchiveMethod = v("terms_accepted_by"), v("terms_accepted_on"), v("archive_method")
	a.Status, a.ReviewOn = v("status"), v("review_on")
}

// accountCreate adds an account to the registry.
func (h *Handler) accountCreate(c *fiber.Ctx) error {
	u := currentUser(c)
	a := &app.SocialAccount{}
	accountFromForm(c, a)
	if u.HasRole(app.RoleAdmin) {
		a.Agency = utils.CopyString(c.FormValue("agency"))
		if ok, err := h.knownAgency(c, a.Agency); err != nil {
			return err
		} else if !ok {
			a.Agency = ""
		}
	} else {
		a.Agency = u.SupervisorOf // a supervisor adds to their own agency, whatever the form says
	}
	err := h.Accounts.CreateAccount(c.UserContext(), a, u.ID)
	if app.ErrorCode(err) == app.EINVALID {
		return h.accountForm(c, a, fiber.StatusUnprocessableEntity, formErrorsAt(err, "platform"))
	}
	if err != nil {
		return err
	}
	h.setFlash(c, a.Platform+" "+a.Handle+" is in the registry.")
	return c.Redirect("/accounts/"+strconv.FormatInt(a.ID, 10), fiber.StatusSeeOther)
}

// accountEdit is the form to change an account.
func (h *Handler) accountEdit(c *fiber.Ctx) error {
	a, err := h.accountFor(c, true)
	if err != nil {
		return err
	}
	return h.accountForm(c, a, fiber.StatusOK, nil)
}

// accountUpdate saves a changed account.
func (h *Handler) accountUpdate(c *fiber.Ctx) error {
	a, err := h.accountFor(c, true)
	if err != nil {
		return err
	}
	accountFromForm(c, a)
	err = h.Accounts.UpdateAccount(c.UserContext(), a, currentUser(c).ID)
	if app.ErrorCode(err) == app.EINVALID {
		return h.accountForm(c, a, fiber.StatusUnprocessableEntity, formErrorsAt(err, "platform"))
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "The changes to "+a.Platform+" "+a.Handle+" are saved.")
	return c.Redirect("/accounts/"+strconv.FormatInt(a.ID, 10), fiber.StatusSeeOther)
}

// accountChangeWords says one [field, old, new] change of an account in
// words: statuses and dates as people read them.
func accountChangeWords(ch [3]string) string {
	word := func(v string) string {
		switch {
		case v == "":
			return "(empty)"
		case ch[0] == "status":
			return app.AccountStatusLabel(v)
		case ch[0] == "terms_accepted_on" || ch[0] == "review_on":
			if t, err := time.Parse(app.DateLayout, v); err == nil {
				return t.Format("January 2, 2006")
			}
		}
		return "“" + v + "”"
	}
	label := app.AccountFieldLabels[ch[0]]
	if label == "" {
		label = ch[0]
	}
	if ch[1] == "" {
		return label + ": " + word(ch[2])
	}
	return label + ": " + word(ch[1]) + " changed to " + word(ch[2])
}

// textField is one text input of a form, for partials/account_field.
type textField struct {
	Name, Label, Hint, Value, Error string
	Max                             int
}

func fieldOf(errs FormErrors, name, label, hint, value string, max int) textField {
	return textField{Name: name, Label: label, Hint: hint, Value: value, Error: errs.For(name), Max: max}
}

package handlers

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

// mayView reports whether the user may see agency's posters and terms.
func (h *Handler) mayView(c *fiber.Ctx, agency string) (bool, error) {
	agencies, all, err := h.registryAgencies(c)
	return all || slices.Contains(agencies, agency), err
}

// posterRow is one authorization as /posters shows it.
type posterRow struct {
	*app.Authorization
	StatusCode  string
	StatusLabel string
	TagClass    string
	EndedLabel  string
	CanRevoke   bool // the viewer supervises its agency and it is still running
	ReasonField string
}

type postersPage struct {
	Page
	Agency     string // the supervisor's own agency, "" for someone who only reads
	Current    []posterRow
	Ended      []posterRow
	Unreceived []string // people of the viewer's agencies without the Terms of Comment in force
	Reason     map[string]string
}

var authTagClass = map[string]string{app.AuthActive: "tag-signed", app.AuthEndingSoon: "tag-in_progress",
	app.AuthNotStarted: "tag-not_started", app.AuthEnded: "tag-ended"}

// newPosterRow says a's status on today; the viewer may revoke it if it
// is still running and they supervise its agency (supervisorOf).
func newPosterRow(a *app.Authorization, today, supervisorOf string) posterRow {
	st := a.Status(today)
	r := posterRow{Authorization: a, StatusCode: st, StatusLabel: app.AuthorizationStatusLabel(st), TagClass: authTagClass[st],
		CanRevoke: st != app.AuthEnded && supervisorOf != "" && a.Agency == supervisorOf, ReasonField: "reason-" + strconv.FormatInt(a.ID, 10)}
	if a.Ended != nil {
		r.EndedLabel = app.EndReasonLabel(a.Ended.Reason)
	}
	return r
}

// postersData reads the authorizations the user may see.
func (h *Handler) postersData(c *fiber.Ctx) (*postersPage, error) {
	agencies, all, err := h.registryAgencies(c)
	if err != nil {
		return nil, err
	}
	f := app.AuthorizationFilter{Today: h.today()}
	if !all {
		f.Agencies = agencies
	}
	list, err := h.Authorizations.FindAuthorizations(c.UserContext(), f)
	if err != nil {
		return nil, err
	}
	pg := &postersPage{Page: h.page(c, "Authorized posters"), Agency: currentUser(c).SupervisorOf}
	pg.Nav = "posters"
	today := h.today()
	unreceived := map[string]bool{}
	for _, a := range list {
		r := newPosterRow(a, today, pg.Agency)
		if r.StatusCode == app.AuthEnded {
			pg.Ended = append(pg.Ended, r)
			continue
		}
		pg.Current = append(pg.Current, r)
		if a.TermsInForce > 0 && !a.TermsReceived {
			who := a.EmployeeName + " (" + a.Agency + ")"
			if !unreceived[who] {
				unreceived[who] = true
				pg.Unreceived = append(pg.Unreceived, who)
			}
		}
	}
	slices.Sort(pg.Unreceived)
	return pg, nil
}

func (h *Handler) posters(c *fiber.Ctx) error {
	pg, err := h.postersData(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "posters", pg)
}

// posterRevoke ends one of the supervisor's agency's authorizations;
// another agency's is not found, and nothing changes.
func (h *Handler) posterRevoke(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return app.Errorf(app.ENOTFOUND, "Authorization not found.")
	}
	u := currentUser(c)
	reason := strings.TrimSpace(utils.CopyString(c.FormValue("reason")))
	err = h.Authorizations.Revoke(c.UserContext(), &app.Revocation{AuthorizationID: id, Agency: u.SupervisorOf, Note: reason,
		ActorID: u.ID, IP: h.clientIP(c)})
	if err = h.committed(c, err); err == nil {
		h.setFlash(c, "The authorization is revoked. Change the account's password and second factor if they knew them.")
		return c.Redirect("/posters", fiber.StatusSeeOther)
	}
	status := fiber.StatusUnprocessableEntity
	switch app.ErrorCode(err) {
	case app.EINVALID:
	case app.ECONFLICT:
		status = fiber.StatusConflict
	default:
		return err
	}
	pg, perr := h.postersData(c)
	if perr != nil {
		return perr
	}
	field := "reason-" + strconv.FormatInt(id, 10)
	pg.Errors = formErrorsAt(err, field)
	for i := range pg.Errors {
		pg.Errors[i].Field = field
	}
	pg.Reason = map[string]string{field: reason}
	return h.render(c, status, "posters", pg)
}

// posterForm is the supervisor's form to authorize someone.
type posterForm struct {
	Employee, StartsOn, EndsOn, Scope, Query string
	Accounts                                 []int64
}

// Chose reports whether account id is ticked.
func (f posterForm) Chose(id int64) bool { return slices.Contains(f.Accounts, id) }

type posterNewPage struct {
	Page
	Agency   string
	Accounts []*app.PosterAccount // active ones
	Inactive []*app.PosterAccount // dormant and closed: shown, not offered
	Form     posterForm
	Found    []*app.PersonChoice
	Searched bool
}

func (h *Handler) posterNewData(c *fiber.Ctx, f posterForm) (*posterNewPage, error) {
	agency := currentUser(c).SupervisorOf
	pg := &posterNewPage{Page: h.page(c, "Authorize a poster"), Agency: agency, Form: f}
	pg.Nav = "posters"
	accts, err := h.Authorizations.PosterAccounts(c.UserContext(), agency)
	if err != nil {
		return nil, err
	}
	for _, a := range accts {
		if a.Status == "active" {
			pg.Accounts = append(pg.Accounts, a)
		} else {
			pg.Inactive = append(pg.Inactive, a)
		}
	}
	return pg, nil
}

// posterNew shows the form; ?q= searches the agency's people by name or
// number, and ?employee= fills the person chosen.
func (h *Handler) posterNew(c *fiber.Ctx) error {
	f := posterForm{Employee: strings.TrimSpace(c.Query("employee")), Query: strings.TrimSpace(c.Query("q")), StartsOn: h.today()}
	if len([]rune(f.Query)) > 100 {
		f.Query = string([]rune(f.Query)[:100])
	}
	pg, err := h.posterNewData(c, f)
	if err != nil {
		return err
	}
	if f.Query != "" {
		pg.Searched = true
		if pg.Found, err = h.Authorizations.FindPeople(c.UserContext(), pg.Agency, f.Query, 20); err != nil {
			return err
		}
	}
	return h.render(c, fiber.StatusOK, "posters_new", pg)
}

// posterAuthorize records the authorization, or shows the form again with
// every problem and nothing changed.
func (h *Handler) posterAuthorize(c *fiber.Ctx) error {
	v := func(k string) string { return strings.TrimSpace(utils.CopyString(c.FormValue(k))) }
	f := posterForm{Employee: v("employee"), StartsOn: v("starts_on"), EndsOn: v("ends_on"), Scope: v("scope")}
	bad := false
	for _, raw := range c.Context().PostArgs().PeekMulti("accounts") {
		id, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			bad = true
			continue
		}
		f.Accounts = append(f.Accounts, id)
	}
	u := currentUser(c)
	var err error
	if bad {
		err = app.Invalid("accounts", "One of the accounts chosen is not an account of %s.", u.SupervisorOf)
	} else {
		var done []*app.Authorization
		done, err = h.Authorizations.Authorize(c.UserContext(), &app.AuthorizationRequest{Agency: u.SupervisorOf,
			EmployeeNumber: f.Employee, AccountIDs: f.Accounts, StartsOn: f.StartsOn, EndsOn: f.EndsOn, Scope: f.Scope,
			ActorID: u.ID, IP: h.clientIP(c)})
		if err = h.committed(c, err); err == nil {
			names := make([]string, len(done))
			for i, a := range done {
				names[i] = a.Platform + " " + a.Handle
			}
			h.setFlash(c, done[0].EmployeeName+" is authorized on "+strings.Join(names, ", ")+". They have been sent the Terms of Comment in force.")
			return c.Redirect("/posters", fiber.StatusSeeOther)
		}
	}
	if app.ErrorCode(err) != app.EINVALID {
		return err
	}
	pg, perr := h.posterNewData(c, f)
	if perr != nil {
		return perr
	}
	pg.Errors = formErrors(err)
	return h.render(c, fiber.StatusUnprocessableEntity, "posters_new", pg)
}

// committed turns an error of the work after a committed write into
// success, logged: the authorization or its end is recorded whatever the
// follow-up did.
func (h *Handler) committed(c *fiber.Ctx, err error) error {
	var ce *app.CommittedError
	if errors.As(err, &ce) {
		h.Logger.Error("after a committed poster change", "err", ce.Err, "request", requestID(c))
		return nil
	}
	return err
}

package handlers

import (
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

// hrScope returns the agencies the HR user may see (none: all).
func (h *Handler) hrScope(c *fiber.Ctx) ([]string, error) {
	return h.Scopes.Scope(c.UserContext(), currentUser(c).ID)
}

// hrCycle picks the cycle named by ?cycle=, or the current one, or the newest.
func (h *Handler) hrCycle(c *fiber.Ctx) (*app.Cycle, []*app.Cycle, error) {
	cycles, err := h.Cycles.FindCycles(c.UserContext())
	if err != nil || len(cycles) == 0 {
		return nil, cycles, err
	}
	if id, err := strconv.ParseInt(c.Query("cycle"), 10, 64); err == nil {
		for _, cy := range cycles {
			if cy.ID == id {
				return cy, cycles, nil
			}
		}
		return nil, nil, app.Errorf(app.ENOTFOUND, "Cycle not found.")
	}
	if cur, err := h.Cycles.CurrentCycle(c.UserContext()); err == nil {
		return cur, cycles, nil
	}
	return cycles[0], cycles, nil
}

// bar is one bar of the completion chart.
type bar struct {
	app.Completion
	Label  string
	Y      int // top of the bar in the SVG
	Width  int // signed share, in SVG units out of 330
	LabelY int
}

type dashboardPage struct {
	Page
	Cycle       *app.Cycle
	Cycles      []*app.Cycle
	Agency      string
	Rows        []app.Completion
	Total       app.Completion
	Bars        []bar
	Height      int
	Scope       []string
	NoCycle     bool
	Unreachable int
	Statuses    []string // every status, in the order the figures and table show them
	// MailFault is the mail server refusing the portal, while it lasts.
	MailFault *app.MailFault
}

func (h *Handler) hrDashboard(c *fiber.Ctx) error {
	pg := dashboardPage{Page: h.page(c, "Completion"), Agency: utils.CopyString(c.Query("agency")), Statuses: app.Statuses}
	pg.Nav = "hr"
	var err error
	if pg.MailFault, err = h.mailFault(c); err != nil {
		return err
	}
	cycle, cycles, err := h.hrCycle(c)
	if err != nil {
		return err
	}
	if cycle == nil {
		pg.NoCycle = true
		return h.render(c, fiber.StatusOK, "hr_dashboard", pg)
	}
	pg.Cycle, pg.Cycles = cycle, cycles
	if pg.Scope, err = h.hrScope(c); err != nil {
		return err
	}
	if pg.Agency != "" && len(pg.Scope) > 0 && !slices.Contains(pg.Scope, pg.Agency) {
		return app.Errorf(app.ENOTFOUND, "Agency not found.")
	}
	if pg.Rows, pg.Total, err = h.Dashboard.Completion(c.UserContext(), cycle.ID, pg.Scope, pg.Agency, h.today()); err != nil {
		return err
	}
	if pg.Unreachable, err = h.Dashboard.UnreachableCount(c.UserContext(), pg.Scope); err != nil {
		return err
	}
	for i, r := range pg.Rows {
		label := r.Agency
		if pg.Agency != "" {
			label = r.Department
		}
		// 400 units wide, drawn at 400 px (so a 14-unit label stays 12 px or
		// more on a 390 px phone): the bar is 330 at 100 %, its percentage
		// beside it; a row is 44 units, the label above the bar.
		pg.Bars = append(pg.Bars, bar{Completion: r, Label: label, Y: i*44 + 20, LabelY: i*44 + 14, Width: r.Percent() * 330 / 100})
	}
	pg.Height = len(pg.Rows)*44 + 4
	if pg.Agency != "" {
		pg.Title = pg.Agency
	}
	return h.render(c, fiber.StatusOK, "hr_dashboard", pg)
}

// mailFault returns the mail server's refusal of the portal, or nil.
func (h *Handler) mailFault(c *fiber.Ctx) (*app.MailFault, error) {
	f, err := h.Outbox.MailFault(c.UserContext())
	if app.ErrorCode(err) == app.ENOTFOUND {
		return nil, nil
	}
	return f, err
}

// peopleFilter reads the list and export filters from the query string.
func (h *Handler) peopleFilter(c *fiber.Ctx, cycle *app.Cycle, scope []string) (app.PeopleFilter, error) {
	f := app.PeopleFilter{CycleID: cycle.ID, Scope: scope, Today: h.today(),
		Agency: utils.CopyString(c.Query("agency")), Department: utils.CopyString(c.Query("department")),
		Status: utils.CopyString(c.Query("status")), Query: utils.CopyString(strings.TrimSpace(c.Query("q")))}
	if err := checkStatus(f.Status, hrStatuses); err != nil {
		return f, err
	}
	if len(f.Query) > 200 {
		return f, app.Invalid("q", "The search must be 200 characters or fewer.")
	}
	if f.Agency != "" && len(scope) > 0 && !slices.Contains(scope, f.Agency) {
		return f, app.Errorf(app.ENOTFOUND, "Agency not found.")
	}
	return f, nil
}

type peoplePage struct {
	Page
	Cycle      *app.Cycle
	Cycles     []*app.Cycle
	Filter     app.PeopleFilter
	Agencies   map[string][]string
	AgencyList []string
	People     []*app.PersonStatus
	Total      int
	Pager      Pager
	Query      template.URL // the filters as a query string, for paging and export links (each value is escaped by filterQuery)
	Statuses   []string
}

func (h *Handler) hrPeople(c *fiber.Ctx) error {
	pg := peoplePage{Page: h.page(c, "People"),
		Statuses: hrStatuses}
	pg.Nav = "hr"
	cycle, cycles, err := h.hrCycle(c)
	if err != nil {
		return err
	}
	if cycle == nil {
		return app.Errorf(app.ENOTFOUND, "No cycle has been opened yet.")
	}
	pg.Cycle, pg.Cycles = cycle, cycles
	scope, err := h.hrScope(c)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if pg.Filter, err = h.peopleFilter(c, cycle, scope); err != nil {
		if app.ErrorCode(err) != app.EINVALID {
			return err
		}
		// A filter that cannot be used: the form comes back with the
		// message beside it, and no list, which would not match the form.
		pg.Errors, status = formErrors(err), fiber.StatusUnprocessableEntity
		return h.renderPeople(c, pg, cycle, scope, status)
	}
	pg.Query = template.URL(filterQuery(pg.Filter)) // #nosec G203 -- filterQuery escapes every value with url.QueryEscape
	pg.Pager = newPager(c, "/hr/people", pg.Query)
	pg.Filter.Offset, pg.Filter.Limit = pg.Pager.Offset(), pg.Pager.Limit()
	if pg.People, pg.Total, err = h.Dashboard.People(c.UserContext(), pg.Filter); err != nil {
		return err
	}
	pg.Pager.setTotal(pg.Total)
	return h.renderPeople(c, pg, cycle, scope, status)
}

// renderPeople fills the filter form's choices and renders the people page.
func (h *Handler) renderPeople(c *fiber.Ctx, pg peoplePage, cycle *app.Cycle, scope []string, status int) error {
	var err error
	if pg.Agencies, err = h.Dashboard.Agencies(c.UserContext(), cycle.ID, scope); err != nil {
		return err
	}
	for a := range pg.Agencies {
		pg.AgencyList = append(pg.AgencyList, a)
	}
	slices.Sort(pg.AgencyList)
	return h.render(c, status, "hr_people", pg)
}

// filterQuery writes the filters back as a query string.
func filterQuery(f app.PeopleFilter) string {
	v := make([]string, 0, 5)
	add := func(k, val string) {
		if val != "" {
			v = append(v, k+"="+url.QueryEscape(val))
		}
	}
	add("cycle", strconv.FormatInt(f.CycleID, 10))
	add("agency", f.Agency)
	add("department", f.Department)
	add("status", f.Status)
	add("q", f.Query)
	return strings.Join(v, "&")
}

type personPage struct {
	Page
	Person      *app.Employee
	Manager     *app.Employee
	Assignments []*app.Assignment
	Cycles      map[int64]*app.Cycle
	Acks        []*app.Acknowledgment
	Attempts    []*app.QuizAttempt
	Messages    []*app.Message
	Events      []*app.AuditEvent
	EventsTotal int // events in all; the page shows the newest listCap
	History     []*app.RosterChange
	HistoryAll  int // roster changes in all; the page shows the newest listCap
	Addresses   []*app.AddressChange
	Today       string
	// Unreachable is set when the mail server refused the person's address.
	Unreachable *app.UnreachableAddress
	Paper       paperPanel // views/partials/paper_form.html
	personActions
}

// hrPersonParam finds the person named by :id within the HR user's scope.
func (h *Handler) hrPersonParam(c *fiber.Ctx) (*app.Employee, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return nil, app.Errorf(app.ENOTFOUND, "Person not found.")
	}
	e, err := h.Employees.FindEmployeeByID(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	scope, err := h.hrScope(c)
	if err != nil {
		return nil, err
	}
	if len(scope) > 0 && !slices.Contains(scope, e.Agency) {
		return nil, app.Errorf(app.ENOTFOUND, "Person not found.")
	}
	return e, nil
}

// hrPerson answers "did this person sign, and what exactly?".
func (h *Handler) hrPerson(c *fiber.Ctx) error {
	e, err := h.hrPersonParam(c)
	if err != nil {
		return err
	}
	pg, err := h.personData(c, e)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "hr_person", pg)
}

// personData reads everything the person page shows.
func (h *Handler) personData(c *fiber.Ctx, e *app.Employee) (*personPage, error) {
	ctx := c.UserContext()
	var err error
	pg := &personPage{Page: h.page(c, e.FullName), Person: e, Cycles: map[int64]*app.Cycle{}, Today: h.today()}
	pg.Nav = "hr"
	if e.ManagerID != nil {
		if pg.Manager, err = h.Employees.FindEmployeeByID(ctx, *e.ManagerID); err != nil {
			return nil, err
		}
	}
	if pg.Assignments, err = h.Dashboard.Assignments(ctx, e.ID); err != nil {
		return nil, err
	}
	cycles, err := h.Cycles.FindCycles(ctx)
	if err != nil {
		return nil, err
	}
	for _, cy := range cycles {
		pg.Cycles[cy.ID] = cy
		attempts, err := h.Acks.FindQuizAttempts(ctx, e.ID, cy.ID)
		if err != nil {
			return nil, err
		}
		pg.Attempts = append(pg.Attempts, attempts...)
	}
	if pg.Acks, _, err = h.Acks.FindAcknowledgments(ctx, app.AckFilter{EmployeeID: &e.ID}); err != nil {
		return nil, err
	}
	if pg.Paper, err = h.paperPanelFor(ctx, e, pg.Assignments, pg.Acks); err != nil {
		return nil, err
	}
	if pg.Messages, err = h.Outbox.FindMessagesTo(ctx, e.Email, 100); err != nil {
		return nil, err
	}
	if pg.Events, pg.EventsTotal, err = h.Audit.FindEvents(ctx, "employee", e.ID, listCap); err != nil {
		return nil, err
	}
	if pg.History, pg.HistoryAll, err = h.Identity.History(ctx, e.ID, listCap); err != nil {
		return nil, err
	}
	if pg.Addresses, err = h.Identity.AddressChanges(ctx, e.ID); err != nil {
		return nil, err
	}
	if pg.Unreachable, err = h.Outbox.Unreachable(ctx, e.Email); app.ErrorCode(err) == app.ENOTFOUND {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	if err := h.loadPersonActions(c, pg); err != nil {
		return nil, err
	}
	return pg, nil
}

// hrPersonRetryAddress clears the person's "unreachable" mark ("Try this
// address again"), so that reminders are queued to it again: HR has
// checked the address, or the mailbox is back.
func (h *Handler) hrPersonRetryAddress(c *fiber.Ctx) error {
	e, err := h.hrPersonParam(c)
	if err != nil {
		return err
	}
	actor := currentUser(c).ID
	err = h.Outbox.RetryAddress(c.UserContext(), e.Email, &app.AuditEvent{ActorID: &actor, Action: "mail.address_retried",
		SubjectType: "employee", SubjectID: e.ID, Detail: "e-mail to " + e.Email + " is tried again", IP: c.IP()})
	switch app.ErrorCode(err) {
	case "":
		h.setFlash(c, "Mail to "+e.Email+" will be tried again: reminders are queued to it from the next pass.")
	case app.ENOTFOUND:
		h.setFlash(c, e.Email+" is not marked unreachable; nothing changed.")
	default:
		return err
	}
	return c.Redirect("/hr/people/"+strconv.FormatInt(e.ID, 10), fiber.StatusSeeOther)
}

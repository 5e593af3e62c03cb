package handlers

import (
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// teamRow is one person of the team page: their status and how far they
// have got.
type teamRow struct {
	*app.PersonStatus
	SectionsRead  int
	SectionsTotal int
	Passed        bool
	LastReminder  *time.Time // the latest reminder queued to them in the cycle, scheduled or asked for
	RemindedToday bool
	CanRemind     bool // still to sign, reachable, not reminded today
}

// teamColumn is the header of a sortable column: a link that sorts by it,
// and its aria-sort while it is the order.
type teamColumn struct {
	Href     string
	AriaSort string // "ascending", "descending" or "" when the list is not in this column's order
	Next     string // what the link does, in words
}

// sortChoice is one option of the "Sort by" select.
type sortChoice struct{ Value, Label string }

// sortChoices are the orders the team page offers, in the select's order.
var sortChoices = []sortChoice{
	{app.SortDue, "Due date, earliest first"},
	{"-" + app.SortDue, "Due date, latest first"},
	{app.SortName, "Name, A to Z"},
	{"-" + app.SortName, "Name, Z to A"},
	{"-" + app.SortStatus, "Status, overdue first"},
	{app.SortStatus, "Status, signed first"},
}

// checkSort refuses an order the page does not offer.
func checkSort(sort string) error {
	if _, _, ok := app.ParseSort(sort); !ok {
		return app.Invalid("sort", "Unknown order. Choose an order from the list.")
	}
	return nil
}

// teamColumns makes the sortable headers: each links to its own order,
// ascending first (overdue first for the status), or reversed when the
// list is already in it. The filters are kept; the page goes back to 1.
func teamColumns(f app.PeopleFilter) map[string]teamColumn {
	key, desc, _ := app.ParseSort(f.Sort)
	words := map[string][2]string{
		app.SortName:   {"A to Z", "Z to A"},
		app.SortDue:    {"earliest first", "latest first"},
		app.SortStatus: {"signed first", "overdue first"},
	}
	out := map[string]teamColumn{}
	for k, w := range words {
		next := k // ascending
		if k == app.SortStatus {
			next = "-" + k
		}
		col := teamColumn{}
		if k == key {
			col.AriaSort = "ascending"
			next = "-" + k
			if desc {
				col.AriaSort, next = "descending", k
			}
		}
		col.Next = "sort " + w[0]
		if next[0] == '-' {
			col.Next = "sort " + w[1]
		}
		q := url.Values{}
		for name, v := range map[string]string{"department": f.Department, "status": f.Status, "sort": next} {
			if v != "" {
				q.Set(name, v)
			}
		}
		col.Href = "/team?" + q.Encode()
		out[k] = col
	}
	return out
}

// teamReminder is the manager's reminder request at this moment.
func (h *Handler) teamReminder(c *fiber.Ctx, cycle *app.Cycle) app.TeamReminder {
	now := h.Now()
	return app.TeamReminder{ManagerID: currentUser(c).ID, CycleID: cycle.ID, Now: now,
		DayStart: app.DayStart(now, h.Config.Location), Today: h.today(), IP: h.clientIP(c)}
}

// teamProgress adds each listed person's progress (one query for the
// page), the manager's reminders left today and how many are overdue.
func (h *Handler) teamProgress(c *fiber.Ctx, pg *teamPage) error {
	ctx := c.UserContext()
	v, err := h.Policies.FindVersionByID(ctx, pg.Cycle.PolicyVersionID)
	if err != nil {
		return err
	}
	ids := make([]int64, len(pg.People))
	for i, p := range pg.People {
		ids[i] = p.EmployeeID
	}
	progress, err := h.Team.Progress(ctx, pg.Cycle.ID, v.ID, ids)
	if err != nil {
		return err
	}
	r := h.teamReminder(c, pg.Cycle)
	for _, p := range pg.People {
		row := teamRow{PersonStatus: p}
		if m := progress[p.EmployeeID]; m != nil {
			row.SectionsRead, row.SectionsTotal, row.Passed, row.LastReminder = m.SectionsRead(v), m.SectionsTotal(v), m.Passed, m.LastReminder
		}
		row.RemindedToday = row.LastReminder != nil && !row.LastReminder.Before(r.DayStart)
		switch p.Status {
		case app.StatusOverdue, app.StatusInProgress, app.StatusNotStarted:
			row.CanRemind = !p.Unreachable && !row.RemindedToday
		}
		pg.Rows = append(pg.Rows, row)
	}
	if pg.Quota, err = h.Team.Quota(ctx, r); err != nil {
		return err
	}
	pg.Overdue, err = h.Team.OverdueToRemind(ctx, r)
	return err
}

// teamBack reads where a reminder form came from (the team page's filters,
// order and page) and keeps only those.
func teamBack(c *fiber.Ctx) url.Values {
	in, err := url.ParseQuery(c.FormValue("back"))
	out := url.Values{}
	if err != nil {
		return out
	}
	for _, k := range []string{"department", "status", "sort", "page"} {
		if v := in.Get(k); v != "" && len(v) <= 200 {
			out.Set(k, v)
		}
	}
	return out
}

// teamRefused shows the team page again, as the manager left it, with why
// the reminder was not sent.
func (h *Handler) teamRefused(c *fiber.Ctx, back url.Values, err error, field string) error {
	status := fiber.StatusConflict
	switch app.ErrorCode(err) {
	case app.ECONFLICT:
	case app.ETOOMANY:
		status = fiber.StatusTooManyRequests
	default:
		return err
	}
	pg, perr := h.teamData(c, back)
	if perr != nil {
		return perr
	}
	pg.Errors = append(formErrorsAt(err, field), pg.Errors...)
	pg.Title = "Reminder not sent"
	return h.render(c, status, "team", pg)
}

// teamRemind sends one person of the manager's tree a reminder.
func (h *Handler) teamRemind(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return app.Errorf(app.ENOTFOUND, "Person not found.")
	}
	cycle, err := h.Cycles.CurrentCycle(c.UserContext())
	if err != nil {
		return err
	}
	back := teamBack(c)
	if err := h.Team.RemindOne(c.UserContext(), h.teamReminder(c, cycle), id); err != nil {
		return h.teamRefused(c, back, err, "person-"+strconv.FormatInt(id, 10))
	}
	e, err := h.Employees.FindEmployeeByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	h.KickMail()
	h.setFlash(c, "A reminder to "+e.FullName+" is on its way, saying that you asked for it.")
	to := "/team"
	if q := back.Encode(); q != "" {
		to += "?" + q
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// remindOverduePage is the confirmation before reminding everyone overdue.
type remindOverduePage struct {
	Page
	Cycle   *app.Cycle
	Overdue int // people who would get a reminder now
	Quota   app.ReminderQuota
}

// teamRemindOverdueForm says how many people a reminder would go to, before
// anything is sent.
func (h *Handler) teamRemindOverdueForm(c *fiber.Ctx) error {
	pg, err := h.remindOverdueData(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "team_remind", pg)
}

func (h *Handler) remindOverdueData(c *fiber.Ctx) (*remindOverduePage, error) {
	pg := &remindOverduePage{Page: h.page(c, "Remind everyone overdue")}
	pg.Nav = "team"
	cycle, err := h.Cycles.CurrentCycle(c.UserContext())
	if app.ErrorCode(err) == app.ENOTFOUND {
		return pg, nil // no cycle open: the page says so
	}
	if err != nil {
		return nil, err
	}
	pg.Cycle = cycle
	r := h.teamReminder(c, cycle)
	if pg.Overdue, err = h.Team.OverdueToRemind(c.UserContext(), r); err != nil {
		return nil, err
	}
	if pg.Quota, err = h.Team.Quota(c.UserContext(), r); err != nil {
		return nil, err
	}
	return pg, nil
}

// teamRemindOverdue reminds everyone overdue in the manager's tree, if
// the number is still the one the confirmation page stated.
func (h *Handler) teamRemindOverdue(c *fiber.Ctx) error {
	pg, err := h.remindOverdueData(c)
	if err != nil {
		return err
	}
	if pg.Cycle == nil {
		return app.Errorf(app.ENOTFOUND, "No acknowledgment cycle is open, so there is nobody to remind.")
	}
	if c.FormValue("count") != strconv.Itoa(pg.Overdue) {
		pg.Errors = formError("", "The number of people to remind has changed since the page was shown. Check the new number, then send.")
		return h.render(c, fiber.StatusConflict, "team_remind", pg)
	}
	n, err := h.Team.RemindOverdue(c.UserContext(), h.teamReminder(c, pg.Cycle))
	if app.ErrorCode(err) == app.ETOOMANY {
		pg.Errors = formErrors(err)
		return h.render(c, fiber.StatusTooManyRequests, "team_remind", pg)
	}
	if err != nil {
		return err
	}
	switch n {
	case 0:
		h.setFlash(c, "Nobody overdue needs a reminder now: nothing was sent.")
	case 1:
		h.KickMail()
		h.setFlash(c, "A reminder is on its way to the one person overdue, saying that you asked for it.")
	default:
		h.KickMail()
		h.setFlash(c, "Reminders are on their way to "+strconv.Itoa(n)+" overdue people, saying that you asked for them.")
	}
	return c.Redirect("/team", fiber.StatusSeeOther)
}

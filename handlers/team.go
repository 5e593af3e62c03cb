package handlers

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
	"portal/app/export"
)

type teamPage struct {
	Page
	Cycle       *app.Cycle
	Filter      app.PeopleFilter
	Departments []string
	Counts      app.Completion
	People      []*app.PersonStatus
	Rows        []teamRow
	Columns     map[string]teamColumn // the sortable columns' headers, by sort key
	Sorts       []sortChoice
	Total       int
	Pager       Pager
	Query       template.URL // the filters and the sort, already escaped, for paging links
	Back        string       // the same, unescaped, for the reminder forms to come back to
	Statuses    []string
	Quota       app.ReminderQuota
	Overdue     int // overdue people a "Remind everyone overdue" would reach now
}

// team shows a manager everyone under them, directly or indirectly.
func (h *Handler) team(c *fiber.Ctx) error {
	q := url.Values{}
	for _, k := range []string{"department", "status", "sort", "page", "q"} {
		if v := c.Query(k); v != "" {
			q.Set(k, utils.CopyString(v))
		}
	}
	pg, err := h.teamData(c, q)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if pg.Errors != nil {
		status = fiber.StatusUnprocessableEntity
	}
	return h.render(c, status, "team", pg)
}

// teamData fills the team page for the filters, sort and page in q (the
// query string, or where a reminder form came from).
func (h *Handler) teamData(c *fiber.Ctx, q url.Values) (*teamPage, error) {
	ctx := c.UserContext()
	u := currentUser(c)
	pg := &teamPage{Page: h.page(c, "Your team"),
		Statuses: teamStatuses, Sorts: sortChoices}
	pg.Nav = "team"
	cycle, err := h.Cycles.CurrentCycle(ctx)
	if err != nil {
		if app.ErrorCode(err) == app.ENOTFOUND {
			return pg, nil
		}
		return nil, err
	}
	pg.Cycle = cycle
	pg.Filter = app.PeopleFilter{CycleID: cycle.ID, ManagerID: &u.ID, Today: h.today(),
		Department: q.Get("department"), Status: q.Get("status"), Sort: q.Get("sort"), Query: strings.TrimSpace(q.Get("q"))}
	// A status or an order the page does not offer: the page comes back
	// with the message beside the filter, and the counts, but no list.
	pg.Errors = formErrors(errors.Join(checkSearch(pg.Filter.Query), checkStatus(pg.Filter.Status, teamStatuses), checkSort(pg.Filter.Sort)))
	all := pg.Filter
	all.Department, all.Status, all.Sort = "", "", ""
	if pg.Counts, err = h.Dashboard.Counts(ctx, all); err != nil {
		return nil, err
	}
	// One walk of the tree (an export of everyone would walk it for every
	// batch of 500: dozens of times for a big team).
	if pg.Departments, err = h.Team.Departments(ctx, cycle.ID, u.ID); err != nil {
		return nil, err
	}
	if pg.Errors != nil {
		return pg, nil
	}
	pg.Columns = teamColumns(pg.Filter)
	query := url.Values{}
	for k, v := range map[string]string{"department": pg.Filter.Department, "status": pg.Filter.Status, "sort": pg.Filter.Sort, "q": pg.Filter.Query} {
		if v != "" {
			query.Set(k, v)
		}
	}
	pg.Query = template.URL(query.Encode()) // #nosec G203 -- url.Values.Encode has escaped every value
	pg.Pager = newPager(c, "/team", pg.Query)
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n >= 1 && n <= 1_000_000 {
		pg.Pager.PageNo = n
	}
	if pg.Pager.PageNo > 1 {
		query.Set("page", strconv.Itoa(pg.Pager.PageNo))
	}
	pg.Back = query.Encode()
	pg.Filter.Offset, pg.Filter.Limit = pg.Pager.Offset(), pg.Pager.Limit()
	if pg.People, pg.Total, err = h.Dashboard.People(ctx, pg.Filter); err != nil {
		return nil, err
	}
	pg.Pager.setTotal(pg.Total)
	if err := h.teamProgress(c, pg); err != nil {
		return nil, err
	}
	return pg, nil
}

// teamZip exports the signed certificates of the manager's tree (or one
// department of it).
func (h *Handler) teamZip(c *fiber.Ctx) error {
	u := currentUser(c)
	cycle, err := h.Cycles.CurrentCycle(c.UserContext())
	if err != nil {
		return err
	}
	f := app.PeopleFilter{CycleID: cycle.ID, ManagerID: &u.ID, Department: utils.CopyString(c.Query("department")), Today: h.today()}
	name := fmt.Sprintf("certificates-%d-team-of-%s", cycle.Year, u.FullName)
	if f.Department != "" {
		name += "-" + f.Department
	}
	return h.streamZip(c, cycle, f, name)
}

// hrZip exports the signed certificates of an agency or department within
// the HR user's scope (or everyone, for an unscoped HR user).
func (h *Handler) hrZip(c *fiber.Ctx) error {
	cycle, _, err := h.hrCycle(c)
	if err != nil {
		return err
	}
	if cycle == nil {
		return app.Errorf(app.ENOTFOUND, "No cycle has been opened yet.")
	}
	scope, err := h.hrScope(c)
	if err != nil {
		return err
	}
	f, err := h.peopleFilter(c, cycle, scope)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("certificates-%d", cycle.Year)
	for _, part := range []string{f.Agency, f.Department} {
		if part != "" {
			name += "-" + part
		}
	}
	return h.streamZip(c, cycle, f, name)
}

// streamZip takes a place among the exports at once, checks the rate limit,
// records the export in the evidence chain and streams the ZIP.
func (h *Handler) streamZip(c *fiber.Ctx, cycle *app.Cycle, f app.PeopleFilter, name string) error {
	if err := refuseCrossSite(c); err != nil {
		return err
	}
	slot, err := h.enterExport(c)
	if err != nil {
		return err
	}
	defer slot.done()
	u := currentUser(c)
	if !h.ExportLimit.Allow("export:" + strconv.FormatInt(u.ID, 10)) {
		return app.Errorf(app.ETOOMANY, "You have made several exports in the last few minutes. Please wait a few minutes and try again.")
	}
	counts, err := h.Dashboard.Counts(c.UserContext(), f)
	if err != nil {
		return err
	}
	if counts.Done() == 0 {
		return app.Errorf(app.ENOTFOUND, "Nobody here has signed in this cycle yet, so there is nothing to export.")
	}
	if err := h.Audit.RecordEvent(c.UserContext(), &app.AuditEvent{ActorID: &u.ID, Action: "certificates.exported",
		SubjectType: "cycle", SubjectID: cycle.ID, IP: h.clientIP(c),
		Detail: fmt.Sprintf("%d certificates; %s", counts.Done(), filterQuery(f))}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, ContentDisposition(name+".zip"))
	h.streamExport(c, slot, "certificates.zip", func(ctx context.Context, w io.Writer) error {
		_, err := h.Certificates.Write(ctx, w, f)
		return err
	})
	return nil
}

// ContentDisposition makes an attachment header that any browser reads
// right (RFC 6266): an ASCII fallback name and the exact name in UTF-8
// (RFC 8187). The extension is kept in the fallback only if it is plain
// letters and digits, so nothing in name can end the quoted string.
func ContentDisposition(name string) string {
	base, ext := name, ""
	if i := strings.LastIndex(name, "."); i > 0 && plainExt(name[i+1:]) {
		base, ext = name[:i], name[i:]
	}
	ascii := export.Slug(base)
	if ascii == "" {
		ascii = "download"
	}
	return `attachment; filename="` + ascii + ext + `"; filename*=UTF-8''` + extValue(name)
}

func plainExt(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// extValue percent-encodes every byte of s that RFC 8187 does not allow
// unencoded (url.PathEscape leaves ':', '=', '@' and others that it does not).
func extValue(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// checkSearch refuses a search longer than the search field allows.
func checkSearch(q string) error {
	if len(q) > 200 {
		return app.Invalid("q", "The search must be 200 characters or fewer.")
	}
	return nil
}

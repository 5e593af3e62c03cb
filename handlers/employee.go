package handlers

import (
	"html/template"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portal/app"
	"portal/app/content"
)

// progress is where e stands in the acknowledgment the route is about: the
// annual one, or the kind named by :kind (unknown: not found; one e does not
// owe: a page that says so).
func (h *Handler) progress(c *fiber.Ctx, e *app.Employee) (*app.Progress, error) {
	code := c.Params("kind")
	if code == "" {
		return app.LoadProgress(c.UserContext(), h.Cycles, h.Kinds, h.Policies, h.Acks, e)
	}
	k, err := h.Kinds.FindKind(c.UserContext(), code)
	if err != nil {
		return nil, err
	}
	cycle, err := h.Kinds.OpenCycleOf(c.UserContext(), k.Code, e.ID)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return nil, app.Errorf(app.ENOTFOUND, "You are not asked to sign the %s at the moment, so there is nothing to do here. Your home page lists what you are asked to sign.", lowerFirst(k.Title))
	}
	if err != nil {
		return nil, err
	}
	return app.LoadProgressIn(c.UserContext(), cycle, h.Kinds, h.Policies, h.Acks, e)
}

func (h *Handler) today() string { return app.Today(h.Now(), h.Config.Location) }

type homePage struct {
	Page
	Progress *app.Progress
	Status   string
	NoCycle  bool
	History  []*app.Acknowledgment
	// SupervisedAccounts are the accounts of the agency the person is the
	// Social Media Supervisor of (none for anyone else).
	SupervisedAccounts []*app.SocialAccount
	Today              string
	// TermsToRead are the Terms of Comment versions given to the person
	// (a poster) that they have not confirmed yet.
	TermsToRead []*app.TermsTask
	Tasks       []homeTask // every acknowledgment the person is asked to sign, the annual one first
}

// homeTask is one acknowledgment on the home page's task list.
type homeTask struct {
	Title  string
	Href   string // the next step, or the certificate once signed
	Status string
	DueOn  string
	Ack    *app.Acknowledgment
}

// task makes a task-list entry of a progress, whose journey is under base.
func (h *Handler) task(p *app.Progress, base string) homeTask {
	t := homeTask{Title: p.Kind.Title, Status: p.Status(h.today()), DueOn: p.DueOn, Ack: p.Ack}
	switch p.NextStep() {
	case "done":
		t.Href = "/certificates/" + url.PathEscape(p.Ack.VerifyCode)
	default:
		t.Href = base + "/" + p.NextStep()
	}
	return t
}

// otherTasks lists the acknowledgments other than the annual one that e is
// asked to sign (the agency-use one of an authorized poster), after
// bringing e's assignments up to date with their authorizations.
func (h *Handler) otherTasks(c *fiber.Ctx, e *app.Employee, annual *app.Progress) ([]homeTask, error) {
	ctx := c.UserContext()
	if err := h.Kinds.SyncAuthorizationKinds(ctx, e.ID); err != nil {
		return nil, err
	}
	kinds, err := h.Kinds.FindKinds(ctx)
	if err != nil {
		return nil, err
	}
	var out []homeTask
	for _, k := range kinds {
		if annual != nil && k.Code == annual.Kind.Code {
			continue
		}
		cycle, err := h.Kinds.OpenCycleOf(ctx, k.Code, e.ID)
		if app.ErrorCode(err) == app.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		if annual != nil && cycle.ID == annual.Cycle.ID {
			continue
		}
		p, err := app.LoadProgressIn(ctx, cycle, h.Kinds, h.Policies, h.Acks, e)
		if err != nil {
			return nil, err
		}
		out = append(out, h.task(p, kindPrefix+url.PathEscape(k.Code)))
	}
	return out, nil
}

func (h *Handler) home(c *fiber.Ctx) error {
	e := currentUser(c)
	if e == nil {
		return h.signInForm(c)
	}
	pg := homePage{Page: h.page(c, "Your social media policy acknowledgment")}
	pg.Nav = "home"
	p, err := h.progress(c, e)
	switch {
	case err == nil:
		pg.Progress, pg.Status = p, p.Status(h.today())
		pg.Tasks = append(pg.Tasks, h.task(p, ""))
	case app.ErrorCode(err) == app.ENOTFOUND:
		pg.NoCycle = true
	default:
		return err
	}
	others, err := h.otherTasks(c, e, pg.Progress)
	if err != nil {
		return err
	}
	pg.Tasks = append(pg.Tasks, others...)
	if pg.History, _, err = h.Acks.FindAcknowledgments(c.UserContext(), app.AckFilter{EmployeeID: &e.ID}); err != nil {
		return err
	}
	if e.SupervisorOf != "" {
		if pg.SupervisedAccounts, err = h.Accounts.FindAccounts(c.UserContext(), app.AccountFilter{Agencies: []string{e.SupervisorOf}}); err != nil {
			return err
		}
		pg.Today = h.today()
	}
	if pg.TermsToRead, err = h.termsToRead(c, e); err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "home", pg)
}

type moduleLink struct {
	app.Module
	Read bool
}

type guidancePage struct {
	Page
	Progress *app.Progress
	Since    *app.Acknowledgment // the last acknowledgment of another version, for "what changed"
	Modules  []moduleLink
	Module   *app.Module
	Body     template.HTML
	Index    int // 1-based position of Module
	Next     string
	Prev     string
}

func (h *Handler) guidanceData(c *fiber.Ctx, title string) (*guidancePage, error) {
	e := currentUser(c)
	p, err := h.progress(c, e)
	if err != nil {
		return nil, err
	}
	pg := &guidancePage{Page: h.page(c, title), Progress: p}
	pg.Nav = "guidance"
	for _, m := range p.Version.ModulesFor(p.Part()) {
		_, ok := p.Read[m.Slug]
		pg.Modules = append(pg.Modules, moduleLink{m, ok})
	}
	return pg, nil
}

func (h *Handler) guidanceIndex(c *fiber.Ctx) error {
	pg, err := h.guidanceData(c, "Guidance")
	if err != nil {
		return err
	}
	// Only the index offers "what changed since you last signed".
	if pg.Since, err = h.lastOtherAck(c, pg.Progress); err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "guidance", pg)
}

func (h *Handler) guidanceModule(c *fiber.Ctx) error {
	pg, err := h.guidanceData(c, "Guidance")
	if err != nil {
		return err
	}
	slug := c.Params("slug")
	for i := range pg.Modules {
		if pg.Modules[i].Slug != slug {
			continue
		}
		pg.Module, pg.Index, pg.Title = &pg.Modules[i].Module, i+1, pg.Modules[i].Title
		if i > 0 {
			pg.Prev = pg.Modules[i-1].Slug
		}
		if i+1 < len(pg.Modules) {
			pg.Next = pg.Modules[i+1].Slug
		}
		if pg.Body, err = h.Markdown(pg.Module.Body); err != nil {
			return err
		}
		return h.render(c, fiber.StatusOK, "module", pg)
	}
	return app.Errorf(app.ENOTFOUND, "There is no guidance module with that name.")
}

// guidanceRead records that a module was read and moves on to the next one.
func (h *Handler) guidanceRead(c *fiber.Ctx) error {
	pg, err := h.guidanceData(c, "Guidance")
	if err != nil {
		return err
	}
	slug := c.Params("slug")
	for i, m := range pg.Modules {
		if m.Slug != slug {
			continue
		}
		if err := h.Acks.MarkModuleRead(c.UserContext(), currentUser(c).ID, pg.Progress.Cycle.ID, slug); err != nil {
			return err
		}
		if i+1 < len(pg.Modules) {
			return c.Redirect(pg.Base+"/guidance/"+pg.Modules[i+1].Slug, fiber.StatusSeeOther)
		}
		h.setFlash(c, "You have read all the guidance. Next: the knowledge check.")
		return c.Redirect(pg.Base+"/quiz", fiber.StatusSeeOther)
	}
	return app.Errorf(app.ENOTFOUND, "There is no guidance module with that name.")
}

type changesPage struct {
	Page
	Progress *app.Progress
	Since    *app.Acknowledgment
	Changes  []content.Change
}

// lastOtherAck returns the employee's latest acknowledgment of a version
// other than the current one, if any.
func (h *Handler) lastOtherAck(c *fiber.Ctx, p *app.Progress) (*app.Acknowledgment, error) {
	e := currentUser(c)
	acks, _, err := h.Acks.FindAcknowledgments(c.UserContext(), app.AckFilter{EmployeeID: &e.ID}) // newest first; a few a person
	if err != nil || len(acks) == 0 || acks[0].PolicyVersionID == p.Version.ID {
		return nil, err
	}
	return acks[0], nil
}

// guidanceChanges shows what changed since the version the employee last signed.
func (h *Handler) guidanceChanges(c *fiber.Ctx) error {
	p, err := h.progress(c, currentUser(c))
	if err != nil {
		return err
	}
	pg := changesPage{Page: h.page(c, "What changed since you last signed"), Progress: p}
	pg.Nav = "guidance"
	if pg.Since, err = h.lastOtherAck(c, p); err != nil {
		return err
	}
	if pg.Since != nil {
		old, err := h.Policies.FindVersionByID(c.UserContext(), pg.Since.PolicyVersionID)
		if err != nil {
			return err
		}
		for _, ch := range content.Diff(old, p.Version) {
			if ch.Kind == content.ChangeModule && ch.Audience != p.Part() {
				continue // a section of another part: another acknowledgment's
			}
			pg.Changes = append(pg.Changes, ch)
		}
	}
	return h.render(c, fiber.StatusOK, "changes", pg)
}

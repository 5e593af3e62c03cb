package handlers

import (
	"html/template"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
	"portal/app/content"
)

type termsPage struct {
	Page
	Agency     string   // whose versions are listed
	Agencies   []string // the agencies the viewer may choose between (HR, administrators)
	Versions   []*app.TermsOfComment
	CanPublish bool          // the viewer supervises Agency
	Body       string        // the text being written
	Preview    template.HTML // its rendering, before publishing
}

// termsAgency is the agency /terms shows: ?agency= when the viewer may
// see it, else the supervisor's own, else the first they may see.
func (h *Handler) termsAgency(c *fiber.Ctx) (string, []string, error) {
	agencies, all, err := h.registryAgencies(c)
	if err != nil {
		return "", nil, err
	}
	if all {
		if agencies, err = h.Employees.Agencies(c.UserContext()); err != nil {
			return "", nil, err
		}
	}
	slices.Sort(agencies)
	want := c.Query("agency")
	switch {
	case want != "" && slices.Contains(agencies, want):
		return want, agencies, nil
	case want != "":
		return "", nil, app.Errorf(app.ENOTFOUND, "Agency not found.")
	case currentUser(c).SupervisorOf != "":
		return currentUser(c).SupervisorOf, agencies, nil
	case len(agencies) > 0:
		return agencies[0], agencies, nil
	}
	return "", agencies, nil
}

func (h *Handler) termsData(c *fiber.Ctx, agency string, agencies []string) (*termsPage, error) {
	pg := &termsPage{Page: h.page(c, "Terms of Comment"), Agency: agency, Agencies: agencies,
		CanPublish: agency != "" && currentUser(c).SupervisorOf == agency}
	pg.Nav = "posters"
	if agency == "" {
		return pg, nil
	}
	var err error
	pg.Versions, err = h.Terms.FindTerms(c.UserContext(), agency)
	return pg, err
}

func (h *Handler) termsIndex(c *fiber.Ctx) error {
	agency, agencies, err := h.termsAgency(c)
	if err != nil {
		return err
	}
	pg, err := h.termsData(c, agency, agencies)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "terms", pg)
}

// termsPublish previews the supervisor's text (action=preview) or
// publishes it as the agency's next version (action=publish): the page
// shows the rendering first, so that what is published, and sent to every
// poster, is what the supervisor saw.
func (h *Handler) termsPublish(c *fiber.Ctx) error {
	u := currentUser(c)
	body := utils.CopyString(c.FormValue("body"))
	pg, err := h.termsData(c, u.SupervisorOf, []string{u.SupervisorOf})
	if err != nil {
		return err
	}
	pg.Body = body
	if err := app.ValidateTermsBody(body); err != nil {
		pg.Errors = formErrors(err)
		return h.render(c, fiber.StatusUnprocessableEntity, "terms", pg)
	}
	if c.FormValue("action") != "publish" {
		// A fresh renderer: drafts are not kept in the shared cache.
		if pg.Preview, err = content.Markdown(app.NormalizeTerms(body)); err != nil {
			return err
		}
		pg.Title = "Preview: Terms of Comment"
		return h.render(c, fiber.StatusOK, "terms", pg)
	}
	actor := u.ID
	t := &app.TermsOfComment{Agency: u.SupervisorOf, Body: body, PublishedBy: &actor}
	if err := h.Terms.PublishTerms(c.UserContext(), t, h.clientIP(c)); err != nil {
		switch app.ErrorCode(err) {
		case app.EINVALID:
			pg.Errors = formErrors(err)
			return h.render(c, fiber.StatusUnprocessableEntity, "terms", pg)
		case app.ECONFLICT:
			pg.Errors = formErrorsAt(err, "body")
			return h.render(c, fiber.StatusConflict, "terms", pg)
		}
		return err
	}
	h.setFlash(c, "Version "+strconv.Itoa(t.Version)+" of the Terms of Comment is published and is being sent to every authorized poster.")
	return c.Redirect("/terms/"+strconv.FormatInt(t.ID, 10), fiber.StatusSeeOther)
}

type termsVersionPage struct {
	Page
	Terms *app.TermsOfComment
	Body  template.HTML
	// For a poster's own page (/my/terms/:id): whether it was given to
	// them and when they confirmed it.
	Task *app.TermsTask
	Own  bool
}

func termsParam(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return 0, app.Errorf(app.ENOTFOUND, "Terms of Comment not found.")
	}
	return id, nil
}

// termsShow shows one version to whoever may see its agency (404 otherwise).
func (h *Handler) termsShow(c *fiber.Ctx) error {
	id, err := termsParam(c)
	if err != nil {
		return err
	}
	t, err := h.Terms.FindTermsByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	if ok, err := h.mayView(c, t.Agency); err != nil {
		return err
	} else if !ok {
		return app.Errorf(app.ENOTFOUND, "Terms of Comment not found.")
	}
	pg := termsVersionPage{Page: h.page(c, t.Agency+" Terms of Comment, version "+strconv.Itoa(t.Version)), Terms: t}
	pg.Nav = "posters"
	if pg.Body, err = h.Markdown(t.Body); err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "terms_version", pg)
}

// myTermsData reads a version given to the signed-in person; any other is
// not found.
func (h *Handler) myTermsData(c *fiber.Ctx) (*termsVersionPage, error) {
	id, err := termsParam(c)
	if err != nil {
		return nil, err
	}
	tasks, err := h.Terms.TermsTasks(c.UserContext(), currentUser(c).ID)
	if err != nil {
		return nil, err
	}
	var task *app.TermsTask
	for _, k := range tasks {
		if k.TermsID == id {
			task = k
		}
	}
	if task == nil {
		return nil, app.Errorf(app.ENOTFOUND, "Terms of Comment not found.")
	}
	t, err := h.Terms.FindTermsByID(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	pg := &termsVersionPage{Page: h.page(c, "Your agency's Terms of Comment, version "+strconv.Itoa(t.Version)), Terms: t, Task: task, Own: true}
	pg.Nav = "home"
	if pg.Body, err = h.Markdown(t.Body); err != nil {
		return nil, err
	}
	return pg, nil
}

func (h *Handler) myTerms(c *fiber.Ctx) error {
	pg, err := h.myTermsData(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "terms_version", pg)
}

// myTermsReceive records that the person has the version (evidence).
func (h *Handler) myTermsReceive(c *fiber.Ctx) error {
	pg, err := h.myTermsData(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		pg.Errors = formError("confirm", "Tick the box to confirm that you have read these Terms of Comment.")
		return h.render(c, fiber.StatusUnprocessableEntity, "terms_version", pg)
	}
	err = h.Terms.ReceiveTerms(c.UserContext(), &app.TermsReceipt{TermsID: pg.Terms.ID, EmployeeID: currentUser(c).ID,
		IP: h.clientIP(c), UserAgent: utils.CopyString(c.Get(fiber.HeaderUserAgent))})
	if app.ErrorCode(err) == app.ECONFLICT {
		h.setFlash(c, app.ErrorMessage(err))
		return c.Redirect("/my/terms/"+strconv.FormatInt(pg.Terms.ID, 10), fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "Thank you: your receipt of version "+strconv.Itoa(pg.Terms.Version)+" of the Terms of Comment is recorded.")
	return c.Redirect("/", fiber.StatusSeeOther)
}

// termsToRead lists the versions given to e not yet confirmed, newest first.
func (h *Handler) termsToRead(c *fiber.Ctx, e *app.Employee) ([]*app.TermsTask, error) {
	tasks, err := h.Terms.TermsTasks(c.UserContext(), e.ID)
	if err != nil {
		return nil, err
	}
	var out []*app.TermsTask
	for _, k := range tasks {
		if k.ReceivedAt == nil {
			out = append(out, k)
		}
	}
	return out, nil
}

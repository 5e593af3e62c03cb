package handlers

import (
	"html/template"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"portal/app"
	"portal/app/content"
)

// progress loads where the employee stands in the current cycle. It returns
// ENOTFOUND when no cycle is open.
func (h *Handler) progress(c *fiber.Ctx, e *app.Employee) (*app.Progress, error) {
	return app.LoadProgress(c.UserContext(), h.Cycles, h.Policies, h.Acks, e)
}

func (h *Handler) today() string { return app.Today(h.Now(), h.Config.Location) }

type homePage struct {
	Page
	Progress *app.Progress
	Status   string
	NoCycle  bool
	History  []*app.Acknowledgment
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
	case app.ErrorCode(err) == app.ENOTFOUND:
		pg.NoCycle = true
	default:
		return err
	}
	if pg.History, _, err = h.Acks.FindAcknowledgments(c.UserContext(), app.AckFilter{EmployeeID: &e.ID}); err != nil {
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
	for _, m := range p.Version.ModulesFor(e) {
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
			return c.Redirect("/guidance/"+pg.Modules[i+1].Slug, fiber.StatusSeeOther)
		}
		h.setFlash(c, "You have read all the guidance. Next: the knowledge check.")
		return c.Redirect("/quiz", fiber.StatusSeeOther)
	}
	return app.Errorf(app.ENOTFOUND, "There is no guidance module with that name.")
}

type quizQuestion struct {
	app.Question
	Number   int
	Prompt   template.HTML
	Selected string
	Wrong    bool
}

type quizPage struct {
	Page
	Progress  *app.Progress
	Questions []quizQuestion
	PassMark  int
	Error     string
	Attempt   *app.QuizAttempt
}

func (h *Handler) quizData(c *fiber.Ctx, p *app.Progress, answers map[string]string, wrong []string) (*quizPage, error) {
	pg := &quizPage{Page: h.page(c, "Knowledge check"), Progress: p, PassMark: h.Config.PassMark}
	pg.Nav = "quiz"
	isWrong := map[string]bool{}
	for _, id := range wrong {
		isWrong[id] = true
	}
	for i, q := range p.Version.QuestionsFor(currentUser(c)) {
		prompt, err := h.Markdown(q.Prompt)
		if err != nil {
			return nil, err
		}
		pg.Questions = append(pg.Questions, quizQuestion{Question: q, Number: i + 1, Prompt: prompt,
			Selected: answers[q.ID], Wrong: isWrong[q.ID]})
	}
	return pg, nil
}

func (h *Handler) quizForm(c *fiber.Ctx) error {
	p, err := h.progress(c, currentUser(c))
	if err != nil {
		return err
	}
	pg, err := h.quizData(c, p, nil, nil)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "quiz", pg)
}

// quizSubmit grades and records an attempt. An answer that is not among a
// question's options is refused and nothing is recorded.
func (h *Handler) quizSubmit(c *fiber.Ctx) error {
	e := currentUser(c)
	p, err := h.progress(c, e)
	if err != nil {
		return err
	}
	if !p.GuidanceDone() {
		return app.Errorf(app.EINVALID, "Read all the guidance before taking the knowledge check.")
	}
	answers := map[string]string{}
	args := c.Request().PostArgs()
	var bad bool
	for k, v := range args.All() {
		key := string(k)
		if len(key) > 2 && key[:2] == "q." {
			if _, dup := answers[key[2:]]; dup {
				bad = true
			}
			answers[key[2:]] = string(v)
		}
	}
	a, err := app.GradeQuiz(p.Version, e, answers, h.Config.PassMark)
	if bad && err == nil {
		err = app.Errorf(app.EINVALID, "A question was answered twice. Please answer again.")
	}
	if err != nil {
		if app.ErrorCode(err) != app.EINVALID {
			return err
		}
		pg, perr := h.quizData(c, p, answers, nil)
		if perr != nil {
			return perr
		}
		pg.Error = app.ErrorMessage(err)
		return h.render(c, fiber.StatusUnprocessableEntity, "quiz", pg)
	}
	a.CycleID = p.Cycle.ID
	if err := h.Acks.CreateQuizAttempt(c.UserContext(), a); err != nil {
		return err
	}
	return c.Redirect("/quiz/attempts/"+strconv.FormatInt(a.ID, 10), fiber.StatusSeeOther)
}

type quizResultPage struct {
	Page
	Attempt *app.QuizAttempt
	Wrong   []quizQuestion
}

// quizResult shows an attempt to its owner: which questions were wrong, never
// the right answers.
func (h *Handler) quizResult(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return app.Errorf(app.ENOTFOUND, "Quiz attempt not found.")
	}
	a, err := h.Acks.FindQuizAttempt(c.UserContext(), id)
	if err != nil {
		return err
	}
	if a.EmployeeID != currentUser(c).ID {
		return app.Errorf(app.ENOTFOUND, "Quiz attempt not found.")
	}
	v, err := h.Policies.FindVersionByID(c.UserContext(), a.PolicyVersionID)
	if err != nil {
		return err
	}
	pg := quizResultPage{Page: h.page(c, "Knowledge check result"), Attempt: a}
	pg.Nav = "quiz"
	wrong := map[string]bool{}
	for _, w := range a.Wrong {
		wrong[w] = true
	}
	for i, q := range v.QuestionsFor(currentUser(c)) {
		if wrong[q.ID] {
			prompt, err := h.Markdown(q.Prompt)
			if err != nil {
				return err
			}
			pg.Wrong = append(pg.Wrong, quizQuestion{Question: q, Number: i + 1, Prompt: prompt})
		}
	}
	return h.render(c, fiber.StatusOK, "quiz_result", pg)
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
		poster := currentUser(c).HasRole(app.RolePoster)
		for _, ch := range content.Diff(old, p.Version) {
			if ch.Kind == content.ChangeModule && ch.Audience == app.AudiencePosters && !poster {
				continue
			}
			pg.Changes = append(pg.Changes, ch)
		}
	}
	return h.render(c, fiber.StatusOK, "changes", pg)
}

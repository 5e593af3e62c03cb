package handlers

import (
	"html/template"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// The knowledge check is paged: one section (guidance module) a page, then a
// page to check the answers, then the result. The draw and the answers so far
// are kept server-side (app.QuizDraft), so paging back and forth, a reload or
// another device all show the same questions with the answers given.

type quizQuestion struct {
	ID       string
	Field    string // the id of its fieldset, and its error's field
	Number   int    // in the whole check
	Section  int
	Prompt   template.HTML
	Options  []app.Option // in the order this attempt shows them
	Selected string
	Chosen   string // the text of the selected option
}

type quizSection struct {
	Number    int
	Module    app.Module
	Questions []quizQuestion
}

type quizPage struct {
	Page
	Progress   *app.Progress
	PassMark   int
	DrawID     string
	Sections   []quizSection
	Total      int // questions
	Answered   int
	Section    *quizSection // the section page's section
	Unanswered []quizQuestion
	PerModule  int    // questions drawn from each section, at most
	Next       string // where to carry on: the first section with a question unanswered, or the check
}

// quizDraft returns the employee's check in progress, or nil when none is
// (the guidance is not read yet, the check is not started, or the draw no
// longer fits what they must read). Only starting draws: a GET changes nothing.
func (h *Handler) quizDraft(c *fiber.Ctx) (*app.Progress, *app.QuizDraft, error) {
	e := currentUser(c)
	p, err := h.progress(c, e)
	if err != nil {
		return nil, nil, err
	}
	if !p.GuidanceDone() {
		return p, nil, nil
	}
	d, err := h.Acks.FindQuizDraft(c.UserContext(), e.ID, p.Version.ID, p.Kind.Code)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return p, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if app.CheckDraw(p.Version, p.Part(), d.Shown) != nil {
		return p, nil, nil
	}
	return p, d, nil
}

// errNoDraft answers a form posted for a check that is not in progress.
var errNoDraft = app.Errorf(app.EINVALID, "Your knowledge check has not started, or has been started again. Start it from the knowledge check page.")

// quizStart draws the check, or carries on with the one in progress: a draw
// is replaced only once an attempt is recorded.
func (h *Handler) quizStart(c *fiber.Ctx) error {
	e := currentUser(c)
	p, err := h.progress(c, e)
	if err != nil {
		return err
	}
	if !p.GuidanceDone() {
		return app.Errorf(app.EINVALID, "Read all the guidance before taking the knowledge check.")
	}
	d, err := app.OpenQuizDraft(c.UserContext(), h.Acks, p.Version, p.Kind, e)
	if err != nil {
		return err
	}
	pg, err := h.quizData(c, "Knowledge check", p, d)
	if err != nil {
		return err
	}
	return c.Redirect(pg.Next, fiber.StatusSeeOther)
}

// quizData lays the draw out in sections, with the answers given so far.
func (h *Handler) quizData(c *fiber.Ctx, title string, p *app.Progress, d *app.QuizDraft) (*quizPage, error) {
	pg := &quizPage{Page: h.page(c, title), Progress: p, PassMark: p.Kind.PassMarkOr(h.Config.PassMark)}
	pg.Nav = "quiz"
	pg.PerModule = app.QuestionsPerModule
	if d == nil {
		return pg, nil
	}
	pg.DrawID = app.DrawID(d.Shown)
	v := p.Version
	for _, s := range d.Shown {
		q := v.Question(s.ID)
		if len(pg.Sections) == 0 || pg.Sections[len(pg.Sections)-1].Module.Slug != q.Module {
			pg.Sections = append(pg.Sections, quizSection{Number: len(pg.Sections) + 1, Module: *v.Module(q.Module)})
		}
		sec := &pg.Sections[len(pg.Sections)-1]
		prompt, err := h.Markdown(q.Prompt)
		if err != nil {
			return nil, err
		}
		pg.Total++
		qq := quizQuestion{ID: q.ID, Field: app.QuestionField(q.ID), Number: pg.Total, Section: sec.Number,
			Prompt: prompt, Selected: d.Answers[q.ID]}
		for _, key := range s.Options {
			for _, o := range q.Options {
				if o.Key == key {
					qq.Options = append(qq.Options, o)
					if key == qq.Selected {
						qq.Chosen = o.Text
					}
				}
			}
		}
		if qq.Selected != "" {
			pg.Answered++
		} else {
			pg.Unanswered = append(pg.Unanswered, qq)
		}
		sec.Questions = append(sec.Questions, qq)
	}
	pg.Next = pg.Base + "/quiz/check"
	if len(pg.Unanswered) > 0 {
		pg.Next = pg.Base + "/quiz/section/" + strconv.Itoa(pg.Unanswered[0].Section)
	}
	return pg, nil
}

// quizForm is the start of the check: how it works, and where to carry on.
func (h *Handler) quizForm(c *fiber.Ctx) error {
	p, d, err := h.quizDraft(c)
	if err != nil {
		return err
	}
	pg, err := h.quizData(c, "Knowledge check", p, d)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "quiz", pg)
}

// quizSectionNumber reads :n, a section of the draw.
func quizSectionNumber(c *fiber.Ctx, pg *quizPage) (*quizSection, error) {
	n, err := strconv.Atoi(c.Params("n"))
	if err != nil || n < 1 || n > len(pg.Sections) {
		return nil, app.Errorf(app.ENOTFOUND, "There is no such section of the knowledge check.")
	}
	return &pg.Sections[n-1], nil
}

// quizSectionForm shows one section's questions.
func (h *Handler) quizSectionForm(c *fiber.Ctx) error {
	p, d, err := h.quizDraft(c)
	if err != nil {
		return err
	}
	if d == nil {
		return c.Redirect(kindBase(c)+"/quiz", fiber.StatusSeeOther)
	}
	pg, err := h.quizData(c, "Knowledge check", p, d)
	if err != nil {
		return err
	}
	if pg.Section, err = quizSectionNumber(c, pg); err != nil {
		return err
	}
	pg.Title = "Section " + strconv.Itoa(pg.Section.Number) + " of " + strconv.Itoa(len(pg.Sections)) + ": " + pg.Section.Module.Title + " – Knowledge check"
	return h.render(c, fiber.StatusOK, "quiz_section", pg)
}

// quizFormAnswers reads the q.<id> fields of the posted form. A question
// named twice is refused.
func quizFormAnswers(c *fiber.Ctx) (map[string]string, error) {
	answers := map[string]string{}
	for k, v := range c.Request().PostArgs().All() {
		key := string(k)
		if len(key) > 2 && key[:2] == "q." {
			if _, dup := answers[key[2:]]; dup {
				return nil, app.Errorf(app.EINVALID, "A question was answered twice. Please answer again.")
			}
			answers[key[2:]] = string(v)
		}
	}
	return answers, nil
}

// quizSave checks the posted answers against the draw the page was made
// from and saves them. Any problem is EINVALID and nothing is saved.
func (h *Handler) quizSave(c *fiber.Ctx, d *app.QuizDraft, only map[string]bool) error {
	if c.FormValue("draw") != app.DrawID(d.Shown) {
		return app.Errorf(app.EINVALID, "This page was from an earlier knowledge check, so its answers were not saved. Answer the questions on this page again.")
	}
	answers, err := quizFormAnswers(c)
	if err != nil {
		return err
	}
	if err := app.CheckAnswers(d.Shown, answers); err != nil {
		return err
	}
	for id := range answers {
		if only != nil && !only[id] {
			return app.Errorf(app.EINVALID, "The form named a question that is not on this page. Answer the questions on this page again.")
		}
	}
	if len(answers) == 0 {
		return nil
	}
	return h.Acks.SaveQuizAnswers(c.UserContext(), d, answers)
}

// quizSectionSave saves a section's answers (some may be left for later)
// and goes on to the next section, back to the one before, or to the check.
func (h *Handler) quizSectionSave(c *fiber.Ctx) error {
	p, d, err := h.quizDraft(c)
	if err != nil {
		return err
	}
	if d == nil && !p.GuidanceDone() {
		return app.Errorf(app.EINVALID, "Read all the guidance before taking the knowledge check.")
	}
	if d == nil {
		return errNoDraft
	}
	pg, err := h.quizData(c, "Knowledge check", p, d)
	if err != nil {
		return err
	}
	sec, err := quizSectionNumber(c, pg)
	if err != nil {
		return err
	}
	only := map[string]bool{}
	for _, q := range sec.Questions {
		only[q.ID] = true
	}
	if err := h.quizSave(c, d, only); err != nil {
		if app.ErrorCode(err) != app.EINVALID {
			return err
		}
		pg.Section = sec
		pg.Errors = formErrors(err)
		pg.Title = "Section " + strconv.Itoa(sec.Number) + " of " + strconv.Itoa(len(pg.Sections)) + ": " + sec.Module.Title + " – Knowledge check"
		return h.render(c, fiber.StatusUnprocessableEntity, "quiz_section", pg)
	}
	switch {
	case c.FormValue("go") == "back" && sec.Number == 1:
		return c.Redirect(kindBase(c)+"/quiz", fiber.StatusSeeOther)
	case c.FormValue("go") == "back":
		return c.Redirect(pg.Base+"/quiz/section/"+strconv.Itoa(sec.Number-1), fiber.StatusSeeOther)
	case sec.Number < len(pg.Sections):
		return c.Redirect(pg.Base+"/quiz/section/"+strconv.Itoa(sec.Number+1), fiber.StatusSeeOther)
	}
	return c.Redirect(pg.Base+"/quiz/check", fiber.StatusSeeOther)
}

// quizCheck lists every question with the answer chosen, before submitting.
func (h *Handler) quizCheck(c *fiber.Ctx) error {
	p, d, err := h.quizDraft(c)
	if err != nil {
		return err
	}
	if d == nil {
		return c.Redirect(kindBase(c)+"/quiz", fiber.StatusSeeOther)
	}
	pg, err := h.quizData(c, "Check your answers – Knowledge check", p, d)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "quiz_check", pg)
}

// quizSubmit grades and records an attempt. Answers in the form (the check
// page sends none; a one-page client may send them all) are saved first.
// Unanswered questions are listed on the check page and nothing is recorded;
// a stale or forged answer is refused and nothing changes.
func (h *Handler) quizSubmit(c *fiber.Ctx) error {
	e := currentUser(c)
	p, d, err := h.quizDraft(c)
	if err != nil {
		return err
	}
	if d == nil && !p.GuidanceDone() {
		return app.Errorf(app.EINVALID, "Read all the guidance before taking the knowledge check.")
	}
	if d == nil {
		return errNoDraft
	}
	err = h.quizSave(c, d, nil)
	var a *app.QuizAttempt
	if err == nil {
		a, err = app.GradeDraw(p.Version, p.Part(), e, d.Shown, d.Answers, p.Kind.PassMarkOr(h.Config.PassMark))
	}
	if err != nil {
		if app.ErrorCode(err) != app.EINVALID {
			return err
		}
		pg, perr := h.quizData(c, "Check your answers – Knowledge check", p, d)
		if perr != nil {
			return perr
		}
		pg.Errors = formErrors(err)
		for i, fe := range pg.Errors { // name each unanswered question as the check page numbers it
			for _, q := range pg.Unanswered {
				if fe.Field == q.Field {
					pg.Errors[i].Message = "Answer question " + strconv.Itoa(q.Number) + " (section " + strconv.Itoa(q.Section) + ")."
				}
			}
		}
		return h.render(c, fiber.StatusUnprocessableEntity, "quiz_check", pg)
	}
	a.CycleID = p.Cycle.ID
	if err := h.Acks.CreateQuizAttempt(c.UserContext(), a); err != nil {
		return err
	}
	h.metricsOrNone().QuizAttempt(p.Kind.Code, a.Passed)
	return c.Redirect("/quiz/attempts/"+strconv.FormatInt(a.ID, 10), fiber.StatusSeeOther)
}

type quizResultPage struct {
	Page
	Attempt      *app.QuizAttempt
	Reread       []app.Module // the sections of the wrong answers, for a failed attempt
	PosterScore  int          // right answers to the posters-only sections' questions
	PosterTotal  int
	PosterFailed bool
}

// quizResult shows an attempt to its owner: the score and, when it failed,
// the sections to read again. Never the right answers.
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
	// The links go on in the journey of the attempt's own acknowledgment.
	if pg.Base, err = h.cycleBase(c, a.CycleID); err != nil {
		return err
	}
	if !a.Passed {
		pg.Reread = v.SectionsToReread(a)
	}
	wrong := map[string]bool{}
	for _, w := range a.Wrong {
		wrong[w] = true
	}
	for id := range a.Answers {
		q := v.Question(id)
		if q == nil {
			continue
		}
		if m := v.Module(q.Module); m != nil && m.Audience == app.AudiencePosters {
			pg.PosterTotal++
			if !wrong[id] {
				pg.PosterScore++
			}
		}
	}
	pg.PosterFailed = pg.PosterTotal > 0 && pg.PosterScore*100 < a.PassMark*pg.PosterTotal
	return h.render(c, fiber.StatusOK, "quiz_result", pg)
}

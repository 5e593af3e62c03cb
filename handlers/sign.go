package handlers

import (
	"html/template"
	"net/url"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

type signPage struct {
	Page
	Progress    *app.Progress
	Consent     *app.Consent
	ConsentBody template.HTML
	Form        signForm
	Poster      *app.PosterContext // what an acknowledgment assigned by authorization names: accounts, Terms of Comment
}

type signForm struct {
	TypedName string
	Intent    bool
	Comment   string
}

func readSignForm(c *fiber.Ctx) signForm {
	return signForm{
		TypedName: utils.CopyString(c.FormValue("typed_name")),
		Intent:    c.FormValue("intent") == "yes",
		Comment:   utils.CopyString(c.FormValue("comment")),
	}
}

// signReady loads progress and sends the employee to the right step when
// they cannot sign yet. It returns nil progress when it has redirected.
func (h *Handler) signReady(c *fiber.Ctx) (*app.Progress, error) {
	p, err := h.progress(c, currentUser(c))
	if err != nil {
		return nil, err
	}
	switch p.NextStep() {
	case "done":
		return nil, c.Redirect("/certificates/"+url.PathEscape(p.Ack.VerifyCode), fiber.StatusSeeOther)
	case "guidance":
		h.setFlash(c, "Read the guidance and pass the knowledge check before you sign.")
		return nil, c.Redirect(kindBase(c)+"/guidance", fiber.StatusSeeOther)
	case "quiz":
		h.setFlash(c, "Pass the knowledge check before you sign.")
		return nil, c.Redirect(kindBase(c)+"/quiz", fiber.StatusSeeOther)
	}
	return p, nil
}

func (h *Handler) signPageData(c *fiber.Ctx, p *app.Progress, title string) (signPage, error) {
	pg := signPage{Page: h.page(c, title), Progress: p, Consent: h.Consent}
	pg.Nav = "sign"
	var err error
	if p.Kind.ByAuthorization() {
		if pg.Poster, err = h.Kinds.PosterContext(c.UserContext(), currentUser(c).ID); err != nil {
			return pg, err
		}
	}
	pg.ConsentBody, err = h.Markdown(h.Consent.Body)
	return pg, err
}

// signForm shows the consent notice first, then the signing form.
func (h *Handler) signForm(c *fiber.Ctx) error {
	p, err := h.signReady(c)
	if p == nil {
		return err
	}
	if p.Consented == nil || p.Consented.SHA256 != h.Consent.SHA256 {
		pg, err := h.signPageData(c, p, "Consent to electronic records")
		if err != nil {
			return err
		}
		return h.render(c, fiber.StatusOK, "sign_consent", pg)
	}
	pg, err := h.signPageData(c, p, "Sign your acknowledgment")
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "sign", pg)
}

func (h *Handler) signConsent(c *fiber.Ctx) error {
	p, err := h.signReady(c)
	if p == nil {
		return err
	}
	if c.FormValue("consent") != "yes" {
		pg, err := h.signPageData(c, p, "Consent to electronic records")
		if err != nil {
			return err
		}
		pg.Errors = formError("consent", "Tick the box to agree to use electronic records, or ask HR for a paper form.")
		return h.render(c, fiber.StatusUnprocessableEntity, "sign_consent", pg)
	}
	if p.Consented != nil && p.Consented.SHA256 == h.Consent.SHA256 {
		// Already given for this notice in this cycle: a consent is evidence
		// for good, so pressing again records nothing more.
		return c.Redirect(kindBase(c)+"/sign", fiber.StatusSeeOther)
	}
	e := currentUser(c)
	err = h.Acks.RecordConsent(c.UserContext(), &app.ConsentRecord{EmployeeID: e.ID, CycleID: p.Cycle.ID,
		Version: h.Consent.Version, SHA256: h.Consent.SHA256, IP: h.clientIP(c), UserAgent: utils.CopyString(c.Get(fiber.HeaderUserAgent))})
	if err != nil {
		return err
	}
	return c.Redirect(kindBase(c)+"/sign", fiber.StatusSeeOther)
}

// signValidate re-checks the form; on a problem it re-renders the form (422).
func (h *Handler) signValidate(c *fiber.Ctx, p *app.Progress, f signForm) (bool, error) {
	if p.Consented == nil || p.Consented.SHA256 != h.Consent.SHA256 {
		return false, c.Redirect(kindBase(c)+"/sign", fiber.StatusSeeOther)
	}
	req := app.SignRequest{TypedName: f.TypedName, Intent: f.Intent, Comment: f.Comment}
	if err := req.Validate(currentUser(c)); err != nil {
		if app.ErrorCode(err) != app.EINVALID {
			return false, err
		}
		pg, perr := h.signPageData(c, p, "Sign your acknowledgment")
		if perr != nil {
			return false, perr
		}
		pg.Form, pg.Errors = f, formErrors(err)
		return false, h.render(c, fiber.StatusUnprocessableEntity, "sign", pg)
	}
	return true, nil
}

// signReview shows exactly what will be recorded before the final press.
func (h *Handler) signReview(c *fiber.Ctx) error {
	p, err := h.signReady(c)
	if p == nil {
		return err
	}
	f := readSignForm(c)
	if ok, err := h.signValidate(c, p, f); !ok {
		return err
	}
	pg, err := h.signPageData(c, p, "Review and sign")
	if err != nil {
		return err
	}
	pg.Form = f
	return h.render(c, fiber.StatusOK, "sign_review", pg)
}

// signEdit goes back from the review to the form, keeping what was typed.
func (h *Handler) signEdit(c *fiber.Ctx) error {
	p, err := h.signReady(c)
	if p == nil {
		return err
	}
	pg, err := h.signPageData(c, p, "Sign your acknowledgment")
	if err != nil {
		return err
	}
	pg.Form = readSignForm(c)
	return h.render(c, fiber.StatusOK, "sign", pg)
}

// signSubmit records the acknowledgment. A second press, or a retry after a
// lost response, finds the existing record and shows the same certificate.
func (h *Handler) signSubmit(c *fiber.Ctx) error {
	e := currentUser(c)
	p, err := h.progress(c, e)
	if err != nil {
		return err
	}
	if p.Ack != nil {
		return c.Redirect(confirmationPath(p.Ack), fiber.StatusSeeOther)
	}
	if p.Passed == nil {
		return app.Errorf(app.EFORBIDDEN, "You need to pass the knowledge check before you can sign.")
	}
	f := readSignForm(c)
	if ok, err := h.signValidate(c, p, f); !ok {
		return err
	}
	a := &app.Acknowledgment{
		EmployeeID: e.ID, CycleID: p.Cycle.ID, PolicyVersionID: p.Version.ID, PolicySHA256: p.Version.SHA256,
		TypedName: app.NormalizeName(f.TypedName), ConsentID: p.Consented.ID, ConsentVersion: p.Consented.Version,
		ConsentSHA256: p.Consented.SHA256, IntentText: p.Intent(), Comment: f.Comment, IP: h.clientIP(c),
		UserAgent: utils.CopyString(c.Get(fiber.HeaderUserAgent)), AuthMethod: currentSession(c).AuthMethod,
		SignInIdentity: currentSession(c).Identity, SignInIssuer: currentSession(c).Issuer, QuizAttemptID: p.Passed.ID,
	}
	// An acknowledgment assigned by authorization names, as at signing, the
	// accounts and the Terms of Comment version the review page showed.
	if p.Kind.ByAuthorization() {
		pc, err := h.Kinds.PosterContext(c.UserContext(), e.ID)
		if err != nil {
			return err
		}
		a.Accounts, a.TermsID = pc.Accounts, pc.TermsID
	}
	// A retry after a lost response finds the record already made
	// (created is false) and shows the same confirmation.
	ack, created, err := h.Acks.CreateAcknowledgment(c.UserContext(), a)
	if err != nil {
		return err
	}
	if created { // committed; a retry that found it made is not another signature
		h.metricsOrNone().Signed(p.Kind.Code, a.AuthMethod)
	}
	return c.Redirect(confirmationPath(ack), fiber.StatusSeeOther)
}

// confirmationPath is the signer's confirmation page of an acknowledgment.
func confirmationPath(a *app.Acknowledgment) string {
	return "/certificates/" + url.PathEscape(a.VerifyCode) + "/confirmation"
}

package handlers

import (
	"net/mail"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

type signInPage struct {
	Page
	Email      string
	Next       string
	OIDC       bool // offer "Sign in with your agency account" first
	EmailLinks bool // offer the e-mail link form
}

func (h *Handler) signInPage(c *fiber.Ctx, email, next string) signInPage {
	return signInPage{Page: h.page(c, "Sign in"), Email: email, Next: next, OIDC: h.OIDC != nil, EmailLinks: !h.Config.EmailLinksOff}
}

// safeNext keeps a post-sign-in destination only if it is a local path.
// Control characters are refused too: browsers drop tabs and line breaks
// from a URL before reading it, so "/\t/evil.example" would be another host.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || len(next) > 500 ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return ""
	}
	return next
}

func (h *Handler) signInForm(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	return h.render(c, fiber.StatusOK, "signin", h.signInPage(c, "", safeNext(c.Query("next"))))
}

// signInRequest answers every well-formed address with the same page in
// the same time, so the form cannot be used to find out who works here,
// by the answer or by its timing: the lookup, the per-address limit and the
// link are the SignInMailer's work, after the answer. Only the limit per
// client answers otherwise: it is about the asker, not the address.
func (h *Handler) signInRequest(c *fiber.Ctx) error {
	if h.Config.EmailLinksOff {
		return h.oidcRefused(c, fiber.StatusForbidden, "Sign-in links by e-mail are turned off in this portal. Use “Sign in with your agency account” on the sign-in page.")
	}
	email := strings.TrimSpace(c.FormValue("email"))
	next := safeNext(c.FormValue("next"))
	addr, err := mail.ParseAddress(email)
	if email == "" || len(email) > 254 || err != nil || addr.Address != email {
		pg := h.signInPage(c, email, next)
		pg.Errors = formError("email", "Enter your work e-mail address, for example jane.doe@agency.example.")
		return h.render(c, fiber.StatusUnprocessableEntity, "signin", pg)
	}
	if !h.SignInIPLimit.Allow("ip:" + h.clientIP(c)) {
		return app.Errorf(app.ETOOMANY, "Too many sign-in links have been asked for. Please wait 15 minutes, then try again; the last link we sent still works until it expires.")
	}
	r := SignInRequest{Email: utils.CopyString(email), Next: utils.CopyString(next), ClientIP: h.clientIP(c), RequestID: requestID(c)}
	if !h.SignInMail.Submit(r) {
		h.Logger.Warn("sign-in request dropped: the queue of sign-in requests is full", "request_id", r.RequestID)
	}
	return c.Redirect("/signin/sent", fiber.StatusSeeOther)
}

func (h *Handler) signInSent(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, "signin_sent", struct{ Page }{h.page(c, "Check your e-mail")})
}

type signInConfirmPage struct {
	Page
	Token string
	Name  string
	Next  string
}

// signInConfirm shows a button rather than signing in on GET: mail scanners
// that open links must not use up the one-time token.
func (h *Handler) signInConfirm(c *fiber.Ctx) error {
	token := utils.CopyString(c.Params("token"))
	e, err := h.SignIn.PeekLoginToken(c.UserContext(), token)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "signin_confirm", signInConfirmPage{Page: h.page(c, "Sign in"),
		Token: token, Name: e.FullName, Next: safeNext(c.Query("next"))})
}

func (h *Handler) signInComplete(c *fiber.Ctx) error {
	if h.Config.EmailLinksOff { // links mailed before the switch no longer sign anyone in
		return h.oidcRefused(c, fiber.StatusForbidden, "Sign-in links by e-mail are turned off in this portal. Use “Sign in with your agency account” on the sign-in page.")
	}
	e, sentTo, err := h.SignIn.ConsumeLoginToken(c.UserContext(), utils.CopyString(c.Params("token")))
	if err != nil {
		return err
	}
	if err := h.startSession(c, e, app.AuthEmailLink, sentTo); err != nil {
		return err
	}
	next := safeNext(c.FormValue("next"))
	if next == "" {
		next = "/"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (h *Handler) signOut(c *fiber.Ctx) error {
	s := currentSession(c)
	if s != nil {
		if err := h.Sessions.DeleteSession(c.UserContext(), s.ID); err != nil {
			return err
		}
	}
	h.setCookie(c, sessionCookie, "", -1)
	if done, err := h.oidcSignOut(c, s); done || err != nil {
		return err
	}
	h.setFlash(c, "You have signed out.")
	return c.Redirect("/signin", fiber.StatusSeeOther)
}

func (h *Handler) healthz(c *fiber.Ctx) error {
	if err := h.Ping(c.UserContext()); err != nil {
		h.Logger.Error("health check failed", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable"})
	}
	return c.JSON(fiber.Map{"status": "ok"})
}

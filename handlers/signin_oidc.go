package handlers

import (
	"crypto/subtle"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"golang.org/x/oauth2"

	"portal/app"
)

// oidcRefusedPage is the clear page of a refused agency-account sign-in:
// what went wrong in words, and what to do next. No session is started.
type oidcRefusedPage struct {
	Page
	Message    string
	EmailLinks bool // offer the e-mail link instead
}

func (h *Handler) oidcRefused(c *fiber.Ctx, status int, msg string) error {
	h.setCookie(c, oidcFlowCookie, "", -1)
	return h.render(c, status, "signin_oidc_refused", oidcRefusedPage{Page: h.page(c, "You could not be signed in"),
		Message: msg, EmailLinks: !h.Config.EmailLinksOff})
}

const msgStartAgain = "Go back to the sign-in page and choose “Sign in with your agency account” again."

// signInOIDC starts an agency-account sign-in: the authorization code flow
// with PKCE (S256), a state and a nonce, kept in a signed cookie until the
// provider sends the browser back.
func (h *Handler) signInOIDC(c *fiber.Ctx) error {
	if h.OIDC == nil {
		return fiber.ErrNotFound
	}
	if currentUser(c) != nil { // as the sign-in form does
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	p, err := h.OIDC.Discover(c.UserContext())
	if err != nil {
		h.Logger.Warn("openid connect provider unreachable; will try again on the next sign-in", "err", err, "request_id", requestID(c))
		return h.oidcRefused(c, fiber.StatusServiceUnavailable,
			"The agency account service cannot be reached at the moment. Please try again in a few minutes.")
	}
	f := oidcFlow{State: randomHex(16), Nonce: randomHex(16), Verifier: oauth2.GenerateVerifier(),
		Next: safeNext(c.Query("next")), Expires: h.Now().Add(oidcFlowTTL).Unix()}
	sealed, err := h.sealFlow(f)
	if err != nil {
		return err
	}
	h.setCookie(c, oidcFlowCookie, sealed, oidcFlowTTL)
	return c.Redirect(h.OIDC.oauth2(p).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)),
		fiber.StatusSeeOther)
}

// signInOIDCCallback finishes it: the state checked against this browser's
// cookie (used once), the code exchanged with the PKCE verifier, the ID
// token verified (signature against the provider's keys, issuer, audience,
// expiry) with its nonce, and the person found on the active roster by the
// configured claim. Then the same session as a sign-in link starts.
func (h *Handler) signInOIDCCallback(c *fiber.Ctx) error {
	if h.OIDC == nil {
		return fiber.ErrNotFound
	}
	ctx := c.UserContext()
	log := h.Logger.With("request_id", requestID(c))
	f, err := h.openFlow(c.Cookies(h.cookie(oidcFlowCookie)), h.Now())
	h.setCookie(c, oidcFlowCookie, "", -1) // one use, whatever happens next
	if err != nil {
		log.Info("openid connect callback without a valid sign-in in progress")
		return h.oidcRefused(c, fiber.StatusBadRequest, "This sign-in was not started in this browser, or it took more than 10 minutes. "+msgStartAgain)
	}
	if e := c.Query("error"); e != "" {
		log.Info("openid connect provider refused the sign-in", "error", e)
		return h.oidcRefused(c, fiber.StatusBadRequest, "Your agency account service did not sign you in. "+msgStartAgain)
	}
	if subtle.ConstantTimeCompare([]byte(c.Query("state")), []byte(f.State)) != 1 {
		log.Warn("openid connect callback with a wrong state")
		return h.oidcRefused(c, fiber.StatusBadRequest, "This sign-in answer does not belong to the sign-in this browser started. "+msgStartAgain)
	}
	code := utils.CopyString(c.Query("code"))
	if code == "" {
		return h.oidcRefused(c, fiber.StatusBadRequest, "The agency account service sent no sign-in code. "+msgStartAgain)
	}
	p, err := h.OIDC.Discover(ctx)
	if err != nil {
		log.Warn("openid connect provider unreachable", "err", err)
		return h.oidcRefused(c, fiber.StatusServiceUnavailable, "The agency account service cannot be reached at the moment. Please try again in a few minutes.")
	}
	octx := oidc.ClientContext(ctx, h.OIDC.client())
	tok, err := h.OIDC.oauth2(p).Exchange(octx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		log.Warn("openid connect code exchange refused", "err", err)
		return h.oidcRefused(c, fiber.StatusBadRequest, "The agency account service did not accept this sign-in (the code was used already or has expired). "+msgStartAgain)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		log.Warn("openid connect token response without an id_token")
		return h.oidcRefused(c, fiber.StatusBadRequest, "The agency account service did not say who you are. "+msgStartAgain)
	}
	idt, err := p.VerifierContext(octx, &oidc.Config{ClientID: h.OIDC.Config.ClientID}).Verify(octx, raw)
	if err != nil {
		log.Warn("openid connect id token refused", "err", err)
		return h.oidcRefused(c, fiber.StatusBadRequest, "The proof of identity the agency account service sent could not be checked. "+msgStartAgain)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		log.Warn("openid connect id token with a wrong nonce")
		return h.oidcRefused(c, fiber.StatusBadRequest, "The proof of identity the agency account service sent was not made for this sign-in. "+msgStartAgain)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		log.Warn("openid connect claims", "err", err)
		return h.oidcRefused(c, fiber.StatusBadRequest, "The proof of identity the agency account service sent could not be read. "+msgStartAgain)
	}
	claim := h.OIDC.Config.Claim
	if claim == "email" && emailUnverified(claims) {
		log.Info("openid connect sign-in with an unverified e-mail address", "sub", idt.Subject)
		return h.oidcRefused(c, fiber.StatusForbidden, "Your agency account's e-mail address has not been verified, so the portal cannot tell who you are. Ask your IT service desk to verify it, then try again.")
	}
	value := claimString(claims[claim])
	if value == "" {
		log.Warn("openid connect id token without the configured claim", "claim", claim, "sub", idt.Subject)
		return h.oidcRefused(c, fiber.StatusForbidden, "Your agency account did not tell the portal who you are (it sent no “"+claim+"”). Ask your IT service desk to check how the portal is set up.")
	}
	e, err := h.findByClaim(c, claim, value)
	if err != nil {
		return err
	}
	if e == nil || !e.Active {
		log.Info("openid connect sign-in by someone not on the active roster", "sub", idt.Subject)
		return h.oidcRefused(c, fiber.StatusForbidden, "You signed in to your agency account, but you are not on the portal’s list of current employees, so you have not been signed in to the portal. If you think you should be, ask your HR office.")
	}
	if err := h.startIssuedSession(c, e, app.AuthOIDC, idt.Subject, idt.Issuer); err != nil {
		return err
	}
	// Kept for the provider's end-session address at sign-out, when it fits
	// in a cookie: the hint is optional, most providers accept client_id.
	if len(raw) < 3500 {
		h.setCookie(c, oidcHintCookie, raw, 0)
	}
	next := f.Next
	if next == "" {
		next = "/"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// findByClaim finds the person the claim names: by e-mail address as the
// sign-in form does, or by employee number. Nil when nobody has it.
func (h *Handler) findByClaim(c *fiber.Ctx, claim, value string) (*app.Employee, error) {
	ctx := c.UserContext()
	if claim == "email" {
		e, err := h.Employees.FindEmployeeByEmail(ctx, value)
		if app.ErrorCode(err) == app.ENOTFOUND {
			return nil, nil
		}
		return e, err
	}
	active := true
	list, _, err := h.Employees.FindEmployees(ctx, app.EmployeeFilter{EmployeeNumber: &value, Active: &active, Limit: 1})
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return list[0], nil
}

// signedOutPage is the page after signing out of a session started with an
// agency account: the provider's end-session address is offered as a link,
// since the portal's form-action policy keeps a form from leaving the site.
type signedOutPage struct {
	Page
	EndSessionURL string
}

// oidcSignOut answers a sign-out of an OpenID Connect session when the
// provider publishes an end-session address; false when it does not.
func (h *Handler) oidcSignOut(c *fiber.Ctx, s *app.Session) (bool, error) {
	if h.OIDC == nil || s == nil || s.AuthMethod != app.AuthOIDC {
		return false, nil
	}
	hint := c.Cookies(h.cookie(oidcHintCookie))
	h.setCookie(c, oidcHintCookie, "", -1)
	end := h.OIDC.EndSessionURL(strings.Clone(hint), h.Config.BaseURL)
	if end == "" {
		return false, nil
	}
	c.Locals(localUser, nil)
	c.Locals(localSession, nil)
	pg := signedOutPage{Page: h.page(c, "You have signed out"), EndSessionURL: end}
	return true, h.render(c, fiber.StatusOK, "signed_out", pg)
}

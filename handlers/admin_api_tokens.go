package handlers

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

// The administrator's page of API tokens: create one (shown once), list
// them, revoke one. The command line does the same (portal api-token).

type apiTokensPage struct {
	Page
	Tokens []*app.APIToken
	Scopes []apiScopeChoice
	Form   struct {
		Name   string
		Scopes []string
	}
}

// apiScopeChoice is one scope's checkbox and what it allows, in words.
type apiScopeChoice struct {
	Scope, Words string
	Checked      bool
}

var apiScopeWords = map[string]string{
	app.ScopeCompletionRead:   "read completion per person and each person's acknowledgments",
	app.ScopeCertificatesRead: "download certificate PDFs by their code",
	app.ScopeRosterWrite:      "replace the roster from the directory",
}

func (h *Handler) apiTokensData(c *fiber.Ctx, chosen []string) (*apiTokensPage, error) {
	pg := &apiTokensPage{Page: h.page(c, "API tokens")}
	pg.Nav = "admin"
	var err error
	if pg.Tokens, err = h.APITokens.APITokens(c.UserContext()); err != nil {
		return nil, err
	}
	for _, s := range app.APIScopes {
		checked := false
		for _, x := range chosen {
			checked = checked || x == s
		}
		pg.Scopes = append(pg.Scopes, apiScopeChoice{Scope: s, Words: apiScopeWords[s], Checked: checked})
	}
	return pg, nil
}

// apiTokensIndex lists the tokens and offers the form to create one.
func (h *Handler) apiTokensIndex(c *fiber.Ctx) error {
	pg, err := h.apiTokensData(c, nil)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "admin_api_tokens", pg)
}

type apiTokenCreatedPage struct {
	Page
	Token  *app.APIToken
	Secret string
}

// apiTokenCreate makes a token and shows it once, on the answer to the POST
// itself: it is never stored, so it cannot be shown again after a redirect.
func (h *Handler) apiTokenCreate(c *fiber.Ctx) error {
	name := utils.CopyString(c.FormValue("name"))
	var scopes []string
	for _, v := range c.Request().PostArgs().PeekMulti("scope") {
		scopes = append(scopes, string(v))
	}
	actor := currentUser(c).ID
	tok, secret, err := h.APITokens.CreateAPIToken(c.UserContext(), name, scopes, &actor)
	if app.ErrorCode(err) == app.EINVALID {
		pg, perr := h.apiTokensData(c, scopes)
		if perr != nil {
			return perr
		}
		pg.Form.Name = strings.TrimSpace(name)
		pg.Errors = formErrors(err)
		for i := range pg.Errors {
			if pg.Errors[i].Field == "scope" {
				pg.Errors[i].Field = "scope-0" // the first box of the group
			}
		}
		return h.render(c, fiber.StatusUnprocessableEntity, "admin_api_tokens", pg)
	}
	if err != nil {
		return err
	}
	pg := apiTokenCreatedPage{Page: h.page(c, "API token created"), Token: tok, Secret: secret}
	pg.Nav = "admin"
	return h.render(c, fiber.StatusOK, "admin_api_token_created", pg)
}

// apiTokenRevoke revokes a token for good.
func (h *Handler) apiTokenRevoke(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return app.Errorf(app.ENOTFOUND, "No API token has that id.")
	}
	actor := currentUser(c).ID
	tok, err := h.APITokens.RevokeAPIToken(c.UserContext(), id, &actor)
	if app.ErrorCode(err) == app.ECONFLICT {
		pg, perr := h.apiTokensData(c, nil)
		if perr != nil {
			return perr
		}
		pg.Errors = formError("", app.ErrorMessage(err))
		return h.render(c, fiber.StatusUnprocessableEntity, "admin_api_tokens", pg)
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "The token "+tok.Name+" is revoked: calls made with it are refused from now on.")
	return c.Redirect("/admin/api-tokens", fiber.StatusSeeOther)
}

package handlers

import (
	"net/url"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// The journey (guidance, knowledge check, consent, review, sign) is one set
// of handlers for every acknowledgment kind. The annual acknowledgment keeps
// its URLs (/guidance, /quiz, /sign); another kind's are the same under
// /acknowledgments/<kind>, and the handlers find the kind's cycle from the
// :kind parameter (see progress).

// kindPrefix is where another kind's journey lives.
const kindPrefix = "/acknowledgments/"

// kindBase is the journey's URL prefix for the route's kind: "" on the
// annual acknowledgment's own routes.
func kindBase(c *fiber.Ctx) string {
	// A context with no route (the start-up check of the templates) has no parameters to read.
	if r := c.Route(); r == nil || !slices.Contains(r.Params, "kind") {
		return ""
	}
	if k := c.Params("kind"); k != "" {
		return kindPrefix + url.PathEscape(k)
	}
	return ""
}

// lowerFirst lowercases a title's first letter for use inside a sentence.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// cycleBase is the journey prefix of a cycle's kind: "" for the annual
// acknowledgment's cycles (the kind CurrentCycle serves), the kind's prefix
// for any other.
func (h *Handler) cycleBase(c *fiber.Ctx, cycleID int64) (string, error) {
	cy, err := h.Cycles.FindCycleByID(c.UserContext(), cycleID)
	if err != nil {
		return "", err
	}
	kinds, err := h.Kinds.FindKinds(c.UserContext())
	if err != nil {
		return "", err
	}
	for _, k := range kinds {
		if k.Assign == app.AssignCycle {
			if k.Code == cy.Kind {
				return "", nil
			}
			break
		}
	}
	return kindPrefix + url.PathEscape(cy.Kind), nil
}

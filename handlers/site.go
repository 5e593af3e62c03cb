package handlers

import (
	"github.com/gofiber/fiber/v2"
)

// Logo is the organisation's logo, read and checked once at start-up.
type Logo struct {
	Data        []byte
	ContentType string // image/png, image/jpeg or image/svg+xml
	Version     string // a short hash of Data: the address changes when the file does
}

// Site is what the layout shows of who runs the portal.
type Site struct {
	OrgName   string // "" when not configured
	LogoURL   string // "" when there is no logo
	HelpEmail string // "" when not configured
}

func (h *Handler) site() Site {
	s := Site{OrgName: h.Config.OrgName, HelpEmail: h.Config.HelpEmail}
	if l := h.Config.OrgLogo; l != nil {
		s.LogoURL = "/org-logo?v=" + l.Version
	}
	return s
}

// IsWide says whether the page gets the wide layout: the HR, team and
// administration pages hold tables of people and dates that need the room.
func (p Page) IsWide() bool {
	return p.Wide || p.Nav == "hr" || p.Nav == "team" || p.Nav == "admin"
}

// orgLogo serves the organisation's logo. Its address carries the file's
// hash, so browsers may keep it for a year. An SVG could hold a script: it
// is shown through <img>, where none runs, and opened on its own the CSP
// below (a sandbox, no scripts) keeps one from running in the portal's origin.
func (h *Handler) orgLogo(c *fiber.Ctx) error {
	l := h.Config.OrgLogo
	if l == nil {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, l.ContentType)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	return c.Send(l.Data)
}

// accessibility is the accessibility statement.
func (h *Handler) accessibility(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, "accessibility", struct{ Page }{h.page(c, "Accessibility statement")})
}

// privacy is the privacy notice.
func (h *Handler) privacy(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, "privacy", struct{ Page }{h.page(c, "Privacy notice")})
}

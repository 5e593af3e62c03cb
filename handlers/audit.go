package handlers

import (
	"github.com/gofiber/fiber/v2"

	"portal/app"
)

type auditPage struct {
	Page
	Events []*app.AuditEvent
	Pager  Pager
	Check  *app.EvidenceCheck
}

// auditIndex lists audit events and, on request, checks every evidence record.
func (h *Handler) auditIndex(c *fiber.Ctx) error {
	pg := auditPage{Page: h.page(c, "Audit log")}
	pg.Nav = "hr"
	pg.Pager = newPager(c, "/hr/audit", "")
	pg.Pager.Prev, pg.Pager.Next = "Newer events", "Older events"
	events, total, err := h.Audit.ListEvents(c.UserContext(), pg.Pager.Offset(), pg.Pager.Limit())
	if err != nil {
		return err
	}
	pg.Events = events
	pg.Pager.setTotal(total)
	if c.Query("verify") == "1" {
		if pg.Check, err = h.Audit.VerifyEvidence(c.UserContext()); err != nil {
			return err
		}
	}
	return h.render(c, fiber.StatusOK, "hr_audit", pg)
}

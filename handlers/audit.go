package handlers

import (
	"github.com/gofiber/fiber/v2"

	"portal/app"
)

type auditPage struct {
	Page
	Events  []*app.AuditEvent
	Pager   Pager
	Check   *app.EvidenceCheck // the newest finished check of every record
	Pending *app.EvidenceCheck // the check queued or running
}

// auditIndex lists audit events and the newest check of every evidence
// record. The check itself runs in the background (a million records take
// seconds): the page only shows its result and when it ran.
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
	if pg.Check, pg.Pending, err = h.Audit.EvidenceChecks(c.UserContext()); err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "hr_audit", pg)
}

// auditCheck queues a check of every evidence record, or points to the one
// already queued or running.
func (h *Handler) auditCheck(c *fiber.Ctx) error {
	actor := currentUser(c).ID
	_, queued, err := h.Audit.RequestCheck(c.UserContext(), &actor)
	if err != nil {
		return err
	}
	if queued {
		h.KickChecks()
		h.setFlash(c, "The check has started. It takes a few seconds for every 100,000 records; reload this page for its result.")
	} else {
		h.setFlash(c, "A check is already running; reload this page for its result.")
	}
	return c.Redirect("/hr/audit", fiber.StatusSeeOther)
}

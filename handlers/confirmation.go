package handlers

import (
	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// confirmationPage is what the signer sees right after signing.
type confirmationPage struct {
	Page
	Ack  *app.Acknowledgment
	Cert *app.Certificate
	// Email is where the copy of the certificate goes: the signer's
	// address now, which is where the queued message is addressed.
	Email string
	// Next is the next cycle HR has already set up to open after this
	// one, if any; most of the year there is none, and the page says so
	// in other words.
	Next *app.Cycle
}

// signConfirmation is the GOV.UK confirmation page after signing. Only the
// signer sees it: to anyone else (HR and managers included, who have the
// certificate page) the code is not found, so it reveals nothing.
func (h *Handler) signConfirmation(c *fiber.Ctx) error {
	code, ok := app.NormalizeVerifyCode(c.Params("code"))
	notFound := app.Errorf(app.ENOTFOUND, "Certificate not found.")
	if !ok {
		return notFound
	}
	a, err := h.Acks.FindAcknowledgmentByCode(c.UserContext(), code)
	if err != nil {
		return err
	}
	u := currentUser(c)
	if a.EmployeeID != u.ID {
		return notFound
	}
	next, err := h.nextCycle(c, a.CycleID)
	if err != nil {
		return err
	}
	pg := confirmationPage{Page: h.page(c, "Acknowledgment signed"), Ack: a, Cert: h.certificate(a), Email: u.Email, Next: next}
	return h.render(c, fiber.StatusOK, "sign_done", pg)
}

// nextCycle returns a cycle that opens after today and after the cycle
// signed, or nil when HR has not set one up.
func (h *Handler) nextCycle(c *fiber.Ctx, signed int64) (*app.Cycle, error) {
	cycles, err := h.Cycles.FindCycles(c.UserContext())
	if err != nil {
		return nil, err
	}
	today := h.today()
	var next *app.Cycle
	for _, y := range cycles {
		if y.ID != signed && y.OpensOn > today && (next == nil || y.OpensOn < next.OpensOn) {
			next = y
		}
	}
	return next, nil
}

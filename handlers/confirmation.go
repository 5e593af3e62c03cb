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
	// Email is the signer's address. The copy of the certificate was
	// queued to it in the signing transaction; the page is meant for the
	// moments after signing, before any change of address.
	Email string
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
	pg := confirmationPage{Page: h.page(c, "Acknowledgment signed"), Ack: a, Cert: h.certificate(a), Email: u.Email}
	return h.render(c, fiber.StatusOK, "sign_done", pg)
}

package handlers

import (
	"bytes"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// findVisibleAck returns the acknowledgment with the code if the signed-in
// person may see it: its owner, HR, or a manager above its owner. Anyone
// else gets "not found", so codes cannot be probed.
func (h *Handler) findVisibleAck(c *fiber.Ctx) (*app.Acknowledgment, error) {
	code, ok := app.NormalizeVerifyCode(c.Params("code"))
	notFound := app.Errorf(app.ENOTFOUND, "Certificate not found.")
	if !ok {
		return nil, notFound
	}
	a, err := h.Acks.FindAcknowledgmentByCode(c.UserContext(), code)
	if err != nil {
		return nil, err
	}
	u := currentUser(c)
	if a.EmployeeID == u.ID {
		return a, nil
	}
	if u.HasRole(app.RoleHR) {
		scope, err := h.hrScope(c)
		if err != nil {
			return nil, err
		}
		if len(scope) == 0 || slices.Contains(scope, a.EmployeeAgency) {
			return a, nil
		}
	}
	if u.IsManager {
		in, err := h.Employees.IsInTree(c.UserContext(), u.ID, a.EmployeeID)
		if err != nil {
			return nil, err
		}
		if in {
			return a, nil
		}
	}
	return nil, notFound
}

// certificate builds what is printed from the stored record.
func (h *Handler) certificate(a *app.Acknowledgment) *app.Certificate {
	return app.CertificateFor(a, h.Config.BaseURL, h.Config.Location)
}

type certificatePage struct {
	Page
	Ack  *app.Acknowledgment
	Cert *app.Certificate
}

func (h *Handler) certificatePage(c *fiber.Ctx) error {
	a, err := h.findVisibleAck(c)
	if err != nil {
		return err
	}
	pg := certificatePage{Page: h.page(c, "Certificate of acknowledgment"), Ack: a, Cert: h.certificate(a)}
	return h.render(c, fiber.StatusOK, "certificate", pg)
}

func (h *Handler) certificatePDF(c *fiber.Ctx) error {
	a, err := h.findVisibleAck(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := h.Certs.RenderPDF(&buf, h.certificate(a)); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, ContentDisposition(a.CertificateNo+" "+a.EmployeeName+".pdf"))
	return c.Send(buf.Bytes())
}

type verifyPage struct {
	Page
	Code   string
	Result string // "", "valid", "superseded", "altered" or "unknown"
	Ack    *app.Acknowledgment
	Check  *app.RecordCheck
}

// verifyPage answers anyone holding a certificate: valid, superseded,
// altered or unknown, with only the name, the policy version and the date.
// Valid and superseded are worked out from logged records only, and the
// record is re-hashed and proven to be in the latest signed checkpoint of
// the evidence log; a record that no longer matches its log entry is
// "altered", whatever the database says about it.
func (h *Handler) verifyPage(c *fiber.Ctx) error {
	raw := c.Params("code")
	if raw == "" {
		raw = c.Query("code")
	}
	// Shown back on the page: valid UTF-8, cut at 40 bytes without splitting
	// a character.
	pg := verifyPage{Page: h.page(c, "Verify a certificate"), Code: strings.ToValidUTF8(strings.TrimSpace(raw), "")}
	if len(pg.Code) > 40 {
		pg.Code = strings.ToValidUTF8(pg.Code[:40], "")
	}
	if pg.Code == "" {
		return h.render(c, fiber.StatusOK, "verify", pg)
	}
	code, ok := app.NormalizeVerifyCode(pg.Code)
	if !ok {
		// Not the shape of any code: a typing mistake to correct, not a
		// certificate that does not exist.
		pg.Errors = formError("code", "Enter the code as printed on the certificate: ten letters and digits, for example 7K2QD-M9XRA.")
		return h.render(c, fiber.StatusUnprocessableEntity, "verify", pg)
	}
	pg.Result = "unknown"
	{
		a, err := h.Acks.FindAcknowledgmentByCode(c.UserContext(), code)
		switch {
		case err == nil:
			pg.Ack, pg.Code, pg.Result = a, code, "valid"
			if a.Superseded {
				pg.Result = "superseded"
			}
			if pg.Check, err = h.Log.CheckAcknowledgment(c.UserContext(), a); err != nil {
				return err
			}
			if !pg.Check.Matches || !pg.Check.Proven {
				pg.Result = "altered"
			}
		case app.ErrorCode(err) != app.ENOTFOUND:
			return err
		}
	}
	status := fiber.StatusOK
	if pg.Result == "unknown" {
		status = fiber.StatusNotFound
	}
	return h.render(c, status, "verify", pg)
}

type mailboxPage struct {
	Page
	Messages []*app.Message
}

// devMailbox shows the messages "sent" when no SMTP server is configured
// (demo only). They are kept in the process's memory, never in the database.
func (h *Handler) devMailbox(c *fiber.Ctx) error {
	var msgs []*app.Message
	if h.Mailbox != nil {
		msgs = h.Mailbox()
	}
	return h.render(c, fiber.StatusOK, "mailbox", mailboxPage{Page: h.page(c, "Development mailbox"), Messages: msgs})
}

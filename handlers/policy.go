package handlers

import (
	"bytes"
	"html/template"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portal/app"
	"portal/app/pdf"
)

// The policy text pages. /policy is the version a signed-in person is
// asked to sign; /policy/:code, its PDF and its official documents are
// public, like certificate verification: an auditor holding a certificate
// must be able to read exactly what was signed. Only published versions
// exist in the store, so nothing unpublished can be shown.

type policyPage struct {
	Page
	Version   *app.PolicyVersion
	Body      template.HTML
	Yours     bool   // the version of the person's current cycle (or the latest)
	PDF       string // the address of the PDF
	Documents []documentLink
}

// documentLink is one official document as the page lists it.
type documentLink struct {
	Name, Kind, Size, SHA256, URL string
}

// currentVersion returns the version in force for the signed-in person: the
// version of their current cycle, or the latest published one when no
// cycle is open.
func (h *Handler) currentVersion(c *fiber.Ctx) (*app.PolicyVersion, error) {
	p, err := h.progress(c, currentUser(c))
	if err == nil {
		return p.Version, nil
	}
	if app.ErrorCode(err) != app.ENOTFOUND {
		return nil, err
	}
	vs, err := h.Policies.FindVersions(c.UserContext())
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, app.Errorf(app.ENOTFOUND, "No policy version is published yet.")
	}
	return h.Policies.FindVersionByID(c.UserContext(), vs[0].ID)
}

// versionByCode returns the published version named in the URL.
func (h *Handler) versionByCode(c *fiber.Ctx) (*app.PolicyVersion, error) {
	v, err := h.Policies.FindVersionByCode(c.UserContext(), c.Params("code"))
	if app.ErrorCode(err) == app.ENOTFOUND {
		return nil, app.Errorf(app.ENOTFOUND, "There is no published policy version with that code.")
	}
	return v, err
}

// policyAddress is the public address of a version's page.
func policyAddress(v *app.PolicyVersion) string { return "/policy/" + url.PathEscape(v.Code) }

func (h *Handler) showPolicy(c *fiber.Ctx, v *app.PolicyVersion, yours bool) error {
	body, err := h.Markdown(v.PolicyText)
	if err != nil {
		return err
	}
	pg := policyPage{Page: h.page(c, v.Title+", version "+v.Code), Version: v, Body: body, Yours: yours, PDF: policyAddress(v) + "/pdf"}
	if yours {
		pg.PDF = "/policy.pdf"
	}
	pg.Documents = documentLinks(v)
	return h.render(c, fiber.StatusOK, "policy", pg)
}

// documentLinks lists v's official documents for a page.
func documentLinks(v *app.PolicyVersion) []documentLink {
	var out []documentLink
	for _, d := range v.Documents {
		out = append(out, documentLink{Name: d.Name, Kind: pdf.DocumentKind(d.ContentType), Size: pdf.Size(d.Size),
			SHA256: d.SHA256, URL: policyAddress(v) + "/documents/" + url.PathEscape(d.Name)})
	}
	return out
}

// policyCurrent shows the policy the signed-in person is asked to sign.
func (h *Handler) policyCurrent(c *fiber.Ctx) error {
	v, err := h.currentVersion(c)
	if err != nil {
		return err
	}
	return h.showPolicy(c, v, true)
}

// policyByCode shows any published version, to anyone.
func (h *Handler) policyByCode(c *fiber.Ctx) error {
	v, err := h.versionByCode(c)
	if err != nil {
		return err
	}
	return h.showPolicy(c, v, false)
}

func (h *Handler) sendPolicyPDF(c *fiber.Ctx, v *app.PolicyVersion) error {
	var buf bytes.Buffer
	if err := h.PolicyPDF.RenderPolicyPDF(&buf, v); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, ContentDisposition(v.Title+" "+v.Code+".pdf"))
	return c.Send(buf.Bytes())
}

// policyCurrentPDF is the PDF of the signed-in person's version.
func (h *Handler) policyCurrentPDF(c *fiber.Ctx) error {
	v, err := h.currentVersion(c)
	if err != nil {
		return err
	}
	return h.sendPolicyPDF(c, v)
}

// policyByCodePDF is the PDF of any published version.
func (h *Handler) policyByCodePDF(c *fiber.Ctx) error {
	v, err := h.versionByCode(c)
	if err != nil {
		return err
	}
	return h.sendPolicyPDF(c, v)
}

// policyDocument sends an official document as a download, never as a
// page: attachment, its stored type and nosniff, so a document cannot run
// in the portal's origin whatever it holds.
func (h *Handler) policyDocument(c *fiber.Ctx) error {
	v, err := h.versionByCode(c)
	if err != nil {
		return err
	}
	d, err := h.Policies.FindDocument(c.UserContext(), v.ID, c.Params("name"))
	if app.ErrorCode(err) == app.ENOTFOUND {
		return app.Errorf(app.ENOTFOUND, "Version %s has no document with that name.", v.Code)
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, d.ContentType)
	c.Set(fiber.HeaderContentDisposition, ContentDisposition(d.Name))
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(d.Data)
}

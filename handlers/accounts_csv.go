package handlers

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"portal/app"
	"portal/app/export"
)

// accountsHeader is the registry CSV's first row.
var accountsHeader = []string{"agency", "supervisor", "supervisor_employee_number", "supervisor_email", "supervisor_since",
	"platform", "handle", "url", "purpose", "status", "terms_accepted_by", "terms_accepted_on", "archive_method",
	"review_on", "review_overdue"}

// accountsCSV is the supervisors and the accounts for the central IT
// office: a row per account with its agency's supervisor, and a row for
// each agency with a supervisor and no account. It covers the agencies the
// viewer may see; who downloaded it is an audit event. The registry is
// small (a few accounts an agency), so the file is built whole.
func (h *Handler) accountsCSV(c *fiber.Ctx) error {
	if err := refuseCrossSite(c); err != nil {
		return err
	}
	ctx := c.UserContext()
	u := currentUser(c)
	if !h.ExportLimit.Allow("accounts:" + strconv.FormatInt(u.ID, 10)) {
		return app.Errorf(app.ETOOMANY, "You have made several exports in the last few minutes. Please wait a few minutes and try again.")
	}
	agencies, all, err := h.registryAgencies(c)
	if err != nil {
		return err
	}
	sups, err := h.Supervisors.Supervisors(ctx)
	if err != nil {
		return err
	}
	accounts, err := h.Accounts.FindAccounts(ctx, app.AccountFilter{All: all, Agencies: agencies})
	if err != nil {
		return err
	}
	today := h.today()
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // Excel reads the file as UTF-8
	cw := csv.NewWriter(&buf)
	write := func(row []string) error {
		for i := range row {
			row[i] = export.FormulaSafe(row[i])
		}
		return cw.Write(row)
	}
	if err := cw.Write(accountsHeader); err != nil {
		return err
	}
	held := map[string]bool{}
	byAgency := map[string]*app.AgencySupervisor{}
	for _, s := range sups {
		byAgency[s.Agency] = s
	}
	supCols := func(agency string) []string {
		s := byAgency[agency]
		if s == nil || s.EmployeeID == 0 {
			return []string{"", "", "", ""}
		}
		return []string{s.FullName, s.EmployeeNumber, s.Email, s.Since.In(h.Config.Location).Format(app.DateLayout)}
	}
	for _, a := range accounts {
		held[a.Agency] = true
		overdue := "no"
		if a.ReviewOverdue(today) {
			overdue = "yes"
		}
		row := append(append([]string{a.Agency}, supCols(a.Agency)...), a.Platform, a.Handle, a.URL, a.Purpose, a.StatusLabel(),
			a.TermsAcceptedBy, a.TermsAcceptedOn, a.ArchiveMethod, a.ReviewOn, overdue)
		if err := write(row); err != nil {
			return err
		}
	}
	for _, s := range sups {
		if s.EmployeeID == 0 || held[s.Agency] || (!all && !slices.Contains(agencies, s.Agency)) {
			continue
		}
		row := append(append([]string{s.Agency}, supCols(s.Agency)...), make([]string, 10)...)
		if err := write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if err := h.Audit.RecordEvent(ctx, &app.AuditEvent{ActorID: &u.ID, Action: "accounts.exported", SubjectType: "account_registry",
		Detail: strconv.Itoa(len(accounts)) + " accounts", IP: h.clientIP(c)}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, ContentDisposition("agency-accounts-"+today+".csv"))
	return c.Send(buf.Bytes())
}

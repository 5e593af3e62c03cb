package mail

import (
	"context"
	"strconv"
	"time"

	"portal/app"
)

// accountReview tells an agency's Social Media Supervisor that an account
// is past its review date. It is composed from the registry as it is when
// sent: an account reviewed (a new date) or closed meanwhile, or a
// recipient no longer its agency's supervisor, gets nothing.
func (c *Composer) accountReview(ctx context.Context, m *app.Message) (string, error) {
	if m.AboutID == nil || m.EmployeeID == nil || c.Accounts == nil {
		return "incomplete message", nil
	}
	a, err := c.Accounts.FindAccountByID(ctx, *m.AboutID)
	if err != nil {
		return "", err
	}
	if a.Status == app.AccountClosed || a.ReviewOn != m.Subject {
		return "account reviewed or closed", nil
	}
	to, err := c.Employees.FindEmployeeByID(ctx, *m.EmployeeID)
	if err != nil {
		return "", err
	}
	if !to.Active || to.SupervisorOf != a.Agency {
		return "no longer the agency's supervisor", nil
	}
	due, err := time.Parse(app.DateLayout, a.ReviewOn)
	if err != nil {
		return "", err
	}
	data := map[string]any{"Name": to.FullName, "Agency": a.Agency, "Platform": a.Platform, "Handle": a.Handle,
		"URL": a.URL, "Status": a.StatusLabel(), "ReviewOn": due.Format("January 2, 2006"),
		"Link": c.BaseURL + "/accounts/" + strconv.FormatInt(a.ID, 10)}
	text, html, err := c.Templates.render("account_review", data)
	if err != nil {
		return "", err
	}
	m.Subject, m.Text, m.HTML = "Review due: "+a.Platform+" "+a.Handle+" ("+a.Agency+")", text, html
	return "", nil
}

package mail

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"time"

	"portal/app"
)

// Composer renders scheduled messages when the worker is about to send
// them, from the records as they are then: a reminder to someone who has
// signed meanwhile is skipped rather than sent.
type Composer struct {
	Templates *Templates
	Employees app.EmployeeService
	Cycles    app.CycleService
	Acks      app.AckService
	Dashboard app.DashboardService
	Certs     app.CertificateRenderer
	BaseURL   string
	Location  *time.Location
	Now       func() time.Time
}

// Compose fills in m's subject, bodies and attachments. It returns a
// reason, and leaves m alone, when the message is no longer needed.
func (c *Composer) Compose(ctx context.Context, m *app.Message) (skip string, err error) {
	if m.Kind == app.MailSignIn || m.Text != "" {
		return "", nil
	}
	if m.EmployeeID == nil || m.CycleID == nil {
		return "incomplete message", nil
	}
	to, err := c.Employees.FindEmployeeByID(ctx, *m.EmployeeID)
	if err != nil {
		return "", err
	}
	if !to.Active {
		return "recipient deactivated", nil
	}
	cycle, err := c.Cycles.FindCycleByID(ctx, *m.CycleID)
	if err != nil {
		return "", err
	}
	data := map[string]any{"Name": to.FullName, "CycleName": cycle.Name, "Link": c.BaseURL + "/"}
	var subject string
	switch m.Kind {
	case app.MailInvitation, app.MailReminder:
		asg, err := c.Acks.FindAssignment(ctx, cycle.ID, to.ID)
		if err != nil {
			return "", err
		}
		if asg.SignedAt != nil || !asg.Active || !cycle.Open {
			return "already signed or no longer required", nil
		}
		days := c.daysUntil(asg.DueOn)
		data["Due"], data["Days"], data["Overdue"], data["Today"] = c.date(asg.DueOn), abs(days), days < 0, days == 0
		subject = "Please sign: " + cycle.Name
		if m.Kind == app.MailReminder {
			switch {
			case days < 0:
				subject = "Overdue: " + cycle.Name
			case days == 0:
				subject = "Due today: " + cycle.Name
			default:
				subject = "Reminder: " + cycle.Name + " is due " + c.date(asg.DueOn)
			}
		}
	case app.MailEscalation:
		if m.AboutID == nil {
			return "incomplete message", nil
		}
		about, err := c.Employees.FindEmployeeByID(ctx, *m.AboutID)
		if err != nil {
			return "", err
		}
		asg, err := c.Acks.FindAssignment(ctx, cycle.ID, about.ID)
		if err != nil {
			return "", err
		}
		if asg.SignedAt != nil || !asg.Active || !about.Active {
			return "already signed or no longer required", nil
		}
		data["About"], data["Due"], data["Days"] = about.FullName, c.date(asg.DueOn), abs(c.daysUntil(asg.DueOn))
		data["Link"] = c.BaseURL + "/team"
		subject = "Overdue in your team: " + about.FullName
	case app.MailDigest:
		people, total, err := c.Dashboard.People(ctx, app.PeopleFilter{CycleID: cycle.ID, ManagerID: &to.ID,
			Status: app.StatusOverdue, Today: c.Now().In(c.Location).Format(app.DateLayout), Limit: 50})
		if err != nil {
			return "", err
		}
		if total == 0 {
			return "nobody overdue any more", nil
		}
		data["People"], data["Count"], data["More"], data["Link"] = people, total, total-len(people), c.BaseURL+"/team"
		subject = fmt.Sprintf("Your team: %d overdue with the social media policy acknowledgment", total)
	case app.MailCertificate:
		if m.AboutID == nil {
			return "incomplete message", nil
		}
		acks, _, err := c.Acks.FindAcknowledgments(ctx, app.AckFilter{ID: m.AboutID})
		if err != nil {
			return "", err
		}
		if len(acks) != 1 {
			return "acknowledgment not found", nil
		}
		a := acks[0]
		cert := app.CertificateFor(a, c.BaseURL, c.Location)
		var pdf bytes.Buffer
		if err := c.Certs.RenderPDF(&pdf, cert); err != nil {
			return "", err
		}
		data["Link"], data["Number"], data["Code"] = cert.VerifyURL, a.CertificateNo, a.VerifyCode
		m.Attachments = []app.Attachment{{Name: a.CertificateNo + ".pdf", ContentType: "application/pdf", Data: pdf.Bytes()}}
		subject = "Your certificate: " + cycle.Name
	default:
		return "unknown kind " + m.Kind, nil
	}
	text, html, err := c.Templates.render(m.Kind, data)
	if err != nil {
		return "", err
	}
	m.Subject, m.Text, m.HTML, m.ToName, m.ToAddr = subject, text, html, to.FullName, to.Email
	return "", nil
}

func (c *Composer) daysUntil(due string) int {
	d, err := time.ParseInLocation(app.DateLayout, due, c.Location)
	if err != nil {
		return 0
	}
	now := c.Now().In(c.Location)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, c.Location)
	return int(math.Round(d.Sub(today).Hours() / 24)) // round: a day with a DST change has 23 or 25 hours
}

func (c *Composer) date(s string) string {
	t, err := time.Parse(app.DateLayout, s)
	if err != nil {
		return s
	}
	return t.Format("Monday, January 2, 2006")
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

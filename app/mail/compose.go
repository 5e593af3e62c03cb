package mail

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
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
	Kinds     app.KindService // names the acknowledgment a cycle asks for; nil: every cycle is the annual one
	Dashboard app.DashboardService
	Certs     app.CertificateRenderer
	Identity  app.IdentityService
	Sealer    app.Sealer         // opens sign-in links sealed in the outbox
	Accounts  app.AccountService // the registry, for account review reminders
	// LinkMinutes is how long a sign-in link works, for its message.
	LinkMinutes int
	BaseURL     string
	Location    *time.Location
	Now         func() time.Time
}

// Compose fills in m's subject, bodies and attachments. It returns a
// reason, and leaves m alone, when the message is no longer needed.
func (c *Composer) Compose(ctx context.Context, m *app.Message) (skip string, err error) {
	switch {
	case m.Kind == app.MailSignIn:
		return c.signIn(m)
	case m.Text != "":
		// A message the store wrote in full names the portal's address
		// as {portal}: the store does not know it.
		m.Text = strings.ReplaceAll(m.Text, "{portal}", c.BaseURL)
		return "", nil
	case m.Kind == app.MailAddressChange:
		return c.addressChange(ctx, m)
	case m.Kind == app.MailRoleChange:
		return c.roleChange(ctx, m)
	case m.Kind == app.MailAccountReview:
		return c.accountReview(ctx, m)
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
	// An acknowledgment assigned by authorization (the agency-use one) is
	// invited in its own words, with its kind's title.
	if c.Kinds != nil {
		k, err := c.Kinds.FindKind(ctx, cycle.Kind)
		if err != nil {
			return "", err
		}
		data["KindTitle"], data["ByAuthorization"] = k.Title, k.ByAuthorization()
	}
	var subject string
	switch m.Kind {
	case app.MailInvitation, app.MailReminder:
		subject, skip, err = c.pleaseSign(ctx, m, to, cycle, data)
	case app.MailEscalation:
		subject, skip, err = c.escalation(ctx, m, cycle, data)
	case app.MailDigest:
		subject, skip, err = c.digest(ctx, to, cycle, data)
	case app.MailCertificate:
		subject, skip, err = c.certificate(ctx, m, cycle, data)
	default:
		return "unknown kind " + m.Kind, nil
	}
	if skip != "" || err != nil {
		return skip, err
	}
	text, html, err := c.Templates.render(m.Kind, data)
	if err != nil {
		return "", err
	}
	m.Subject, m.Text, m.HTML, m.ToName, m.ToAddr = subject, text, html, to.FullName, to.Email
	return "", nil
}

// pleaseSign fills an invitation or a reminder.
func (c *Composer) pleaseSign(ctx context.Context, m *app.Message, to *app.Employee, cycle *app.Cycle, data map[string]any) (subject, skip string, err error) {
	asg, err := c.Acks.FindAssignment(ctx, cycle.ID, to.ID)
	if err != nil {
		return "", "", err
	}
	if asg.SignedAt != nil || !asg.Active || !cycle.Open {
		return "", "already signed or no longer required", nil
	}
	if asg.Exempt {
		return "", "exempt from this cycle", nil
	}
	days := c.daysUntil(asg.DueOn)
	data["Due"], data["Days"], data["Overdue"], data["Today"] = c.date(asg.DueOn), abs(days), days < 0, days == 0
	// A reminder a manager asked for from the team page names them: the
	// person knows who is waiting, and whom to ask about it.
	from := ""
	if m.Kind == app.MailReminder && m.AboutID != nil {
		asker, err := c.Employees.FindEmployeeByID(ctx, *m.AboutID)
		if err != nil {
			return "", "", err
		}
		data["AskedBy"] = asker.FullName
		from = " (from " + asker.FullName + ")"
	}
	switch {
	case m.Kind != app.MailReminder:
		return "Please sign: " + cycle.Name, "", nil
	case days < 0:
		return "Overdue: " + cycle.Name + from, "", nil
	case days == 0:
		return "Due today: " + cycle.Name + from, "", nil
	}
	return "Reminder: " + cycle.Name + " is due " + c.date(asg.DueOn) + from, "", nil
}

// escalation fills the manager's message about someone overdue.
func (c *Composer) escalation(ctx context.Context, m *app.Message, cycle *app.Cycle, data map[string]any) (subject, skip string, err error) {
	if m.AboutID == nil {
		return "", "incomplete message", nil
	}
	about, err := c.Employees.FindEmployeeByID(ctx, *m.AboutID)
	if err != nil {
		return "", "", err
	}
	asg, err := c.Acks.FindAssignment(ctx, cycle.ID, about.ID)
	if err != nil {
		return "", "", err
	}
	if asg.SignedAt != nil || !asg.Active || !about.Active {
		return "", "already signed or no longer required", nil
	}
	if asg.Exempt {
		return "", "exempt from this cycle", nil
	}
	data["About"], data["Due"], data["Days"] = about.FullName, c.date(asg.DueOn), abs(c.daysUntil(asg.DueOn))
	data["Link"] = c.BaseURL + "/team"
	return "Overdue in your team: " + about.FullName, "", nil
}

// digest fills a manager's weekly list of their overdue people.
func (c *Composer) digest(ctx context.Context, to *app.Employee, cycle *app.Cycle, data map[string]any) (subject, skip string, err error) {
	people, total, err := c.Dashboard.People(ctx, app.PeopleFilter{CycleID: cycle.ID, ManagerID: &to.ID,
		Status: app.StatusOverdue, Today: app.Today(c.Now(), c.Location), Limit: 50})
	if err != nil {
		return "", "", err
	}
	if total == 0 {
		return "", "nobody overdue any more", nil
	}
	data["People"], data["Count"], data["More"], data["Link"] = people, total, total-len(people), c.BaseURL+"/team"
	return fmt.Sprintf("Your team: %d overdue with the social media policy acknowledgment", total), "", nil
}

// certificate fills the signer's copy of their certificate, attached as a PDF.
func (c *Composer) certificate(ctx context.Context, m *app.Message, cycle *app.Cycle, data map[string]any) (subject, skip string, err error) {
	if m.AboutID == nil {
		return "", "incomplete message", nil
	}
	acks, _, err := c.Acks.FindAcknowledgments(ctx, app.AckFilter{ID: m.AboutID})
	if err != nil {
		return "", "", err
	}
	if len(acks) != 1 {
		return "", "acknowledgment not found", nil
	}
	a := acks[0]
	cert := app.CertificateFor(a, c.BaseURL, c.Location)
	var pdf bytes.Buffer
	if err := c.Certs.RenderPDF(&pdf, cert); err != nil {
		return "", "", err
	}
	data["Link"], data["Number"], data["Code"] = cert.VerifyURL, a.CertificateNo, a.VerifyCode
	m.Attachments = []app.Attachment{{Name: a.CertificateNo + ".pdf", ContentType: "application/pdf", Data: pdf.Bytes()}}
	if a.Paper != nil {
		// Someone else made this record in the person's name: they hear of
		// it, with who did it, and what to do if they signed no such form.
		data["Paper"], data["SignedOn"], data["RecordedBy"] = true, c.date(a.Paper.SignedOn), a.Paper.RecordedByName
		return "A paper acknowledgment was recorded for you: " + cycle.Name, "", nil
	}
	return "Your certificate: " + cycle.Name, "", nil
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

// signIn opens the sealed link and renders the message.
func (c *Composer) signIn(m *app.Message) (string, error) {
	if len(m.Sealed) == 0 {
		return "no link (withdrawn)", nil
	}
	link, err := c.Sealer.Open(m.Sealed, m.DedupeKey)
	if err != nil {
		return "", err
	}
	text, html, err := c.Templates.render("signin", struct {
		Name, Link string
		Minutes    int
	}{m.ToName, link, c.LinkMinutes})
	if err != nil {
		return "", err
	}
	m.Subject, m.Text, m.HTML = "Your sign-in link", text, html
	return "", nil
}

// addressChange tells an old or a new address about a change of address:
// asked for, approved or refused. It goes to the address stored with the
// message, not to the person's address of the moment.
func (c *Composer) addressChange(ctx context.Context, m *app.Message) (string, error) {
	if m.AboutID == nil {
		return "incomplete message", nil
	}
	step, err := c.Identity.FindAddressChange(ctx, *m.AboutID)
	if err != nil {
		return "", err
	}
	data := map[string]any{"Name": step.EmployeeName, "Old": step.OldEmail, "New": step.NewEmail, "Action": step.Action,
		"ToOld": strings.EqualFold(m.ToAddr, step.OldEmail), "Actor": step.ActorName, "Link": c.BaseURL + "/"}
	subject := "A change of your e-mail address was asked for"
	switch step.Action {
	case app.AddressApprove:
		subject = "Your e-mail address for the policy portal has changed"
	case app.AddressReject:
		subject = "A change of your e-mail address was refused"
	}
	text, html, err := c.Templates.render("address_change", data)
	if err != nil {
		return "", err
	}
	m.Subject, m.Text, m.HTML, m.ToName = subject, text, html, step.EmployeeName
	return "", nil
}

// roleChange tells an administrator that a role was granted or removed.
func (c *Composer) roleChange(ctx context.Context, m *app.Message) (string, error) {
	if m.AboutID == nil {
		return "incomplete message", nil
	}
	ch, err := c.Identity.FindRosterChange(ctx, *m.AboutID)
	if err != nil {
		return "", err
	}
	f := ch.Change(app.FieldRoles)
	if f == nil {
		return "not a change of roles", nil
	}
	who, err := c.Employees.FindEmployeeByID(ctx, ch.EmployeeID)
	if err != nil {
		return "", err
	}
	actor := ch.ActorName
	if ch.ActorID == nil { // no one signed in: the operator's command line, named by the change's source
		actor = "The operator (" + ch.Source + ")"
	}
	data := map[string]any{"Name": who.FullName, "Number": who.EmployeeNumber, "Old": f.Old, "New": f.New,
		"Actor": actor, "At": ch.At.In(c.Location).Format("January 2, 2006 at 3:04 PM MST"),
		"Link": c.BaseURL + "/admin/roles"}
	text, html, err := c.Templates.render("role_change", data)
	if err != nil {
		return "", err
	}
	m.Subject, m.Text, m.HTML = "Portal roles changed: "+who.FullName, text, html
	return "", nil
}

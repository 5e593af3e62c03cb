package handlers

import (
	"html/template"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// Page is what every page template gets: the layout's data.
type Page struct {
	Title     string
	User      *app.Employee
	CSRF      string
	Flash     string
	Nav       string // which main navigation entry is current
	DevMail   bool   // show the development mailbox link
	RequestID string
	Errors    FormErrors // the form's problems: "Error: " in the title, the summary, beside each field
	Site      Site       // who runs the portal: the header's name and logo, the footer's help address
	Wide      bool       // a wide page (HR and manager tables); HR, team and admin pages are wide anyway (see IsWide)
	Base      string     // the journey's URL prefix: "" for the annual acknowledgment, /acknowledgments/<kind> for another
}

// navState is what the main navigation shows and which entry is current,
// worked out in one call so that the header template makes one call rather
// than a dozen comparisons.
type navState struct {
	Home, Guidance, Quiz, Sign, Team, HR, Admin bool // the current entry
	ShowTeam, ShowHR, ShowVersions, ShowAdmin   bool // the entries this person has
	// Accounts is the registry of agency accounts: supervisors, HR and
	// administrators have it.
	Accounts, ShowAccounts bool
}

// NavState is the main navigation for the page's user.
func (p Page) NavState() navState {
	n := navState{Home: p.Nav == "home", Guidance: p.Nav == "guidance", Quiz: p.Nav == "quiz", Sign: p.Nav == "sign",
		Team: p.Nav == "team", HR: p.Nav == "hr", Admin: p.Nav == "admin", Accounts: p.Nav == "accounts"}
	if p.User != nil {
		n.ShowTeam = p.User.IsManager
		n.ShowHR = p.User.HasRole(app.RoleHR)
		n.ShowAdmin = p.User.HasRole(app.RoleAdmin)
		n.ShowVersions = n.ShowAdmin && !n.ShowHR
		n.ShowAccounts = p.User.SupervisorOf != "" || n.ShowHR || n.ShowAdmin
	}
	return n
}

func (h *Handler) page(c *fiber.Ctx, title string) Page {
	csrf, _ := c.Locals(localCSRF).(string)
	return Page{Title: title, User: currentUser(c), CSRF: csrf, Flash: h.takeFlash(c),
		DevMail: h.Config.Demo && h.Config.DevMailbox, RequestID: requestID(c), Site: h.site(), Base: kindBase(c)}
}

// render writes a page with a status.
func (h *Handler) render(c *fiber.Ctx, status int, name string, data any) error {
	c.Status(status)
	return c.Render(name, data)
}

// templateFuncs are the helpers templates may call.
func templateFuncs(h *Handler) map[string]any {
	return map[string]any{
		"statusLabel":        app.StatusLabel,
		"accountStatusLabel": app.AccountStatusLabel,
		"accountChange":      accountChangeWords,
		"fieldOf":            fieldOf,
		"date": func(s string) string {
			t, err := time.Parse(app.DateLayout, s)
			if err != nil {
				return s
			}
			return t.Format("January 2, 2006")
		},
		"datetime": func(t time.Time) string {
			return t.In(h.Config.Location).Format("January 2, 2006 at 3:04 PM MST")
		},
		"markdown": func(src string) (template.HTML, error) { return h.Markdown(src) },
		"lower":    strings.ToLower,
		"links": func(text string) []string {
			var out []string
			for _, f := range strings.Fields(text) {
				if strings.HasPrefix(f, h.Config.BaseURL+"/") {
					out = append(out, f)
				}
			}
			return out
		},
		"add":             func(a, b int) int { return a + b },
		"fieldLabel":      fieldLabel,
		"rosterKindLabel": rosterKindLabel,
		"deref": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
	}
}

// fieldLabel is how a roster field is named on pages.
func fieldLabel(f string) string {
	switch f {
	case app.FieldEmployeeNumber:
		return "Employee number"
	case app.FieldFullName:
		return "Name"
	case app.FieldEmail:
		return "E-mail"
	case app.FieldAgency:
		return "Agency"
	case app.FieldDepartment:
		return "Department"
	case app.FieldTitle:
		return "Title"
	case app.FieldManager:
		return "Manager (employee number)"
	case app.FieldHireDate:
		return "Hired"
	case app.FieldRoles:
		return "Roles"
	case app.FieldBargainingUnit:
		return "Bargaining unit"
	case app.FieldActive:
		return "Active"
	case app.FieldSignatureName:
		return "Signature name"
	}
	return f
}

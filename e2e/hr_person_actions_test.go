package e2e

import (
	"strings"
	"testing"

	"portal/app"
)

// personActions drives HR's forms on one person page.
type personActions struct {
	t  *testing.T
	tp *testPortal
	hr *client
}

func (p *personActions) day(days int) string {
	return p.tp.DB.Now().In(p.tp.Config.TimeZone).AddDate(0, 0, days).Format(app.DateLayout)
}

func (p *personActions) path(number, action string) string {
	return "/hr/people/" + itoa(p.tp.employee(p.t, number).ID) + action
}

// done posts a form that must succeed, and returns the person page that
// follows with its confirmation.
func (p *personActions) done(number, action string, f []string, flash string) string {
	p.t.Helper()
	p.hr.get(p.path(number, ""))
	r := p.hr.post(p.path(number, action), form(f...))
	if r.Status != 303 || r.Location != p.path(number, "") {
		p.t.Fatalf("POST %s for %s: status %d to %q\n%s", action, number, r.Status, r.Location, r.Body)
	}
	page := p.hr.get(r.Location)
	if !strings.Contains(page.Body, `<div class="flash" role="status">`) || !strings.Contains(page.Body, flash) {
		p.t.Fatalf("POST %s for %s: the page does not confirm %q", action, number, flash)
	}
	return page.Body
}

// evidence counts the rows that record HR's actions.
func (p *personActions) evidence() int {
	return p.tp.count(p.t, `SELECT (SELECT COUNT(*) FROM due_extensions) + (SELECT COUNT(*) FROM exemptions)
		+ (SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'invitation:%:resent:%')
		+ (SELECT COUNT(*) FROM audit_events WHERE action LIKE 'assignment.%' OR action = 'mail.invitation_resent')`)
}

// refused posts a form that must be refused with the message at field
// (no field: a conflict about the person, in the summary), changing nothing.
func (p *personActions) refused(number, action string, f []string, status int, field, msg string) {
	p.t.Helper()
	before := p.evidence()
	due := p.tp.text(p.t, `SELECT due_on || exempt FROM assignments WHERE employee_id = ? AND cycle_id = ?`, p.tp.employee(p.t, number).ID, p.tp.cycleID(p.t))
	p.hr.get(p.path(number, ""))
	r := p.hr.post(p.path(number, action), form(f...))
	switch field {
	case "":
		if r.Status != status || !strings.Contains(r.Body, `id="error-summary"`) || !strings.Contains(r.Body, msg) {
			p.t.Fatalf("POST %s for %s: status %d, want %d with %q", action, number, r.Status, status, msg)
		}
	case "resend":
		checkFormError(p.t, r, status, field, msg, false)
	default:
		wantFieldErrorStatus(p.t, r, status, field, msg)
	}
	if after := p.evidence(); after != before {
		p.t.Fatalf("POST %s for %s was refused but wrote %d rows", action, number, after-before)
	}
	if now := p.tp.text(p.t, `SELECT due_on || exempt FROM assignments WHERE employee_id = ? AND cycle_id = ?`, p.tp.employee(p.t, number).ID, p.tp.cycleID(p.t)); now != due {
		p.t.Fatalf("POST %s for %s was refused but the assignment changed: %s to %s", action, number, due, now)
	}
}

// TestHRExtendsADueDate: an overdue person's due date moves later with a
// reason; the record, the audit event and the status show on their page;
// every bad input is refused in the error pattern and changes nothing.
func TestHRExtendsADueDate(t *testing.T) {
	tp := startTestPortal(t)
	p := &personActions{t: t, tp: tp, hr: hrClient(t, tp)}
	if st := p.tp.text(t, `SELECT CASE WHEN due_on < ? THEN 1 ELSE 0 END FROM assignments WHERE employee_id = ?`, p.day(0), tp.employee(t, "1005").ID); st != "1" {
		t.Fatal("1005 should be overdue in the demo data")
	}
	newDue := p.day(14)
	t.Run("bad input", func(t *testing.T) {
		p.t = t
		p.refused("1005", "/extend", []string{"extend_due_on", newDue, "extend_reason", "  "}, 422, "extend_reason", "Enter the reason")
		p.refused("1005", "/extend", []string{"extend_due_on", "next week", "extend_reason", "leave"}, 422, "extend_due_on", "YYYY-MM-DD")
		p.refused("1005", "/extend", []string{"extend_due_on", p.day(-1), "extend_reason", "leave"}, 422, "extend_due_on", "today or later")
		p.refused("1012", "/extend", []string{"extend_due_on", p.day(1), "extend_reason", "leave"}, 422, "extend_due_on", "later than the current one")
		p.refused("1008", "/extend", []string{"extend_due_on", newDue, "extend_reason", "leave"}, 409, "", "has already signed")
		tamper(t, tp, `UPDATE assignments SET active = 0 WHERE employee_id = ?`, tp.employee(t, "1009").ID)
		p.refused("1009", "/extend", []string{"extend_due_on", newDue, "extend_reason", "leave"}, 409, "", "not asked to sign in the open cycle")
	})
	t.Run("an extension", func(t *testing.T) {
		p.t = t
		page := p.done("1005", "/extend", []string{"extend_due_on", newDue, "extend_reason", "Back from surgery next week"}, "Due date extended to")
		mustContain(t, page, "Back from surgery next week", "Hannah Roy", "tag-"+app.StatusNotStarted, "extended the due date of")
		if due := tp.text(t, `SELECT due_on FROM assignments WHERE employee_id = ?`, tp.employee(t, "1005").ID); due != newDue {
			t.Fatalf("due on %s, want %s", due, newDue)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM due_extensions WHERE employee_id = ? AND new_due_on = ? AND reason = 'Back from surgery next week'`,
			tp.employee(t, "1005").ID, newDue); n != 1 {
			t.Fatalf("%d extension records", n)
		}
		// No longer overdue anywhere: the people list agrees.
		if r := p.hr.get("/hr/people?status=overdue&q=employee1005"); !strings.Contains(r.Body, "0 people") {
			t.Error("1005 is still listed as overdue")
		}
	})
}

// TestHRExemptsAndEndsAnExemption: an exemption with its period and
// reason; exempt people get no reminders; ending it makes them due again.
func TestHRExemptsAndEndsAnExemption(t *testing.T) {
	tp := startTestPortal(t)
	p := &personActions{t: t, tp: tp, hr: hrClient(t, tp)}
	t.Run("bad input", func(t *testing.T) {
		p.t = t
		p.refused("1005", "/exempt", []string{"exempt_from", p.day(0), "exempt_reason", ""}, 422, "exempt_reason", "Enter the reason")
		p.refused("1005", "/exempt", []string{"exempt_from", "soon", "exempt_reason", "leave"}, 422, "exempt_from", "YYYY-MM-DD")
		p.refused("1005", "/exempt", []string{"exempt_from", p.day(0), "exempt_to", "31/12", "exempt_reason", "leave"}, 422, "exempt_to", "YYYY-MM-DD")
		p.refused("1005", "/exempt", []string{"exempt_from", p.day(10), "exempt_to", p.day(5), "exempt_reason", "leave"}, 422, "exempt_to", "on or after the start")
		p.refused("1008", "/exempt", []string{"exempt_from", p.day(0), "exempt_reason", "leave"}, 409, "", "has already signed")
		p.refused("1005", "/exempt/end", []string{"end_reason", "back"}, 409, "", "is not exempt")
	})
	t.Run("an exemption", func(t *testing.T) {
		p.t = t
		page := p.done("1005", "/exempt", []string{"exempt_from", p.day(0), "exempt_to", p.day(90), "exempt_reason", "Military service"}, "Marked exempt")
		mustContain(t, page, "Military service", "tag-"+app.StatusExempt, "End the exemption", "from signing in a cycle")
		p.refused("1005", "/exempt", []string{"exempt_from", p.day(0), "exempt_reason", "again"}, 409, "", "already exempt")
		p.refused("1005", "/resend", nil, 409, "", "is exempt")
		p.refused("1005", "/exempt/end", []string{"end_reason", ""}, 422, "end_reason", "Enter the reason")
		// Zoë's own page says so too.
		zc := newClient(t, tp.BaseURL)
		zc.signIn(tp.signInLink(t, "1005"))
		mustContain(t, zc.get("/").Body, "Exempt", "HR has excused you from this cycle")
		// Exempt people get nothing from a reminder pass about the cycle
		// they are excused from (Zoë's agency-use acknowledgment is
		// another one, which the exemption does not cover).
		zoe, jose := tp.employee(t, "1005"), tp.employee(t, "1006")
		about := func(id int64) int {
			return tp.count(t, `SELECT COUNT(*) FROM outbox WHERE (employee_id = ? OR about_id = ?)
				AND (cycle_id IS NULL OR cycle_id IN (SELECT id FROM cycles WHERE kind = 'personal-use'))`, id, id)
		}
		before := about(zoe.ID)
		tp.pass(t)
		if n := about(zoe.ID) - before; n != 0 {
			t.Fatalf("%d messages queued about an exempt person", n)
		}
		if about(jose.ID) == 0 {
			t.Fatal("the pass queued nothing for 1006, overdue and not exempt: it proves nothing")
		}
	})
	t.Run("the end of the exemption", func(t *testing.T) {
		p.t = t
		page := p.done("1005", "/exempt/end", []string{"end_reason", "Back early"}, "The exemption has ended")
		mustContain(t, page, "Back early", "Exemption ended on", "tag-"+app.StatusOverdue, "ended the exemption of")
		if n := tp.count(t, `SELECT COUNT(*) FROM exemptions WHERE employee_id = ?`, tp.employee(t, "1005").ID); n != 2 {
			t.Fatalf("%d exemption records, want the start and the end", n)
		}
	})
}

// TestHRResendsAnInvitation: the invitation goes out again at once, and a
// second one within ten minutes is refused on the page.
func TestHRResendsAnInvitation(t *testing.T) {
	tp := startTestPortal(t)
	p := &personActions{t: t, tp: tp, hr: hrClient(t, tp)}
	zoe := tp.employee(t, "1005")
	p.done("1005", "/resend", nil, "The invitation is on its way again to "+zoe.Email)
	if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' AND employee_id = ?`, zoe.ID); n != 1 {
		t.Fatalf("%d invitations queued", n)
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'mail.invitation_resent' AND subject_id = ?`, zoe.ID); n != 1 {
		t.Fatalf("%d audit events", n)
	}
	p.refused("1005", "/resend", nil, 429, "resend", "it can be sent again from")
	p.refused("1008", "/resend", nil, 409, "", "has already signed")
}

// TestPersonActionsStayInScope: an HR user limited to one agency cannot act
// on anyone outside it (404, as for the page), and nothing changes.
func TestPersonActionsStayInScope(t *testing.T) {
	tp := startTestPortal(t)
	admin := newClient(t, tp.BaseURL)
	admin.signIn(tp.signInLink(t, "1003"))
	admin.get("/admin/scopes")
	if r := admin.post("/admin/scopes", form("employee", itoa(tp.employee(t, "1010").ID), "agency", "Department of Labor")); r.Status != 303 {
		t.Fatalf("set scope: %d", r.Status)
	}
	chloe := newClient(t, tp.BaseURL)
	chloe.signIn(tp.signInLink(t, "1010"))
	p := &personActions{t: t, tp: tp, hr: chloe}
	for action, f := range map[string][]string{
		"/extend":     {"extend_due_on", p.day(14), "extend_reason", "leave"},
		"/exempt":     {"exempt_from", p.day(0), "exempt_reason", "leave"},
		"/exempt/end": {"end_reason", "back"},
		"/resend":     nil,
	} {
		before := p.evidence()
		if r := chloe.post(p.path("1005", action), form(f...)); r.Status != 404 {
			t.Errorf("POST %s on someone outside the scope: status %d, want 404", action, r.Status)
		}
		if p.evidence() != before {
			t.Errorf("POST %s outside the scope wrote rows", action)
		}
	}
	// Inside the scope it works.
	p.done("4003", "/extend", []string{"extend_due_on", p.day(14), "extend_reason", "leave"}, "Due date extended to")
}

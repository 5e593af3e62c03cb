package server

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"portal/app"
)

// demoPerson is one row of the demo roster. State is what they have done in
// the current cycle: "signed", "reading" (some guidance read) or "" (nothing).
type demoPerson struct {
	Number, Name, Agency, Dept, Title, Manager string
	HiredDaysAgo                               int
	Roles                                      []app.Role
	State                                      string
}

const (
	dafs = "Department of Administrative and Financial Services"
	dhhs = "Department of Health and Human Services"
	mdot = "Department of Transportation"
	dol  = "Department of Labor"
	oit  = "Office of Information Technology"
	bhr  = "Bureau of Human Resources"
	ofi  = "Office for Family Independence"
	cdc  = "Maine Center for Disease Control"
	bmo  = "Bureau of Maintenance and Operations"
	bpl  = "Bureau of Planning"
	bes  = "Bureau of Employment Services"
)

// DemoRoster: about fifty people in five manager trees, some with accents
// and non-Latin letters, a few hired after the cycle opened.
var DemoRoster = []demoPerson{
	{"1001", "Margaret Thibodeau", dafs, oit, "Chief Information Officer", "", 4000, nil, "signed"},
	{"1002", "Hannah Roy", dafs, bhr, "Director of Human Resources", "", 3000, []app.Role{app.RoleHR}, "signed"},
	{"1003", "Adam Ouellette", dafs, oit, "Systems Administrator", "1001", 2500, []app.Role{app.RoleAdmin}, "signed"},
	{"1004", "François Lévesque", dafs, oit, "Director of Applications", "1001", 2800, nil, "signed"},
	{"1005", "Zoë Côté", dafs, oit, "Web Coordinator", "1004", 900, nil, ""}, // a poster by authorization (demo_authz.go)
	{"1006", "José Núñez", dafs, oit, "Developer", "1004", 700, nil, "reading"},
	{"1007", "Nguyễn Thị Lan", dafs, oit, "Developer", "1004", 20, nil, ""},
	{"1008", "Siobhán O'Brien", dafs, oit, "Analyst", "1004", 1200, nil, "signed"},
	{"1009", "Łukasz Wiśniewski", dafs, oit, "Network Engineer", "1001", 1500, nil, ""},
	{"1010", "Chloé Thériault", dafs, bhr, "HR Generalist", "1002", 600, []app.Role{app.RoleHR}, "signed"},
	{"1011", "Dmitri Volkov", dafs, bhr, "Benefits Specialist", "1002", 400, nil, ""},
	{"1012", "Дарья Смирнова", dafs, bhr, "Payroll Clerk", "1002", 10, nil, ""},
	{"2001", "Robert Pelletier", dhhs, ofi, "Commissioner's Office Director", "", 5000, nil, "signed"},
	{"2002", "Aisha Rahman", dhhs, ofi, "Program Manager", "2001", 2000, nil, "signed"},
	{"2003", "Émile Bouchard", dhhs, ofi, "Eligibility Specialist", "2002", 800, nil, ""},
	{"2004", "Sofia Papadopoulou", dhhs, ofi, "Eligibility Specialist", "2002", 850, nil, "reading"},
	{"2005", "Σοφία Αλεξίου", dhhs, ofi, "Caseworker", "2002", 300, nil, ""},
	{"2006", "Kevin Morin", dhhs, ofi, "Caseworker", "2002", 1400, nil, "signed"},
	{"2007", "Laura Gagnon", dhhs, cdc, "Epidemiology Manager", "2001", 2200, nil, "signed"},
	{"2008", "王小明", dhhs, cdc, "Epidemiologist", "2007", 500, nil, ""},
	{"2009", "Priya Natarajan", dhhs, cdc, "Public Health Educator", "2007", 650, []app.Role{app.RolePoster}, "signed"},
	{"2010", "Jürgen Groß", dhhs, cdc, "Lab Scientist", "2007", 15, nil, ""},
	{"2011", "Aroha Ngāta", dhhs, cdc, "Data Analyst", "2007", 1100, nil, ""},
	{"2012", "Samuel Dubois", dhhs, cdc, "Health Inspector", "2007", 1900, nil, "signed"},
	{"3001", "Patricia Michaud", mdot, bmo, "Bureau Director", "", 6000, nil, "signed"},
	{"3002", "Daniel Fortin", mdot, bmo, "Region Manager", "3001", 3500, nil, "signed"},
	{"3003", "Brian Levesque", mdot, bmo, "Highway Worker", "3002", 1300, nil, ""},
	{"3004", "Tyler Cyr", mdot, bmo, "Highway Worker", "3002", 1000, nil, "reading"},
	{"3005", "Olivia Bernier", mdot, bmo, "Highway Worker", "3002", 200, nil, ""},
	{"3006", "Ahmed Hassan", mdot, bmo, "Equipment Operator", "3002", 2400, nil, "signed"},
	{"3007", "Mary-Jane Poulin", mdot, bmo, "Dispatcher", "3002", 45, nil, ""},
	{"3008", "Catherine Lavoie", mdot, bpl, "Planning Manager", "3001", 2600, []app.Role{app.RolePoster}, "signed"},
	{"3009", "Noah Deschênes", mdot, bpl, "Transportation Planner", "3008", 750, nil, ""},
	{"3010", "Grace Kim", mdot, bpl, "GIS Analyst", "3008", 5, nil, ""},
	{"3011", "Mohamed Abdi", mdot, bpl, "Engineer", "3008", 1600, nil, "signed"},
	{"3012", "Elena Rossi", mdot, bpl, "Engineer", "3008", 1700, nil, ""},
	{"4001", "Steven Paradis", dol, bes, "Bureau Director", "", 4500, nil, "signed"},
	{"4002", "Jennifer Albert", dol, bes, "CareerCenter Manager", "4001", 2100, nil, "signed"},
	{"4003", "Ryan Caron", dol, bes, "Employment Counselor", "4002", 900, nil, ""},
	{"4004", "Fatuma Warsame", dol, bes, "Employment Counselor", "4002", 950, nil, "signed"},
	{"4005", "Lucas Hébert", dol, bes, "Employment Counselor", "4002", 300, nil, "reading"},
	{"4006", "Amélie Giguère", dol, bes, "Claims Adjudicator", "4002", 25, nil, ""},
	{"4007", "Thomas Nadeau", dol, bes, "Claims Adjudicator", "4001", 1800, nil, ""},
	{"4008", "Isabelle Boucher", dol, bes, "Claims Adjudicator", "4007", 1250, nil, "signed"},
	{"4009", "Ivan Kovačević", dol, bes, "Claims Adjudicator", "4007", 1350, nil, ""},
	{"4010", "Yuki Tanaka", dol, bes, "Veterans' Representative", "4007", 700, nil, "signed"},
	{"4011", "Carlos Ortega", dol, bes, "Veterans' Representative", "4007", 30, nil, ""},
	{"4012", "Beatriz Alves", dol, bes, "Office Associate", "4007", 400, nil, ""},
}

// demoSignatureNames are the demo roster's signature names: a Latin-letter
// form of a name someone on a Latin keyboard could not otherwise type.
var demoSignatureNames = map[string]string{
	"1012": "Darya Smirnova",
	"2005": "Sofia Alexiou",
	"2008": "Wang Xiaoming",
}

// demo people whose sign-in links are printed.
const (
	demoEmployee = "1005" // Zoë Côté: not started, authorized poster
	demoManager  = "1004" // François Lévesque: manages 1005–1008
	demoHR       = "1002" // Hannah Roy
	// demoSupervisor is DAFS's Social Media Supervisor (DHHS's is 2007
	// Laura Gagnon): their home page lists the agency's accounts.
	demoSupervisor = "1009" // Łukasz Wiśniewski
)

func DemoEmail(number string) string {
	return "employee" + number + "@demo.portal.invalid"
}

// seedDemo fills an empty database with the demo roster and an open cycle
// whose due date has passed for most (so some are overdue) but not for recent
// hires, then prints sign-in links. An existing demo database is kept.
func SeedDemo(ctx context.Context, p *Portal, cfg *Config, out io.Writer) error {
	h := p.Handler
	_, total, err := h.Employees.FindEmployees(ctx, app.EmployeeFilter{Limit: 1})
	if err != nil {
		return err
	}
	if total == 0 {
		if err := seedRoster(ctx, p); err != nil {
			return err
		}
		if err := seedRegistry(ctx, p); err != nil {
			return err
		}
		if err := seedAgencyUse(ctx, p); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "Demo data ready. Sign-in links (each works once, for 15 minutes; ask for more at /signin and read them at /dev/mailbox):")
	for _, who := range []struct{ label, number string }{{"employee", demoEmployee}, {"manager", demoManager}, {"HR", demoHR}, {"supervisor", demoSupervisor}} {
		num := who.number
		es, _, err := h.Employees.FindEmployees(ctx, app.EmployeeFilter{EmployeeNumber: &num})
		if err == nil && len(es) == 0 && who.label == "supervisor" {
			// A database the demo did not fill (an older demo's, a test's)
			// may have no supervisor: the others' links are still useful.
			continue
		}
		if err != nil || len(es) == 0 {
			return fmt.Errorf("find demo %s: %w", who.label, err)
		}
		token, err := h.SignIn.CreateLoginToken(ctx, es[0].ID, h.Config.LinkTTL)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  %-10s %-20s %s/signin/link/%s\n", who.label, es[0].FullName, cfg.BaseURL, url.PathEscape(token))
	}
	return nil
}

func seedRoster(ctx context.Context, p *Portal) error {
	h, db := p.Handler, p.DB
	realNow := db.Now
	defer func() { db.Now = realNow }()
	now := realNow().In(db.Location) // dates as the portal's calendar counts them
	opened := now.AddDate(0, 0, -75)
	db.Now = func() time.Time { return opened }

	ids := map[string]int64{}
	for _, d := range DemoRoster {
		e := &app.Employee{EmployeeNumber: d.Number, FullName: d.Name, Email: DemoEmail(d.Number), Agency: d.Agency,
			Department: d.Dept, Title: d.Title, Roles: d.Roles, Active: true, SignatureName: demoSignatureNames[d.Number],
			HireDate: now.AddDate(0, 0, -d.HiredDaysAgo).Format(app.DateLayout)}
		if d.Manager != "" {
			m := ids[d.Manager]
			e.ManagerID = &m
		}
		if err := h.Employees.CreateEmployee(ctx, e); err != nil {
			return err
		}
		ids[d.Number] = e.ID
	}
	cycle := &app.Cycle{Name: fmt.Sprintf("%d annual acknowledgment", opened.Year()), PolicyVersionID: p.Version.ID,
		OpensOn: opened.Format(app.DateLayout), DueOn: now.AddDate(0, 0, -15).Format(app.DateLayout), NewHireDays: 30, Open: true}
	if err := h.Cycles.CreateCycle(ctx, cycle); err != nil {
		return err
	}
	for i, d := range DemoRoster {
		if d.State == "" {
			continue
		}
		at := opened.Add(time.Duration(i+1) * 26 * time.Hour)
		db.Now = func() time.Time { return at }
		e, err := h.Employees.FindEmployeeByID(ctx, ids[d.Number])
		if err != nil {
			return err
		}
		mods := p.Version.ModulesFor(app.AudienceAll) // the annual acknowledgment's part
		if d.State == "reading" {
			mods = mods[:2]
		}
		for _, m := range mods {
			if err := h.Acks.MarkModuleRead(ctx, e.ID, cycle.ID, m.Slug); err != nil {
				return err
			}
		}
		if d.State != "signed" {
			continue
		}
		if err := seedSignature(ctx, p, e, cycle, at); err != nil {
			return err
		}
	}
	return nil
}

func seedSignature(ctx context.Context, p *Portal, e *app.Employee, cycle *app.Cycle, at time.Time) error {
	h := p.Handler
	// A demo signer passed a check drawn for them, as the pages draw it.
	shown, err := app.DrawQuiz(p.Version, app.AudienceAll, app.CryptoIntn)
	if err != nil {
		return err
	}
	answers := map[string]string{}
	for _, s := range shown {
		answers[s.ID] = p.Version.Question(s.ID).Answer
	}
	attempt, err := app.GradeDraw(p.Version, app.AudienceAll, e, shown, answers, h.Config.PassMark)
	if err != nil {
		return err
	}
	attempt.CycleID = cycle.ID
	if err := h.Acks.CreateQuizAttempt(ctx, attempt); err != nil {
		return err
	}
	consent := &app.ConsentRecord{EmployeeID: e.ID, CycleID: cycle.ID, Version: h.Consent.Version, SHA256: h.Consent.SHA256,
		IP: "127.0.0.1", UserAgent: "demo data"}
	if err := h.Acks.RecordConsent(ctx, consent); err != nil {
		return err
	}
	_, _, err = h.Acks.CreateAcknowledgment(ctx, &app.Acknowledgment{
		EmployeeID: e.ID, CycleID: cycle.ID, PolicyVersionID: p.Version.ID, PolicySHA256: p.Version.SHA256,
		TypedName: e.FullName, ConsentID: consent.ID, ConsentVersion: consent.Version, ConsentSHA256: consent.SHA256,
		IntentText: p.Version.Intent, IP: "127.0.0.1", UserAgent: "demo data", AuthMethod: app.AuthEmailLink,
		QuizAttemptID: attempt.ID,
	})
	return err
}

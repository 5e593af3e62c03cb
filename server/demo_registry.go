package server

import (
	"context"
	"fmt"

	"portal/app"
)

// seedRegistry designates the demo's Social Media Supervisors (DAFS: 1009
// Łukasz Wiśniewski, DHHS: 2007 Laura Gagnon, designated by the
// administrator 1003) and puts three accounts in the registry: DAFS
// Facebook StateDAFSNews (active) and YouTube StateDAFS (dormant), DHHS
// Instagram StateHealthTips (active). The dormant one is past its review
// date, so the supervisor's reminder has something to say.
func seedRegistry(ctx context.Context, p *Portal) error {
	h := p.Handler
	find := func(number string) (*app.Employee, error) {
		es, _, err := h.Employees.FindEmployees(ctx, app.EmployeeFilter{EmployeeNumber: &number})
		if err != nil || len(es) == 0 {
			return nil, fmt.Errorf("find demo employee %s: %w", number, err)
		}
		return es[0], nil
	}
	admin, err := find("1003")
	if err != nil {
		return err
	}
	sup := map[string]int64{}
	for _, s := range []struct{ agency, number string }{{dafs, demoSupervisor}, {dhhs, "2007"}} {
		who, err := h.Supervisors.Designate(ctx, s.agency, s.number, "Named by the agency head's letter to the central IT office", admin.ID)
		if err != nil {
			return fmt.Errorf("designate the demo supervisor of %s: %w", s.agency, err)
		}
		sup[s.agency] = who.EmployeeID
	}
	day := func(months int) string {
		return p.DB.Now().In(h.Config.Location).AddDate(0, months, 0).Format(app.DateLayout)
	}
	for _, a := range []*app.SocialAccount{
		{Agency: dafs, Platform: "Facebook", Handle: "StateDAFSNews", URL: "https://www.facebook.com/StateDAFSNews",
			Purpose:         "News about State services, job openings and procurement notices; answers to general questions",
			TermsAcceptedBy: "Margaret Thibodeau, Chief Information Officer", TermsAcceptedOn: day(-14),
			ArchiveMethod: "Weekly capture of posts and comments by the State's social media archiving service", Status: app.AccountActive, ReviewOn: day(6)},
		{Agency: dafs, Platform: "YouTube", Handle: "StateDAFS", URL: "https://www.youtube.com/@StateDAFS",
			Purpose:         "Recorded webinars for vendors; no new videos since the webinars moved to the procurement site",
			TermsAcceptedBy: "Margaret Thibodeau, Chief Information Officer", TermsAcceptedOn: day(-30),
			ArchiveMethod: "Videos and comments downloaded to the records system each quarter", Status: app.AccountDormant, ReviewOn: day(-1)},
		{Agency: dhhs, Platform: "Instagram", Handle: "StateHealthTips", URL: "https://www.instagram.com/StateHealthTips",
			Purpose:         "Public health advice and program news",
			TermsAcceptedBy: "Robert Pelletier, Commissioner's Office Director", TermsAcceptedOn: day(-8),
			ArchiveMethod: "Daily capture by the State's social media archiving service", Status: app.AccountActive, ReviewOn: day(3)},
	} {
		if err := h.Accounts.CreateAccount(ctx, a, sup[a.Agency]); err != nil {
			return fmt.Errorf("demo account %s %s: %w", a.Platform, a.Handle, err)
		}
	}
	return nil
}

package server

import (
	"context"
	"fmt"

	"portal/app"
)

// demoTerms is each demo agency's Terms of Comment, version 1.
var demoTerms = map[string]string{
	dafs: termsText("the Department of Administrative and Financial Services",
		"news about State services, job openings, procurement notices and answers to general questions"),
	dhhs: termsText("the Department of Health and Human Services",
		"public health advice, program news and answers to general questions"),
}

func termsText(agency, what string) string {
	return `## What we post
On its social media accounts, ` + agency + ` posts ` + what + `. You are welcome to comment on what we post.

## How we post
Only staff the agency's Social Media Supervisor has authorized post for us. Each post is checked by a second person before it is published.

## Comments we remove
We read comments and may hide or remove any that:

- are off-topic for the post they are under;
- repeat the same message, or advertise products or services;
- are obscene, threatening, harassing, or offensive about a person or a group;
- give personal information about anyone: phone numbers, home addresses, case or account numbers, health details.

We do not remove a comment because it disagrees with us or criticises the agency.

## Comments are public records
Posts and comments on our accounts, including comments we remove, are public records. We keep copies under the State's records retention schedules and may have to release them on request.

## Help with your own case
Please do not post details of your own case. Contact the agency directly, and we will answer you privately.
`
}

// seedAgencyUse gives the demo its Terms of Comment (DAFS and DHHS,
// version 1, published by their supervisors) and authorizes Zoë Côté
// (1005) on DAFS Facebook StateDAFSNews, her receipt of the terms still to
// do.
func seedAgencyUse(ctx context.Context, p *Portal) error {
	h := p.Handler
	find := func(number string) (*app.Employee, error) {
		es, _, err := h.Employees.FindEmployees(ctx, app.EmployeeFilter{EmployeeNumber: &number})
		if err != nil || len(es) == 0 {
			return nil, fmt.Errorf("find demo employee %s: %w", number, err)
		}
		return es[0], nil
	}
	for _, s := range []struct{ agency, supervisor string }{{dafs, "1009"}, {dhhs, "2007"}} {
		sup, err := find(s.supervisor)
		if err != nil {
			return err
		}
		if err := h.Terms.PublishTerms(ctx, &app.TermsOfComment{Agency: s.agency, Body: demoTerms[s.agency], PublishedBy: &sup.ID}, ""); err != nil {
			return err
		}
	}
	accts, err := h.Authorizations.PosterAccounts(ctx, dafs)
	if err != nil {
		return err
	}
	var facebook int64
	for _, a := range accts {
		if a.Platform == "Facebook" && a.Handle == "StateDAFSNews" {
			facebook = a.ID
		}
	}
	if facebook == 0 {
		return fmt.Errorf("demo: no DAFS Facebook account StateDAFSNews")
	}
	sup, err := find("1009")
	if err != nil {
		return err
	}
	_, err = h.Authorizations.Authorize(ctx, &app.AuthorizationRequest{Agency: dafs, EmployeeNumber: demoEmployee,
		AccountIDs: []int64{facebook}, StartsOn: p.DB.Today(), Scope: "Post news and service updates; answer and moderate comments",
		ActorID: sup.ID})
	return err
}

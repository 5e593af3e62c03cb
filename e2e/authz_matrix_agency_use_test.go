package e2e

// The authorization matrix's rows for the agency-use side of the policy, and their requests.

import (
	"portal/app"
)

// azAgencyUseRows are the matrix rows of the agency-use side of the policy:
// Social Media Supervisors, the registry of accounts, poster authorizations,
// Terms of Comment and the agency-use acknowledgment's journey.
var azAgencyUseRows = map[string]azExpect{
	// Social Media Supervisors and the registry of accounts: administrators
	// designate; supervisors, HR and administrators read the registry;
	// supervisors and administrators change it, HR does not. Each
	// supervisor asks for their own agency's account (TestAccountRegistryPages
	// covers another agency's: 404, nothing changed).
	"GET /admin/supervisors": {allow: azSetAdmin, ok: []int{200}},
	"POST /admin/supervisors": {allow: azSetAdmin, ok: []int{303}, note: "1004 replaces 1008 at DAFS",
		req: func(*azEnv, azRole) azReq {
			return azReq{path: "/admin/supervisors", form: form("agency", dafs, "employee_number", "1004", "reason", "letter")}
		}},
	"POST /admin/supervisors/end": {allow: azSetAdmin, ok: []int{303},
		req: func(*azEnv, azRole) azReq {
			return azReq{path: "/admin/supervisors/end", form: form("agency", dhhs, "end_reason", "left the post")}
		}},
	"GET /accounts":          {allow: azSetSups | azSetHR | azSetAdmin, ok: []int{200}},
	"GET /accounts.csv":      {allow: azSetSups | azSetHR | azSetAdmin, ok: []int{200}, writes: azGETWrites},
	"GET /accounts/new":      {allow: azSetSups | azSetAdmin, ok: []int{200}},
	"GET /accounts/:id":      {allow: azSetSups | azSetHR | azSetAdmin, ok: []int{200}, req: azAccountPath("")},
	"GET /accounts/:id/edit": {allow: azSetSups | azSetAdmin, ok: []int{200}, req: azAccountPath("/edit")},
	"POST /accounts": {allow: azSetSups | azSetAdmin, ok: []int{303}, note: "a handle of each role's own",
		req: func(e *azEnv, who azRole) azReq {
			return azReq{path: "/accounts", form: accountForm(e.tp, "handle", "Matrix"+azNumber[who], "agency", dafs)}
		}},
	"POST /accounts/:id": {allow: azSetSups | azSetAdmin, ok: []int{303},
		req: func(e *azEnv, who azRole) azReq {
			q := azAccountPath("")(e, who)
			q.form = accountForm(e.tp, "platform", "Facebook", "handle", "StateDAFSNews", "url", "https://www.facebook.com/StateDAFSNews",
				"purpose", "Checked by "+azNumber[who])
			if who == azSupDHHS {
				q.form = accountForm(e.tp, "platform", "Instagram", "handle", "StateHealthTips", "url", "https://www.instagram.com/StateHealthTips",
					"purpose", "Checked by "+azNumber[who])
			}
			return q
		}},
	// Poster authorizations and Terms of Comment: each supervisor on their
	// own agency (the requests say which); HR and administrators read.
	"GET /posters":     {allow: azSetSups | azSetHR | azSetAdmin, ok: []int{200}},
	"GET /posters/new": {allow: azSetSups, ok: []int{200}},
	"POST /posters": {allow: azSetSups, ok: []int{303}, note: "someone of each supervisor's agency on one of its accounts",
		req: func(e *azEnv, who azRole) azReq {
			person, handle := "1006", "StateDAFSNews"
			if who == azSupDHHS {
				person, handle = "2003", "StateHealthTips"
			}
			return azReq{path: "/posters", form: form("employee", person, "accounts",
				itoa(int64(e.tp.count(e.t, `SELECT id FROM social_accounts WHERE handle = ?`, handle))), "starts_on", e.day(0), "scope", "news")}
		}},
	"POST /posters/:id/revoke": {allow: azSetSups, ok: []int{303, 404}, note: "Zoë's demo authorization, of DAFS: the DHHS supervisor gets 404 (TestPosterAuthorization)",
		req: func(e *azEnv, who azRole) azReq {
			return azReq{path: "/posters/" + itoa(int64(e.tp.count(e.t, `SELECT MIN(id) FROM poster_authorizations`))) + "/revoke", form: form("reason", "left")}
		}},
	"GET /terms": {allow: azSetSups | azSetHR | azSetAdmin, ok: []int{200}},
	"POST /terms": {allow: azSetSups, ok: []int{303}, req: func(e *azEnv, who azRole) azReq {
		return azReq{path: "/terms", form: form("body", "## New", "action", "publish")}
	}},
	"GET /terms/:id": {allow: azSetSups | azSetHR | azSetAdmin, ok: []int{200}, note: "version 1 of the role's agency (DAFS but for the DHHS supervisor)",
		req: func(e *azEnv, who azRole) azReq {
			agency := dafs
			if who == azSupDHHS {
				agency = dhhs
			}
			return azReq{path: "/terms/" + itoa(int64(e.tp.count(e.t, `SELECT id FROM terms_of_comment WHERE agency = ? AND version = 1`, agency)))}
		}},
	"GET /my/terms/:id": {allow: azSignedIn, ok: []int{200, 404}, note: "given to Zoë only: 404 for the others",
		req: func(e *azEnv, who azRole) azReq { return azReq{path: "/my/terms/" + itoa(azDemoTerms(e))} }},
	"POST /my/terms/:id": {allow: azSignedIn, ok: []int{303, 404}, note: "Zoë confirms her receipt; not given to the others: 404",
		req: func(e *azEnv, who azRole) azReq {
			return azReq{path: "/my/terms/" + itoa(azDemoTerms(e)), form: form("confirm", "yes")}
		}},
	// Another kind's journey (the agency-use acknowledgment): any signed-in
	// person may ask; the employee (Zoë, authorized on a DAFS account) is
	// asked to sign it, everyone else gets the page saying they are not
	// (404). Who owes it and what it records: TestAgencyUseAcknowledgment.
	"GET /acknowledgments/:kind/guidance":             {allow: azSignedIn, ok: []int{200, 404}, req: azKindPath("/guidance")},
	"GET /acknowledgments/:kind/guidance/changes":     {allow: azSignedIn, ok: []int{200, 404}, req: azKindPath("/guidance/changes")},
	"GET /acknowledgments/:kind/guidance/:slug":       {allow: azSignedIn, ok: []int{200, 404}, req: azKindSlug("")},
	"POST /acknowledgments/:kind/guidance/:slug/read": {allow: azSignedIn, ok: []int{303, 404}, req: azKindSlug("/read")},
	"GET /acknowledgments/:kind/quiz":                 {allow: azSignedIn, ok: []int{200, 404}, req: azKindPath("/quiz")},
	"POST /acknowledgments/:kind/quiz":                {allow: azSignedIn, ok: []int{404, 422}, req: azKindPath("/quiz"), note: "Zoë has not read the agency-use guidance: 422"},
	"POST /acknowledgments/:kind/quiz/start":          {allow: azSignedIn, ok: []int{404, 422}, req: azKindPath("/quiz/start")},
	"GET /acknowledgments/:kind/quiz/section/:n":      {allow: azSignedIn, ok: []int{303, 404}, req: azKindPath("/quiz/section/1"), note: "no check started: back to its start"},
	"POST /acknowledgments/:kind/quiz/section/:n":     {allow: azSignedIn, ok: []int{404, 422}, req: azKindPath("/quiz/section/1")},
	"GET /acknowledgments/:kind/quiz/check":           {allow: azSignedIn, ok: []int{303, 404}, req: azKindPath("/quiz/check")},
	"GET /acknowledgments/:kind/sign":                 {allow: azSignedIn, ok: []int{303, 404}, req: azKindPath("/sign"), note: "Zoë has not passed its check: to the guidance"},
	"POST /acknowledgments/:kind/sign/consent":        {allow: azSignedIn, ok: []int{303, 404}, req: azKindPath("/sign/consent")},
	"POST /acknowledgments/:kind/sign/review":         {allow: azSignedIn, ok: []int{303, 404}, req: azKindPath("/sign/review")},
	"POST /acknowledgments/:kind/sign/edit":           {allow: azSignedIn, ok: []int{303, 404}, req: azKindPath("/sign/edit")},
	"POST /acknowledgments/:kind/sign":                {allow: azSignedIn, ok: []int{403, 404}, req: azKindPath("/sign"), note: "not passed: refused, nothing signed"},
}

// azAccountPath is the path of an account of the role's agency: DHHS
// Instagram for the DHHS supervisor, DAFS Facebook for everyone else.
func azAccountPath(tail string) func(*azEnv, azRole) azReq {
	return func(e *azEnv, who azRole) azReq {
		handle := "StateDAFSNews"
		if who == azSupDHHS {
			handle = "StateHealthTips"
		}
		return azReq{path: "/accounts/" + itoa(int64(e.tp.count(e.t, `SELECT id FROM social_accounts WHERE handle = ?`, handle))) + tail}
	}
}

// azDemoTerms is the id of DAFS's Terms of Comment, version 1 (the demo's).
func azDemoTerms(e *azEnv) int64 {
	return int64(e.tp.count(e.t, `SELECT id FROM terms_of_comment WHERE agency = ? AND version = 1`, dafs))
}

// azKindPath is a path of the agency-use acknowledgment's journey.
func azKindPath(path string) func(*azEnv, azRole) azReq {
	return func(e *azEnv, who azRole) azReq {
		return azReq{path: "/acknowledgments/agency-use" + path, form: form("typed_name", e.emp[who].FullName, "intent", "yes", "consent", "yes")}
	}
}

// azKindSlug is a guidance section of the agency-use acknowledgment, then suffix.
func azKindSlug(suffix string) func(*azEnv, azRole) azReq {
	return func(e *azEnv, _ azRole) azReq {
		return azReq{path: "/acknowledgments/agency-use/guidance/" + e.tp.Version.ModulesFor(app.AudiencePosters)[0].Slug + suffix}
	}
}

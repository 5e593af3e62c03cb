package e2e

// The accessibility sweep's tables (a11y_sweep_test.go): the roles, how to fill
// each path parameter, the routes skipped, the downloads, the extra pages and
// what each of those must show.

import (
	"net/url"
	"strings"
	"testing"

	"portal/app"
)

// axeSweepRole is one kind of visitor. number is "" for the anonymous one.
type axeSweepRole struct {
	name, number string
	seesCert     bool // may open 1008's certificate: HR, or her manager 1004
}

var axeSweepRoles = []axeSweepRole{
	{name: "anonymous"},
	{name: "employee", number: "1005"},
	{name: "manager", number: "1004", seesCert: true},
	{name: "HR", number: "1002", seesCert: true},
	{name: "admin", number: "1003"},
	{name: "supervisor", number: "1009"}, // DAFS's Social Media Supervisor in the demo
}

// axeSweepParams fills the path parameters of the GET routes. A key is a
// parameter (":slug"), or a route and its parameter ("/hr/people/:id :id"),
// which wins. A parameter that is in neither fails the test.
var axeSweepParams = map[string]func(t *testing.T, s *axeSweeper) string{
	// a fresh one-time sign-in link of the visitor (of an employee for the anonymous one)
	":token": func(t *testing.T, s *axeSweeper) string {
		return strings.TrimPrefix(s.tp.signInLinkFor(t, s.visitor()), s.tp.BaseURL+"/signin/link/")
	},
	// the first guidance section the visitor reads
	":slug": func(t *testing.T, s *axeSweeper) string { return s.tp.Version.ModulesFor(app.AudienceAll)[0].Slug },
	// the verification code of Siobhán O'Brien's (1008) acknowledgment
	":code": func(t *testing.T, s *axeSweeper) string { return s.fx.code },
	// the visitor's own latest acknowledgment, whose confirmation page only
	// they may see; one who has none gets 1008's, which is "not found"
	"/certificates/:code/confirmation :code": func(t *testing.T, s *axeSweeper) string {
		if code := s.tp.codeOf(t, s.visitor().ID); code != "" && s.emp != nil {
			return code
		}
		return s.fx.code
	},
	// the first section of the visitor's knowledge check, started for them
	"/quiz/section/:n :n": func(t *testing.T, s *axeSweeper) string { s.tp.answers(s.visitor()); return "1" },
	// a quiz attempt of the visitor's own, made on the quiz page if they have none
	"/quiz/attempts/:id :id": func(t *testing.T, s *axeSweeper) string { return s.quizAttempt(t) },
	// Siobhán O'Brien (1008)
	"/hr/people/:id :id": func(t *testing.T, s *axeSweeper) string { return itoa(s.fx.person.ID) },
	// the policy version of the demo cycle
	"/hr/versions/:id :id": func(t *testing.T, s *axeSweeper) string { return itoa(s.tp.Version.ID) },
	// the policy text of the demo cycle's version
	"/policy/:code :code": func(t *testing.T, s *axeSweeper) string { return s.tp.Version.Code },
	// its PDF
	"/policy/:code/pdf :code": func(t *testing.T, s *axeSweeper) string { return s.tp.Version.Code },
	// the official document of the version publishDocsFixture publishes
	"/policy/:code/documents/:name :code": func(t *testing.T, s *axeSweeper) string { return docsFixtureCode },
	"/policy/:code/documents/:name :name": func(t *testing.T, s *axeSweeper) string { return "official-policy.pdf" },
	// Nguyễn Thị Lan (1007), who has not signed: the form itself (in the
	// portal without a roster, the fixtures' person, with no cycle to sign in)
	"/hr/people/:id/paper :id": func(t *testing.T, s *axeSweeper) string {
		if es := s.tp.employees(t, `e.employee_number = ?`, "1007"); len(es) == 1 {
			return itoa(es[0].ID)
		}
		return itoa(s.fx.person.ID)
	},
	// the person with a paper acknowledgment, and its id (axePaperFixture)
	"/hr/people/:id/paper/recorded :id": func(t *testing.T, s *axeSweeper) string { return itoa(axePaperFixture(t, s.tp).person) },
	"/hr/people/:id/scans/:ack :id":     func(t *testing.T, s *axeSweeper) string { return itoa(axePaperFixture(t, s.tp).person) },
	"/hr/people/:id/scans/:ack :ack":    func(t *testing.T, s *axeSweeper) string { return itoa(axePaperFixture(t, s.tp).ack) },
	// a roster file the visitor previewed: one person added, one changed, one deactivated
	"/hr/roster/:id :id": func(t *testing.T, s *axeSweeper) string { return previewUploadFor(t, s.tp, s.visitor()) },
	// the newest cycle: the pages confirming a close or a version move and
	// the due date form (once it is closed, and with no cycle, their errors)
	"/hr/cycles/:id/close :id":   axeSweepNewestCycle,
	"/hr/cycles/:id/version :id": axeSweepNewestCycle,
	"/hr/cycles/:id/due :id":     axeSweepNewestCycle,
	// DAFS Facebook StateDAFSNews, the demo's (a supervisor of DAFS may
	// change it; "not found" in the portal without a roster)
	"/accounts/:id :id":      axeSweepDemoAccount,
	"/accounts/:id/edit :id": axeSweepDemoAccount,
	// DAFS's Terms of Comment, version 1 (the demo's, given to Zoë; "not
	// found" for the others and in the portal without a roster)
	"/terms/:id :id":    axeSweepDemoTerms,
	"/my/terms/:id :id": axeSweepDemoTerms,
	// the agency-use acknowledgment, which the employee (Zoë) is asked to
	// sign; the others get the page saying they are not
	":kind": func(t *testing.T, s *axeSweeper) string { return "agency-use" },
	"/acknowledgments/:kind/guidance/:slug :slug": func(t *testing.T, s *axeSweeper) string {
		return s.tp.Version.ModulesFor(app.AudiencePosters)[0].Slug
	},
	"/acknowledgments/:kind/quiz/section/:n :n": func(t *testing.T, s *axeSweeper) string { return "1" },
}

func axeSweepDemoAccount(t *testing.T, s *axeSweeper) string {
	return itoa(int64(s.tp.count(t, `SELECT COALESCE(MIN(id), 0) FROM social_accounts WHERE handle = 'StateDAFSNews'`)))
}

func axeSweepDemoTerms(t *testing.T, s *axeSweeper) string {
	return itoa(int64(s.tp.count(t, `SELECT COALESCE(MIN(id), 0) FROM terms_of_comment`)))
}

func axeSweepNewestCycle(t *testing.T, s *axeSweeper) string {
	return itoa(int64(s.tp.count(t, `SELECT COALESCE(MAX(id), 0) FROM cycles WHERE kind = 'personal-use'`)))
}

// axeSweepSkip are the GET routes that are not pages, with the reason.
var axeSweepSkip = map[string]string{
	"/healthz": "JSON for the load balancer",
	// The API answers programs in JSON (and PDF), and a browser session
	// gets only its 401 there (TestAPIAuthentication).
	"/api/v1/openapi.json":                   "JSON for API clients",
	"/api/v1/completion":                     "JSON for API clients",
	"/api/v1/people/:number/acknowledgments": "JSON for API clients",
	"/api/v1/certificates/:code":             "a PDF for API clients",
	// SCIM answers directories (Entra ID, Okta) in JSON (TestSCIMSpecificationExamples).
	"/scim/v2/Users":                 "SCIM JSON for directories",
	"/scim/v2/Users/:id":             "SCIM JSON for directories",
	"/scim/v2/ServiceProviderConfig": "SCIM JSON for directories",
	"/scim/v2/ResourceTypes":         "SCIM JSON for directories",
	"/scim/v2/Schemas":               "SCIM JSON for directories",
	"/metrics":                       "Prometheus text for the monitoring system, behind its token (TestMetricsToken)",
}

// axeSweepDownloads are the GET routes that download a file, with its
// content type: their content type is checked instead of running axe.
var axeSweepDownloads = map[string]string{
	"/certificates/:code/pdf": "application/pdf",
	"/team/certificates.zip":  "application/zip",
	"/hr/certificates.zip":    "application/zip",
	"/hr/export.csv":          "text/csv",
	"/hr/export.xlsx":         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"/hr/audit.csv":           "text/csv",
	// the policy text and its official documents
	"/policy.pdf":                   "application/pdf",
	"/policy/:code/pdf":             "application/pdf",
	"/policy/:code/documents/:name": "application/pdf",
	// the scan of a paper form (a PDF in the fixture)
	"/hr/people/:id/scans/:ack": "application/pdf",
	"/hr/roster/template.csv":   "text/csv",
	"/accounts.csv":             "text/csv",
}

// axeSweepDocuments are the GET routes that answer machines, not people
// (the evidence log's checkpoint, key and proofs, for witnesses): their
// content type is checked instead of running axe.
var axeSweepDocuments = map[string]string{
	"/log/checkpoint":        "text/plain",
	"/log/key":               "text/plain",
	"/log/proof/inclusion":   "application/json",
	"/log/proof/consistency": "application/json",
	"/log/certificate/:code": "application/json",
	"/org-logo":              "image/svg+xml", // the organisation's logo (testBranding's)
}

// axeSweepExtras are the states that no route of the table shows with its
// plain address: error pages, bad filters and filters that match nobody.
// Every role visits each of them. {used-token} is a link already used.
var axeSweepExtras = []string{
	"/no-such-page",             // 404
	"/signin/link/{used-token}", // 401: the link has expired or was used
	"/guidance/no-such-section", // 404 from a handler
	"/quiz/attempts/999999",     // 404
	"/certificates/ZZZZZ-ZZZZZ", // 404
	"/verify/ZZZZZ-ZZZZZ",       // unknown code (404)
	"/policy/no-such-version",   // 404
	"/verify?code=" + url.QueryEscape("not a code"),
	"/team?status=bogus",                                              // 422
	"/team?department=" + url.QueryEscape("No such department"),       // filtered to nobody
	"/hr/people?status=bogus",                                         // 422
	"/hr/people?q=" + url.QueryEscape("zzz nobody has this name zzz"), // no one found
	"/hr/people/999999",                                               // 404
	"/hr?agency=" + url.QueryEscape(dol),                              // one agency's departments
	"/signin?next=" + url.QueryEscape("/hr/people"),
	"/hr/people/{overdue-person}", // HR's forms for someone who has not signed (Nguyễn Thị Lan, 1007: the employee on a phone, 1005, signs during the sweep)
	"/team?sort=-status",          // sorted: aria-sort on a header
	"/team?sort=bogus",            // 422: an order the page does not offer
	"/accounts?status=bogus",      // 422: a status the registry does not have
}

// axeSweepExpect are words that show the sweep reached the state it means
// to check, by role and page (as the subtests name them): each is checked
// in every phase in which the role visits the page.
var axeSweepExpect = map[string]string{
	"anonymous /signin/link/{used-token}": "This sign-in link has expired or has already been used",
	"anonymous /verify/ZZZZZ-ZZZZZ":       "Unknown code",
	"employee /hr":                        "You do not have access to this page",
	"HR /hr/people?status=bogus":          "Unknown status filter. Choose a status from the list.",
	"HR /hr/people?q=" + url.QueryEscape("zzz nobody has this name zzz"): "Nobody matches these filters",
	"HR, no cycle ever /hr":   "No cycle has been opened yet",
	"HR, no cycle ever /team": "No acknowledgment cycle is open",
	// an unknown policy version
	"anonymous /policy/no-such-version": "There is no published policy version with that code",

	// the manager (1004) has signed in the demo: their own confirmation page
	"manager /certificates/:code/confirmation": "Acknowledgment signed",

	// HR's forms on a person who has not signed (only while a cycle is open)
	"HR, cycle open /hr/people/{overdue-person}": "Extend the due date",

	// the agency-use acknowledgment: Zoë is asked to sign it, HR is not
	"employee /acknowledgments/:kind/guidance": "Guidance",
	"HR /acknowledgments/:kind/guidance":       "You are not asked to sign the authorized poster acknowledgment",

	// a code of the wrong shape is a form error (422) beside the field
	"anonymous /verify?code=" + url.QueryEscape("not a code"): "Enter the code as printed on the certificate",

	// the registry: the supervisor's own accounts, the overdue review flag
	"supervisor /accounts":     "Review overdue",
	"supervisor /accounts/:id": "Change this account",
	"supervisor /":             "the accounts you supervise",

	// an agency-account sign-in refused: by the roster, and without one started
	"anonymous /signin/oidc":          "not on the portal’s list of current employees",
	"anonymous /signin/oidc/callback": "was not started in this browser",
}

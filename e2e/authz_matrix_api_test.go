package e2e

// The authorization matrix's rows for OpenID Connect sign-in, the API, SCIM and the metrics.

import (
	"net/url"

	"portal/app"
)

// azAPIRows are the matrix rows of the routes for a state's infrastructure:
// OpenID Connect sign-in, the API and its tokens, SCIM and the metrics.
var azAPIRows = map[string]azExpect{
	"GET /signin/oidc": {allow: azEveryone, ok: []int{303}, note: "to the provider; signed in: 303 to /"},
	"GET /signin/oidc/callback": {allow: azEveryone, ok: []int{400},
		note: "no sign-in started in this browser: the refusal page, no session (the flow itself: oidc_test.go)"},
	// The API: a bearer token with the route's scope and nothing else, so
	// every role's browser session gets 401 (api: true); the tokens of each
	// scope are tried by TestAuthorizationMatrix/API_tokens.
	"GET /api/v1/openapi.json": {allow: azEveryone, ok: []int{200}},
	"GET /api/v1/completion":   {api: app.ScopeCompletionRead, ok: []int{200}},
	"GET /api/v1/people/:number/acknowledgments": {api: app.ScopeCompletionRead, ok: []int{200},
		req: func(*azEnv, azRole) azReq { return azReq{path: "/api/v1/people/1008/acknowledgments"} }},
	"GET /api/v1/certificates/:code": {api: app.ScopeCertificatesRead, ok: []int{200},
		req: func(e *azEnv, _ azRole) azReq { return azReq{path: "/api/v1/certificates/" + e.code[azAnon]} }},
	"GET /admin/api-tokens": {allow: azSetAdmin, ok: []int{200}},
	"POST /admin/api-tokens": {allow: azSetAdmin, ok: []int{200}, req: func(_ *azEnv, who azRole) azReq {
		return azReq{path: "/admin/api-tokens", form: form("name", "Matrix "+who.String(), "scope", app.ScopeCompletionRead)}
	}},
	"POST /admin/api-tokens/:id/revoke": {allow: azSetAdmin, ok: []int{303}, note: "a token made for each request", req: func(e *azEnv, who azRole) azReq {
		tok, _, err := e.tp.Handler.APITokens.CreateAPIToken(e.t.Context(), "Matrix revoke "+who.String()+" "+randomName(), []string{app.ScopeCompletionRead}, nil)
		if err != nil {
			e.t.Fatal(err)
		}
		return azReq{path: "/admin/api-tokens/" + itoa(tok.ID) + "/revoke"}
	}},
	// Roster sync from the directory: roster:write tokens (api_roster_test.go, scim_test.go).
	"PUT /api/v1/roster": {api: app.ScopeRosterWrite, ok: []int{200}, req: func(e *azEnv, _ azRole) azReq {
		return azReq{path: "/api/v1/roster?dry_run=1", ctype: "text/csv", body: string(e.tp.rosterFile(e.t, []string{"1008"}, nil))}
	}},
	"GET /scim/v2/Users": {api: app.ScopeRosterWrite, ok: []int{200}, req: func(*azEnv, azRole) azReq {
		return azReq{path: "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "nobody@maine.example"`)}
	}},
	"POST /scim/v2/Users": {api: app.ScopeRosterWrite, ok: []int{201}, req: func(*azEnv, azRole) azReq {
		n := randomName()
		return azReq{path: "/scim/v2/Users", ctype: "application/scim+json", body: `{"userName":"n` + n + `@maine.example","name":{"formatted":"New Person"},
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"N` + n + `","organization":"` + dafs + `","department":"Matrix"}}`}
	}},
	"GET /scim/v2/Users/:id": {api: app.ScopeRosterWrite, ok: []int{200}, req: func(e *azEnv, _ azRole) azReq {
		return azReq{path: "/scim/v2/Users/" + itoa(e.tp.employee(e.t, "1008").ID)}
	}},
	"PUT /scim/v2/Users/:id": {api: app.ScopeRosterWrite, ok: []int{200}, req: func(e *azEnv, _ azRole) azReq {
		return azReq{path: azSCIMPerson(e), ctype: "application/scim+json", body: `{"title":"Replaced"}`}
	}},
	"PATCH /scim/v2/Users/:id": {api: app.ScopeRosterWrite, ok: []int{200}, req: func(e *azEnv, _ azRole) azReq {
		return azReq{path: azSCIMPerson(e), ctype: "application/scim+json", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"Replace","path":"active","value":"False"}]}`}
	}},
	"DELETE /scim/v2/Users/:id": {api: app.ScopeRosterWrite, ok: []int{204}, req: func(e *azEnv, _ azRole) azReq {
		return azReq{path: azSCIMPerson(e)}
	}},
	"GET /scim/v2/ServiceProviderConfig": {api: app.ScopeRosterWrite, ok: []int{200}},
	"GET /scim/v2/ResourceTypes":         {api: app.ScopeRosterWrite, ok: []int{200}},
	"GET /scim/v2/Schemas":               {api: app.ScopeRosterWrite, ok: []int{200}},
	"GET /metrics":                       {bearer: 401, note: "Prometheus: the metrics token only (TestMetricsToken); no session opens it"},
}

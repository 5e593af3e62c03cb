package e2e

// SCIM 2.0 provisioning (/scim/v2): the specification's example requests
// (RFC 7644 §3.3, §3.4.1, §3.4.2, §3.5.1, §3.5.2; the enterprise User of
// RFC 7643 §8.3), the bodies Entra ID and Okta send, errors in SCIM's
// format, and deactivation through the roster import's own path.

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

const scimEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// scimCall calls a SCIM endpoint with a JSON body ("" for none).
func scimCall(t testing.TB, tp *testPortal, token, method, path, body string) response {
	t.Helper()
	ctype := ""
	if body != "" {
		ctype = "application/scim+json"
	}
	return apiSend(t, tp.BaseURL, token, method, path, ctype, body)
}

type scimUserBody struct {
	Schemas  []string `json:"schemas"`
	ID       string   `json:"id"`
	UserName string   `json:"userName"`
	Name     struct {
		Formatted string `json:"formatted"`
	} `json:"name"`
	Title      string `json:"title"`
	Active     bool   `json:"active"`
	Emails     []struct{ Value string }
	Enterprise struct {
		EmployeeNumber string `json:"employeeNumber"`
		Department     string `json:"department"`
		Organization   string `json:"organization"`
		Manager        *struct {
			Value string `json:"value"`
		} `json:"manager"`
	} `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
	Meta struct {
		ResourceType, Location string
	} `json:"meta"`
}

// scimDecode decodes a SCIM answer, failing unless the status is want and
// the type SCIM's.
func scimDecode(t testing.TB, r response, want int, v any) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Fatalf("Content-Type %q, want application/scim+json", ct)
	}
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, r.Body)
	}
}

// wantSCIMError checks an error in SCIM's format (RFC 7644 §3.12).
func wantSCIMError(t testing.TB, r response, status int, scimType, words string) {
	t.Helper()
	var e struct {
		Schemas  []string `json:"schemas"`
		Status   string   `json:"status"`
		ScimType string   `json:"scimType"`
		Detail   string   `json:"detail"`
	}
	scimDecode(t, r, status, &e)
	if len(e.Schemas) != 1 || e.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || e.Status != strconv.Itoa(status) ||
		e.ScimType != scimType || !strings.Contains(e.Detail, words) {
		t.Errorf("error %+v, want status %d scimType %q detail containing %q", e, status, scimType, words)
	}
}

type scimList struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []scimUserBody
}

func TestSCIMSpecificationExamples(t *testing.T) {
	tp := startTestPortal(t)
	tok := cliToken(t, tp, "Entra ID provisioning", "roster:write")
	manager := tp.employee(t, "1009")
	var id string

	t.Run("create as RFC 7644 §3.3 writes it: no employee number, refused, nothing changed", func(t *testing.T) {
		before := tp.rosterState(t)
		wantSCIMError(t, scimCall(t, tp, tok, "POST", "/scim/v2/Users", `{
			"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
			"userName":"bjensen",
			"externalId":"bjensen",
			"name":{"formatted":"Ms. Barbara J Jensen III","familyName":"Jensen","givenName":"Barbara"}
		}`), 400, "invalidValue", "employeeNumber")
		if after := tp.rosterState(t); after != before {
			t.Errorf("a refused create changed the roster")
		}
	})

	t.Run("create, with the enterprise User of RFC 7643 §8.3", func(t *testing.T) {
		var u scimUserBody
		r := scimCall(t, tp, tok, "POST", "/scim/v2/Users", `{
			"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"externalId":"701984",
			"userName":"bjensen@example.com",
			"name":{"formatted":"Ms. Barbara J Jensen III","familyName":"Jensen","givenName":"Barbara","middleName":"Jane",
				"honorificPrefix":"Ms.","honorificSuffix":"III"},
			"displayName":"Babs Jensen",
			"emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],
			"title":"Tour Guide",
			"active":true,
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","costCenter":"4130",
				"organization":"`+dafs+`","division":"Theme Park","department":"Tour Operations",
				"manager":{"value":"`+strconv.FormatInt(manager.ID, 10)+`","displayName":"John Smith"}}
		}`)
		scimDecode(t, r, 201, &u)
		id = u.ID
		if u.ID == "" || u.UserName != "bjensen@example.com" || u.Name.Formatted != "Ms. Barbara J Jensen III" || !u.Active ||
			u.Enterprise.EmployeeNumber != "701984" || u.Enterprise.Organization != dafs || u.Enterprise.Department != "Tour Operations" ||
			u.Enterprise.Manager == nil || u.Enterprise.Manager.Value != strconv.FormatInt(manager.ID, 10) || u.Title != "Tour Guide" {
			t.Errorf("created %+v", u)
		}
		if r.Location != tp.BaseURL+"/scim/v2/Users/"+u.ID || u.Meta.Location != r.Location || u.Meta.ResourceType != "User" {
			t.Errorf("Location %q, meta %+v", r.Location, u.Meta)
		}
		e := tp.employee(t, "701984")
		if strconv.FormatInt(e.ID, 10) != u.ID || e.Email != "bjensen@example.com" || e.FullName != "Ms. Barbara J Jensen III" || !e.Active ||
			e.ManagerID == nil || *e.ManagerID != manager.ID {
			t.Errorf("stored %+v", e)
		}
		// The evidence an upload leaves: the roster change, the audit event naming the token.
		if n := tp.count(t, `SELECT COUNT(*) FROM roster_changes WHERE employee_number = '701984' AND source LIKE 'SCIM token “Entra ID provisioning”%POST /scim/v2/Users'`); n != 1 {
			t.Errorf("%d roster change records naming the token, want 1", n)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'roster.imported' AND detail LIKE 'SCIM token “Entra ID provisioning”%1 added%'`); n != 1 {
			t.Errorf("%d roster.imported events, want 1", n)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' AND employee_id = ?`, e.ID); n != 1 {
			t.Errorf("%d invitations queued, want 1 (as an upload does)", n)
		}
	})

	t.Run("get (RFC 7644 §3.4.1), and 404 in SCIM's format", func(t *testing.T) {
		var u scimUserBody
		scimDecode(t, scimCall(t, tp, tok, "GET", "/scim/v2/Users/"+id, ""), 200, &u)
		if u.ID != id || u.UserName != "bjensen@example.com" || len(u.Emails) != 1 || u.Emails[0].Value != "bjensen@example.com" ||
			len(u.Schemas) != 2 || u.Schemas[0] != "urn:ietf:params:scim:schemas:core:2.0:User" {
			t.Errorf("got %+v", u)
		}
		wantSCIMError(t, scimCall(t, tp, tok, "GET", "/scim/v2/Users/999999", ""), 404, "", "No User")
		wantSCIMError(t, scimCall(t, tp, tok, "GET", "/scim/v2/Users/2819c223-7f76-453a-919d-413861904646", ""), 404, "", "No User")
	})

	t.Run("filter (RFC 7644 §3.4.2.2), startIndex and count", func(t *testing.T) {
		var l scimList
		scimDecode(t, scimCall(t, tp, tok, "GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName Eq "BJensen@example.com"`), ""), 200, &l)
		if l.TotalResults != 1 || len(l.Resources) != 1 || l.Resources[0].ID != id || l.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:ListResponse" {
			t.Errorf("filtered %+v", l)
		}
		l = scimList{}
		scimDecode(t, scimCall(t, tp, tok, "GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "nobody@example.com"`), ""), 200, &l)
		if l.TotalResults != 0 || len(l.Resources) != 0 {
			t.Errorf("nobody: %+v", l)
		}
		all := tp.count(t, `SELECT COUNT(*) FROM employees`)
		l = scimList{}
		scimDecode(t, scimCall(t, tp, tok, "GET", "/scim/v2/Users?startIndex=3&count=2", ""), 200, &l)
		if l.TotalResults != all || l.StartIndex != 3 || l.ItemsPerPage != 2 || len(l.Resources) != 2 {
			t.Errorf("page: total %d (want %d), start %d, %d items", l.TotalResults, all, l.StartIndex, len(l.Resources))
		}
		for _, f := range []string{`name.familyName co "O'Malley"`, `userName sw "J"`, `title pr`, `userName eq "a" or userName eq "b"`, `emails eq "x"`} {
			wantSCIMError(t, scimCall(t, tp, tok, "GET", "/scim/v2/Users?filter="+url.QueryEscape(f), ""), 400, "invalidFilter", "")
		}
		wantSCIMError(t, scimCall(t, tp, tok, "GET", "/scim/v2/Users?count=many", ""), 400, "invalidValue", "count")
	})

	t.Run("replace (RFC 7644 §3.5.1)", func(t *testing.T) {
		var u scimUserBody
		scimDecode(t, scimCall(t, tp, tok, "PUT", "/scim/v2/Users/"+id, `{
			"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"id":"`+id+`",
			"userName":"bjensen@example.com",
			"externalId":"bjensen",
			"name":{"formatted":"Ms. Barbara J Jensen III","familyName":"Jensen","givenName":"Barbara","middleName":"Jane"},
			"title":"Senior Tour Guide",
			"emails":[{"value":"bjensen@example.com"},{"value":"babs@jensen.org"}],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Guest Services","organization":"`+dafs+`"}
		}`), 200, &u)
		e := tp.employee(t, "701984")
		if u.Title != "Senior Tour Guide" || e.Title != "Senior Tour Guide" || e.Department != "Guest Services" || !e.Active {
			t.Errorf("replaced %+v, stored %+v", u, e)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM roster_changes WHERE employee_number = '701984' AND source LIKE '%PUT /scim/v2/Users/`+id+`'`); n != 1 {
			t.Errorf("%d roster change records of the replace, want 1", n)
		}
		before := tp.rosterState(t)
		wantSCIMError(t, scimCall(t, tp, tok, "PUT", "/scim/v2/Users/"+id, `{"userName":"bjensen@example.com",
			"`+scimEnterprise+`":{"employeeNumber":"999"}}`), 400, "mutability", "employeeNumber")
		wantSCIMError(t, scimCall(t, tp, tok, "PUT", "/scim/v2/Users/"+id, `{"userName":"bjensen@example.com",
			"`+scimEnterprise+`":{"department":""}}`), 400, "invalidValue", "department")
		if after := tp.rosterState(t); after != before {
			t.Errorf("a refused replace changed the roster")
		}
	})

	t.Run("uniqueness: 409 for a number or an address someone has, nothing changed", func(t *testing.T) {
		before := tp.rosterState(t)
		wantSCIMError(t, scimCall(t, tp, tok, "POST", "/scim/v2/Users", `{"userName":"other@example.com","name":{"formatted":"Other"},
			"`+scimEnterprise+`":{"employeeNumber":"701984","organization":"`+dafs+`","department":"X"}}`), 409, "uniqueness", "701984")
		wantSCIMError(t, scimCall(t, tp, tok, "POST", "/scim/v2/Users", `{"userName":"BJENSEN@example.com","name":{"formatted":"Other"},
			"`+scimEnterprise+`":{"employeeNumber":"701985","organization":"`+dafs+`","department":"X"}}`), 409, "uniqueness", "already belongs")
		if after := tp.rosterState(t); after != before {
			t.Errorf("a refused create changed the roster")
		}
	})

	t.Run("patch active=false (RFC 7644 §3.5.2.3)", func(t *testing.T) {
		var u scimUserBody
		scimDecode(t, scimCall(t, tp, tok, "PATCH", "/scim/v2/Users/"+id, `{
			"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","path":"active","value":false}]
		}`), 200, &u)
		if u.Active || tp.employee(t, "701984").Active {
			t.Fatal("still active")
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM roster_changes WHERE employee_number = '701984' AND changes LIKE '%active%' AND source LIKE '%PATCH%'`); n != 1 {
			t.Errorf("%d roster change records of the deactivation, want 1", n)
		}
		// Again: nothing more to do, nothing written.
		before := tp.rosterState(t)
		scimDecode(t, scimCall(t, tp, tok, "PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","path":"active","value":false}]}`), 200, &u)
		if after := tp.rosterState(t); after != before {
			t.Errorf("a second deactivation changed the roster")
		}
		// active=true reactivates.
		scimDecode(t, scimCall(t, tp, tok, "PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","path":"active","value":true}]}`), 200, &u)
		if !u.Active || !tp.employee(t, "701984").Active {
			t.Error("not reactivated")
		}
	})
}

func TestSCIMClientBodies(t *testing.T) {
	tp := startTestPortal(t)
	tok := cliToken(t, tp, "Okta", "roster:write")
	reader := cliToken(t, tp, "Reader", "completion:read")
	jose := tp.employee(t, "1006")
	path := "/scim/v2/Users/" + strconv.FormatInt(jose.ID, 10)

	t.Run("401 without a token and 403 outside the scope, in SCIM's format, nothing changed", func(t *testing.T) {
		before := tp.rosterState(t)
		body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`
		wantSCIMError(t, scimCall(t, tp, "", "PATCH", path, body), 401, "", "token")
		wantSCIMError(t, scimCall(t, tp, "smp_"+strings.Repeat("x", 43), "PATCH", path, body), 401, "", "")
		wantSCIMError(t, scimCall(t, tp, reader, "PATCH", path, body), 403, "", "roster:write")
		wantSCIMError(t, scimCall(t, tp, reader, "GET", "/scim/v2/Users", ""), 403, "", "roster:write")
		if after := tp.rosterState(t); after != before {
			t.Errorf("refused calls changed the roster")
		}
	})

	t.Run("bad attributes refused, nothing changed", func(t *testing.T) {
		before := tp.rosterState(t)
		for _, c := range []struct{ body, scimType, words string }{
			{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"maybe"}]}`, "invalidValue", "active"},
			{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":"not an address"}]}`, "invalidValue", "userName"},
			{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"name.formatted","value":"Bad\u0007Name"}]}`, "invalidValue", "name"},
			{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"` + scimEnterprise + `:manager","value":"424242"}]}`, "invalidValue", "manager"},
			{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"favouriteColour","value":"blue"}]}`, "invalidPath", "favouriteColour"},
			{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"move","path":"active","value":false}]}`, "invalidSyntax", "move"},
			{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}`, "invalidSyntax", "operation"},
			{`not json`, "invalidSyntax", ""},
			// The active change is in the same request as the bad value: neither is made.
			{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false},
				{"op":"replace","path":"` + scimEnterprise + `:department","value":""}]}`, "invalidValue", "department"},
		} {
			wantSCIMError(t, scimCall(t, tp, tok, "PATCH", path, c.body), 400, c.scimType, c.words)
		}
		if after := tp.rosterState(t); after != before || !tp.employee(t, "1006").Active {
			t.Errorf("refused patches changed the roster")
		}
	})

	t.Run("Entra ID's PATCH: capitalised ops, name and e-mail replaced, active as the string False", func(t *testing.T) {
		var u scimUserBody
		scimDecode(t, scimCall(t, tp, tok, "PATCH", path, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"Replace","path":"name.formatted","value":"José A. Núñez"},
			{"op":"Add","path":"title","value":"Communications Lead"},
			{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Communications"}]}`), 200, &u)
		e := tp.employee(t, "1006")
		if e.FullName != "José A. Núñez" || e.Title != "Communications Lead" || e.Department != "Communications" || u.Name.Formatted != "José A. Núñez" {
			t.Errorf("stored %+v", e)
		}
		// A new address waits for a second person, as from an upload.
		scimDecode(t, scimCall(t, tp, tok, "PATCH", path, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"Replace","path":"userName","value":"jose.nunez@maine.example"}]}`), 200, &u)
		if n := tp.count(t, `SELECT COUNT(*) FROM address_changes WHERE employee_id = ? AND new_email = 'jose.nunez@maine.example'`, jose.ID); n != 1 {
			t.Errorf("%d address change requests, want 1", n)
		}
		scimDecode(t, scimCall(t, tp, tok, "PATCH", path, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"Replace","path":"active","value":"False"}]}`), 200, &u)
		if u.Active || tp.employee(t, "1006").Active {
			t.Error("Entra's \"False\" did not deactivate")
		}
	})

	t.Run("Okta's PATCH without a path, and its PUT with active false", func(t *testing.T) {
		var u scimUserBody
		scimDecode(t, scimCall(t, tp, tok, "PATCH", path, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"replace","value":{"active":true}}]}`), 200, &u)
		if !u.Active || !tp.employee(t, "1006").Active {
			t.Fatal("not reactivated")
		}
		e := tp.employee(t, "1006")
		scimDecode(t, scimCall(t, tp, tok, "PUT", path, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
			"userName":"`+e.Email+`","name":{"givenName":"José","familyName":"Núñez"},"active":false,
			"`+scimEnterprise+`":{"employeeNumber":"1006","organization":"`+e.Agency+`","department":"`+e.Department+`"}}`), 200, &u)
		if u.Active || tp.employee(t, "1006").Active || tp.employee(t, "1006").FullName != "José Núñez" {
			t.Errorf("after Okta's PUT: %+v", tp.employee(t, "1006"))
		}
		// DELETE deactivates and deletes nothing.
		scimDecode(t, scimCall(t, tp, tok, "PATCH", path, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"replace","value":{"active":true}}]}`), 200, &u)
		if r := scimCall(t, tp, tok, "DELETE", path, ""); r.Status != 204 {
			t.Fatalf("DELETE: %d %s", r.Status, r.Body)
		}
		if tp.employee(t, "1006").Active {
			t.Error("DELETE did not deactivate")
		}
	})

	t.Run("discovery: ServiceProviderConfig, ResourceTypes, Schemas", func(t *testing.T) {
		var spc struct {
			Patch, Bulk, Filter struct{ Supported bool }
		}
		scimDecode(t, scimCall(t, tp, tok, "GET", "/scim/v2/ServiceProviderConfig", ""), 200, &spc)
		if !spc.Patch.Supported || spc.Bulk.Supported || !spc.Filter.Supported {
			t.Errorf("ServiceProviderConfig %+v", spc)
		}
		var rt struct {
			Resources []struct{ ID, Endpoint, Schema string }
		}
		scimDecode(t, scimCall(t, tp, tok, "GET", "/scim/v2/ResourceTypes", ""), 200, &rt)
		if len(rt.Resources) != 1 || rt.Resources[0].Endpoint != "/Users" {
			t.Errorf("ResourceTypes %+v", rt)
		}
		var sc struct{ Resources []struct{ ID string } }
		scimDecode(t, scimCall(t, tp, tok, "GET", "/scim/v2/Schemas", ""), 200, &sc)
		if len(sc.Resources) != 2 || sc.Resources[1].ID != scimEnterprise {
			t.Errorf("Schemas %+v", sc)
		}
		wantSCIMError(t, scimCall(t, tp, tok, "GET", "/scim/v2/Groups", ""), 404, "", "")
	})
}

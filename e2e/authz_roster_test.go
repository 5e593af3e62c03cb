package e2e

// Helpers of the authorization matrix's roster sync and SCIM rows.

import (
	"testing"

	"portal/app"
)

// azAPISend sends an API route's request with a bearer token ("" for none).
func azAPISend(t *testing.T, base, token, method string, q azReq) response {
	t.Helper()
	if method == "GET" {
		return apiGet(t, base, token, q.path)
	}
	return apiSend(t, base, token, method, q.path, q.ctype, q.body)
}

// azSCIMPerson is the SCIM path of a person made for one request.
func azSCIMPerson(e *azEnv) string {
	n := randomName()
	p := &app.Employee{EmployeeNumber: "M" + n, FullName: "Matrix Person", Email: "m" + n + "@maine.example", Agency: dafs, Department: "Matrix", Active: true}
	if err := e.tp.Handler.Employees.CreateEmployee(e.t.Context(), p); err != nil {
		e.t.Fatal(err)
	}
	return "/scim/v2/Users/" + itoa(p.ID)
}

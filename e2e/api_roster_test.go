package e2e

// PUT /api/v1/roster: the roster's rows from the directory, as JSON or CSV,
// checked and applied by the upload's own code, in one transaction.

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// apiSend calls the API with a method, a body and its content type.
func apiSend(t testing.TB, base, token, method, path, ctype, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := testTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location"), Header: resp.Header}
}

// rosterJSON is people as the JSON rows of PUT /api/v1/roster.
func rosterJSON(t testing.TB, rows ...map[string]string) string {
	t.Helper()
	b, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type rosterSyncResult struct {
	DryRun                                         bool `json:"dry_run"`
	Full                                           bool `json:"full"`
	Rows, Added, Updated, Reactivated, Deactivated int
	Unchanged                                      int
	AddressChanges                                 int `json:"address_changes"`
	Invitations                                    int `json:"invitations"`
	People                                         []struct {
		Kind           string `json:"kind"`
		EmployeeNumber string `json:"employee_number"`
		Changes        []struct{ Field, Old, New string }
	}
}

type rosterSyncProblems struct {
	Error    string `json:"error"`
	Problems []struct {
		Line    int    `json:"line"`
		Index   *int   `json:"index"`
		Column  string `json:"column"`
		Message string `json:"message"`
	}
}

// rosterState is what a roster sync may change, to compare before and after.
func (tp *testPortal) rosterState(t testing.TB) string {
	t.Helper()
	return tp.text(t, `SELECT (SELECT string_agg(employee_number || '|' || full_name || '|' || email || '|' || agency || '|' || department
			|| '|' || title || '|' || roles || '|' || active || '|' || COALESCE(CAST(manager_id AS TEXT), ''), ';') FROM employees)
		|| '#' || (SELECT COUNT(*) FROM roster_changes) || '#' || (SELECT COUNT(*) FROM address_changes)
		|| '#' || (SELECT COUNT(*) FROM outbox) || '#' || (SELECT COUNT(*) FROM audit_events WHERE action <> 'api.called')
		|| '#' || (SELECT COUNT(*) FROM authorization_ends)`)
}

func TestAPIRosterSync(t *testing.T) {
	tp := startTestPortal(t)
	tok := cliToken(t, tp, "Directory sync", "roster:write")
	reader := cliToken(t, tp, "Learning system", "completion:read")
	newcomer := map[string]string{"employee_number": "7001", "full_name": "Ada Newcomer", "email": "ada.newcomer@maine.example",
		"agency": dafs, "department": "Payroll", "title": "Analyst", "manager_employee_number": "1009"}
	moved := tp.rosterRecord(t, "1006")
	moved["department"] = "Procurement"

	t.Run("without a token 401, with another scope 403, and nothing changes", func(t *testing.T) {
		before := tp.rosterState(t)
		body := rosterJSON(t, newcomer)
		wantAPIError(t, apiSend(t, tp.BaseURL, "", "PUT", "/api/v1/roster", "application/json", body), 401, "unauthorized", "token")
		wantAPIError(t, apiSend(t, tp.BaseURL, reader, "PUT", "/api/v1/roster", "application/json", body), 403, "forbidden", "roster:write")
		if after := tp.rosterState(t); after != before {
			t.Errorf("refused calls changed the roster:\n%s\n%s", before, after)
		}
	})

	t.Run("dry_run=1 answers the preview person by person and changes nothing", func(t *testing.T) {
		before := tp.rosterState(t)
		var res rosterSyncResult
		apiJSON(t, apiSend(t, tp.BaseURL, tok, "PUT", "/api/v1/roster?dry_run=1", "application/json", rosterJSON(t, newcomer, moved)), 200, &res)
		if !res.DryRun || res.Rows != 2 || res.Added != 1 || res.Updated != 1 || res.Deactivated != 0 || res.Invitations != 0 {
			t.Errorf("summary %+v", res)
		}
		kinds := map[string]string{}
		for _, p := range res.People {
			kinds[p.EmployeeNumber] = p.Kind
			if p.EmployeeNumber == "1006" && (len(p.Changes) != 1 || p.Changes[0].Field != "department" || p.Changes[0].New != "Procurement") {
				t.Errorf("1006's changes: %+v", p.Changes)
			}
		}
		if kinds["7001"] != "added" || kinds["1006"] != "changed" {
			t.Errorf("people %v", kinds)
		}
		if after := tp.rosterState(t); after != before {
			t.Errorf("a dry run changed the roster:\n%s\n%s", before, after)
		}
		// A full roster of two people would deactivate everyone else: said, not done.
		top, other := tp.rosterRecord(t, "1009"), tp.rosterRecord(t, "1006")
		top["manager_employee_number"], other["manager_employee_number"] = "", "1009"
		apiJSON(t, apiSend(t, tp.BaseURL, tok, "PUT", "/api/v1/roster?dry_run=1&full=1", "application/json", rosterJSON(t, top, other)), 200, &res)
		if active := tp.count(t, `SELECT COUNT(*) FROM employees WHERE active = 1`); !res.Full || res.Deactivated != active-2 {
			t.Errorf("full dry run: %d deactivated of %d active (full %v)", res.Deactivated, active, res.Full)
		}
		if after := tp.rosterState(t); after != before {
			t.Errorf("a full dry run changed the roster")
		}
	})

	t.Run("a bad row: 422 with each problem by line and index, nothing changed", func(t *testing.T) {
		before := tp.rosterState(t)
		bad := map[string]string{"employee_number": "7002", "full_name": "Bad Address", "email": "not an address", "agency": dafs, "department": "Payroll"}
		var p rosterSyncProblems
		apiJSON(t, apiSend(t, tp.BaseURL, tok, "PUT", "/api/v1/roster", "application/json", rosterJSON(t, newcomer, bad)), 422, &p)
		if len(p.Problems) != 1 || p.Problems[0].Index == nil || *p.Problems[0].Index != 1 || p.Problems[0].Line != 3 ||
			p.Problems[0].Column != "email" || !strings.Contains(p.Problems[0].Message, "is not valid") {
			t.Errorf("problems %+v", p)
		}
		// The same file as CSV: lines, no index; a missing column is the file's problem.
		p = rosterSyncProblems{}
		apiJSON(t, apiSend(t, tp.BaseURL, tok, "PUT", "/api/v1/roster", "text/csv", "employee_number,full_name,email,agency\n7003,Someone,s@maine.example,DAFS\n"), 422, &p)
		if len(p.Problems) == 0 || p.Problems[0].Column != "department" || p.Problems[0].Index != nil || !strings.Contains(p.Problems[0].Message, "required column") {
			t.Errorf("CSV problems %+v", p)
		}
		// A conflict only the database sees: an address someone else has.
		p = rosterSyncProblems{}
		taken := map[string]string{"employee_number": "7004", "full_name": "Copy Cat", "email": tp.employee(t, "1006").Email, "agency": dafs, "department": "Payroll"}
		apiJSON(t, apiSend(t, tp.BaseURL, tok, "PUT", "/api/v1/roster", "application/json", rosterJSON(t, newcomer, taken)), 422, &p)
		if len(p.Problems) != 1 || p.Problems[0].Column != "email" || p.Problems[0].Index == nil || *p.Problems[0].Index != 1 {
			t.Errorf("conflict problems %+v", p)
		}
		wantAPIError(t, apiSend(t, tp.BaseURL, tok, "PUT", "/api/v1/roster", "application/json", `{"employee_number": "1"}`), 400, "bad_request", "JSON array")
		wantAPIError(t, apiSend(t, tp.BaseURL, tok, "PUT", "/api/v1/roster", "application/json", `[{"employee_number": {"a": 1}}]`), 400, "bad_request", "index 0")
		wantAPIError(t, apiSend(t, tp.BaseURL, tok, "PUT", "/api/v1/roster", "application/xml", `<roster/>`), 415, "unsupported_media_type", "text/csv")
		wantAPIError(t, apiSend(t, tp.BaseURL, tok, "PUT", "/api/v1/roster?dry_run=yes", "application/json", "[]"), 400, "bad_request", "dry_run")
		if after := tp.rosterState(t); after != before {
			t.Errorf("refused rows changed the roster:\n%s\n%s", before, after)
		}
	})

	t.Run("a body over 20 MB is refused with 413, announced or not", func(t *testing.T) {
		before := tp.rosterState(t)
		head := "PUT /api/v1/roster HTTP/1.1\r\nHost: portal\r\nAuthorization: Bearer " + tok + "\r\nContent-Type: text/csv\r\n"
		// Announced: refused before a byte of the body is read.
		conn := rawSend(t, tp, head+"Content-Length: "+strconv.Itoa(20<<20+1)+"\r\n\r\nemployee_number")
		if status, body, _ := rawResponse(t, bufio.NewReader(conn), conn); status != 413 || !strings.Contains(body, "20 MB") {
			t.Errorf("announced: status %d %s, want 413", status, body)
		}
		// Chunked, with no length announced: read up to the limit, then refused.
		conn = rawSend(t, tp, head+"Transfer-Encoding: chunked\r\n\r\n")
		go func() {
			chunk := strings.Repeat("x", 1<<20)
			for range 21 {
				if _, err := io.WriteString(conn, strconv.FormatInt(int64(len(chunk)), 16)+"\r\n"+chunk+"\r\n"); err != nil {
					return // the server answered and closed
				}
			}
			_, _ = io.WriteString(conn, "0\r\n\r\n")
		}()
		if status, body, _ := rawResponse(t, bufio.NewReader(conn), conn); status != 413 || !strings.Contains(body, "20 MB") {
			t.Errorf("chunked: status %d %s, want 413", status, body)
		}
		if after := tp.rosterState(t); after != before {
			t.Errorf("a refused body changed the roster")
		}
	})

	t.Run("applied as an upload is: evidence, the audit event naming the token, invitations", func(t *testing.T) {
		var res rosterSyncResult
		apiJSON(t, apiSend(t, tp.BaseURL, tok, "PUT", "/api/v1/roster", "application/json", rosterJSON(t, newcomer, moved)), 200, &res)
		if res.DryRun || res.Added != 1 || res.Updated != 1 {
			t.Fatalf("summary %+v", res)
		}
		ada := tp.employee(t, "7001")
		if !ada.Active || ada.Department != "Payroll" || tp.employee(t, "1006").Department != "Procurement" {
			t.Errorf("not applied: %+v", ada)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM roster_changes WHERE employee_number IN ('7001', '1006') AND actor_id IS NULL
			AND source LIKE '%Directory sync%'`); n != 2 {
			t.Errorf("%d roster change records naming the token, want 2", n)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'roster.imported' AND detail LIKE '%API token “Directory sync”%2 rows, 1 added, 1 updated%'`); n != 1 {
			t.Errorf("%d roster.imported events naming the token, want 1", n)
		}
		if tp.count(t, `SELECT COUNT(*) FROM cycles WHERE open = 1`) == 0 {
			t.Fatal("the test portal has no open cycle")
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' AND employee_id = ?`, ada.ID); n != 1 || res.Invitations != 1 {
			t.Errorf("%d invitations queued for the newcomer (summary says %d), want 1", n, res.Invitations)
		}
		// The same rows again change nothing.
		apiJSON(t, apiSend(t, tp.BaseURL, tok, "PUT", "/api/v1/roster", "application/json", rosterJSON(t, newcomer, moved)), 200, &res)
		if res.Unchanged != 2 || res.Added+res.Updated != 0 {
			t.Errorf("second time: %+v", res)
		}
	})

	t.Run("CSV rows, and a changed address waits for a second person as in an upload", func(t *testing.T) {
		var res rosterSyncResult
		apiJSON(t, apiSend(t, tp.BaseURL, tok, "PUT", "/api/v1/roster", "text/csv; charset=utf-8", string(tp.rosterFile(t, []string{"7001"}, map[string]map[string]string{"7001": {"email": "ada.n@maine.example"}}))), 200, &res)
		if res.AddressChanges != 1 || tp.employee(t, "7001").Email != "ada.newcomer@maine.example" {
			t.Errorf("summary %+v, address %s", res, tp.employee(t, "7001").Email)
		}
	})
}

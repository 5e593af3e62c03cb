package e2e

// Deactivating through SCIM ends what a roster import's deactivation ends,
// the same way: a poster's authorizations, a supervisor's designation.

import (
	"strconv"
	"testing"
)

// endedFootprint is what deactivation left of a person's authorizations:
// how each ended, by whom, and their audit events.
func (tp *testPortal) endedFootprint(t *testing.T, id int64) string {
	t.Helper()
	return tp.text(t, `SELECT COALESCE((SELECT string_agg(x.reason || '/' || COALESCE(CAST(x.actor_id AS TEXT), 'system') || '/' || x.note, ';')
			FROM authorization_ends x JOIN poster_authorizations pa ON pa.id = x.authorization_id WHERE pa.employee_id = ?), 'none')
		|| ' events:' || (SELECT COUNT(*) FROM audit_events WHERE action = 'poster.authorization_ended' AND subject_id = ? AND actor_id IS NULL)
		|| ' open:' || (SELECT COUNT(*) FROM poster_authorizations pa WHERE pa.employee_id = ?
			AND NOT EXISTS (SELECT 1 FROM authorization_ends x WHERE x.authorization_id = pa.id))`, id, id, id)
}

func TestSCIMDeactivationEndsAuthorizationsAsAnImport(t *testing.T) {
	tp := startTestPortal(t)
	tok := cliToken(t, tp, "Entra ID provisioning", "roster:write")
	tp.designateSupervisor(t, dafs, "1009")
	facebook := tp.accountID(t, "Facebook", "StateDAFSNews")
	viaSCIM := tp.employee(t, "1006")
	var viaImport *struct{ number string }
	for _, e := range tp.employees(t, `e.active = 1 AND e.agency = ? AND e.employee_number NOT IN ('1006', '1009')`, dafs) {
		if !e.IsManager && e.SupervisorOf == "" {
			viaImport = &struct{ number string }{e.EmployeeNumber}
			break
		}
	}
	if viaImport == nil {
		t.Fatal("no second DAFS employee to deactivate by import")
	}
	imported := tp.employee(t, viaImport.number)
	tp.authorize(t, dafs, viaSCIM.EmployeeNumber, facebook, "")
	tp.authorize(t, dafs, imported.EmployeeNumber, facebook, "")
	if !tp.employee(t, "1006").AuthorizedPoster || !tp.employee(t, imported.EmployeeNumber).AuthorizedPoster {
		t.Fatal("the two are not posters")
	}
	notices := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'poster_ended'`)

	// One by an HR user's full roster upload, leaving the person out.
	var numbers []string
	for _, e := range tp.employees(t, `e.active = 1 AND e.employee_number <> ?`, imported.EmployeeNumber) {
		numbers = append(numbers, e.EmployeeNumber)
	}
	hr := tp.as(t, "1002")
	hr.get("/hr/roster")
	r := hr.upload("/hr/roster", "file", "full.csv", tp.rosterFile(t, numbers, nil), map[string]string{"deactivate_missing": "yes"})
	if r.Status != 200 {
		t.Fatalf("preview: status %d", r.Status)
	}
	applyRoster(t, hr, r.Body)
	if tp.employee(t, imported.EmployeeNumber).Active {
		t.Fatal("the import did not deactivate")
	}

	// The other by Entra ID's PATCH.
	scimDecode(t, scimCall(t, tp, tok, "PATCH", "/scim/v2/Users/"+strconv.FormatInt(viaSCIM.ID, 10), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":"False"}]}`), 200, &scimUserBody{})
	if tp.employee(t, "1006").Active {
		t.Fatal("SCIM did not deactivate")
	}

	want := tp.endedFootprint(t, imported.ID)
	if want != "deactivated/system/ events:1 open:0" {
		t.Fatalf("the import's footprint is %q", want)
	}
	if got := tp.endedFootprint(t, viaSCIM.ID); got != want {
		t.Errorf("SCIM's deactivation left %q, the import's %q", got, want)
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'poster_ended'`); n != notices+2 {
		t.Errorf("%d notices to the supervisor, want one for each deactivation (%d before)", n, notices)
	}

	t.Run("a supervisor deactivated through SCIM stops being the agency's supervisor, as by an import", func(t *testing.T) {
		sup := tp.employee(t, "1009")
		if r := scimCall(t, tp, tok, "DELETE", "/scim/v2/Users/"+strconv.FormatInt(sup.ID, 10), ""); r.Status != 204 {
			t.Fatalf("DELETE: %d %s", r.Status, r.Body)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM agency_supervisors WHERE agency = ?`, dafs); n != 0 {
			t.Error("still the supervisor")
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM supervisor_designations WHERE employee_id = ? AND action = 'end'
			AND reason = 'The roster deactivated them.' AND actor_id IS NULL`, sup.ID); n != 1 {
			t.Errorf("%d designation ends as the roster writes them, want 1", n)
		}
	})
}

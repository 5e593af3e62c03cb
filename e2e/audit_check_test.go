package e2e

import (
	"strings"
	"testing"
)

// TestAuditPageChecksInTheBackground checks that the audit page never
// verifies the evidence on a request, that a check asked for runs in the
// background and its result shows with who asked, and that a record changed
// in the database file is named there.
func TestAuditPageChecksInTheBackground(t *testing.T) {
	tp := startTestPortal(t)
	c := hrClient(t, tp)

	if r := c.get("/hr/audit?verify=1"); r.Status != 200 || strings.Contains(r.Body, "records checked") {
		t.Fatalf("the audit page on a request: status %d", r.Status)
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM evidence_checks`); n != 0 {
		t.Fatalf("a page view queued %d checks", n)
	}
	mustContain(t, c.get("/hr/audit").Body, "No check has finished yet.", "Check again")

	addr := tp.employee(t, "1007").Email
	tamper(t, tp, `UPDATE employees SET email = 'attacker@mailbox.example' WHERE employee_number = '1007'`)
	if r := c.post("/hr/audit/check", form()); r.Status != 303 {
		t.Fatalf("check every record: %d", r.Status)
	}
	r := waitForCheck(t, c)
	mustContain(t, r.Body, "some records are not as they were written", "employee 1007&#39;s email", "attacker@mailbox.example",
		"Asked for by Hannah Roy", "Check again")

	tamper(t, tp, `UPDATE employees SET email = ? WHERE employee_number = '1007'`, addr)
	if r := c.post("/hr/audit/check", form()); r.Status != 303 {
		t.Fatalf("check every record again: %d", r.Status)
	}
	mustContain(t, waitForCheck(t, c).Body, "nothing has been changed or removed since it was written")
	if n := tp.count(t, `SELECT COUNT(*) FROM evidence_checks WHERE finished_at IS NOT NULL AND requested_by IS NOT NULL`); n != 2 {
		t.Errorf("%d checks asked for and finished, want 2", n)
	}
}

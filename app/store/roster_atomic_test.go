package store

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"portal/app"
)

// An Atomic import is one transaction whatever the batch size (the API's
// roster sync and SCIM promise all or nothing), and Deactivate deactivates
// the people it names, through the same deactivation a full roster makes,
// leaving everyone else as they are.
func TestAtomicImportAndNamedDeactivations(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	rs := NewRosterService(f.db)
	rs.batchRows = 2
	batches := 0
	rs.afterBatch = func() { batches++ }
	var rows []app.RosterRow
	for i := range 9 {
		rows = append(rows, person(2+i, fmt.Sprint("P", i), fmt.Sprintf("p%d@x.example", i), ""))
	}
	if sum, err := rs.ImportRoster(ctx, rows, app.ImportOptions{Source: "test", Atomic: true}); err != nil || sum.Added != 9 {
		t.Fatalf("atomic import: %v %+v", err, sum)
	}
	if batches != 1 {
		t.Errorf("an atomic import of 9 people with batches of 2 wrote %d transactions, want 1", batches)
	}

	before := rosterState(t, f.db)
	records := count(t, f.db, `SELECT COUNT(*) FROM roster_changes WHERE employee_number IN ('P3', 'P7')`)
	sum, err := rs.ImportRoster(ctx, nil, app.ImportOptions{Source: "test", Atomic: true, Deactivate: []string{"P3", "P7", "nobody"}})
	if err != nil || sum.Deactivated != 2 || len(sum.Problems) > 0 {
		t.Fatalf("deactivate: %v %+v", err, sum)
	}
	after := rosterState(t, f.db)
	for _, n := range []string{"P3", "P7"} {
		if !strings.Contains(after, n+" "+strings.ToLower(n)+"@x.example  false\n") {
			t.Errorf("%s not deactivated:\n%s", n, after)
		}
	}
	if strings.Count(after, " true\n") != strings.Count(before, " true\n")-2 {
		t.Errorf("others changed:\n%s", after)
	}
	if n := count(t, f.db, `SELECT COUNT(*) FROM roster_changes WHERE employee_number IN ('P3', 'P7')`); n != records+2 {
		t.Errorf("%d roster change records of the deactivations, want 2", n-records)
	}
	verifyLog(t, f.db)
}

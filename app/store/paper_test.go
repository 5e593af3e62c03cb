package store

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"portal/app"
	"portal/app/evidence"
)

// paperPDF is a small PDF scan.
var paperPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// recordPaper records a paper acknowledgment for f.emp, recorded by hr.
func (f *fixture) recordPaper(t *testing.T, hr int64, signedOn string) (*app.Acknowledgment, error) {
	t.Helper()
	return NewPaperService(f.db).RecordPaperAcknowledgment(context.Background(), &app.PaperAckRequest{
		EmployeeID: f.emp.ID, CycleID: f.cycle.ID, SignedOn: signedOn, Note: "received by post",
		Scan: paperPDF, RecordedBy: hr, IP: "192.0.2.7", UserAgent: "HR browser"}, app.ScanPDF)
}

func (f *fixture) hrUser(t *testing.T) *app.Employee {
	t.Helper()
	hr := &app.Employee{EmployeeNumber: "9", FullName: "Hana Ito", Email: "hana@x.example", Agency: "A", Department: "HR",
		Roles: []app.Role{app.RoleHR}, Active: true}
	if err := NewEmployeeService(f.db).CreateEmployee(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	return hr
}

func TestPaperAcknowledgment(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.db.Location = mustZone(t, "America/New_York")
	hr := f.hrUser(t)
	f.db.Now = func() time.Time { return time.Date(2026, 2, 10, 15, 0, 0, 0, time.UTC) }

	a, err := f.recordPaper(t, hr.ID, "2026-02-09")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("it is an acknowledgment as stored, with its paper record", func(t *testing.T) {
		acks, _, err := f.acks.FindAcknowledgments(ctx, app.AckFilter{EmployeeID: &f.emp.ID})
		if err != nil || len(acks) != 1 {
			t.Fatalf("%d acknowledgments, %v", len(acks), err)
		}
		got := acks[0]
		p := got.Paper
		if p == nil || p.SignedOn != "2026-02-09" || p.RecordedBy != hr.ID || p.RecordedByName != "Hana Ito" ||
			p.ScanType != app.ScanPDF || p.ScanSHA256 != sha256Hex(string(paperPDF)) || p.Note != "received by post" ||
			!p.RecordedAt.Equal(f.db.Now()) {
			t.Fatalf("paper record %+v", p)
		}
		// The form's day starts at midnight in New York, 05:00 UTC.
		if want := time.Date(2026, 2, 9, 5, 0, 0, 0, time.UTC); !got.SignedAt.Equal(want) || got.AuthMethod != app.AuthPaper {
			t.Errorf("signed at %v by %q, want %v by paper", got.SignedAt, got.AuthMethod, want)
		}
		if got.ConsentID != 0 || got.QuizAttemptID != 0 || got.CertificateNo != a.CertificateNo || got.LogIndex != a.LogIndex {
			t.Errorf("stored %+v, recorded %+v", got, a)
		}
		if string(evidence.AcknowledgmentLeaf(got).Data) != string(evidence.AcknowledgmentLeaf(a).Data) {
			t.Error("the acknowledgment read back is not the one logged")
		}
	})
	t.Run("the assignment is signed on paper", func(t *testing.T) {
		as, err := f.acks.FindAssignment(ctx, f.cycle.ID, f.emp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if as.Status("2026-02-10") != app.StatusPaper || as.AckID == nil || *as.AckID != a.ID {
			t.Errorf("assignment %+v: status %s", as, as.Status("2026-02-10"))
		}
		if n := count(t, f.db, `SELECT paper FROM completion WHERE cycle_id = ?`, f.cycle.ID); n != 1 {
			t.Errorf("completion counts %d on paper", n)
		}
	})
	t.Run("an audit event says who recorded what", func(t *testing.T) {
		if n := count(t, f.db, `SELECT COUNT(*) FROM audit_events WHERE action = 'acknowledgment.paper_recorded'
			AND actor_id = ? AND subject_id = ? AND detail LIKE '%2026-02-09%' AND detail LIKE '%' || ? || '%'`,
			hr.ID, f.emp.ID, sha256Hex(string(paperPDF))); n != 1 {
			t.Errorf("%d audit events", n)
		}
	})
	t.Run("the log verifies", func(t *testing.T) { verifyLog(t, f.db) })
	t.Run("the scan is served while it matches", func(t *testing.T) {
		sc, err := NewPaperService(f.db).FindPaperScan(ctx, a.ID)
		if err != nil || string(sc.Data) != string(paperPDF) || sc.ContentType != app.ScanPDF {
			t.Fatalf("scan %v, %v", sc, err)
		}
		if _, err := NewPaperService(f.db).FindPaperScan(ctx, a.ID+1); app.ErrorCode(err) != app.ENOTFOUND {
			t.Errorf("no scan: %v", err)
		}
	})
	t.Run("someone who has signed cannot get a second one, and nothing changes", func(t *testing.T) {
		before := evidenceCounts(t, f.db)
		_, err := f.recordPaper(t, hr.ID, "2026-02-09")
		if app.ErrorCode(err) != app.ECONFLICT || !strings.Contains(app.ErrorMessage(err), "has already signed") {
			t.Fatalf("second paper acknowledgment: %v", err)
		}
		if after := evidenceCounts(t, f.db); after != before {
			t.Errorf("rows %s, then %s", before, after)
		}
	})
	t.Run("the scans refuse changes", func(t *testing.T) {
		for _, q := range []string{`UPDATE paper_scans SET data = x'00'`, `DELETE FROM paper_scans`,
			`UPDATE acknowledgments SET paper_note = 'x'`} {
			if _, err := f.db.write.Exec(q); err == nil {
				t.Errorf("%s: allowed", q)
			}
		}
	})
}

func TestPaperAcknowledgmentRefusals(t *testing.T) {
	t.Run("after a portal signature", func(t *testing.T) {
		f := newFixture(t)
		hr := f.hrUser(t)
		f.sign(t)
		before := evidenceCounts(t, f.db)
		if _, err := f.recordPaper(t, hr.ID, f.db.Today()); app.ErrorCode(err) != app.ECONFLICT {
			t.Fatalf("paper after signing: %v", err)
		}
		if after := evidenceCounts(t, f.db); after != before {
			t.Errorf("rows %s, then %s", before, after)
		}
	})
	t.Run("in a closed cycle", func(t *testing.T) {
		f := newFixture(t)
		hr := f.hrUser(t)
		if err := NewCycleService(f.db).CloseCycle(context.Background(), f.cycle.ID, nil); err != nil {
			t.Fatal(err)
		}
		before := evidenceCounts(t, f.db)
		if _, err := f.recordPaper(t, hr.ID, f.db.Today()); app.ErrorCode(err) != app.ECONFLICT {
			t.Fatalf("paper in a closed cycle: %v", err)
		}
		if after := evidenceCounts(t, f.db); after != before {
			t.Errorf("rows %s, then %s", before, after)
		}
	})
	t.Run("someone deactivated on the roster", func(t *testing.T) {
		f := newFixture(t)
		hr := f.hrUser(t)
		if _, err := f.db.write.Exec(`UPDATE employees SET active = 0 WHERE id = ?`, f.emp.ID); err != nil {
			t.Fatal(err)
		}
		before := evidenceCounts(t, f.db)
		if _, err := f.recordPaper(t, hr.ID, f.db.Today()); app.ErrorCode(err) != app.ECONFLICT || !strings.Contains(app.ErrorMessage(err), "deactivated") {
			t.Fatalf("paper for someone deactivated: %v", err)
		}
		if after := evidenceCounts(t, f.db); after != before {
			t.Errorf("rows %s, then %s", before, after)
		}
	})
	t.Run("HR for themselves", func(t *testing.T) {
		f := newFixture(t)
		before := evidenceCounts(t, f.db)
		_, err := f.recordPaper(t, f.emp.ID, f.db.Today())
		if app.ErrorCode(err) != app.ECONFLICT || !strings.Contains(app.ErrorMessage(err), "your own") {
			t.Fatalf("own paper acknowledgment: %v", err)
		}
		if after := evidenceCounts(t, f.db); after != before {
			t.Errorf("rows %s, then %s", before, after)
		}
	})
	t.Run("a portal signature after a paper one is the existing one", func(t *testing.T) {
		f := newFixture(t)
		hr := f.hrUser(t)
		paper, err := f.recordPaper(t, hr.ID, f.db.Today())
		if err != nil {
			t.Fatal(err)
		}
		got, created := f.sign(t)
		if created || got.ID != paper.ID || got.Paper == nil {
			t.Errorf("signing after paper: created %v, %+v", created, got)
		}
		verifyLog(t, f.db)
	})
}

// Tampering with a scan, or with what the acknowledgment says of it, is
// refused when the scan is served and caught by the log's check.
func TestPaperScanTamperingIsCaught(t *testing.T) {
	for name, c := range map[string]struct {
		sql    []string
		reason string
	}{
		"the scan's bytes replaced": {[]string{`DROP TRIGGER paper_scans_immutable_u`,
			`UPDATE paper_scans SET data = CAST('%PDF-1.4 forged %%EOF' AS BLOB)`}, "the scan was changed"},
		"the scan and its stored hash replaced": {[]string{`DROP TRIGGER paper_scans_immutable_u`,
			`UPDATE paper_scans SET data = CAST('x' AS BLOB), sha256 = '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881', size = 1`}, "the scan was changed"},
		"the acknowledgment's hash re-pointed": {[]string{`DROP TRIGGER acknowledgments_immutable_u`,
			`UPDATE acknowledgments SET paper_scan_sha256 = '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881'`}, "changed after it was logged"},
		"a scan added outside the portal": {[]string{`INSERT INTO paper_scans (employee_id, content_type, size, sha256, data, uploaded_by, uploaded_at)
			SELECT employee_id, content_type, size, sha256, data, uploaded_by, uploaded_at FROM paper_scans`}, "belongs to no acknowledgment"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			hr := f.hrUser(t)
			a, err := f.recordPaper(t, hr.ID, f.db.Today())
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range c.sql {
				if _, err := f.db.write.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			rep, err := f.db.VerifyLog(ctx, evidence.VerifyOptions{Key: f.db.key})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Problem == nil || !strings.Contains(rep.Problem.Error(), c.reason) {
				t.Fatalf("problem %v, want %q", rep.Problem, c.reason)
			}
			if strings.Contains(name, "outside") {
				return // the acknowledgment's own scan is intact
			}
			if sc, err := NewPaperService(f.db).FindPaperScan(ctx, a.ID); err == nil || app.ErrorCode(err) != app.EINTERNAL {
				t.Errorf("a tampered scan was served: %v, %v", sc, err)
			}
		})
	}
}

// evidenceCounts is the number of rows of every table a paper
// acknowledgment writes, and the assignments signed.
func evidenceCounts(t *testing.T, db *DB) string {
	t.Helper()
	var out []string
	for _, q := range []string{`SELECT COUNT(*) FROM paper_scans`, `SELECT COUNT(*) FROM acknowledgments`,
		`SELECT COUNT(*) FROM log_entries`, `SELECT COUNT(*) FROM audit_events`,
		`SELECT COUNT(*) FROM assignments WHERE signed_at IS NOT NULL`, `SELECT COUNT(*) FROM assignments WHERE paper = 1`} {
		out = append(out, itoa(count(t, db, q)))
	}
	return strings.Join(out, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

package e2e

import (
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"portal/app"
	"portal/app/content"
	"portal/app/store"
	"portal/data"
	"portal/server"
)

// TestAnOlderDatabaseGainsTheNewVersion starts the portal on a database an
// older portal made: only 2026.1 published, and an open cycle on it. The
// portal must add 2026.2 without touching the cycle (HR moves it with "Use
// this version"), and offer 2026.2 as the version of a new cycle.
func TestAnOlderDatabaseGainsTheNewVersion(t *testing.T) {
	var oldID int64
	tp := startTestPortal(t, func(cfg *server.Config) {
		ctx := context.Background()
		db, err := server.OpenDB(cfg, mustKeys(t, cfg))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		old, err := content.LoadVersion(data.FS, "policies/2026.1")
		if err != nil {
			t.Fatal(err)
		}
		if err := store.NewPolicyService(db).PublishVersion(ctx, old); err != nil {
			t.Fatal(err)
		}
		oldID = old.ID
		// The three people the demo prints links for (1002 is in HR), so
		// the demo roster and its cycle are not seeded.
		employees := store.NewEmployeeService(db)
		for _, d := range server.DemoRoster {
			if d.Number != "1002" && d.Number != "1004" && d.Number != "1005" {
				continue
			}
			e := &app.Employee{EmployeeNumber: d.Number, FullName: d.Name, Email: server.DemoEmail(d.Number), Agency: d.Agency,
				Department: d.Dept, Title: d.Title, Roles: d.Roles, Active: true,
				HireDate: time.Now().AddDate(0, 0, -d.HiredDaysAgo).Format(app.DateLayout)}
			if err := employees.CreateEmployee(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		cycle := &app.Cycle{Name: "Last year's cycle", PolicyVersionID: old.ID, OpensOn: now.AddDate(0, 0, -10).Format(app.DateLayout),
			DueOn: now.AddDate(0, 0, 30).Format(app.DateLayout), NewHireDays: 30, Open: true}
		if err := store.NewCycleService(db).CreateCycle(ctx, cycle); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("2026.2 is published after 2026.1, which keeps its record", func(t *testing.T) {
		if n := tp.count(t, `SELECT COUNT(*) FROM policy_versions`); n != 2 {
			t.Fatalf("%d versions, want 2026.1 and 2026.2", n)
		}
		if tp.count(t, `SELECT id FROM policy_versions WHERE code = '2026.1'`) != int(oldID) {
			t.Error("2026.1 was published again under a new id")
		}
		if tp.count(t, `SELECT id FROM policy_versions WHERE code = '2026.2'`) <= int(oldID) {
			t.Error("2026.2 is not newer than 2026.1")
		}
	})

	t.Run("the open cycle stays on 2026.1", func(t *testing.T) {
		if tp.count(t, `SELECT policy_version_id FROM cycles WHERE open = 1 AND kind = 'personal-use'`) != int(oldID) {
			t.Error("the open cycle was moved off 2026.1 at start-up")
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM cycle_versions`); n != 0 {
			t.Errorf("%d version changes recorded at start-up, want none", n)
		}
	})

	t.Run("a new cycle defaults to 2026.2", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLink(t, "1002"))
		r := c.get("/hr/cycles")
		selected := regexp.MustCompile(`<option value="[0-9]+" selected>[^<]*</option>`).FindString(r.Body)
		if selected == "" || !regexp.MustCompile(`\b2026\.2\b`).MatchString(selected) {
			t.Errorf("the new-cycle form selects %q, want 2026.2", selected)
		}
	})
}

// TestUnknownPolicyVersionIsRefused: a PORTAL_POLICY_VERSION that names no
// shipped folder stops the start with a message naming the variable, and
// publishes nothing.
func TestUnknownPolicyVersionIsRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := &server.Config{Host: "127.0.0.1", DB: filepath.Join(dir, "portal.db"), TimeZone: mustLocation(t, "America/New_York"),
		PassMark: 80, Synchronous: "NORMAL", SMTPTLS: "none", PolicyVersion: "2025.9", SMTPConns: 1,
		Schedule: app.DefaultSchedule, Secret: testSecret, LogKeyFile: testLogKey(t, dir)}
	k := mustKeys(t, cfg)
	db, err := server.OpenDB(cfg, k)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = server.Wire(context.Background(), cfg, db, k, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), `PORTAL_POLICY_VERSION "2025.9": no such shipped policy version`) {
		t.Fatalf("Wire: %v, want a refusal naming PORTAL_POLICY_VERSION", err)
	}
	vs, err := store.NewPolicyService(db).FindVersions(context.Background())
	if err != nil || len(vs) != 0 {
		t.Errorf("%d versions published (%v), want none", len(vs), err)
	}
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"portal/app"
)

// addAccount adds an account of the registry (another change's table) for a test.
func addAccount(t *testing.T, db *DB, agency, platform, handle, status string) int64 {
	t.Helper()
	res, err := db.write.Exec(`INSERT INTO social_accounts (agency, platform, handle, url, purpose, terms_accepted_by,
		terms_accepted_on, archive_method, status, review_on, created_at, updated_at)
		VALUES (?, ?, ?, 'https://x.example', 'news', 'someone', '2026-01-01', 'export', ?, '2027-01-01', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
		agency, platform, handle, status)
	if err != nil {
		t.Fatal(err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestPosterRoleFromTheClock: the poster role follows the authorization's
// dates by the injected clock (in 2031, far from the real date), not by
// SQLite's date('now').
func TestPosterRoleFromTheClock(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Date(2031, 3, 10, 15, 0, 0, 0, time.UTC)
	f.db.Now = func() time.Time { return now }
	emps := NewEmployeeService(f.db)
	auth := NewAuthorizationService(f.db)
	var changed []int64
	auth.OnPostersChanged = func(_ context.Context, id int64) error { changed = append(changed, id); return nil }
	acct := addAccount(t, f.db, "A", "Facebook", "A", "active")
	if _, err := auth.Authorize(ctx, &app.AuthorizationRequest{Agency: "A", EmployeeNumber: "1", AccountIDs: []int64{acct},
		StartsOn: "2031-03-11", EndsOn: "2031-03-20", Scope: "news", ActorID: f.emp.ID}); err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0] != f.emp.ID {
		t.Fatalf("OnPostersChanged: %v", changed)
	}
	for _, c := range []struct {
		at   time.Time
		want bool
	}{{now, false}, {now.Add(24 * time.Hour), true}, {time.Date(2031, 3, 20, 23, 0, 0, 0, time.UTC), true}, {time.Date(2031, 3, 21, 12, 0, 0, 0, time.UTC), false}} {
		f.db.Now = func() time.Time { return c.at }
		e, err := emps.FindEmployeeByID(ctx, f.emp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if e.HasRole(app.RolePoster) != c.want {
			t.Errorf("%s: poster %v, want %v", c.at, !c.want, c.want)
		}
	}
	f.db.Now = func() time.Time { return now.Add(24 * time.Hour) }
	list, err := auth.FindAuthorizations(ctx, app.AuthorizationFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("%v %d", err, len(list))
	}
	if err := auth.Revoke(ctx, &app.Revocation{AuthorizationID: list[0].ID, Agency: "B", Note: "x", ActorID: f.emp.ID}); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("another agency's revocation: %v", err)
	}
	if err := auth.Revoke(ctx, &app.Revocation{AuthorizationID: list[0].ID, Agency: "A", Note: "left", ActorID: f.emp.ID}); err != nil {
		t.Fatal(err)
	}
	if len(changed) != 2 {
		t.Fatalf("OnPostersChanged after the revocation: %v", changed)
	}
	if e, _ := emps.FindEmployeeByID(ctx, f.emp.ID); e.HasRole(app.RolePoster) {
		t.Error("a poster after the revocation")
	}
	for _, q := range []string{`UPDATE poster_authorizations SET scope = 'x'`, `DELETE FROM poster_authorizations`,
		`UPDATE authorization_ends SET note = 'x'`, `DELETE FROM authorization_ends`} {
		if _, err := f.db.write.Exec(q); err == nil || !strings.Contains(err.Error(), "evidence") {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// TestTermsPublishAndDeliver: versions count up, the text's digest is
// stored, and each poster is given each version once.
func TestTermsPublishAndDeliver(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.db.Now = func() time.Time { return time.Date(2031, 3, 10, 15, 0, 0, 0, time.UTC) }
	terms := NewTermsService(f.db)
	auth := NewAuthorizationService(f.db)
	acct := addAccount(t, f.db, "A", "Facebook", "A", "active")
	v1 := &app.TermsOfComment{Agency: "A", Body: "## Rules\r\n\r\nBe kind.  \r\n", PublishedBy: &f.emp.ID}
	if err := terms.PublishTerms(ctx, v1, ""); err != nil {
		t.Fatal(err)
	}
	if v1.Version != 1 || v1.Body != "## Rules\n\nBe kind.\n" || v1.SHA256 != app.TermsDigest(v1.Body) {
		t.Fatalf("version %d body %q sha %s", v1.Version, v1.Body, v1.SHA256)
	}
	if _, err := auth.Authorize(ctx, &app.AuthorizationRequest{Agency: "A", EmployeeNumber: "1", AccountIDs: []int64{acct},
		StartsOn: "2031-03-10", Scope: "news", ActorID: f.emp.ID}); err != nil {
		t.Fatal(err)
	}
	v2 := &app.TermsOfComment{Agency: "A", Body: "## Rules\n\nBe kinder.\n"}
	if err := terms.PublishTerms(ctx, v2, ""); err != nil || v2.Version != 2 {
		t.Fatalf("%v %d", err, v2.Version)
	}
	if err := terms.PublishTerms(ctx, &app.TermsOfComment{Agency: "A", Body: "## Rules\n\nBe kinder."}, ""); app.ErrorCode(err) != app.EINVALID {
		t.Fatalf("the same text again: %v", err)
	}
	tasks, err := terms.TermsTasks(ctx, f.emp.ID)
	if err != nil || len(tasks) != 2 {
		t.Fatalf("%v %d tasks", err, len(tasks))
	}
	var mails int
	if err := f.db.read.QueryRow(`SELECT COUNT(*) FROM outbox WHERE kind = 'terms' AND employee_id = ?`, f.emp.ID).Scan(&mails); err != nil || mails != 2 {
		t.Fatalf("%v: %d mails", err, mails)
	}
	r := &app.TermsReceipt{TermsID: v2.ID, EmployeeID: f.emp.ID, IP: "192.0.2.1", UserAgent: "test"}
	if err := terms.ReceiveTerms(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := terms.ReceiveTerms(ctx, r); app.ErrorCode(err) != app.ECONFLICT {
		t.Fatalf("twice: %v", err)
	}
	if err := terms.ReceiveTerms(ctx, &app.TermsReceipt{TermsID: v2.ID, EmployeeID: 999}); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("not given: %v", err)
	}
	list, err := auth.FindAuthorizations(ctx, app.AuthorizationFilter{})
	if err != nil || len(list) != 1 || !list[0].TermsReceived || list[0].TermsInForce != 2 || list[0].TermsVersion != 1 {
		t.Fatalf("%v %+v", err, list)
	}
}

// TestRosterMoveEndsAuthorizationsAndCallsTheHook: a roster import that
// moves a poster to another agency ends their authorization in its own
// transaction and then calls OnPostersChanged; a failing hook leaves the
// import and the end committed and says so as an app.CommittedError.
func TestRosterMoveEndsAuthorizationsAndCallsTheHook(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.db.Now = func() time.Time { return time.Date(2031, 3, 10, 15, 0, 0, 0, time.UTC) }
	auth := NewAuthorizationService(f.db)
	auth.OnPostersChanged = func(context.Context, int64) error { return errors.New("sync down") }
	acct := addAccount(t, f.db, "A", "Facebook", "A", "active")
	_, err := auth.Authorize(ctx, &app.AuthorizationRequest{Agency: "A", EmployeeNumber: "1", AccountIDs: []int64{acct},
		StartsOn: "2031-03-10", Scope: "news", ActorID: f.emp.ID})
	var ce *app.CommittedError
	if !errors.As(err, &ce) {
		t.Fatalf("a failing hook: %v, want a CommittedError", err)
	}
	rs := NewRosterService(f.db)
	var called []int64
	rs.OnPostersChanged = func(_ context.Context, id int64) error { called = append(called, id); return errors.New("sync down") }
	row := app.RosterRow{Line: 2, EmployeeNumber: "1", FullName: f.emp.FullName, Email: f.emp.Email, Agency: "B", Department: "D", KeepSignatureName: true}
	if _, err := rs.ImportRoster(ctx, []app.RosterRow{row}, app.ImportOptions{Source: "test"}); !errors.As(err, &ce) {
		t.Fatalf("import: %v, want a CommittedError", err)
	}
	if len(called) != 1 || called[0] != f.emp.ID {
		t.Fatalf("hook calls %v", called)
	}
	var reason string
	var actor sql.NullInt64
	if err := f.db.read.QueryRow(`SELECT reason, actor_id FROM authorization_ends`).Scan(&reason, &actor); err != nil || reason != app.EndTransferred || actor.Valid {
		t.Fatalf("end: %v %q %v", err, reason, actor)
	}
	var agency string
	if err := f.db.read.QueryRow(`SELECT agency FROM employees WHERE id = ?`, f.emp.ID).Scan(&agency); err != nil || agency != "B" {
		t.Fatalf("the import was not committed: %v %q", err, agency)
	}
}

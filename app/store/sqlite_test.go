package store

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"portal/app"
	"portal/app/content"
	"portal/app/evidence"
)

// testKey is an evidence log key for one test's database.
func testKey(t testing.TB) *evidence.Key {
	t.Helper()
	k, err := evidence.NewKey("test.invalid/log")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testOptions opens a test database with a log key.
func testOptions(t testing.TB) Options { return Options{LogKey: testKey(t)} }

// fixture is a fresh database with one employee, a version and an open cycle.
type fixture struct {
	db      *DB
	emp     *app.Employee
	version *app.PolicyVersion
	cycle   *app.Cycle
	acks    *AckService
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureAt(t, filepath.Join(t.TempDir(), "test.db"))
}

// newFixtureAt is newFixture on the database dsn names (a file, or a
// PostgreSQL database).
func newFixtureAt(t testing.TB, dsn string) *fixture {
	t.Helper()
	db, err := Open(dsn, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	f := &fixture{db: db, acks: NewAckService(db)}
	f.emp = &app.Employee{EmployeeNumber: "1", FullName: "Zoë Côté", Email: "zoe@x.example", Agency: "A", Department: "D", Active: true}
	if err := NewEmployeeService(db).CreateEmployee(ctx, f.emp); err != nil {
		t.Fatal(err)
	}
	f.version = testVersion("1.0", "x")
	if err := NewPolicyService(db).PublishVersion(ctx, f.version); err != nil {
		t.Fatal(err)
	}
	f.cycle = &app.Cycle{Name: "2026", PolicyVersionID: f.version.ID, OpensOn: "2026-01-01", DueOn: "2026-03-01", NewHireDays: 30, Open: true}
	if err := NewCycleService(db).CreateCycle(ctx, f.cycle); err != nil {
		t.Fatal(err)
	}
	return f
}

// testVersion is a small policy version with its real content hash.
func testVersion(code, body string) *app.PolicyVersion {
	v := &app.PolicyVersion{Code: code, Title: "Policy", Kind: app.KindMaterial, Effective: "2026-01-01", Intent: "I agree.",
		Modules:   []app.Module{{Slug: "m", Title: "M", Audience: app.AudienceAll, Body: body}},
		Questions: []app.Question{{ID: "q", Module: "m", Options: []app.Option{{Key: "a", Text: "A"}, {Key: "b", Text: "B"}}, Answer: "a"}}}
	v.SHA256 = content.VersionSHA256(v)
	return v
}

// sign records a passing attempt, a consent and an acknowledgment.
func (f *fixture) sign(t testing.TB) (*app.Acknowledgment, bool) {
	t.Helper()
	ctx := context.Background()
	a := &app.QuizAttempt{EmployeeID: f.emp.ID, CycleID: f.cycle.ID, PolicyVersionID: f.version.ID,
		Answers: map[string]string{"q": "a"}, Score: 1, Total: 1, PassMark: 80, Passed: true}
	if err := f.acks.CreateQuizAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
	c := &app.ConsentRecord{EmployeeID: f.emp.ID, CycleID: f.cycle.ID, Version: "1", SHA256: "c"}
	if err := f.acks.RecordConsent(ctx, c); err != nil {
		t.Fatal(err)
	}
	ack, created, err := f.acks.CreateAcknowledgment(ctx, &app.Acknowledgment{EmployeeID: f.emp.ID, CycleID: f.cycle.ID,
		PolicyVersionID: f.version.ID, PolicySHA256: f.version.SHA256, TypedName: "Zoë Côté", ConsentID: c.ID,
		ConsentVersion: "1", ConsentSHA256: "c", IntentText: "I agree.", IP: "127.0.0.1", UserAgent: "test",
		AuthMethod: app.AuthEmailLink, QuizAttemptID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	return ack, created
}

func TestLogVerifies(t *testing.T) {
	ctx := context.Background()
	t.Run("an untouched log verifies", func(t *testing.T) {
		f := newFixture(t)
		f.sign(t)
		rep, err := f.db.VerifyLog(ctx, evidence.VerifyOptions{Key: f.db.key})
		// the employee's roster record, the version, its publication and the
		// cycle's opening, a quiz attempt, a consent, the acknowledgment
		if err != nil || rep.Problem != nil || rep.Entries != 7 || !rep.SealsChecked {
			t.Fatalf("report %+v problem %v err %v", rep, rep.Problem, err)
		}
	})
	for name, tamper := range map[string]struct {
		sql    []string
		reason string
	}{
		"an altered consent": {[]string{`DROP TRIGGER consents_immutable_u`, `UPDATE consents SET ip = '10.0.0.1'`}, "changed after it was logged"},
		"a deleted acknowledgment": {[]string{`DROP TRIGGER acknowledgments_immutable_d`, `PRAGMA foreign_keys = OFF`,
			`DELETE FROM acknowledgments`}, "missing"},
		"a removed log entry": {[]string{`DROP TRIGGER log_entries_immutable_d`, `DELETE FROM log_entries WHERE kind = 'consent'`}, "entries were removed"},
		"a forged acknowledgment outside the log": {[]string{`INSERT INTO acknowledgments (` + ackColumns + `) SELECT id + 1,
			employee_id, employee_number, full_name, agency, department, cycle_id, policy_version_id + 1, policy_sha256, typed_name,
			consent_id, consent_version, consent_sha256, intent_text, 'forged', signed_at, ip, user_agent, auth_method,
			sign_in_identity, quiz_attempt_id, 'FORGED', 'FORGE-D0000' FROM acknowledgments`}, "not in the evidence log"},
		"a re-pointed address": {[]string{`UPDATE employees SET email = 'attacker@x.example'`}, "changed outside the portal"},
		"a role added":         {[]string{`UPDATE employees SET roles = 'admin'`}, "changed outside the portal"},
		"a policy text edited": {[]string{`DROP TRIGGER policy_versions_immutable_u`,
			`UPDATE policy_versions SET bundle = replace(bundle, '"x"', '"y"')`}, "content was changed"},
		"a roster change removed": {[]string{`DROP TRIGGER roster_changes_immutable_d`, `PRAGMA foreign_keys = OFF`,
			`DELETE FROM roster_changes`}, "missing"},
	} {
		t.Run(name+" is caught", func(t *testing.T) {
			f := newFixture(t)
			f.sign(t)
			if strings.Contains(name, "forged") {
				// The forged row needs its own (employee, cycle, version): add a second version.
				if err := NewPolicyService(f.db).PublishVersion(ctx, testVersion("1.1", "y")); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range tamper.sql {
				if _, err := f.db.write.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			rep, err := f.db.VerifyLog(ctx, evidence.VerifyOptions{Key: f.db.key})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Problem == nil || !strings.Contains(rep.Problem.Error(), tamper.reason) {
				t.Fatalf("problem %v, want a reason with %q", rep.Problem, tamper.reason)
			}
		})
	}
}

func TestEvidenceTablesRefuseChanges(t *testing.T) {
	f := newFixture(t)
	f.sign(t)
	for _, q := range []string{
		`UPDATE acknowledgments SET comment = 'x'`, `DELETE FROM acknowledgments`,
		`UPDATE quiz_attempts SET passed = 0`, `DELETE FROM quiz_attempts`,
		`UPDATE consents SET version = 'x'`, `DELETE FROM consents`,
		`UPDATE log_entries SET hash = x'00'`, `DELETE FROM log_entries`, `UPDATE log_hashes SET hash = x'00'`, `DELETE FROM log_hashes`,
		`UPDATE roster_changes SET source = 'x'`, `DELETE FROM roster_changes`,
		`UPDATE audit_events SET detail = 'x'`, `DELETE FROM audit_events`,
		`UPDATE policy_versions SET title = 'x'`, `DELETE FROM policy_versions`,
	} {
		if _, err := f.db.write.Exec(q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
}

// Store-specific: the token is kept only as its hash, and deactivating a
// person in the table ends their token and sessions (the contract's token
// tests are in app/storetest).
func TestLoginTokensInTheTable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ss := NewSessionService(f.db)
	token, err := ss.CreateLoginToken(ctx, f.emp.ID, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var stored int
	if err := f.db.read.QueryRow(`SELECT COUNT(*) FROM login_tokens WHERE token_hash = ?`, token).Scan(&stored); err != nil || stored != 0 {
		t.Fatal("the raw token is stored")
	}
	if err := f.db.read.QueryRow(`SELECT COUNT(*) FROM login_tokens`).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("%d tokens stored: %v", stored, err)
	}
	t.Run("a deactivated employee's token and sessions stop working", func(t *testing.T) {
		sess, err := ss.CreateSession(ctx, f.emp.ID, app.AuthEmailLink, f.emp.Email)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ss.FindSession(ctx, sess.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.write.Exec(`UPDATE employees SET active = 0 WHERE id = ?`, f.emp.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ss.ConsumeLoginToken(ctx, token); app.ErrorCode(err) != app.EUNAUTHORIZED {
			t.Fatalf("consume: %v", err)
		}
		if _, err := ss.FindSession(ctx, sess.ID); app.ErrorCode(err) != app.EUNAUTHORIZED {
			t.Fatalf("session: %v", err)
		}
	})
}

// The cached current cycle follows every cycle write at once, and a write by
// another handle on the same file within its short life.
func TestCurrentCycleCacheFollowsWrites(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cs := NewCycleService(f.db)
	c, err := cs.CurrentCycle(ctx)
	if err != nil || c.ID != f.cycle.ID {
		t.Fatalf("current: %+v %v", c, err)
	}
	c.Name = "changed by the caller"
	if again, _ := cs.CurrentCycle(ctx); again.Name != f.cycle.Name {
		t.Fatalf("a caller's change reached the cache: %q", again.Name)
	}
	v2 := &app.PolicyVersion{Code: "2.0", Title: "Policy", Kind: app.KindMinor, Effective: "2026-02-01",
		Intent: "I agree.", SHA256: strings.Repeat("cd", 32), Modules: f.version.Modules, Questions: f.version.Questions}
	if err := NewPolicyService(f.db).PublishVersion(ctx, v2); err != nil {
		t.Fatal(err)
	}
	if err := cs.SetCycleVersion(ctx, f.cycle.ID, v2.ID, nil); err != nil {
		t.Fatal(err)
	}
	if c, _ := cs.CurrentCycle(ctx); c.PolicyVersionID != v2.ID {
		t.Fatalf("after a version change: version %d", c.PolicyVersionID)
	}
	if err := cs.CloseCycle(ctx, f.cycle.ID, nil); err != nil {
		t.Fatal(err)
	}
	if c, err := cs.CurrentCycle(ctx); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("after closing: %+v %v", c, err)
	}
	next := &app.Cycle{Name: "2027", PolicyVersionID: v2.ID, OpensOn: "2026-01-02", DueOn: "2026-03-01", NewHireDays: 30, Open: true}
	if err := cs.CreateCycle(ctx, next); err != nil {
		t.Fatal(err)
	}
	if c, err := cs.CurrentCycle(ctx); err != nil || c.ID != next.ID {
		t.Fatalf("after creating: %+v %v", c, err)
	}
	// Another handle (as another process would) closes it: seen once the
	// entry's short life is over.
	other, err := Open(f.db.Path, Options{LogKey: f.db.key})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := NewCycleService(other).CloseCycle(ctx, next.ID, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(cycleCacheLife + 5*time.Second)
	for {
		if _, err := cs.CurrentCycle(ctx); app.ErrorCode(err) == app.ENOTFOUND {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a cycle closed by another handle is still current")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The acknowledgment returned on signing is the one stored, field for field
// (it is built in the transaction rather than read back).
func TestCreatedAcknowledgmentIsAsStored(t *testing.T) {
	f := newFixture(t)
	ack, created := f.sign(t)
	if !created {
		t.Fatal("not created")
	}
	stored, _, err := f.acks.FindAcknowledgments(context.Background(), app.AckFilter{ID: &ack.ID})
	if err != nil || len(stored) != 1 {
		t.Fatalf("%v %v", stored, err)
	}
	if !reflect.DeepEqual(ack, stored[0]) {
		t.Fatalf("returned %+v\nstored   %+v", ack, stored[0])
	}
	again, created := f.sign(t)
	if created || !reflect.DeepEqual(again, stored[0]) {
		t.Fatalf("second sign: created %v, %+v", created, again)
	}
}

// A committed signature shows as signing under way for a while.
func TestSigningIsSeen(t *testing.T) {
	f := newFixture(t)
	if f.db.Signing(time.Hour) {
		t.Fatal("signing before anyone signed")
	}
	f.sign(t)
	if !f.db.Signing(time.Hour) {
		t.Fatal("a signature was not seen")
	}
	if f.db.Signing(0) {
		t.Fatal("signing within no time at all")
	}
	// The flag follows the portal's clock, like everything else.
	f.db.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if f.db.Signing(time.Hour) {
		t.Fatal("still signing two hours later by the portal's clock")
	}
}

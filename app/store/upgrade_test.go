package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"portal/app"
	"portal/app/evidence"
)

// oldDB builds a database as the version before the evidence log left it:
// migrations 001–004 only, each evidence row linked into the legacy chain
// as that version's code did (canonicalRecord, chainHash), an old CSRF
// secret in settings and sign-in links in clear in the outbox.
type oldDB struct {
	t     *testing.T
	db    *sql.DB
	at    time.Time
	chain []logRef // the chain's records, in seq order
}

// logRef is one log entry: its kind and record id.
type logRef struct {
	Kind  string
	RefID int64
}

func (o *oldDB) exec(query string, args ...any) int64 {
	o.t.Helper()
	res, err := o.db.Exec(query, args...)
	if err != nil {
		o.t.Fatalf("%s: %v", query, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		o.t.Fatal(err)
	}
	return id
}

// now moves the old portal's clock on a minute and returns it, as stored.
func (o *oldDB) now() string {
	o.at = o.at.Add(time.Minute)
	return formatTime(o.at)
}

// link appends the record to the legacy chain.
func (o *oldDB) link(kind string, id int64) {
	o.t.Helper()
	ctx := context.Background()
	canonical, err := canonicalRecord(ctx, o.db, kind, id)
	if err != nil {
		o.t.Fatal(err)
	}
	prev := genesisHash
	if err := o.db.QueryRow(`SELECT hash FROM chain ORDER BY seq DESC LIMIT 1`).Scan(&prev); err != nil && err != sql.ErrNoRows {
		o.t.Fatal(err)
	}
	o.exec(`INSERT INTO chain (kind, ref_id, prev_hash, hash) VALUES (?, ?, ?, ?)`, kind, id, prev, chainHash(prev, kind, canonical))
	o.chain = append(o.chain, logRef{chainLogKinds[kind], id})
}

func (o *oldDB) audit(actor any, action, subjectType string, subject int64, detail string) {
	o.link("audit", o.exec(`INSERT INTO audit_events (at, actor_id, action, subject_type, subject_id, detail, ip)
		VALUES (?, ?, ?, ?, ?, ?, '127.0.0.1')`, o.now(), actor, action, subjectType, subject, detail))
}

func (o *oldDB) publish(v *app.PolicyVersion) {
	body, err := json.Marshal(bundle{v.Changes, v.PolicyText, v.Intent, v.Modules, v.Questions, nil})
	if err != nil {
		o.t.Fatal(err)
	}
	v.ID = o.exec(`INSERT INTO policy_versions (code, title, kind, effective, sha256, bundle, published_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, v.Code, v.Title, v.Kind, v.Effective, v.SHA256, string(body), o.now())
	o.audit(nil, "policy.published", "policy_version", v.ID, v.Code+" "+v.SHA256)
}

// sign records what signing recorded then: a failed and a passed attempt,
// the consent and the acknowledgment, each linked as it was written.
func (o *oldDB) sign(emp, cycle int64, v *app.PolicyVersion) int64 {
	o.audit(emp, "session.signed_in", "employee", emp, "email-link")
	quiz := func(passed int) int64 {
		id := o.exec(`INSERT INTO quiz_attempts (employee_id, cycle_id, policy_version_id, answers, wrong, score, total,
			pass_mark, passed, created_at) VALUES (?, ?, ?, '{"q":"a"}', '[]', ?, 1, 80, ?, ?)`, emp, cycle, v.ID, passed, passed, o.now())
		o.link("quiz_attempt", id)
		return id
	}
	quiz(0)
	attempt := quiz(1)
	consent := o.exec(`INSERT INTO consents (employee_id, cycle_id, version, sha256, accepted_at, ip, user_agent)
		VALUES (?, ?, '2026-1', 'c0ffee', ?, '127.0.0.1', 'Firefox')`, emp, cycle, o.now())
	o.link("consent", consent)
	code, err := app.NewVerifyCode()
	if err != nil {
		o.t.Fatal(err)
	}
	var n int64
	if err := o.db.QueryRow(`SELECT COUNT(*) + 1 FROM acknowledgments`).Scan(&n); err != nil {
		o.t.Fatal(err)
	}
	at := o.now()
	ack := o.exec(`INSERT INTO acknowledgments (employee_id, cycle_id, policy_version_id, policy_sha256, typed_name,
		consent_id, consent_version, consent_sha256, intent_text, comment, signed_at, ip, user_agent, auth_method,
		quiz_attempt_id, certificate_no, verify_code) VALUES (?, ?, ?, ?, 'typed', ?, '2026-1', 'c0ffee', 'I agree.', '', ?,
		'127.0.0.1', 'Firefox', 'email-link', ?, ?, ?)`, emp, cycle, v.ID, v.SHA256, consent, at, attempt, fmt.Sprintf("SMP-2026-%06d", n), code)
	o.link("acknowledgment", ack)
	o.exec(`UPDATE assignments SET signed_at = ?, ack_id = ? WHERE cycle_id = ? AND employee_id = ?`, at, ack, cycle, emp)
	return ack
}

// makeOldDB writes the old database at path and returns what it holds.
func makeOldDB(t *testing.T, path string) (o *oldDB, people []int64, acks [2]int64) {
	raw, err := sql.Open(driverName, "file:"+path+"?_journal_mode=WAL&_foreign_keys=1&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	o = &oldDB{t: t, db: raw, at: time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC)}
	o.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`)
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	for _, name := range names[:4] {
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		o.exec(string(body))
		o.exec(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, o.now())
	}
	if names[3] != "migrations/004_sign_trigger.sql" {
		t.Fatalf("the old version's last migration is %s", names[3])
	}
	for _, p := range [][]any{
		{"1001", "Hannah Roy", "hannah@agency.example", "poster;hr", nil},
		{"1002", "Zoë Côté", "zoe@agency.example", "", int64(1)},
		{"1003", "Adam Ng", "adam@agency.example", "", int64(1)},
	} {
		at := o.now()
		people = append(people, o.exec(`INSERT INTO employees (employee_number, full_name, email, agency, department, title,
			manager_id, hire_date, roles, active, created_at, updated_at) VALUES (?, ?, ?, 'Agency', 'Dept', 'Clerk', ?, '2020-01-06', ?, 1, ?, ?)`,
			p[0], p[1], p[2], p[4], p[3], at, at))
	}
	hr := people[0]
	v1, v2 := testVersion("2026.1", "first text"), testVersion("2026.2", "second text")
	o.publish(v1)
	cycle := o.exec(`INSERT INTO cycles (year, name, policy_version_id, opens_on, due_on, created_at)
		VALUES (2026, '2026 annual', ?, '2026-01-01', '2026-03-01', ?)`, v1.ID, o.now())
	for _, p := range people {
		o.exec(`INSERT INTO assignments (cycle_id, employee_id, agency, department, due_on) VALUES (?, ?, 'Agency', 'Dept', '2026-03-01')`, cycle, p)
	}
	acks[0] = o.sign(people[1], cycle, v1)
	o.publish(v2)
	// A material version: signatures of the cycle stand no more.
	o.exec(`UPDATE cycles SET policy_version_id = ? WHERE id = ?`, v2.ID, cycle)
	o.exec(`UPDATE assignments SET signed_at = NULL, ack_id = NULL WHERE cycle_id = ? AND ack_id IS NOT NULL`, cycle)
	o.audit(hr, "cycle.version_changed", "cycle", cycle, "now 2026.2 (material)")
	acks[1] = o.sign(people[2], cycle, v2)
	o.audit(hr, "roster.imported", "roster", 1, "3 rows, 0 added, 1 updated")
	// What that version kept that the evidence log's version does not.
	o.exec(`INSERT INTO settings (key, value) VALUES ('secret', 'an-old-csrf-secret-kept-in-the-database')`)
	for _, status := range []string{"queued", "sent"} {
		o.exec(`INSERT INTO outbox (dedupe_key, to_addr, to_name, subject, text_body, html_body, status, next_attempt_at, created_at)
			VALUES (?, 'zoe@agency.example', 'Zoë Côté', 'Your sign-in link', 'http://portal/signin/link/AAAA', '<a href="http://portal/signin/link/AAAA">', ?, ?, ?)`,
			"signin:"+status, status, o.now(), o.now())
	}
	return o, people, acks
}

// upgradeDump is every row of every table and the schema, read through a
// fresh connection.
func upgradeDump(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open(driverName, "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables []string
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	queries := []string{`SELECT type, name, sql FROM sqlite_master ORDER BY type, name`}
	for _, n := range tables {
		queries = append(queries, `SELECT * FROM "`+n+`"`)
	}
	var b strings.Builder
	for _, q := range queries {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		fmt.Fprintf(&b, "%s\n", q)
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%v\t", v)
			}
			b.WriteByte('\n')
		}
		rows.Close()
	}
	return b.String()
}

func TestUpgradeFromBeforeTheEvidenceLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, people, acks := makeOldDB(t, path)
	before := upgradeDump(t, path)
	key := testKey(t)

	t.Run("without the log key the old database is not opened, the error says why, and nothing changes", func(t *testing.T) {
		db, err := Open(path, Options{})
		if err == nil {
			db.Close()
			t.Fatal("an old database was upgraded without the log key")
		}
		if !strings.Contains(err.Error(), "PORTAL_LOG_KEY") || !strings.Contains(err.Error(), "evidence log") {
			t.Errorf("the error does not say what is missing: %v", err)
		}
		if after := upgradeDump(t, path); after != before {
			t.Fatal("the failed upgrade changed the database")
		}
		if !strings.Contains(before, "migrations/004_sign_trigger.sql") || strings.Contains(before, "migrations/005") {
			t.Fatal("the old database is not at migration 004")
		}
	})

	db, err := Open(path, Options{LogKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if db != nil {
			db.Close()
		}
	}()
	entries := func(t *testing.T) []logRef {
		rows, err := db.read.Query(`SELECT kind, ref_id FROM log_entries ORDER BY idx`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []logRef
		for rows.Next() {
			var r logRef
			if err := rows.Scan(&r.Kind, &r.RefID); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	count := func(t *testing.T, q string, args ...any) int {
		var n int
		if err := db.read.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	want := append([]logRef(nil), old.chain...)
	want = append(want, logRef{evidence.KindPolicyVersion, 1}, logRef{evidence.KindPolicyVersion, 2}, logRef{evidence.KindCycleVersion, 1})
	for i := range people {
		want = append(want, logRef{evidence.KindRosterChange, int64(i + 1)})
	}

	t.Run("the log is the chain in its order, then the versions, the cycle's version change and each person's roster record", func(t *testing.T) {
		if got := entries(t); !reflect.DeepEqual(got, want) {
			t.Fatalf("log entries:\n got %v\nwant %v", got, want)
		}
		rows, err := db.read.Query(`SELECT employee_id, source FROM roster_changes ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []int64
		for rows.Next() {
			var id int64
			var source string
			if err := rows.Scan(&id, &source); err != nil {
				t.Fatal(err)
			}
			if source != "state at upgrade" {
				t.Errorf("roster change source %q", source)
			}
			got = append(got, id)
		}
		if !reflect.DeepEqual(got, people) {
			t.Errorf("roster changes for %v, want one each for %v", got, people)
		}
		if n := count(t, `SELECT COUNT(*) FROM cycle_versions WHERE cycle_id = 1 AND from_version_id = 1 AND to_version_id = 2
			AND material = 1 AND actor_id = ?`, people[0]); n != 1 {
			t.Error("the cycle's version change is not recorded from its audit event")
		}
	})

	t.Run("the log verifies with its seals, and the old chain still verifies", func(t *testing.T) {
		rep, err := db.VerifyLog(ctx, evidence.VerifyOptions{Key: key})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Problem != nil || !rep.SealsChecked || rep.Entries != int64(len(want)) {
			t.Fatalf("VerifyLog: %d entries, seals checked %v, problem %v", rep.Entries, rep.SealsChecked, rep.Problem)
		}
		if rep, err := db.VerifyLog(ctx, evidence.VerifyOptions{Key: testKey(t)}); err != nil || rep.Problem == nil {
			t.Fatalf("the seals verify with another key too: %v", err)
		}
		n, brk, err := NewAuditService(db).VerifyChain(ctx)
		if err != nil || brk != nil || n != len(old.chain) {
			t.Fatalf("VerifyChain: %d of %d records, break %+v, %v", n, len(old.chain), brk, err)
		}
	})

	t.Run("old acknowledgments hold the signer from the roster, and only the one before the material version is superseded", func(t *testing.T) {
		list, _, err := NewAckService(db).FindAcknowledgments(ctx, app.AckFilter{})
		if err != nil || len(list) != 2 {
			t.Fatalf("%d acknowledgments: %v", len(list), err)
		}
		byID := map[int64]*app.Acknowledgment{list[0].ID: list[0], list[1].ID: list[1]}
		for i, id := range acks {
			a := byID[id]
			e, err := NewEmployeeService(db).FindEmployeeByID(ctx, a.EmployeeID)
			if err != nil {
				t.Fatal(err)
			}
			if a.EmployeeNumber != e.EmployeeNumber || a.EmployeeName != e.FullName || a.EmployeeAgency != "Agency" || a.EmployeeDept != "Dept" {
				t.Errorf("acknowledgment %d: signer %q %q %q %q", id, a.EmployeeNumber, a.EmployeeName, a.EmployeeAgency, a.EmployeeDept)
			}
			if a.LogIndex < 0 || want[a.LogIndex] != (logRef{evidence.KindAcknowledgment, id}) {
				t.Errorf("acknowledgment %d: log index %d", id, a.LogIndex)
			}
			if a.Superseded != (i == 0) {
				t.Errorf("acknowledgment %d of version %s: superseded %v", id, a.PolicyCode, a.Superseded)
			}
		}
	})

	t.Run("the upgraded roster has the signature name column, empty for everyone", func(t *testing.T) {
		if n := count(t, `SELECT COUNT(*) FROM employees WHERE signature_name = ''`); n != len(people) {
			t.Fatalf("%d of %d people have an empty signature name", n, len(people))
		}
		e, err := NewEmployeeService(db).FindEmployeeByID(ctx, people[0])
		if err != nil {
			t.Fatal(err)
		}
		if e.SignatureName != "" {
			t.Fatalf("signature name %q after the upgrade", e.SignatureName)
		}
	})

	t.Run("the status counts are recounted into migration 013's columns", func(t *testing.T) {
		checkCountTables(t, db, "the upgrade")
		var total, signed, paper, exempt int
		if err := db.read.QueryRow(`SELECT SUM(total), SUM(signed), SUM(paper), SUM(exempt) FROM completion`).Scan(&total, &signed, &paper, &exempt); err != nil {
			t.Fatal(err)
		}
		if total != len(people) || signed != 1 || paper != 0 || exempt != 0 {
			t.Fatalf("after the upgrade: %d people, %d signed, %d on paper, %d exempt; want 3, 1, 0, 0", total, signed, paper, exempt)
		}
	})

	t.Run("the secrets the old version kept are gone", func(t *testing.T) {
		if n := count(t, `SELECT COUNT(*) FROM settings WHERE key = 'secret'`); n != 0 {
			t.Error("the old CSRF secret is still in settings")
		}
		if n := count(t, `SELECT COUNT(*) FROM outbox WHERE text_body LIKE '%/signin/link/%' OR html_body LIKE '%/signin/link/%'`); n != 0 {
			t.Errorf("%d messages keep a sign-in link", n)
		}
		if n := count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'signin' AND status = 'queued'`); n != 0 {
			t.Error("a sign-in link in clear is still queued")
		}
	})

	t.Run("opening it again builds nothing twice, and new evidence goes on after", func(t *testing.T) {
		db.Close()
		if db, err = Open(path, Options{LogKey: key}); err != nil {
			t.Fatal(err)
		}
		if got := entries(t); !reflect.DeepEqual(got, want) {
			t.Fatalf("log after reopening:\n got %v\nwant %v", got, want)
		}
		if n := count(t, `SELECT COUNT(*) FROM roster_changes`) + count(t, `SELECT COUNT(*) FROM cycle_versions`); n != len(people)+1 {
			t.Fatalf("%d roster and cycle version changes", n)
		}
		// Every migration once, however many later issues add.
		all, err := fs.Glob(migrationFS, "migrations/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, `SELECT COUNT(*) FROM schema_migrations`); n != len(all) {
			t.Fatalf("%d migrations recorded of %d", n, len(all))
		}
		e := &app.AuditEvent{At: time.Now().UTC(), Action: "test.after_upgrade", SubjectType: "cycle", SubjectID: 1}
		if err := NewAuditService(db).RecordEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		got := entries(t)
		if len(got) != len(want)+1 || got[len(want)] != (logRef{evidence.KindAuditEvent, e.ID}) {
			t.Fatalf("the new event is not the next entry: %v", got[len(want):])
		}
		if rep, err := db.VerifyLog(ctx, evidence.VerifyOptions{Key: key}); err != nil || rep.Problem != nil {
			t.Fatalf("VerifyLog after a new event: %v %v", err, rep.Problem)
		}
	})
}

package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
	"portal/app/evidence"
	"portal/app/store"
	"portal/server"
)

// Helpers of the evidence log tests (evidence_log_test.go,
// evidence_proofs_test.go): signing, the verifier, checkpoints, copies of
// the database, and rewriting the log as an operator holding the file would.

// evSign completes the whole journey for a demo employee and returns the
// new certificate's code.
func evSign(t *testing.T, tp *testPortal, number string) string {
	t.Helper()
	e := tp.employee(t, number)
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, number))
	readAll(t, tp, c, number)
	passQuiz(t, tp, c, number)
	consent(t, c)
	c.get("/sign")
	if r := c.post("/sign", form("typed_name", e.FullName, "intent", "yes")); r.Status != 303 || !strings.HasPrefix(r.Location, "/certificates/") {
		t.Fatalf("sign as %s: status %d location %q", number, r.Status, r.Location)
	}
	return evString(t, tp.DB.Path, `SELECT verify_code FROM acknowledgments WHERE employee_id = ? ORDER BY id DESC LIMIT 1`, e.ID)
}

// evVerifier is the log's verifier key as the public route serves it.
func evVerifier(t *testing.T, tp *testPortal) (string, note.Verifier) {
	t.Helper()
	r := newClient(t, tp.BaseURL).get("/log/key")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/log/key: status %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	vkey := strings.TrimSpace(r.Body)
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("/log/key serves %q: %v", vkey, err)
	}
	return vkey, v
}

// evCheckpoint waits for the portal to sign a checkpoint covering the whole
// log as it is now, and returns it as GET /log/checkpoint serves it.
func evCheckpoint(t *testing.T, tp *testPortal, v note.Verifier) ([]byte, evidence.Checkpoint) {
	t.Helper()
	want := int64(tp.count(t, `SELECT COUNT(*) FROM log_entries`))
	c := newClient(t, tp.BaseURL)
	for try := 0; try < 400; try++ {
		r := c.get("/log/checkpoint")
		if r.Status != 200 {
			t.Fatalf("/log/checkpoint: status %d", r.Status)
		}
		cp, err := evidence.OpenCheckpoint([]byte(r.Body), v)
		if err != nil {
			t.Fatalf("/log/checkpoint does not open with /log/key: %v\n%s", err, r.Body)
		}
		if cp.Size >= want {
			return []byte(r.Body), cp
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("no checkpoint of %d entries was signed", want)
	return nil, evidence.Checkpoint{}
}

// evCopy copies the portal's database as it stands, as a backup would.
func evCopy(t *testing.T, tp *testPortal) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "copy.db")
	if onPostgres() {
		if out, err := exec.Command("pg_dump", "--format=custom", "--no-owner", "--file="+path, "--dbname="+tp.DB.Path).CombinedOutput(); err != nil {
			t.Fatalf("pg_dump: %v\n%s", err, out)
		}
		return restorePgDump(t, path)
	}
	db := evRaw(t, tp.DB.Path)
	defer db.Close()
	evExec(t, db, `VACUUM INTO ?`, path)
	return path
}

// evAuditVerify runs `portal audit-verify args…` on path, with the log key
// file or without it ("").
func evAuditVerify(t *testing.T, path, keyFile string, args ...string) (string, error) {
	t.Helper()
	secClearEnv(t)
	t.Setenv("PORTAL_DB", path)
	t.Setenv("PORTAL_LOG_KEY", keyFile)
	var out bytes.Buffer
	err := server.Run(context.Background(), append([]string{"audit-verify"}, args...), &out, &out)
	return out.String(), err
}

// evDropTriggers removes every trigger, as the attacker did.
func evDropTriggers(t *testing.T, db *sql.DB) {
	t.Helper()
	if onPostgres() {
		// A superuser's way on PostgreSQL: every table's triggers switched
		// off, the foreign keys' own included.
		for _, table := range queryStrings(t, db, tablesQuery("postgres://")) {
			evExec(t, db, `ALTER TABLE "`+table+`" DISABLE TRIGGER ALL`)
		}
		return
	}
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'trigger'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	if len(names) == 0 {
		t.Fatal("no triggers to drop")
	}
	for _, n := range names {
		evExec(t, db, `DROP TRIGGER "`+n+`"`)
	}
}

// evEntry is a log entry as stored.
type evEntry struct {
	kind string
	ref  int64
	hash tlog.Hash
	seal []byte
}

func evEntries(t *testing.T, db *sql.DB) []evEntry {
	t.Helper()
	rows, err := db.Query(`SELECT kind, ref_id, hash, seal FROM log_entries ORDER BY idx`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []evEntry
	for rows.Next() {
		var e evEntry
		var h []byte
		if err := rows.Scan(&e.kind, &e.ref, &h, &e.seal); err != nil {
			t.Fatal(err)
		}
		copy(e.hash[:], h)
		out = append(out, e)
	}
	return out
}

// evRewriteLog replaces the whole log with es: the tree recomputed from
// their hashes, every stored checkpoint removed. With the key (an attacker
// who also stole it), every seal is recomputed and a checkpoint of the new
// tree signed and stored; without it, the seals stay as they were.
func evRewriteLog(t *testing.T, db *sql.DB, es []evEntry, key *evidence.Key) {
	t.Helper()
	evExec(t, db, `DELETE FROM log_entries`)
	evExec(t, db, `DELETE FROM log_hashes`)
	evExec(t, db, `DELETE FROM log_checkpoints`)
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, e := range es {
		seal := e.seal
		if key != nil {
			seal = key.Seal(int64(i), e.hash)
		}
		evExec(t, db, `INSERT INTO log_entries (idx, kind, ref_id, hash, seal) VALUES (?, ?, ?, ?, ?)`, i, e.kind, e.ref, e.hash[:], seal)
		hs, err := tlog.StoredHashesForRecordHash(int64(i), e.hash, reader)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
	}
	for i, h := range stored {
		evExec(t, db, `INSERT INTO log_hashes (id, hash) VALUES (?, ?)`, i, h[:])
	}
	if key == nil {
		return
	}
	root, err := tlog.TreeHash(int64(len(es)), reader)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := key.Sign(evidence.Checkpoint{Origin: key.Origin, Size: int64(len(es)), Root: root})
	if err != nil {
		t.Fatal(err)
	}
	evExec(t, db, `INSERT INTO log_checkpoints (size, root, signed_at, note) VALUES (?, ?, ?, ?)`,
		len(es), root[:], time.Now().UTC().Format(store.TimeLayout), msg)
}

// evAckLeaf is the canonical entry of the acknowledgment with code as the
// (tampered) file now holds it, built by the portal's own code.
func evAckLeaf(t *testing.T, path, code string) (*app.Acknowledgment, tlog.Hash) {
	t.Helper()
	db, err := store.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := store.NewAckService(db).FindAcknowledgmentByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return a, evidence.AcknowledgmentLeaf(a).Hash()
}

// evIndexOf is the log index of a record.
func evIndexOf(es []evEntry, kind string, ref int64) int {
	for i, e := range es {
		if e.kind == kind && e.ref == ref {
			return i
		}
	}
	return -1
}

// evMustFail checks that audit-verify failed and named what it should.
func evMustFail(t *testing.T, out string, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("audit-verify passed a tampered database:\n%s", out)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("audit-verify said %q, want it to say %q", err.Error(), w)
		}
	}
}

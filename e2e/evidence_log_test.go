package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
	"portal/app/evidence"
	"portal/app/sqlite"
	"portal/server"
)

// Issue 11, point 1: every evidence record is an entry of a signed Merkle
// tree. These tests play the people the log must stand up against: an
// operator with the database file who drops the triggers, edits, inserts,
// removes or cuts records and recomputes every hash, with and without the
// log key; and a reader of /verify who trusts nobody.

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
		len(es), root[:], time.Now().UTC().Format(sqlite.TimeLayout), msg)
}

// evAckLeaf is the canonical entry of the acknowledgment with code as the
// (tampered) file now holds it, built by the portal's own code.
func evAckLeaf(t *testing.T, path, code string) (*app.Acknowledgment, tlog.Hash) {
	t.Helper()
	db, err := sqlite.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := sqlite.NewAckService(db).FindAcknowledgmentByCode(context.Background(), code)
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

func TestAuditVerifyCatchesEveryRewrite(t *testing.T) {
	tp := startTestPortal(t)
	vkey, v := evVerifier(t, tp)
	// Three signatures: the first is the record the attacks go after; the
	// others lie after it in the log.
	target := evSign(t, tp, "1005")
	evSign(t, tp, "1006")
	evSign(t, tp, "1007")
	cpMsg, cp := evCheckpoint(t, tp, v)
	cpFile := filepath.Join(t.TempDir(), "checkpoint")
	if err := os.WriteFile(cpFile, cpMsg, 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := evidence.LoadKeyFile(tp.Config.LogKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	targetID := int64(mustAtoi(t, evString(t, tp.DB.Path, `SELECT id FROM acknowledgments WHERE verify_code = ?`, target)))

	t.Run("an untouched copy passes every check, and says what it checked", func(t *testing.T) {
		path := evCopy(t, tp)
		out, err := evAuditVerify(t, path, tp.Config.LogKeyFile, "--checkpoint", cpFile, "--key", vkey)
		if err != nil {
			t.Fatalf("audit-verify: %v\n%s", err, out)
		}
		mustContain(t, out, "evidence log verified", "re-hashed from its canonical form", "every entry's seal checked",
			fmt.Sprintf("consistent with the checkpoint of %d entries", cp.Size), "the roster matches its logged history")
		out, err = evAuditVerify(t, path, "")
		if err != nil {
			t.Fatalf("audit-verify without the key: %v\n%s", err, out)
		}
		mustContain(t, out, "evidence log verified", "note: without the log key")
	})

	t.Run("a record edited behind the triggers is named, even with no key and no checkpoint", func(t *testing.T) {
		path := evCopy(t, tp)
		db := evRaw(t, path)
		evDropTriggers(t, db)
		evExec(t, db, `UPDATE acknowledgments SET full_name = 'Someone Else' WHERE id = ?`, targetID)
		i := evIndexOf(evEntries(t, db), "acknowledgment", targetID)
		db.Close()
		out, err := evAuditVerify(t, path, "")
		evMustFail(t, out, err, fmt.Sprintf("log entry %d (acknowledgment %d)", i, targetID), "no longer matches its entry")
	})

	t.Run("a record deleted behind the triggers is named", func(t *testing.T) {
		path := evCopy(t, tp)
		db := evRaw(t, path)
		evDropTriggers(t, db)
		evExec(t, db, `DELETE FROM acknowledgments WHERE id = ?`, targetID)
		i := evIndexOf(evEntries(t, db), "acknowledgment", targetID)
		db.Close()
		out, err := evAuditVerify(t, path, "")
		evMustFail(t, out, err, fmt.Sprintf("log entry %d (acknowledgment %d)", i, targetID), "missing")
	})

	t.Run("a record inserted without an entry is found", func(t *testing.T) {
		path := evCopy(t, tp)
		db := evRaw(t, path)
		evDropTriggers(t, db)
		evExec(t, db, `INSERT INTO audit_events (at, actor_id, action, subject_type, subject_id, detail, ip) SELECT at, actor_id, action, subject_type, subject_id, 'forged', ip FROM audit_events ORDER BY id LIMIT 1`)
		db.Close()
		out, err := evAuditVerify(t, path, "")
		evMustFail(t, out, err, "is not in the evidence log")
	})

	t.Run("a record edited with every hash recomputed: the seals name it; the checkpoint places it", func(t *testing.T) {
		path := evCopy(t, tp)
		db := evRaw(t, path)
		evDropTriggers(t, db)
		evExec(t, db, `UPDATE acknowledgments SET full_name = 'Someone Else', signed_at = '2026-01-02T09:00:00.000000Z' WHERE id = ?`, targetID)
		db.Close()
		a, h := evAckLeaf(t, path, target)
		if a.EmployeeName != "Someone Else" {
			t.Fatalf("the edit did not take: %q", a.EmployeeName)
		}
		db = evRaw(t, path)
		es := evEntries(t, db)
		i := evIndexOf(es, "acknowledgment", targetID)
		es[i].hash = h
		evRewriteLog(t, db, es, nil)
		db.Close()

		out, err := evAuditVerify(t, path, "")
		if err != nil {
			t.Fatalf("without key or checkpoint, a full recomputation cannot be told from a good log, and audit-verify should say so rather than fail: %v", err)
		}
		mustContain(t, out, "note: without the log key")
		out, err = evAuditVerify(t, path, tp.Config.LogKeyFile)
		evMustFail(t, out, err, fmt.Sprintf("log entry %d (acknowledgment %d)", i, targetID), "seal does not match")
		out, err = evAuditVerify(t, path, "", "--checkpoint", cpFile, "--key", vkey)
		evMustFail(t, out, err, fmt.Sprintf("log entries %d to %d", 0, cp.Size-1), "the checkpoint given no longer matches")
	})

	t.Run("an attacker with the key who re-seals and re-signs is caught by a checkpoint kept outside", func(t *testing.T) {
		path := evCopy(t, tp)
		db := evRaw(t, path)
		evDropTriggers(t, db)
		evExec(t, db, `UPDATE acknowledgments SET typed_name = 'Someone Else' WHERE id = ?`, targetID)
		db.Close()
		_, h := evAckLeaf(t, path, target)
		db = evRaw(t, path)
		es := evEntries(t, db)
		es[evIndexOf(es, "acknowledgment", targetID)].hash = h
		evRewriteLog(t, db, es, key)
		db.Close()

		if out, err := evAuditVerify(t, path, tp.Config.LogKeyFile); err != nil {
			t.Fatalf("with the key, the attacker made a self-consistent log; audit-verify without an outside checkpoint cannot see it, and should not claim to: %v\n%s", err, out)
		}
		out, err := evAuditVerify(t, path, tp.Config.LogKeyFile, "--checkpoint", cpFile)
		evMustFail(t, out, err, "the checkpoint given no longer matches")
	})

	t.Run("a record inserted in the middle with every hash recomputed", func(t *testing.T) {
		path := evCopy(t, tp)
		db := evRaw(t, path)
		evDropTriggers(t, db)
		// A back-dated acknowledgment for someone who never signed, copied
		// from a real one, entered right after it.
		number := evString(t, path, `SELECT employee_number FROM employees WHERE id NOT IN (SELECT employee_id FROM acknowledgments) ORDER BY id LIMIT 1`)
		other := tp.employee(t, number)
		const forged = "ZZZZZ-ZZZZZ"
		evExec(t, db, `CREATE TEMP TABLE f AS SELECT * FROM acknowledgments WHERE id = ?`, targetID)
		evExec(t, db, `UPDATE f SET id = (SELECT MAX(id) + 1 FROM acknowledgments), employee_id = ?, employee_number = ?, full_name = ?,
			typed_name = ?, verify_code = ?, certificate_no = certificate_no || '-F'`, other.ID, other.EmployeeNumber, other.FullName, other.FullName, forged)
		evExec(t, db, `INSERT INTO acknowledgments SELECT * FROM f`)
		forgedID := int64(mustAtoi(t, evString(t, path, `SELECT id FROM acknowledgments WHERE verify_code = ?`, forged)))
		db.Close()
		_, h := evAckLeaf(t, path, forged)
		db = evRaw(t, path)
		es := evEntries(t, db)
		i := evIndexOf(es, "acknowledgment", targetID) + 1
		es = append(es[:i], append([]evEntry{{kind: "acknowledgment", ref: forgedID, hash: h, seal: make([]byte, 32)}}, es[i:]...)...)
		evRewriteLog(t, db, es, nil)
		db.Close()

		out, err := evAuditVerify(t, path, tp.Config.LogKeyFile)
		evMustFail(t, out, err, fmt.Sprintf("log entry %d (acknowledgment %d)", i, forgedID), "seal does not match")
		out, err = evAuditVerify(t, path, "", "--checkpoint", cpFile, "--key", vkey)
		evMustFail(t, out, err, "the checkpoint given no longer matches")
	})

	t.Run("a record removed from the middle with every hash recomputed", func(t *testing.T) {
		path := evCopy(t, tp)
		db := evRaw(t, path)
		evDropTriggers(t, db)
		evExec(t, db, `UPDATE assignments SET ack_id = NULL WHERE ack_id = ?`, targetID)
		evExec(t, db, `DELETE FROM acknowledgments WHERE id = ?`, targetID)
		es := evEntries(t, db)
		i := evIndexOf(es, "acknowledgment", targetID)
		es = append(es[:i], es[i+1:]...)
		evRewriteLog(t, db, es, nil)
		db.Close()

		out, err := evAuditVerify(t, path, tp.Config.LogKeyFile)
		evMustFail(t, out, err, fmt.Sprintf("log entry %d ", i), "seal does not match")
		out, err = evAuditVerify(t, path, "", "--checkpoint", cpFile, "--key", vkey)
		evMustFail(t, out, err, "the checkpoint given")
	})

	t.Run("a tail cut off, with no hashing at all, is caught by the checkpoint", func(t *testing.T) {
		path := evCopy(t, tp)
		db := evRaw(t, path)
		evDropTriggers(t, db)
		es := evEntries(t, db)
		cut := evIndexOf(es, "acknowledgment", targetID) // the target and everything after it
		tables := map[string]string{"acknowledgment": "acknowledgments", "consent": "consents", "quiz_attempt": "quiz_attempts",
			"audit_event": "audit_events", "roster_change": "roster_changes", "address_change": "address_changes",
			"cycle_version": "cycle_versions", "policy_version": "policy_versions"}
		for _, e := range es[cut:] {
			if e.kind == "acknowledgment" {
				evExec(t, db, `UPDATE assignments SET ack_id = NULL WHERE ack_id = ?`, e.ref)
			}
			evExec(t, db, `DELETE FROM `+tables[e.kind]+` WHERE id = ?`, e.ref)
		}
		evExec(t, db, `DELETE FROM log_entries WHERE idx >= ?`, cut)
		// The stored tree hashes past the cut go too, and the checkpoints that cover them.
		evExec(t, db, `DELETE FROM log_checkpoints WHERE size > ?`, cut)
		evExec(t, db, `DELETE FROM log_hashes WHERE id >= ?`, tlog.StoredHashIndex(0, int64(cut)))
		db.Close()

		if out, err := evAuditVerify(t, path, tp.Config.LogKeyFile); err != nil {
			t.Fatalf("a clean cut with its checkpoints removed is a shorter good log; only a checkpoint kept outside can tell: %v\n%s", err, out)
		}
		out, err := evAuditVerify(t, path, "", "--checkpoint", cpFile, "--key", vkey)
		evMustFail(t, out, err, fmt.Sprintf("covers %d entries but the log has only %d", cp.Size, cut),
			fmt.Sprintf("entries %d to %d were removed", cut, cp.Size-1))
	})

	t.Run("a checkpoint folder narrows a recomputed change to the entries between two checkpoints", func(t *testing.T) {
		// Checkpoints at three sizes, as PORTAL_CHECKPOINT_DIR keeps them.
		dir := t.TempDir()
		path := evCopy(t, tp)
		db := evRaw(t, path)
		es := evEntries(t, db)
		db.Close()
		i := evIndexOf(es, "acknowledgment", targetID)
		roots := tlogRoots(t, es)
		for _, size := range []int{i, i + 1, len(es)} {
			msg, err := key.Sign(evidence.Checkpoint{Origin: key.Origin, Size: int64(size), Root: roots[size]})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("checkpoint-%012d", size)), msg, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		db = evRaw(t, path)
		evDropTriggers(t, db)
		evExec(t, db, `UPDATE acknowledgments SET comment = 'added later' WHERE id = ?`, targetID)
		db.Close()
		_, h := evAckLeaf(t, path, target)
		db = evRaw(t, path)
		es[i].hash = h
		evRewriteLog(t, db, es, nil)
		db.Close()
		out, err := evAuditVerify(t, path, "", "--checkpoint", dir, "--key", vkey)
		evMustFail(t, out, err, fmt.Sprintf("log entry %d (acknowledgment %d)", i, targetID), "this entry was changed")
	})

	t.Run("a checkpoint signed by another key, or not a checkpoint, is refused", func(t *testing.T) {
		path := evCopy(t, tp)
		other, err := evidence.NewKey(key.Origin)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := other.Sign(cp)
		if err != nil {
			t.Fatal(err)
		}
		bad := filepath.Join(t.TempDir(), "other")
		if err := os.WriteFile(bad, msg, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := evAuditVerify(t, path, "", "--checkpoint", bad, "--key", vkey)
		evMustFail(t, out, err, "the checkpoint given")
		garbage := filepath.Join(t.TempDir(), "garbage")
		if err := os.WriteFile(garbage, []byte("hello\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err = evAuditVerify(t, path, "", "--checkpoint", garbage, "--key", vkey)
		evMustFail(t, out, err, "the checkpoint given")
		out, err = evAuditVerify(t, path, "", "--checkpoint", cpFile)
		evMustFail(t, out, err, "needs the log's verifier key")
		out, err = evAuditVerify(t, path, "", "--checkpoint", filepath.Join(t.TempDir(), "none"), "--key", vkey)
		evMustFail(t, out, err, "--checkpoint")
		out, err = evAuditVerify(t, path, "", "--key", other.VerifierKey, "--checkpoint", cpFile)
		evMustFail(t, out, err, "the checkpoint given")
		out, err = evAuditVerify(t, path, tp.Config.LogKeyFile, "--key", other.VerifierKey)
		evMustFail(t, out, err, "is not the public key of PORTAL_LOG_KEY")
		out, err = evAuditVerify(t, path, "", "--frobnicate", "x")
		evMustFail(t, out, err, "unexpected")
	})
}

// tlogRoots is the tree root at every size from 0 to len(es).
func tlogRoots(t *testing.T, es []evEntry) []tlog.Hash {
	t.Helper()
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	roots := []tlog.Hash{{}}
	for i, e := range es {
		hs, err := tlog.StoredHashesForRecordHash(int64(i), e.hash, reader)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
		r, err := tlog.TreeHash(int64(i+1), reader)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, r)
	}
	return roots
}

func TestAuditVerifyNeverCreatesADatabase(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	out, err := evAuditVerify(t, missing, "")
	evMustFail(t, out, err, "no database at")
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("audit-verify created %s", missing)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = evAuditVerify(t, empty, "")
	evMustFail(t, out, err, "empty or not a database file")
	if st, err := os.Stat(empty); err != nil || st.Size() != 0 {
		t.Fatal("audit-verify wrote to an empty file")
	}
	other := filepath.Join(dir, "other.DB")
	db := evRaw(t, other)
	evExec(t, db, `CREATE TABLE notes (body TEXT)`)
	db.Close()
	out, err = evAuditVerify(t, other, "")
	evMustFail(t, out, err, "not a portal database")
	out, err = evAuditVerify(t, dir, "")
	evMustFail(t, out, err, "not a database file")
}

// evProof is the JSON of /log/proof/inclusion and /log/certificate.
type evProof struct {
	Index      int64    `json:"index"`
	TreeSize   int64    `json:"tree_size"`
	LeafHash   string   `json:"leaf_hash"`
	RootHash   string   `json:"root_hash"`
	Proof      []string `json:"proof"`
	Checkpoint string   `json:"checkpoint"`
	Error      string   `json:"error"`
}

func evHash(t *testing.T, s string) tlog.Hash {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		t.Fatalf("not a hash: %q", s)
	}
	var h tlog.Hash
	copy(h[:], b)
	return h
}

func evHashes(t *testing.T, ss []string) []tlog.Hash {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		out[i] = evHash(t, s)
	}
	return out
}

func evJSON(t *testing.T, r response, v any) {
	t.Helper()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("content type %q", r.Header.Get("Content-Type"))
	}
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
}

// TestEveryCertificateIsProvenInTheLog checks, for every certificate the
// demo holds, what an outside reader can check with nothing but the public
// routes: the record's canonical hash is the entry's, the entry is in the
// signed checkpoint, and /verify says so in words.
func TestEveryCertificateIsProvenInTheLog(t *testing.T) {
	tp := startTestPortal(t)
	mine := evSign(t, tp, "1005")
	_, v := evVerifier(t, tp)
	_, cp := evCheckpoint(t, tp, v)
	// The signer's own certificate, HTML and PDF, prints its entry.
	ownIndex := tp.logIndexOf(t, mine)
	signer := newClient(t, tp.BaseURL)
	signer.signIn(tp.signInLink(t, "1005"))
	mustContain(t, signer.get("/certificates/"+mine).Body, fmt.Sprintf("Entry %d of the portal's public evidence log", ownIndex))
	pdf := signer.get("/certificates/" + mine + "/pdf")
	if pdf.Status != 200 {
		t.Fatalf("PDF: status %d", pdf.Status)
	}
	if text := popplerTool(t, []byte(pdf.Body), "pdftotext", "-layout", "-enc", "UTF-8"); text != "" {
		mustContain(t, text, "Evidence log", fmt.Sprintf("entry %d", ownIndex))
	}
	db := evRaw(t, tp.DB.Path)
	rows, err := db.Query(`SELECT verify_code FROM acknowledgments ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		codes = append(codes, c)
	}
	rows.Close()
	db.Close()
	if len(codes) < 2 {
		t.Fatalf("only %d certificates", len(codes))
	}
	c := newClient(t, tp.BaseURL)
	for _, code := range codes {
		index, a := tp.logIndexOf(t, code), tp.ackByCode(t, code)
		var p evProof
		r := c.get("/log/certificate/" + code)
		if r.Status != 200 {
			t.Fatalf("%s: status %d %s", code, r.Status, r.Body)
		}
		evJSON(t, r, &p)
		if p.Index != index || p.Index < 0 {
			t.Fatalf("%s: entry %d, the log table says %d", code, p.Index, index)
		}
		pc, err := evidence.OpenCheckpoint([]byte(p.Checkpoint), v)
		if err != nil {
			t.Fatalf("%s: the proof's checkpoint: %v", code, err)
		}
		if pc.Size != p.TreeSize || pc.Size < cp.Size || evHash(t, p.RootHash) != pc.Root {
			t.Fatalf("%s: proof for size %d, checkpoint %d", code, p.TreeSize, pc.Size)
		}
		leaf := evidence.AcknowledgmentLeaf(a).Hash()
		if evHash(t, p.LeafHash) != leaf {
			t.Fatalf("%s: the served leaf hash is not the record's canonical hash", code)
		}
		if err := tlog.CheckRecord(evHashes(t, p.Proof), pc.Size, pc.Root, p.Index, leaf); err != nil {
			t.Fatalf("%s: inclusion proof: %v", code, err)
		}
		// The same proof through the generic route.
		var q evProof
		evJSON(t, c.get(fmt.Sprintf("/log/proof/inclusion?index=%d&size=%d", p.Index, pc.Size)), &q)
		if err := tlog.CheckRecord(evHashes(t, q.Proof), pc.Size, pc.Root, q.Index, leaf); err != nil {
			t.Fatalf("%s: /log/proof/inclusion: %v", code, err)
		}
		page := c.get("/verify/" + code)
		want := "Valid"
		if a.Superseded {
			want = "superseded"
		}
		mustContain(t, page.Body, want, fmt.Sprintf("This acknowledgment is entry %d of the portal's public evidence log", a.LogIndex),
			"includes it exactly as it was recorded at signing")
	}
	// The consistency of the first checkpoint with a later one, through the public route.
	evSign(t, tp, "1006")
	_, later := evCheckpoint(t, tp, v)
	var cons struct {
		Proof []string `json:"proof"`
	}
	evJSON(t, c.get(fmt.Sprintf("/log/proof/consistency?from=%d&to=%d", cp.Size, later.Size)), &cons)
	if err := tlog.CheckTree(evHashes(t, cons.Proof), later.Size, later.Root, cp.Size, cp.Root); err != nil {
		t.Fatalf("consistency proof: %v", err)
	}
}

// TestCertificatesHoldTheirSigner checks point 2: the certificate shows
// the signer as at signing, whatever later happens to the rows around it;
// a record changed behind the portal's back is called altered.
func TestCertificatesHoldTheirSigner(t *testing.T) {
	tp := startTestPortal(t)
	code := evSign(t, tp, "1005")
	e := tp.employee(t, "1005")
	_, v := evVerifier(t, tp)
	evCheckpoint(t, tp, v)
	c := newClient(t, tp.BaseURL)
	mustContain(t, c.get("/verify/"+code).Body, "Valid", e.FullName)

	// The operator edits the employee row and clears the assignment's link.
	db := evRaw(t, tp.DB.Path)
	// A plain connection lacks the SQL function that folds the words of
	// names for search (migration 015): a rename there fails until the
	// word index's trigger is dropped.
	if _, err := db.Exec(`UPDATE employees SET full_name = 'Renamed Person' WHERE id = ?`, e.ID); err == nil ||
		!strings.Contains(err.Error(), "portal_search_text") {
		t.Fatalf("a plain connection renamed someone: %v", err)
	}
	evExec(t, db, `DROP TRIGGER name_words_u`)
	evExec(t, db, `UPDATE employees SET full_name = 'Renamed Person', agency = 'Other Agency' WHERE id = ?`, e.ID)
	evExec(t, db, `UPDATE assignments SET ack_id = NULL WHERE employee_id = ?`, e.ID)
	db.Close()
	page := c.get("/verify/" + code).Body
	mustContain(t, page, "Valid", e.FullName)
	if strings.Contains(page, "Renamed Person") || strings.Contains(page, "superseded") {
		t.Fatal("the certificate follows the employee row or the assignment, not its own record")
	}
	// The roster as stored no longer adds up to its logged history.
	tp.commandEnv(t)
	var out bytes.Buffer
	err := server.Run(context.Background(), []string{"audit-verify"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "roster") {
		t.Fatalf("audit-verify did not notice the roster edited behind the log: %v\n%s", err, out.String())
	}

	// The record itself edited behind the triggers: /verify says altered.
	db = evRaw(t, tp.DB.Path)
	evDropTriggers(t, db)
	evExec(t, db, `UPDATE acknowledgments SET full_name = 'Someone Else' WHERE verify_code = ?`, code)
	db.Close()
	page = c.get("/verify/" + code).Body
	mustContain(t, page, "This record does not match the evidence log", "it was changed afterwards", "Do not rely on this certificate")
	if strings.Contains(page, ">Valid") {
		t.Fatal("an altered record is still called valid")
	}
}

// TestLogRoutesRefuseBadInput: each bad request gets a 400 or 404 with a
// JSON message, and nothing more.
func TestLogRoutesRefuseBadInput(t *testing.T) {
	tp := startTestPortal(t)
	_, v := evVerifier(t, tp)
	_, cp := evCheckpoint(t, tp, v)
	c := newClient(t, tp.BaseURL)
	n := cp.Size
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/log/proof/inclusion", 400, "index must be a whole number"},
		{"/log/proof/inclusion?index=x&size=3", 400, "index must be a whole number"},
		{"/log/proof/inclusion?index=1&size=", 400, "size must be a whole number"},
		{"/log/proof/inclusion?index=1e3&size=3", 400, "index must be a whole number"},
		{"/log/proof/inclusion?index=99999999999999999999&size=3", 400, "index must be a whole number"},
		{"/log/proof/inclusion?index=-1&size=3", 400, ""},
		{fmt.Sprintf("/log/proof/inclusion?index=%d&size=%d", n, n), 400, ""},
		{fmt.Sprintf("/log/proof/inclusion?index=0&size=%d", n+1000), 400, ""},
		{"/log/proof/inclusion?index=0&size=0", 400, ""},
		{"/log/proof/consistency?from=a&to=2", 400, "from must be a whole number"},
		{"/log/proof/consistency?from=2", 400, "to must be a whole number"},
		{"/log/proof/consistency?from=3&to=2", 400, ""},
		{"/log/proof/consistency?from=-1&to=2", 400, ""},
		{fmt.Sprintf("/log/proof/consistency?from=1&to=%d", n+1000), 400, ""},
		{"/log/certificate/not-a-code", 404, "No certificate has that code."},
		{"/log/certificate/AAAAA-AAAAA", 404, ""},
		{"/log/certificate/%27%20OR%201=1--", 404, ""},
	} {
		r := c.get(tc.path)
		if r.Status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.path, r.Status, tc.status, r.Body)
			continue
		}
		var body struct {
			Error string `json:"error"`
		}
		evJSON(t, r, &body)
		if body.Error == "" || !strings.Contains(body.Error, tc.want) {
			t.Errorf("%s: error %q, want %q", tc.path, body.Error, tc.want)
		}
		if strings.Contains(strings.ToLower(body.Error), "sql") || strings.Contains(body.Error, "tlog") {
			t.Errorf("%s: internal error text shown: %q", tc.path, body.Error)
		}
	}
	// The routes need no sign-in and set no session.
	for _, p := range []string{"/log/checkpoint", "/log/key", "/log/proof/consistency?from=1&to=2"} {
		r := c.get(p)
		if r.Status != 200 {
			t.Errorf("%s: status %d", p, r.Status)
		}
	}
}

// TestPublishRefusesARewrittenLog: with PORTAL_CHECKPOINT_DIR, every
// checkpoint is also a file; a database cut back and re-signed by someone
// with the key still does not extend those files, and the portal refuses
// to sign or serve it.
func TestPublishRefusesARewrittenLog(t *testing.T) {
	dir := t.TempDir()
	tp := startTestPortal(t, func(c *server.Config) { c.CheckpointDir = dir })
	_, v := evVerifier(t, tp)
	evSign(t, tp, "1005")
	_, cp := evCheckpoint(t, tp, v)
	file := filepath.Join(dir, fmt.Sprintf("checkpoint-%012d", cp.Size))
	var msg []byte
	for try := 0; try < 200; try++ {
		var err error
		if msg, err = os.ReadFile(file); err == nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if _, err := evidence.OpenCheckpoint(msg, v); err != nil {
		t.Fatalf("the checkpoint file %s: %v", file, err)
	}
	if names, _ := filepath.Glob(filepath.Join(dir, ".checkpoint-*")); len(names) != 0 {
		t.Fatalf("half-written checkpoint files left: %v", names)
	}
	e := tp.employee(t, "1005")
	tp.Stop()

	// The operator, with the key, drops the last signature and re-signs.
	key, err := evidence.LoadKeyFile(tp.Config.LogKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	db := evRaw(t, tp.DB.Path)
	evDropTriggers(t, db)
	es := evEntries(t, db)
	ackID := int64(mustAtoi(t, evString(t, tp.DB.Path, `SELECT id FROM acknowledgments WHERE employee_id = ?`, e.ID)))
	i := evIndexOf(es, "acknowledgment", ackID)
	evExec(t, db, `UPDATE assignments SET ack_id = NULL WHERE ack_id = ?`, ackID)
	evExec(t, db, `DELETE FROM acknowledgments WHERE id = ?`, ackID)
	evRewriteLog(t, db, append(es[:i:i], es[i+1:]...), key)
	db.Close()

	secClearEnv(t)
	t.Setenv("PORTAL_DB", tp.DB.Path)
	t.Setenv("PORTAL_LOG_KEY", tp.Config.LogKeyFile)
	t.Setenv("PORTAL_SECRET", testSecret)
	t.Setenv("PORTAL_MAIL", "log")
	t.Setenv("PORT", secFreePort(t))
	t.Setenv("PORTAL_HOST", "127.0.0.1")
	t.Setenv("PORTAL_CHECKPOINT_DIR", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	err = server.Run(ctx, []string{"serve"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "does not extend the last signed checkpoint") {
		t.Fatalf("serve on a rewritten log: %v\n%s", err, out.String())
	}
	if n, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*")); len(n) == 0 {
		t.Fatal("the checkpoint files went")
	}
}

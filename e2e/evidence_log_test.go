package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"portal/app/evidence"
	"portal/server"
)

// Issue 11, point 1: every evidence record is an entry of a signed Merkle
// tree. These tests play the people the log must stand up against: an
// operator with the database file who drops the triggers, edits, inserts,
// removes or cuts records and recomputes every hash, with and without the
// log key; and a reader of /verify who trusts nobody.

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

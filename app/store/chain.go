package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"portal/app"
	"portal/app/evidence"
)

// The legacy evidence chain. Before the evidence log, every evidence row was
// linked into a hash chain (the chain table): each record's hash covered the
// previous hash and the row exactly as the driver returned it. Databases
// made then keep their chain, which is no longer appended to; upgrading
// built the log from it in its order (see upgradeToLog), and VerifyChain
// still checks it.

// genesisHash is the previous hash of the first chain record.
var genesisHash = strings.Repeat("0", 64)

// chainKinds maps each kind of chained record to the query that reads the
// row exactly as stored. A record's canonical form is the JSON array of these
// columns, so any change to any column breaks the record's hash.
var chainKinds = map[string]string{
	"acknowledgment": `SELECT id, employee_id, cycle_id, policy_version_id, policy_sha256, typed_name, consent_id,
		consent_version, consent_sha256, intent_text, comment, signed_at, ip, user_agent, auth_method,
		quiz_attempt_id, certificate_no, verify_code FROM acknowledgments WHERE id = ?`,
	"consent": `SELECT id, employee_id, cycle_id, version, sha256, accepted_at, ip, user_agent FROM consents WHERE id = ?`,
	"quiz_attempt": `SELECT id, employee_id, cycle_id, policy_version_id, answers, wrong, score, total, pass_mark,
		passed, created_at FROM quiz_attempts WHERE id = ?`,
	"audit": `SELECT id, at, actor_id, action, subject_type, subject_id, detail, ip FROM audit_events WHERE id = ?`,
}

// chainLogKinds maps a chain kind to the log's name for it.
var chainLogKinds = map[string]string{
	"acknowledgment": evidence.KindAcknowledgment, "consent": evidence.KindConsent,
	"quiz_attempt": evidence.KindQuizAttempt, "audit": evidence.KindAuditEvent,
}

// canonicalRecord reads the row of the given kind and returns its legacy canonical form.
func canonicalRecord(ctx context.Context, q querier, kind string, id int64) ([]byte, error) {
	query, ok := chainKinds[kind]
	if !ok {
		return nil, fmt.Errorf("unknown chain kind %q", kind)
	}
	rows, err := q.QueryContext(ctx, query, id)
	if err != nil {
		return nil, fmt.Errorf("read %s %d: %w", kind, id, err)
	}
	body, err := canonicalRow(rows)
	if err != nil {
		return nil, fmt.Errorf("read %s %d: %w", kind, id, err)
	}
	return body, nil
}

// canonicalRow returns the legacy canonical form of the one row in rows —
// the JSON array of its columns — and closes rows.
func canonicalRow(rows *sql.Rows) ([]byte, error) {
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, sql.ErrNoRows
	}
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	for i, v := range vals {
		if b, ok := v.([]byte); ok {
			vals[i] = string(b)
		}
	}
	body, err := json.Marshal(vals)
	if err != nil {
		return nil, err
	}
	return body, rows.Close()
}

func chainHash(prev, kind string, canonical []byte) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write([]byte(kind))
	h.Write([]byte{'\n'})
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyChain walks the legacy chain in one read snapshot, recomputing every
// hash from the rows as stored. It returns the number of records checked and
// the first break. Records written since the upgrade are not in it: the
// evidence log covers every record (VerifyLog).
func (s *AuditService) VerifyChain(ctx context.Context) (int, *app.ChainBreak, error) {
	tx, err := s.db.read.BeginTx(ctx, s.db.snapshot())
	if err != nil {
		return 0, nil, fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT seq, kind, ref_id, prev_hash, hash FROM chain ORDER BY seq`)
	if err != nil {
		return 0, nil, fmt.Errorf("read chain: %w", err)
	}
	defer rows.Close()
	type link struct {
		seq        int64
		kind       string
		ref        int64
		prev, hash string
	}
	prev, n := genesisHash, 0
	for rows.Next() {
		var l link
		if err := rows.Scan(&l.seq, &l.kind, &l.ref, &l.prev, &l.hash); err != nil {
			return n, nil, fmt.Errorf("scan chain: %w", err)
		}
		brk := &app.ChainBreak{Seq: l.seq, Kind: l.kind, RefID: l.ref}
		if l.prev != prev {
			brk.Reason = "its previous-hash does not match the record before it (a record was removed or reordered)"
			return n, brk, nil
		}
		canonical, err := canonicalRecord(ctx, tx, l.kind, l.ref)
		if errors.Is(err, sql.ErrNoRows) {
			brk.Reason = "the record it points at is missing"
			return n, brk, nil
		}
		if err != nil {
			return n, nil, err
		}
		if chainHash(l.prev, l.kind, canonical) != l.hash {
			brk.Reason = "the record's content no longer matches its hash (it was altered)"
			return n, brk, nil
		}
		prev = l.hash
		n++
	}
	return n, nil, rows.Err()
}

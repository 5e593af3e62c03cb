package sqlite

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
)

// genesisHash is the previous hash of the first chain record.
var genesisHash = strings.Repeat("0", 64)

// chainKinds maps each kind of chained record to the query that reads the
// row exactly as stored. A record's canonical form is the JSON array of these
// columns, so any change to any column breaks the record's hash.
var chainKinds = map[string]string{
	"acknowledgment": `SELECT ` + ackChainColumns + ` FROM acknowledgments WHERE id = ?`,
	"consent":        `SELECT id, employee_id, cycle_id, version, sha256, accepted_at, ip, user_agent FROM consents WHERE id = ?`,
	"quiz_attempt": `SELECT id, employee_id, cycle_id, policy_version_id, answers, wrong, score, total, pass_mark,
		passed, created_at FROM quiz_attempts WHERE id = ?`,
	"audit": `SELECT id, at, actor_id, action, subject_type, subject_id, detail, ip FROM audit_events WHERE id = ?`,
}

// ackChainColumns are an acknowledgment's columns in its canonical form; the
// insert returns them (RETURNING gives the row as stored) so that signing
// need not read the row again.
const ackChainColumns = `id, employee_id, cycle_id, policy_version_id, policy_sha256, typed_name, consent_id,
	consent_version, consent_sha256, intent_text, comment, signed_at, ip, user_agent, auth_method,
	quiz_attempt_id, certificate_no, verify_code`

// chainTables names the table behind each kind, to find rows outside the chain.
var chainTables = map[string]string{
	"acknowledgment": "acknowledgments", "consent": "consents", "quiz_attempt": "quiz_attempts", "audit": "audit_events",
}

// canonicalRecord reads the row of the given kind and returns its canonical form.
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

// canonicalRow returns the canonical form of the one row in rows — the JSON
// array of its columns — and closes rows.
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

// appendChain links the just-written row of kind/id to the end of the chain,
// inside the caller's transaction. The single writer connection and BEGIN
// IMMEDIATE make the read of the last hash and the insert atomic.
func appendChain(ctx context.Context, tx *sql.Tx, kind string, id int64) (seq int64, prev, hash string, err error) {
	canonical, err := canonicalRecord(ctx, tx, kind, id)
	if err != nil {
		return 0, "", "", err
	}
	return linkChain(ctx, tx, kind, id, canonical)
}

// linkChain appends the record of kind/id, whose canonical form the caller
// has read as stored, to the end of the chain.
func linkChain(ctx context.Context, tx *sql.Tx, kind string, id int64, canonical []byte) (seq int64, prev, hash string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT hash FROM chain ORDER BY seq DESC LIMIT 1`).Scan(&prev)
	if errors.Is(err, sql.ErrNoRows) {
		prev, err = genesisHash, nil
	}
	if err != nil {
		return 0, "", "", fmt.Errorf("read chain head: %w", err)
	}
	hash = chainHash(prev, kind, canonical)
	res, err := tx.ExecContext(ctx, `INSERT INTO chain (kind, ref_id, prev_hash, hash) VALUES (?, ?, ?, ?)`, kind, id, prev, hash)
	if err != nil {
		return 0, "", "", fmt.Errorf("append to chain: %w", err)
	}
	seq, err = res.LastInsertId()
	return seq, prev, hash, err
}

// appendAudit writes an audit event and links it into the chain.
func appendAudit(ctx context.Context, tx *sql.Tx, e *app.AuditEvent) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO audit_events (at, actor_id, action, subject_type, subject_id, detail, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, formatTime(e.At), e.ActorID, e.Action, e.SubjectType, e.SubjectID, e.Detail, e.IP)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	_, _, _, err = appendChain(ctx, tx, "audit", e.ID)
	return err
}

// AuditService implements app.AuditService.
type AuditService struct{ db *DB }

// NewAuditService returns the audit log and chain verifier.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db} }

// RecordEvent writes e in its own transaction.
func (s *AuditService) RecordEvent(ctx context.Context, e *app.AuditEvent) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if e.At.IsZero() {
		e.At = s.db.Now().UTC()
	}
	if err := appendAudit(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit()
}

const eventSelect = `SELECT v.id, v.at, v.actor_id, v.action, v.subject_type, v.subject_id, v.detail, v.ip,
	COALESCE(e.full_name, '') FROM audit_events v LEFT JOIN employees e ON e.id = v.actor_id`

// FindEvents returns the events about one subject, newest first.
func (s *AuditService) FindEvents(ctx context.Context, subjectType string, subjectID int64) ([]*app.AuditEvent, error) {
	return s.events(ctx, ` WHERE v.subject_type = ? AND v.subject_id = ? ORDER BY v.id DESC`, subjectType, subjectID)
}

// ListEvents returns a page of all events, newest first, and the total.
func (s *AuditService) ListEvents(ctx context.Context, offset, limit int) ([]*app.AuditEvent, int, error) {
	var total int
	if err := s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit events: %w", err)
	}
	out, err := s.events(ctx, ` ORDER BY v.id DESC LIMIT ? OFFSET ?`, limit, offset)
	return out, total, err
}

func (s *AuditService) events(ctx context.Context, tail string, args ...any) ([]*app.AuditEvent, error) {
	rows, err := s.db.read.QueryContext(ctx, eventSelect+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("find audit events: %w", err)
	}
	defer rows.Close()
	var out []*app.AuditEvent
	for rows.Next() {
		var e app.AuditEvent
		var at string
		var actor sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &actor, &e.Action, &e.SubjectType, &e.SubjectID, &e.Detail, &e.IP, &e.ActorName); err != nil {
			return nil, fmt.Errorf("scan audit event: %w", err)
		}
		e.At = parseTime(at)
		if actor.Valid {
			e.ActorID = &actor.Int64
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}

// VerifyChain walks the chain in one read snapshot, recomputing every hash
// from the rows as stored, then checks that no evidence row sits outside it.
func (s *AuditService) VerifyChain(ctx context.Context) (int, *app.ChainBreak, error) {
	tx, err := s.db.read.BeginTx(ctx, nil)
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
	if err := rows.Err(); err != nil {
		return n, nil, err
	}
	for _, kind := range []string{"acknowledgment", "consent", "quiz_attempt", "audit"} {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT t.id FROM `+chainTables[kind]+` t
			LEFT JOIN chain c ON c.kind = ? AND c.ref_id = t.id WHERE c.seq IS NULL ORDER BY t.id LIMIT 1`, kind).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return n, nil, fmt.Errorf("check %s rows: %w", kind, err)
		}
		return n, &app.ChainBreak{Kind: kind, RefID: id, Reason: "the record is not in the chain (it was inserted outside the portal)"}, nil
	}
	return n, nil, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"portal/app"
	"portal/app/evidence"
)

// appendAudit writes an audit event and appends it to the evidence log,
// inside the caller's transaction.
func (db *DB) appendAudit(ctx context.Context, tx *sql.Tx, e *app.AuditEvent) error {
	e.At = e.At.UTC().Truncate(time.Microsecond) // as stored
	res, err := tx.ExecContext(ctx, `INSERT INTO audit_events (at, actor_id, action, subject_type, subject_id, detail, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, formatTime(e.At), e.ActorID, e.Action, e.SubjectType, e.SubjectID, e.Detail, e.IP)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	_, err = db.appendLeaf(ctx, tx, evidence.AuditEventLeaf(e))
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
	if err := s.db.appendAudit(ctx, tx, e); err != nil {
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

// VerifyEvidence checks the legacy chain, then the whole evidence log with
// the key's seals and every stored checkpoint.
func (s *AuditService) VerifyEvidence(ctx context.Context) (*app.EvidenceCheck, error) {
	n, brk, err := s.VerifyChain(ctx)
	if err != nil {
		return nil, err
	}
	out := &app.EvidenceCheck{Legacy: n}
	if brk != nil {
		out.Problem = fmt.Sprintf("the chain kept from before the evidence log is broken at %s %d (chain record %d): %s", brk.Kind, brk.RefID, brk.Seq, brk.Reason)
		return out, nil
	}
	rep, err := s.db.VerifyLog(ctx, evidence.VerifyOptions{Key: s.db.key})
	if err != nil {
		return nil, err
	}
	out.Entries = rep.Entries
	if rep.Problem != nil {
		out.Problem = rep.Problem.Error()
	}
	return out, nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"portal/app"
	"portal/app/evidence"
)

// appendAudit writes an audit event and appends it to the evidence log,
// inside the caller's transaction.
func (db *DB) appendAudit(ctx context.Context, tx *sql.Tx, e *app.AuditEvent) error {
	e.At = e.At.UTC().Truncate(time.Microsecond) // as stored
	res, err := insert(ctx, tx, `INSERT INTO audit_events (at, actor_id, action, subject_type, subject_id, detail, ip)
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

// FindEvents returns the newest events about one subject and their number.
func (s *AuditService) FindEvents(ctx context.Context, subjectType string, subjectID int64, limit int) ([]*app.AuditEvent, int, error) {
	var total int
	if err := s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE subject_type = ? AND subject_id = ?`,
		subjectType, subjectID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit events: %w", err)
	}
	out, err := s.events(ctx, ` WHERE v.subject_type = ? AND v.subject_id = ? ORDER BY v.at DESC, v.id DESC LIMIT ?`, subjectType, subjectID, limit)
	return out, total, err
}

// ListEvents returns a page of all events, newest first, and the total.
func (s *AuditService) ListEvents(ctx context.Context, offset, limit int) ([]*app.AuditEvent, int, error) {
	var total int
	if err := s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit events: %w", err)
	}
	out, err := s.events(ctx, ` ORDER BY v.at DESC, v.id DESC LIMIT ? OFFSET ?`, limit, offset)
	return out, total, err
}

func (s *AuditService) events(ctx context.Context, tail string, args ...any) ([]*app.AuditEvent, error) {
	rows, err := s.db.read.QueryContext(ctx, auditEventSelect+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("find audit events: %w", err)
	}
	defer rows.Close()
	var out []*app.AuditEvent
	for rows.Next() {
		e, err := scanAuditEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
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

const checkSelect = `SELECT c.id, c.requested_at, c.requested_by, COALESCE(e.full_name, ''), c.started_at, c.finished_at,
	c.entries, c.legacy, c.problem, c.failed FROM evidence_checks c LEFT JOIN employees e ON e.id = c.requested_by`

func scanCheck(row *sql.Row) (*app.EvidenceCheck, error) {
	var c app.EvidenceCheck
	var requested string
	var by sql.NullInt64
	var started, finished sql.NullString
	err := row.Scan(&c.ID, &requested, &by, &c.RequesterName, &started, &finished, &c.Entries, &c.Legacy, &c.Problem, &c.Failed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find evidence check: %w", err)
	}
	c.RequestedAt = parseTime(requested)
	if by.Valid {
		c.RequestedBy = &by.Int64
	}
	if started.Valid {
		t := parseTime(started.String)
		c.StartedAt = &t
	}
	if finished.Valid {
		t := parseTime(finished.String)
		c.FinishedAt = &t
	}
	return &c, nil
}

// pendingCheck is the check queued, or running and not stale, if any.
func (s *AuditService) pendingCheck(ctx context.Context, q querier) (*app.EvidenceCheck, error) {
	return scanCheck(q.QueryRowContext(ctx, checkSelect+` WHERE c.finished_at IS NULL
		AND (c.started_at IS NULL OR c.started_at > ?) ORDER BY c.id LIMIT 1`, formatTime(s.db.Now().Add(-app.CheckStale))))
}

// RequestCheck queues a check unless one is queued or running.
func (s *AuditService) RequestCheck(ctx context.Context, requestedBy *int64) (*app.EvidenceCheck, bool, error) {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	if c, err := s.pendingCheck(ctx, tx); c != nil || err != nil {
		return c, false, err
	}
	now := s.db.Now().UTC().Truncate(time.Microsecond)
	res, err := insert(ctx, tx, `INSERT INTO evidence_checks (requested_at, requested_by) VALUES (?, ?)`, formatTime(now), requestedBy)
	if err != nil {
		return nil, false, fmt.Errorf("queue evidence check: %w", err)
	}
	c := &app.EvidenceCheck{RequestedAt: now, RequestedBy: requestedBy}
	if c.ID, err = res.LastInsertId(); err != nil {
		return nil, false, err
	}
	return c, true, tx.Commit()
}

// EvidenceChecks returns the newest finished check and the pending one,
// read in one snapshot: a check finishing between two separate reads would
// be in neither, and the page would show no check at all.
func (s *AuditService) EvidenceChecks(ctx context.Context) (done, pending *app.EvidenceCheck, err error) {
	tx, err := s.db.read.BeginTx(ctx, s.db.snapshot())
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	if done, err = scanCheck(tx.QueryRowContext(ctx, checkSelect+` WHERE c.finished_at IS NOT NULL
		ORDER BY c.finished_at DESC, c.id DESC LIMIT 1`)); err != nil {
		return nil, nil, err
	}
	pending, err = s.pendingCheck(ctx, tx)
	return done, pending, err
}

// RunQueuedChecks claims each queued check in turn, runs it and keeps its
// result. A check that fails to run (the database closing, say) is kept
// with the reason, so the page never shows it running for ever.
func (s *AuditService) RunQueuedChecks(ctx context.Context) (int, error) {
	n := 0
	for {
		id, err := s.claimCheck(ctx)
		if err != nil || id == 0 {
			return n, err
		}
		res, verr := s.VerifyEvidence(ctx)
		if verr != nil {
			// Not a finding about the evidence: the check itself stopped.
			res = &app.EvidenceCheck{Failed: "the check stopped before the end"}
			if ctx.Err() != nil {
				res.Failed = "the portal was stopping"
			}
		}
		// The result is written even when ctx is done: a check cut off by a
		// shutdown says so rather than staying "running".
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_, err = s.db.execWrite(wctx, `UPDATE evidence_checks SET finished_at = ?, entries = ?, legacy = ?, problem = ?,
			failed = ? WHERE id = ?`, formatTime(s.db.Now()), res.Entries, res.Legacy, res.Problem, res.Failed, id)
		cancel()
		if err != nil {
			return n, fmt.Errorf("keep evidence check: %w", err)
		}
		if verr != nil {
			return n + 1, verr
		}
		n++
	}
}

// claimCheck marks the oldest queued check started and returns its id, or 0.
func (s *AuditService) claimCheck(ctx context.Context) (int64, error) {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, `UPDATE evidence_checks SET started_at = ?
		WHERE id = (SELECT id FROM evidence_checks WHERE started_at IS NULL ORDER BY id LIMIT 1) RETURNING id`,
		formatTime(s.db.Now())).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("claim evidence check: %w", err)
	}
	return id, tx.Commit()
}

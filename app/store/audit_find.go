package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"portal/app"
)

// The audit log's list and export. Events are shown newest first by their
// time (an event's time is the moment of what it records, which is not
// always the order it was written: a roster import is dated when its file
// was read), then by the order written. Migration 016 gives the order and
// each filter an index that ends in the time, so that a page of the newest
// events of a million reads a page of index entries, whatever the filter.

// auditEventSelect names the actor and the subject of each event.
const auditEventSelect = `SELECT v.id, v.at, v.actor_id, v.action, v.subject_type, v.subject_id, v.detail, v.ip,
	COALESCE(a.full_name, ''),
	COALESCE(CASE v.subject_type
		WHEN 'employee' THEN (SELECT s.full_name FROM employees s WHERE s.id = v.subject_id)
		WHEN 'cycle' THEN (SELECT c.name FROM cycles c WHERE c.id = v.subject_id)
		WHEN 'policy_version' THEN (SELECT p.code FROM policy_versions p WHERE p.id = v.subject_id)
		WHEN 'social_account' THEN (SELECT sa.agency || ' ' || sa.platform || ' ' || sa.handle FROM social_accounts sa WHERE sa.id = v.subject_id)
		WHEN 'terms' THEN (SELECT t.agency || ' Terms of Comment version ' || t.version FROM terms_of_comment t WHERE t.id = v.subject_id)
		WHEN 'api_token' THEN (SELECT 'API token “' || t.name || '”' FROM api_tokens t WHERE t.id = v.subject_id)
	END, ''),
	COALESCE(CASE v.subject_type WHEN 'employee' THEN (SELECT s.employee_number FROM employees s WHERE s.id = v.subject_id) END, '')
	FROM audit_events v LEFT JOIN employees a ON a.id = v.actor_id`

// auditWhere turns f into SQL conditions on v (audit_events). It reads the
// people an actor or person filter names first: a short list of ids that
// the query then finds through the actor and subject indexes.
func (s *AuditService) auditWhere(ctx context.Context, f app.AuditFilter) (string, []any, error) {
	conds, args := []string{"1 = 1"}, []any{}
	if f.Action != "" {
		conds, args = append(conds, "v.action = ?"), append(args, f.Action)
	}
	if f.Actor != "" {
		ids, err := s.matchPeople(ctx, "actor", f.Actor)
		if err != nil {
			return "", nil, err
		}
		conds, args = append(conds, "v.actor_id IN ("+placeholders(len(ids))+")"), append(args, ids...)
	}
	if f.Person != "" {
		ids, err := s.matchPeople(ctx, "person", f.Person)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, "v.subject_type = 'employee' AND v.subject_id IN ("+placeholders(len(ids))+")")
		args = append(args, ids...)
	}
	if !f.Since.IsZero() {
		conds, args = append(conds, "v.at >= ?"), append(args, formatTime(f.Since))
	}
	if !f.Before.IsZero() {
		conds, args = append(conds, "v.at < ?"), append(args, formatTime(f.Before))
	}
	if len(f.Scope) > 0 {
		// Events about people, accounts and Terms of Comment of the
		// viewer's agencies, and the viewer's own.
		in := ` IN (` + placeholders(len(f.Scope)) + `)`
		conds = append(conds, `(v.subject_type = 'employee' AND v.subject_id IN (SELECT id FROM employees WHERE agency`+in+`)
			OR v.subject_type = 'social_account' AND v.subject_id IN (SELECT id FROM social_accounts WHERE agency`+in+`)
			OR v.subject_type = 'terms' AND v.subject_id IN (SELECT id FROM terms_of_comment WHERE agency`+in+`)
			OR v.actor_id = ?)`)
		scope := anySlice(f.Scope)
		args = append(append(append(append(args, scope...), scope...), scope...), f.ViewerID)
	}
	return strings.Join(conds, " AND "), args, nil
}

// matchPeople finds the people a filter names: by employee number or
// e-mail address exactly, or by name as the people list searches.
func (s *AuditService) matchPeople(ctx context.Context, field, q string) ([]any, error) {
	// The people list's search, through its indexes: the ids are looked up
	// by rowid, never a scan of the roster.
	rare, err := rarestWord(ctx, s.db.read, q)
	if err != nil {
		return nil, err
	}
	cond, cargs := searchCond("p", q, rare)
	// #nosec G202 -- cond is searchCond's constant SQL; every value is a bound parameter
	rows, err := s.db.read.QueryContext(ctx, `SELECT p.employee_id FROM (SELECT id AS employee_id FROM employees) p
		WHERE `+cond+` LIMIT ?`, append(cargs, app.MaxPeopleMatched+1)...)
	if err != nil {
		return nil, fmt.Errorf("find people for the audit log: %w", err)
	}
	defer rows.Close()
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan person: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) > app.MaxPeopleMatched {
		return nil, app.Invalid(field, "More than %d people match “%s”. Type more of the name, or the employee number.", app.MaxPeopleMatched, q)
	}
	return ids, nil
}

// FindAuditEvents returns a page of the events f selects and their number.
func (s *AuditService) FindAuditEvents(ctx context.Context, f app.AuditFilter) ([]*app.AuditEvent, int, error) {
	where, args, err := s.auditWhere(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	var total int
	// #nosec G202 -- where is built from constant fragments; every value is a bound parameter
	if err := s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM audit_events v WHERE `+where+` LIMIT ?) n`,
		append(args, app.AuditCountLimit+1)...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit events: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	out, err := s.events(ctx, auditPage(where), append(args, limit, f.Offset)...)
	return out, total, err
}

// auditPage picks a page of events by where (then LIMIT and OFFSET) and
// names them. The page is chosen first on the events alone, so that only
// its rows are named, whatever sort a filter needs (an HR user's agencies
// gather events through two indexes and sort them).
func auditPage(where string) string {
	return ` WHERE v.id IN (SELECT v.id FROM audit_events v WHERE ` + where + ` ORDER BY v.at DESC, v.id DESC LIMIT ? OFFSET ?)
		ORDER BY v.at DESC, v.id DESC`
}

// auditBatch is how many events an export reads in one query.
const auditBatch = 500

// EachAuditEvent calls fn with every event f selects, newest first, in
// batches: each batch starts after the last event of the one before (by
// time, then id), so no query holds the database for long and none reads
// rows it skips.
func (s *AuditService) EachAuditEvent(ctx context.Context, f app.AuditFilter, fn func(*app.AuditEvent) error) error {
	where, args, err := s.auditWhere(ctx, f)
	if err != nil {
		return err
	}
	var last *app.AuditEvent
	for {
		cond, targs := where, append([]any{}, args...)
		if last != nil {
			cond += ` AND (v.at < ? OR (v.at = ? AND v.id < ?))`
			at := formatTime(last.At)
			targs = append(targs, at, at, last.ID)
		}
		batch, err := s.events(ctx, auditPage(cond), append(targs, auditBatch, 0)...)
		if err != nil {
			return err
		}
		for _, e := range batch {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(batch) < auditBatch {
			return nil
		}
		last = batch[len(batch)-1]
	}
}

// scanAuditEvent reads one row of auditEventSelect.
func scanAuditEvent(rows *sql.Rows) (*app.AuditEvent, error) {
	var e app.AuditEvent
	var at string
	var actor sql.NullInt64
	if err := rows.Scan(&e.ID, &at, &actor, &e.Action, &e.SubjectType, &e.SubjectID, &e.Detail, &e.IP, &e.ActorName,
		&e.SubjectName, &e.SubjectNumber); err != nil {
		return nil, fmt.Errorf("scan audit event: %w", err)
	}
	e.At = parseTime(at)
	if actor.Valid {
		e.ActorID = &actor.Int64
	}
	return &e, nil
}

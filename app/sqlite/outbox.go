package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"portal/app"
)

// Outbox implements app.Outbox: messages wait here until the mail worker
// delivers them, so none is lost if the mail server is down.
type Outbox struct{ db *DB }

// NewOutbox returns the persistent outbox.
func NewOutbox(db *DB) *Outbox { return &Outbox{db: db} }

// Enqueue stores m unless a message with its dedupe key already exists.
func (o *Outbox) Enqueue(ctx context.Context, m *app.Message) (bool, error) {
	now := formatTime(o.db.Now())
	if m.Kind == "" {
		m.Kind = app.MailSignIn
	}
	if m.Kind == app.MailSignIn && (m.Text != "" || m.HTML != "") {
		return false, fmt.Errorf("a sign-in message is queued with its link sealed, never in clear")
	}
	res, err := o.db.execWrite(ctx, `INSERT INTO outbox (dedupe_key, kind, employee_id, cycle_id, about_id, to_addr,
		to_name, subject, text_body, html_body, sealed, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dedupe_key) DO NOTHING`,
		m.DedupeKey, m.Kind, m.EmployeeID, m.CycleID, m.AboutID, m.ToAddr, m.ToName, m.Subject, m.Text, m.HTML, m.Sealed, now, now)
	if err != nil {
		return false, fmt.Errorf("enqueue message: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

const messageColumns = `id, dedupe_key, kind, employee_id, cycle_id, about_id, to_addr, to_name, subject, text_body,
	html_body, sealed, status, attempts, created_at, sent_at`

func scanMessage(row interface{ Scan(...any) error }) (*app.Message, error) {
	var m app.Message
	var created string
	var sent sql.NullString
	var emp, cyc, about sql.NullInt64
	if err := row.Scan(&m.ID, &m.DedupeKey, &m.Kind, &emp, &cyc, &about, &m.ToAddr, &m.ToName, &m.Subject, &m.Text, &m.HTML,
		&m.Sealed, &m.Status, &m.Attempts, &created, &sent); err != nil {
		return nil, err
	}
	if emp.Valid {
		m.EmployeeID = &emp.Int64
	}
	if cyc.Valid {
		m.CycleID = &cyc.Int64
	}
	if about.Valid {
		m.AboutID = &about.Int64
	}
	m.CreatedAt = parseTime(created)
	if sent.Valid {
		t := parseTime(sent.String)
		m.SentAt = &t
	}
	return &m, nil
}

// FindMessages returns the newest messages, for the development mailbox.
func (o *Outbox) FindMessages(ctx context.Context, limit int) ([]*app.Message, error) {
	return o.find(ctx, `ORDER BY id DESC LIMIT ?`, limit)
}

// FindMessagesTo returns the newest messages to one address.
func (o *Outbox) FindMessagesTo(ctx context.Context, addr string, limit int) ([]*app.Message, error) {
	return o.find(ctx, `WHERE to_addr = ? COLLATE NOCASE ORDER BY id DESC LIMIT ?`, addr, limit)
}

func (o *Outbox) find(ctx context.Context, tail string, args ...any) ([]*app.Message, error) {
	rows, err := o.db.read.QueryContext(ctx, `SELECT `+messageColumns+` FROM outbox `+tail, args...) // #nosec G202 -- constant SQL fragments; every value is a bound parameter
	if err != nil {
		return nil, fmt.Errorf("find messages: %w", err)
	}
	defer rows.Close()
	var out []*app.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("scan message: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// The outbox's writes go through the group committer: while many people
// sign, the worker's claims and delivery records share their commits
// instead of queueing for the writer one commit each.

// ClaimDue locks up to limit messages that are due for delivery and returns them.
func (o *Outbox) ClaimDue(ctx context.Context, limit int) ([]*app.Message, error) {
	var out []*app.Message
	err := o.db.group.do(ctx, func(tx *sql.Tx) error {
		out = nil
		now := formatTime(o.db.Now())
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET locked_at = ? WHERE id IN (
				SELECT id FROM outbox WHERE status = 'queued' AND locked_at IS NULL AND next_attempt_at <= ?
				ORDER BY next_attempt_at, id LIMIT ?)
			RETURNING `+messageColumns, now, now, limit)
		if err != nil {
			return fmt.Errorf("claim messages: %w", err)
		}
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				_ = rows.Close() // the scan error is the one to report
				return fmt.Errorf("scan message: %w", err)
			}
			out = append(out, m)
		}
		return rows.Close()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MarkSent records a delivered message with what was sent — except a
// sign-in message, whose text holds the link: it keeps its subject only,
// and its sealed link is dropped.
func (o *Outbox) MarkSent(ctx context.Context, m *app.Message) error {
	text, html := m.Text, m.HTML
	if m.Kind == app.MailSignIn {
		text, html = "", ""
	}
	return o.db.group.do(ctx, func(tx *sql.Tx) error {
		now := formatTime(o.db.Now())
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'sent', sent_at = ?, locked_at = NULL, attempts = attempts + 1,
			subject = ?, text_body = ?, html_body = ?, sealed = NULL WHERE id = ?`, now, m.Subject, text, html, m.ID)
		if err != nil {
			return fmt.Errorf("mark message sent: %w", err)
		}
		return nil
	})
}

// MarkFailed records a failed attempt: the message is retried after backoff,
// or, when permanent is true, given up and its address marked unreachable.
func (o *Outbox) MarkFailed(ctx context.Context, id int64, reason string, backoff time.Duration, permanent bool) error {
	if len(reason) > 500 {
		reason = reason[:500]
	}
	status := "queued"
	if permanent {
		status = "failed"
	}
	return o.db.group.do(ctx, func(tx *sql.Tx) error {
		next := formatTime(o.db.Now().Add(backoff))
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?,
			locked_at = NULL, last_error = ? WHERE id = ?`, status, next, reason, id); err != nil {
			return fmt.Errorf("mark message failed: %w", err)
		}
		if permanent {
			if _, err := tx.ExecContext(ctx, `INSERT INTO unreachable (email, at, reason) SELECT to_addr, ?, ? FROM outbox WHERE id = ?
				ON CONFLICT (email) DO UPDATE SET at = excluded.at, reason = excluded.reason`, formatTime(o.db.Now()), reason, id); err != nil {
				return fmt.Errorf("mark address unreachable: %w", err)
			}
		}
		return nil
	})
}

// MarkSkipped records a message that is no longer needed (its person signed meanwhile).
func (o *Outbox) MarkSkipped(ctx context.Context, id int64, reason string) error {
	return o.db.group.do(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'skipped', locked_at = NULL, last_error = ? WHERE id = ?`, reason, id); err != nil {
			return fmt.Errorf("mark message skipped: %w", err)
		}
		return nil
	})
}

// ReleaseLocks clears claims left by a worker that stopped mid-delivery.
func (o *Outbox) ReleaseLocks(ctx context.Context) error {
	if _, err := o.db.execWrite(ctx, `UPDATE outbox SET locked_at = NULL WHERE locked_at IS NOT NULL AND status = 'queued'`); err != nil {
		return fmt.Errorf("release outbox locks: %w", err)
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
	return o.find(ctx, `WHERE lower(to_addr) = lower(?) ORDER BY id DESC LIMIT ?`, addr, limit)
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

// MailFault returns the mail server's refusal of the portal while it lasts.
func (o *Outbox) MailFault(ctx context.Context) (*app.MailFault, error) {
	var f app.MailFault
	var since, last string
	err := o.db.read.QueryRowContext(ctx, `SELECT since, last_at, stage, reply FROM mail_fault WHERE id = 1`).
		Scan(&since, &last, &f.Stage, &f.Reply)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Mail is going out.")
	}
	if err != nil {
		return nil, fmt.Errorf("find mail fault: %w", err)
	}
	f.Since, f.Last = parseTime(since), parseTime(last)
	return &f, nil
}

// Unreachable returns when and why the mail server refused addr.
func (o *Outbox) Unreachable(ctx context.Context, addr string) (*app.UnreachableAddress, error) {
	var u app.UnreachableAddress
	var at string
	err := o.db.read.QueryRowContext(ctx, `SELECT email, at, reason FROM unreachable WHERE email = ?`, addr).Scan(&u.Email, &at, &u.Reason)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "The address is not marked unreachable.")
	}
	if err != nil {
		return nil, fmt.Errorf("find unreachable address: %w", err)
	}
	u.At = parseTime(at)
	return &u, nil
}

// RetryAddress clears addr's unreachable mark, so that reminders are queued
// to it again, and records e with it.
func (o *Outbox) RetryAddress(ctx context.Context, addr string, e *app.AuditEvent) error {
	tx, err := o.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM unreachable WHERE email = ?`, addr)
	if err != nil {
		return fmt.Errorf("clear unreachable address: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return err
		}
		return app.Errorf(app.ENOTFOUND, "The address is not marked unreachable.")
	}
	if e.At.IsZero() {
		e.At = o.db.Now().UTC()
	}
	if err := o.db.appendAudit(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit()
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"portal/app"
)

// The mail worker's side of the outbox: claims, which are leases, and what
// became of each message.
//
// A claim is a lease: the claiming worker's id and an end on the wall clock.
// A live worker renews its leases while it delivers; a worker that dies
// stops renewing, its leases end, and the next claim by any worker puts its
// messages back in the queue. No start releases a live worker's messages.
//
// The writes go through the group committer: while many people sign, the
// worker's claims and delivery records share their commits instead of
// queueing for the writer one commit each.

// laneQueues selects each lane's queued, unclaimed messages. The sign-in
// lane names its partial index: without statistics SQLite would walk the
// main due index, past every reminder due, to find the few sign-in links.
var laneQueues = map[string]string{
	app.LaneSignIn: `outbox INDEXED BY outbox_signin_due WHERE status = 'queued' AND locked_at IS NULL AND kind = 'signin'`,
	app.LaneOther:  `outbox WHERE status = 'queued' AND locked_at IS NULL AND kind <> 'signin'`,
}

// ClaimDue frees the leases that have ended, then leases up to c.Limit due
// messages of c.Lane to c.Owner and returns them.
func (o *Outbox) ClaimDue(ctx context.Context, c app.Claim) ([]*app.Message, error) {
	queue, ok := laneQueues[c.Lane]
	if !ok {
		return nil, fmt.Errorf("claim messages: unknown lane %q", c.Lane)
	}
	var out []*app.Message
	err := o.db.group.do(ctx, func(tx *sql.Tx) error {
		out = nil
		if _, err := releaseExpired(ctx, tx, c.Now); err != nil {
			return err
		}
		now := formatTime(o.db.Now())
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET locked_at = ?, lease_owner = ?, lease_until = ? WHERE id IN (
				SELECT id FROM `+queue+` AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`+o.db.skipLocked()+`)
			RETURNING `+messageColumns, now, c.Owner, formatTime(c.Until), now, c.Limit) // #nosec G202 -- queue is one of two constant clauses; every value is a bound parameter
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

func releaseExpired(ctx context.Context, tx *sql.Tx, now time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE outbox SET locked_at = NULL, lease_owner = NULL, lease_until = NULL
		WHERE locked_at IS NOT NULL AND lease_until < ? AND status = 'queued'`, formatTime(now))
	if err != nil {
		return 0, fmt.Errorf("release expired leases: %w", err)
	}
	return res.RowsAffected()
}

// RenewLeases extends every lease owner holds to until: the worker's
// heartbeat while it delivers.
func (o *Outbox) RenewLeases(ctx context.Context, owner string, until time.Time) error {
	return o.db.group.do(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET lease_until = ? WHERE locked_at IS NOT NULL AND lease_owner = ?
			AND status = 'queued'`, formatTime(until), owner); err != nil {
			return fmt.Errorf("renew leases: %w", err)
		}
		return nil
	})
}

// ReleaseExpired puts back in the queue the messages whose lease ended
// before now (their worker stopped mid-delivery) and says how many. A live
// worker's messages stay with it.
func (o *Outbox) ReleaseExpired(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := o.db.group.do(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = releaseExpired(ctx, tx, now)
		return err
	})
	return int(n), err
}

// ReleaseOwned puts back in the queue every message owner still holds: a
// worker stopping hands its unfinished claims over at once.
func (o *Outbox) ReleaseOwned(ctx context.Context, owner string) error {
	return o.db.group.do(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET locked_at = NULL, lease_owner = NULL, lease_until = NULL
			WHERE locked_at IS NOT NULL AND lease_owner = ? AND status = 'queued'`, owner); err != nil {
			return fmt.Errorf("release leases: %w", err)
		}
		return nil
	})
}

// ReleaseMessage puts one claimed message back in the queue as it was, its
// attempts uncounted: it was not tried, or the server refused the portal
// rather than it.
func (o *Outbox) ReleaseMessage(ctx context.Context, id int64, reason string) error {
	return o.db.group.do(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET locked_at = NULL, lease_owner = NULL, lease_until = NULL,
			last_error = ? WHERE id = ? AND status = 'queued'`, truncate(reason), id); err != nil {
			return fmt.Errorf("release message: %w", err)
		}
		return nil
	})
}

// MarkSent records a delivered message with what was sent — except a
// sign-in message, whose text holds the link: it keeps its subject only,
// and its sealed link is dropped. The server took mail for the address, so
// it is no longer unreachable.
func (o *Outbox) MarkSent(ctx context.Context, m *app.Message) error {
	text, html := m.Text, m.HTML
	if m.Kind == app.MailSignIn {
		text, html = "", ""
	}
	return o.db.group.do(ctx, func(tx *sql.Tx) error {
		now := formatTime(o.db.Now())
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'sent', sent_at = ?, locked_at = NULL, lease_owner = NULL,
			lease_until = NULL, attempts = attempts + 1, subject = ?, text_body = ?, html_body = ?, sealed = NULL WHERE id = ?`,
			now, m.Subject, text, html, m.ID)
		if err != nil {
			return fmt.Errorf("mark message sent: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM unreachable WHERE email = (SELECT to_addr FROM outbox WHERE id = ?) COLLATE NOCASE`, m.ID); err != nil {
			return fmt.Errorf("clear unreachable address: %w", err)
		}
		return nil
	})
}

// MarkFailed records a failed attempt: the message is retried after
// backoff, or, when permanent is true, given up (its address is left alone).
func (o *Outbox) MarkFailed(ctx context.Context, id int64, reason string, backoff time.Duration, permanent bool) error {
	status := "queued"
	if permanent {
		status = "failed"
	}
	return o.db.group.do(ctx, func(tx *sql.Tx) error {
		return markFailed(ctx, tx, id, status, formatTime(o.db.Now().Add(backoff)), reason)
	})
}

func markFailed(ctx context.Context, tx *sql.Tx, id int64, status, next, reason string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?,
		locked_at = NULL, lease_owner = NULL, lease_until = NULL, last_error = ? WHERE id = ?`, status, next, truncate(reason), id); err != nil {
		return fmt.Errorf("mark message failed: %w", err)
	}
	return nil
}

// MarkUnreachable gives a message up because the server refused its
// recipient (a 5xx to RCPT TO), and marks the address unreachable: no more
// reminders are queued to it until a delivery gets through or HR tries it
// again.
func (o *Outbox) MarkUnreachable(ctx context.Context, id int64, reason string) error {
	return o.db.group.do(ctx, func(tx *sql.Tx) error {
		now := formatTime(o.db.Now())
		if err := markFailed(ctx, tx, id, "failed", now, reason); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO unreachable (email, at, reason) SELECT to_addr, ?, ? FROM outbox WHERE id = ?
			ON CONFLICT (email) DO UPDATE SET at = excluded.at, reason = excluded.reason`, now, truncate(reason), id); err != nil {
			return fmt.Errorf("mark address unreachable: %w", err)
		}
		return nil
	})
}

// MarkSkipped records a message that is no longer needed (its person signed meanwhile).
func (o *Outbox) MarkSkipped(ctx context.Context, id int64, reason string) error {
	return o.db.group.do(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'skipped', locked_at = NULL, lease_owner = NULL,
			lease_until = NULL, last_error = ? WHERE id = ?`, truncate(reason), id); err != nil {
			return fmt.Errorf("mark message skipped: %w", err)
		}
		return nil
	})
}

// SetFault records that the mail server refuses the portal: when it began
// (kept from the first refusal) and its latest answer.
func (o *Outbox) SetFault(ctx context.Context, stage, reply string) error {
	return o.db.group.do(ctx, func(tx *sql.Tx) error {
		now := formatTime(o.db.Now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_fault (id, since, last_at, stage, reply) VALUES (1, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET last_at = excluded.last_at, stage = excluded.stage, reply = excluded.reply`,
			now, now, stage, truncate(reply)); err != nil {
			return fmt.Errorf("record mail fault: %w", err)
		}
		return nil
	})
}

// ClearFault records that the mail server takes mail again; it says
// whether a fault was on record.
func (o *Outbox) ClearFault(ctx context.Context) (bool, error) {
	var n int64
	err := o.db.group.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM mail_fault`)
		if err != nil {
			return fmt.Errorf("clear mail fault: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// truncate keeps stored reasons and answers short.
func truncate(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// queueInvitations queues, in the import's transaction, the invitation of
// each of the people (ids) who has something to sign in an open cycle: the
// people a roster import adds or reactivates, so that a new hire hears of
// the cycle as soon as HR applies the file rather than at the next hourly
// reminder pass. The rows are the ones the reminder pass writes (the
// same dedupe key, kind and selection, pendingFrom in remind.go), so the
// pass finds them queued and never sends a second invitation. It returns
// how many it queued.
func queueInvitations(ctx context.Context, tx *sql.Tx, at time.Time, today string, ids []any) (int, error) {
	stamp := formatTime(at)
	args := append([]any{stamp, stamp, today, today}, ids...)
	// #nosec G202 -- constant SQL fragments; every value is a bound parameter
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (dedupe_key, kind, employee_id, cycle_id, about_id, to_addr, to_name,
		subject, text_body, html_body, next_attempt_at, created_at)
		SELECT 'invitation:' || p.cycle_id || ':' || p.employee_id, 'invitation', p.employee_id, p.cycle_id, NULL,
			p.email, p.full_name, '', '', '', ?, ? `+pendingFrom+`
		WHERE p.employee_id IN (`+placeholders(len(ids))+`)
		ON CONFLICT (dedupe_key) DO NOTHING`, args...)
	if err != nil {
		return 0, fmt.Errorf("queue invitations: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("queue invitations: %w", err)
	}
	return int(n), nil
}

package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"portal/app"
)

// ReminderService implements app.ReminderService in a few INSERT … SELECT
// statements: a pass over 100,000 people is one transaction, and the
// outbox's unique dedupe key makes two passes at once harmless.
type ReminderService struct{ db *DB }

// NewReminderService returns the reminder scheduler.
func NewReminderService(db *DB) *ReminderService { return &ReminderService{db: db} }

// pendingFrom selects the people still to sign in open cycles, with d the
// days until their due date (negative when overdue). Addresses that bounce
// get nothing more, and exempt people nothing at all.
const pendingFrom = `FROM (SELECT a.cycle_id, a.employee_id, e.email, e.full_name, e.manager_id,
		CAST(julianday(a.due_on) - julianday(?) AS INTEGER) AS d
	FROM assignments a
	JOIN cycles c ON c.id = a.cycle_id AND c.open = 1 AND c.opens_on <= ?
	JOIN employees e ON e.id = a.employee_id AND e.active = 1
	WHERE a.active = 1 AND a.signed_at IS NULL AND a.exempt = 0
		AND NOT EXISTS (SELECT 1 FROM unreachable u WHERE u.email = e.email)) p`

// stepExpr names the reminder step due for d days left, or NULL.
func stepExpr(s app.Schedule) string {
	before := slices.Clone(s.Before)
	slices.Sort(before)
	var b strings.Builder
	b.WriteString("CASE WHEN p.d = 0 THEN 'due-0'")
	if s.OverdueEvery > 0 {
		fmt.Fprintf(&b, " WHEN p.d <= -%d THEN 'overdue-' || ((-p.d) / %d)", s.OverdueEvery, s.OverdueEvery)
	}
	for _, n := range before { // smallest first: the nearest threshold wins
		if n > 0 {
			fmt.Fprintf(&b, " WHEN p.d > 0 AND p.d <= %d THEN 'due-%d'", n, n)
		}
	}
	b.WriteString(" END")
	return b.String()
}

// RunPass queues invitations, reminders, escalations and weekly digests due
// at now (dates in loc). In a dry run it counts them and changes nothing.
func (s *ReminderService) RunPass(ctx context.Context, now time.Time, loc *time.Location, sched app.Schedule, dryRun bool) (*app.PassSummary, error) {
	local := now.In(loc)
	today := app.Today(now, loc)
	dayStart := formatTime(time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc))
	year, week := local.ISOWeek()
	weekKey := fmt.Sprintf("%d-W%02d", year, week)
	stamp := formatTime(now)
	// The agency-use acknowledgment's assignments follow authorizations,
	// which start and end by date: bring them up to date before reminding
	// (not in a dry run, which changes nothing).
	if !dryRun {
		if err := (&KindService{db: s.db}).SyncAllAuthorizationKinds(ctx); err != nil {
			return nil, err
		}
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	sum := &app.PassSummary{}
	run := func(dst *int, query string, args ...any) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("reminder pass: %w", err)
		}
		n, err := res.RowsAffected()
		*dst = int(n)
		return err
	}
	insert := `INSERT INTO outbox (dedupe_key, kind, employee_id, cycle_id, about_id, to_addr, to_name, subject, text_body,
		html_body, next_attempt_at, created_at) `
	tail := ` ON CONFLICT (dedupe_key) DO NOTHING`
	// Invitations: everyone still to sign has had one (a new cycle, a new hire).
	if err := run(&sum.Invitations, insert+`SELECT 'invitation:' || p.cycle_id || ':' || p.employee_id, 'invitation',
		p.employee_id, p.cycle_id, NULL, p.email, p.full_name, '', '', '', ?, ? `+pendingFrom+` WHERE 1 = 1`+tail,
		stamp, stamp, today, today); err != nil {
		return nil, err
	}
	// Reminders: the step due today, once the invitation is at least a day old.
	if err := run(&sum.Reminders, insert+`SELECT 'reminder:' || q.cycle_id || ':' || q.employee_id || ':' || q.step, 'reminder',
		q.employee_id, q.cycle_id, NULL, q.email, q.full_name, q.step, '', '', ?, ?
		FROM (SELECT p.*, `+stepExpr(sched)+` AS step `+pendingFrom+`) q
		WHERE q.step IS NOT NULL AND EXISTS (SELECT 1 FROM outbox o
			WHERE o.dedupe_key = 'invitation:' || q.cycle_id || ':' || q.employee_id AND o.created_at < ?)`+tail,
		stamp, stamp, today, today, dayStart); err != nil {
		return nil, err
	}
	// Escalation: the manager hears once that someone is this far overdue,
	// and only about someone who has had their invitation for a day: people
	// added to a cycle already overdue (a roster import) get the chance to
	// sign before their manager is told they have not.
	if sched.EscalateAfter > 0 {
		if err := run(&sum.Escalations, insert+`SELECT 'escalation:' || p.cycle_id || ':' || p.employee_id, 'escalation',
			m.id, p.cycle_id, p.employee_id, m.email, m.full_name, '', '', '', ?, ? `+pendingFrom+`
			JOIN employees m ON m.id = p.manager_id AND m.active = 1
			WHERE p.d <= ? AND NOT EXISTS (SELECT 1 FROM unreachable u WHERE u.email = m.email)
				AND EXISTS (SELECT 1 FROM outbox o
					WHERE o.dedupe_key = 'invitation:' || p.cycle_id || ':' || p.employee_id AND o.created_at < ?)`+tail,
			stamp, stamp, today, today, -sched.EscalateAfter, dayStart); err != nil {
			return nil, err
		}
	}
	// Weekly digest: each manager with overdue people directly under them.
	if err := run(&sum.Digests, insert+`SELECT 'digest:' || m.id || ':' || ?, 'digest', m.id, MIN(p.cycle_id), NULL,
		m.email, m.full_name, '', '', '', ?, ? `+pendingFrom+`
		JOIN employees m ON m.id = p.manager_id AND m.active = 1
		WHERE p.d < 0 AND NOT EXISTS (SELECT 1 FROM unreachable u WHERE u.email = m.email)
		GROUP BY m.id`+tail, weekKey, stamp, stamp, today, today); err != nil {
		return nil, err
	}
	// Accounts past their review date: the agency's supervisor hears once
	// for each review date (a new date after the review, a new mail).
	if err := run(&sum.AccountReviews, insert+`SELECT 'account-review:' || a.id || ':' || a.review_on, 'account_review',
		e.id, NULL, a.id, e.email, e.full_name, a.review_on, '', '', ?, ?
		FROM social_accounts a JOIN agency_supervisors s ON s.agency = a.agency
		JOIN employees e ON e.id = s.employee_id AND e.active = 1
		WHERE a.status <> 'closed' AND a.review_on < ?
			AND NOT EXISTS (SELECT 1 FROM unreachable u WHERE u.email = e.email)`+tail, stamp, stamp, today); err != nil {
		return nil, err
	}
	// Poster authorizations ending within two weeks: the poster and the
	// supervisor hear once.
	if sum.AuthorizationsEnding, err = endingReminders(ctx, tx, today, now); err != nil {
		return nil, err
	}
	if dryRun {
		return sum, nil // the deferred rollback undoes everything
	}
	return sum, tx.Commit()
}

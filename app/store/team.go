package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"portal/app"
)

// TeamService implements app.TeamService: the team page's progress column
// and the reminders a manager asks for.
type TeamService struct{ db *DB }

// NewTeamService returns the team page's store.
func NewTeamService(db *DB) *TeamService { return &TeamService{db: db} }

// peopleOrder is the ORDER BY of a people list for f.Sort (app.ParseSort;
// an unknown sort is the default). Every order ends with the employee, so
// that pages never overlap. The status rank follows app.Statuses: signed,
// (signed on paper, exempt,) in progress, not started, overdue.
func peopleOrder(f app.PeopleFilter) (string, []any) {
	key, desc, ok := app.ParseSort(f.Sort)
	if !ok {
		key, desc = app.SortDue, false
	}
	dir := ""
	if desc {
		dir = " DESC"
	}
	switch key {
	case app.SortName:
		return ` ORDER BY lower(e.full_name)` + dir + `, a.employee_id` + dir, nil
	case app.SortStatus:
		return ` ORDER BY CASE WHEN a.signed_at IS NOT NULL AND a.paper = 0 THEN 0 WHEN a.signed_at IS NOT NULL THEN 1 WHEN a.exempt <> 0 THEN 2 WHEN a.due_on < ? THEN 5 WHEN a.started = 1 THEN 3 ELSE 4 END` + dir +
			`, a.due_on, lower(e.full_name), a.employee_id`, []any{f.Today}
	}
	// Due date, then employee: the order of the assignments index, so a page
	// of 13,000 overdue people needs no sort.
	return ` ORDER BY a.due_on` + dir + `, a.employee_id` + dir, nil
}

// treeCTE selects everyone under a manager, directly or indirectly, as tree(id).
const treeCTE = `WITH RECURSIVE tree(id) AS (
	SELECT id FROM employees WHERE manager_id = ?
	UNION SELECT x.id FROM employees x JOIN tree t ON x.manager_id = t.id) `

// Progress reads sections read, the knowledge check passed and the last
// reminder of each of people in one query.
func (s *TeamService) Progress(ctx context.Context, cycleID, versionID int64, people []int64) (map[int64]*app.MemberProgress, error) {
	out := map[int64]*app.MemberProgress{}
	if len(people) == 0 {
		return out, nil
	}
	today := s.db.Today()
	args := []any{today, today, cycleID, cycleID, versionID, cycleID}
	for _, id := range people {
		args = append(args, id)
	}
	// #nosec G202 -- constant SQL and placeholders; every value is a bound parameter
	rows, err := s.db.read.QueryContext(ctx, `SELECT e.id, e.roles,
		EXISTS (SELECT 1 FROM poster_authorizations pa WHERE pa.employee_id = e.id AND e.active = 1 AND pa.agency = e.agency
			AND pa.starts_on <= ? AND `+activeAuthorization+`),
		COALESCE((SELECT string_agg(m.slug, '`+"\n"+`') FROM module_progress m WHERE m.employee_id = e.id AND m.cycle_id = ?), ''),
		EXISTS (SELECT 1 FROM quiz_attempts q WHERE q.employee_id = e.id AND q.cycle_id = ? AND q.passed = 1 AND q.policy_version_id = ?),
		(SELECT MAX(o.created_at) FROM outbox o WHERE o.employee_id = e.id AND o.cycle_id = ? AND o.kind = 'reminder')
		FROM employees e WHERE e.id IN (`+placeholders(len(people))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("team progress: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p := &app.MemberProgress{Read: map[string]bool{}}
		var roles, read string
		var last sql.NullString
		var authorized bool
		if err := rows.Scan(&p.EmployeeID, &roles, &authorized, &read, &p.Passed, &last); err != nil {
			return nil, fmt.Errorf("scan team progress: %w", err)
		}
		if authorized { // a poster by an authorization in force: the sections for posters too
			roles += ";" + string(app.RolePoster)
		}
		for _, r := range strings.Split(roles, ";") {
			if r = strings.TrimSpace(r); r != "" {
				p.Roles = append(p.Roles, app.Role(r))
			}
		}
		for _, slug := range strings.Split(read, "\n") {
			if slug != "" {
				p.Read[slug] = true
			}
		}
		if last.Valid {
			t := parseTime(last.String)
			p.LastReminder = &t
		}
		out[p.EmployeeID] = p
	}
	return out, rows.Err()
}

// Departments lists the departments of the people under the manager in the
// cycle, in one walk of the tree (the filter's choices).
func (s *TeamService) Departments(ctx context.Context, cycleID, managerID int64) ([]string, error) {
	rows, err := s.db.read.QueryContext(ctx, treeCTE+`SELECT DISTINCT a.department FROM assignments a
		WHERE a.cycle_id = ? AND a.active = 1 AND a.employee_id IN (SELECT id FROM tree) ORDER BY a.department`, managerID, cycleID)
	if err != nil {
		return nil, fmt.Errorf("team departments: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("scan team department: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// sentBy counts the reminders the manager asked for since the day began.
func sentBy(ctx context.Context, q querier, r app.TeamReminder) (int, error) {
	var n int
	// Through outbox_manager_reminders (migration 018): the partial index's
	// condition is repeated so that SQLite may use it.
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE about_id = ? AND kind = 'reminder' AND about_id IS NOT NULL AND created_at >= ?`,
		r.ManagerID, formatTime(r.DayStart)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count reminders sent: %w", err)
	}
	return n, nil
}

// Quota says how many reminders the manager asked for today and may still.
func (s *TeamService) Quota(ctx context.Context, r app.TeamReminder) (app.ReminderQuota, error) {
	n, err := sentBy(ctx, s.db.read, r)
	return app.ReminderQuota{Sent: n, Left: max(app.ManagerRemindersPerDay-n, 0)}, err
}

// remindable selects, as p, the people of the manager's tree a reminder
// may go to: still to sign in the cycle, active, reachable (pendingFrom,
// the reminder pass's own rule) and not reminded since the day began.
// Its arguments: manager, today, today, cycle, day start.
const remindable = treeCTE + `SELECT p.employee_id, p.email, p.full_name, p.d ` + pendingFrom + `
	WHERE p.employee_id IN (SELECT id FROM tree) AND p.cycle_id = ?
	AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.employee_id = p.employee_id AND o.cycle_id = p.cycle_id
		AND o.kind = 'reminder' AND o.created_at >= ?)`

type remindee struct {
	id          int64
	email, name string
}

func (s *TeamService) remindees(ctx context.Context, q querier, r app.TeamReminder, extra string, args ...any) ([]remindee, error) {
	rows, err := q.QueryContext(ctx, remindable+extra+` ORDER BY p.employee_id`,
		append([]any{r.ManagerID, r.Today, r.Today, r.CycleID, formatTime(r.DayStart)}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("find people to remind: %w", err)
	}
	defer rows.Close()
	var out []remindee
	for rows.Next() {
		var p remindee
		var d int
		if err := rows.Scan(&p.id, &p.email, &p.name, &d); err != nil {
			return nil, fmt.Errorf("scan people to remind: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// OverdueToRemind counts the overdue people a reminder would go to now.
func (s *TeamService) OverdueToRemind(ctx context.Context, r app.TeamReminder) (int, error) {
	people, err := s.remindees(ctx, s.db.read, r, ` AND p.d < 0`)
	return len(people), err
}

// queue puts one manager's reminder in the outbox and its audit event in
// the evidence chain. The dedupe key holds the day, so that even two
// requests at once queue one message.
func (s *TeamService) queue(ctx context.Context, tx *sql.Tx, r app.TeamReminder, p remindee, why string) error {
	stamp := formatTime(r.Now)
	key := fmt.Sprintf("manager-reminder:%d:%d:%s", r.CycleID, p.id, r.Today)
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (dedupe_key, kind, employee_id, cycle_id, about_id, to_addr, to_name,
		subject, text_body, html_body, next_attempt_at, created_at) VALUES (?, 'reminder', ?, ?, ?, ?, ?, '', '', '', ?, ?)
		ON CONFLICT (dedupe_key) DO NOTHING`, key, p.id, r.CycleID, r.ManagerID, p.email, p.name, stamp, stamp)
	if err != nil {
		return fmt.Errorf("queue reminder: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(err, app.Errorf(app.ECONFLICT, "%s has already been reminded today.", p.name))
	}
	return s.db.appendAudit(ctx, tx, &app.AuditEvent{At: r.Now, ActorID: &r.ManagerID, Action: "team.reminder_sent",
		SubjectType: "employee", SubjectID: p.id, IP: r.IP, Detail: "reminder to " + p.email + " asked for by their manager" + why})
}

// RemindOne queues a reminder to one person of the manager's tree.
func (s *TeamService) RemindOne(ctx context.Context, r app.TeamReminder, employeeID int64) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var name string
	var signed, last sql.NullString
	var unreachable bool
	err = tx.QueryRowContext(ctx, treeCTE+`SELECT e.full_name, a.signed_at,
		EXISTS (SELECT 1 FROM unreachable u WHERE u.email = e.email),
		(SELECT MAX(o.created_at) FROM outbox o WHERE o.employee_id = e.id AND o.cycle_id = a.cycle_id AND o.kind = 'reminder')
		FROM employees e JOIN assignments a ON a.employee_id = e.id AND a.cycle_id = ?
		WHERE e.id = ? AND e.id IN (SELECT id FROM tree)`, r.ManagerID, r.CycleID, employeeID).Scan(&name, &signed, &unreachable, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return app.Errorf(app.ENOTFOUND, "Person not found.")
	}
	if err != nil {
		return fmt.Errorf("find team member: %w", err)
	}
	people, err := s.remindees(ctx, tx, r, ` AND p.employee_id = ?`, employeeID)
	if err != nil {
		return err
	}
	if len(people) == 0 {
		switch {
		case signed.Valid:
			return app.Errorf(app.ECONFLICT, "%s has already signed: no reminder is needed.", name)
		case unreachable:
			return app.Errorf(app.ECONFLICT, "Mail to %s cannot be delivered, so no reminder was sent. HR can check the address.", name)
		case last.Valid && !parseTime(last.String).Before(r.DayStart):
			return app.Errorf(app.ECONFLICT, "%s was already reminded today, at %s. One reminder a day is the limit; try again tomorrow.",
				name, parseTime(last.String).In(r.DayStart.Location()).Format("3:04 PM"))
		}
		return app.Errorf(app.ECONFLICT, "%s has nothing to sign in this cycle (exempt, or no longer on the roster), so no reminder was sent.", name)
	}
	sent, err := sentBy(ctx, tx, r)
	if err != nil {
		return err
	}
	if sent >= app.ManagerRemindersPerDay {
		return app.Errorf(app.ETOOMANY, "You have sent %d reminders today, the most a manager may send in a day. Try again tomorrow; the scheduled reminders still go out.", sent)
	}
	if err := s.queue(ctx, tx, r, people[0], ""); err != nil {
		return err
	}
	return tx.Commit()
}

// RemindOverdue queues a reminder to every overdue person of the tree who
// would get one, all or none.
func (s *TeamService) RemindOverdue(ctx context.Context, r app.TeamReminder) (int, error) {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	people, err := s.remindees(ctx, tx, r, ` AND p.d < 0`)
	if err != nil || len(people) == 0 {
		return 0, err
	}
	sent, err := sentBy(ctx, tx, r)
	if err != nil {
		return 0, err
	}
	if left := app.ManagerRemindersPerDay - sent; len(people) > left {
		return 0, app.Errorf(app.ETOOMANY, "Reminding everyone overdue would send %d reminders, and you may send %d more today (at most %d a day). Nothing was sent. Remind people one at a time, or try again tomorrow; the scheduled reminders still go out.",
			len(people), max(left, 0), app.ManagerRemindersPerDay)
	}
	for _, p := range people {
		if err := s.queue(ctx, tx, r, p, " (everyone overdue)"); err != nil {
			return 0, err
		}
	}
	return len(people), tx.Commit()
}

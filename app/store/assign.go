package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"portal/app"
)

// dueExpr computes an employee's due date in a cycle: new hires (hired
// after the cycle opened) get new_hire_days after hiring, never earlier than
// the cycle's own due date. This is the one place the rule lives; the store
// contract (app/storetest, NewHiresAreDueLater) checks it.
func (db *DB) dueExpr() string {
	hired := db.addDays(`e.hire_date`, `c.new_hire_days`)
	return `CASE WHEN e.hire_date > c.opens_on AND ` + hired + ` > c.due_on THEN ` + hired + ` ELSE c.due_on END`
}

// dueOrExtendedExpr is dueExpr, or the date HR extended it to if later
// (migration 013's due_extensions, which only ever move a date later): a
// roster change recomputing the due date must not undo an extension.
func (db *DB) dueOrExtendedExpr() string {
	return db.greatest(db.dueExpr(), `COALESCE((SELECT MAX(x.new_due_on) FROM due_extensions x
	WHERE x.employee_id = e.id AND x.cycle_id = c.id), '')`)
}

// syncAssignments makes the assignments of open cycles HR opened (kinds
// with assign 'cycle': everyone on the roster owes them) match the roster
// for the employees selected by where (an SQL condition on e), inserting missing
// rows and updating those whose agency, department, due date or activity
// changed. Rows that already match are not touched, so the counting triggers
// fire only for real changes.
func (db *DB) syncAssignments(ctx context.Context, tx *sql.Tx, cycleCond, where string, args ...any) error {
	// #nosec G202 -- constant SQL fragments; every value is a bound parameter
	_, err := tx.ExecContext(ctx, `INSERT INTO assignments (cycle_id, employee_id, agency, department, due_on, active)
		SELECT c.id, e.id, e.agency, e.department, `+db.dueOrExtendedExpr()+`, e.active
		FROM cycles c JOIN employees e ON `+where+`
		WHERE c.open = 1 AND `+cycleCond+`
			AND c.kind IN (SELECT code FROM acknowledgment_kinds WHERE assign = 'cycle') AND (e.active = 1 OR EXISTS (
			SELECT 1 FROM assignments x WHERE x.cycle_id = c.id AND x.employee_id = e.id))
		ON CONFLICT (cycle_id, employee_id) DO UPDATE SET agency = excluded.agency, department = excluded.department,
			due_on = excluded.due_on, active = excluded.active
		WHERE assignments.agency IS DISTINCT FROM excluded.agency OR assignments.department IS DISTINCT FROM excluded.department
			OR assignments.due_on IS DISTINCT FROM excluded.due_on OR assignments.active IS DISTINCT FROM excluded.active`, args...)
	if err != nil {
		return fmt.Errorf("sync assignments: %w", err)
	}
	return nil
}

// markStarted records that the employee has begun the cycle's work.
func markStarted(ctx context.Context, tx *sql.Tx, employeeID, cycleID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE assignments SET started = 1 WHERE cycle_id = ? AND employee_id = ? AND started = 0`, cycleID, employeeID)
	if err != nil {
		return fmt.Errorf("mark started: %w", err)
	}
	return nil
}

// FindAssignment returns the employee's assignment in a cycle.
func (s *AckService) FindAssignment(ctx context.Context, cycleID, employeeID int64) (*app.Assignment, error) {
	rows, err := scanAssignments(ctx, s.db.read, `cycle_id = ? AND employee_id = ?`, cycleID, employeeID)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, app.Errorf(app.ENOTFOUND, "You have nothing to sign in this cycle.")
	}
	return rows[0], nil
}

func scanAssignments(ctx context.Context, q querier, where string, args ...any) ([]*app.Assignment, error) {
	rows, err := q.QueryContext(ctx, `SELECT cycle_id, employee_id, due_on, active, started, signed_at, ack_id, exempt, paper
		FROM assignments WHERE `+where+` ORDER BY cycle_id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("find assignments: %w", err)
	}
	defer rows.Close()
	var out []*app.Assignment
	for rows.Next() {
		var a app.Assignment
		var signed sql.NullString
		var ack sql.NullInt64
		if err := rows.Scan(&a.CycleID, &a.EmployeeID, &a.DueOn, &a.Active, &a.Started, &signed, &ack, &a.Exempt, &a.Paper); err != nil {
			return nil, fmt.Errorf("scan assignment: %w", err)
		}
		if signed.Valid {
			t := parseTime(signed.String)
			a.SignedAt = &t
		}
		if ack.Valid {
			a.AckID = &ack.Int64
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// placeholders returns "?, ?, …" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Progress reads everything a page needs about one person's cycle in one query.
func (s *AckService) Progress(ctx context.Context, cycleID, employeeID, versionID int64) (*app.ProgressData, error) {
	var p app.ProgressData
	var a app.Assignment
	var signed, read, qCreated, cAccepted sql.NullString
	var ack, qID, qScore, qTotal, qMark, cID sql.NullInt64
	var cVersion, cSHA sql.NullString
	err := s.db.read.QueryRowContext(ctx, `SELECT a.due_on, a.active, a.started, a.signed_at, a.ack_id, a.exempt, a.paper,
		(SELECT string_agg(m.slug || ' ' || m.read_at, '`+"\n"+`') FROM module_progress m WHERE m.employee_id = a.employee_id AND m.cycle_id = a.cycle_id),
		(SELECT COUNT(*) FROM quiz_attempts x WHERE x.employee_id = a.employee_id AND x.cycle_id = a.cycle_id),
		q.id, q.score, q.total, q.pass_mark, q.created_at, c.id, c.version, c.sha256, c.accepted_at
		FROM assignments a
		LEFT JOIN quiz_attempts q ON q.id = (SELECT max(id) FROM quiz_attempts
			WHERE employee_id = ? AND cycle_id = ? AND passed = 1 AND policy_version_id = ?)
		LEFT JOIN consents c ON c.id = (SELECT max(id) FROM consents WHERE employee_id = ? AND cycle_id = ?)
		WHERE a.cycle_id = ? AND a.employee_id = ?`,
		employeeID, cycleID, versionID, employeeID, cycleID, cycleID, employeeID).Scan(
		&a.DueOn, &a.Active, &a.Started, &signed, &ack, &a.Exempt, &a.Paper, &read, &p.Attempts,
		&qID, &qScore, &qTotal, &qMark, &qCreated, &cID, &cVersion, &cSHA, &cAccepted)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "You have nothing to sign in this cycle.")
	}
	if err != nil {
		return nil, fmt.Errorf("read progress: %w", err)
	}
	a.CycleID, a.EmployeeID = cycleID, employeeID
	if signed.Valid {
		t := parseTime(signed.String)
		a.SignedAt = &t
	}
	if ack.Valid {
		a.AckID = &ack.Int64
	}
	p.Assignment = &a
	p.Read = map[string]time.Time{}
	if read.Valid {
		for _, line := range strings.Split(read.String, "\n") {
			if slug, at, ok := strings.Cut(line, " "); ok {
				p.Read[slug] = parseTime(at)
			}
		}
	}
	if qID.Valid {
		p.Passed = &app.QuizAttempt{ID: qID.Int64, EmployeeID: employeeID, CycleID: cycleID, PolicyVersionID: versionID,
			Score: int(qScore.Int64), Total: int(qTotal.Int64), PassMark: int(qMark.Int64), Passed: true, CreatedAt: parseTime(qCreated.String)}
	}
	if cID.Valid {
		p.Consent = &app.ConsentRecord{ID: cID.Int64, EmployeeID: employeeID, CycleID: cycleID, Version: cVersion.String,
			SHA256: cSHA.String, AcceptedAt: parseTime(cAccepted.String)}
	}
	return &p, nil
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"portal/app"
)

// DashboardService implements app.DashboardService. Completion figures come
// from the completion and pending tables that triggers keep in step with the
// assignments, so they cost a few hundred rows whatever the roster's size.
type DashboardService struct{ db *DB }

// NewDashboardService returns the HR dashboard queries.
func NewDashboardService(db *DB) *DashboardService { return &DashboardService{db: db} }

func scopeCond(col string, scope []string) (string, []any) {
	if len(scope) == 0 {
		return "1 = 1", nil
	}
	return col + " IN (" + placeholders(len(scope)) + ")", anySlice(scope)
}

// Completion returns per-agency rows (agency == "") or the departments of one
// agency, and the total over them.
func (s *DashboardService) Completion(ctx context.Context, cycleID int64, scope []string, agency, today string) ([]app.Completion, app.Completion, error) {
	group, where, args := "agency", "cycle_id = ?", []any{cycleID}
	if agency != "" {
		group, where, args = "department", where+" AND agency = ?", append(args, agency)
	}
	sc, sargs := scopeCond("agency", scope)
	where, args = where+" AND "+sc, append(args, sargs...)
	rows, err := s.sums(ctx, group, where, args, today)
	if err != nil {
		return nil, app.Completion{}, err
	}
	out := make([]app.Completion, 0, len(rows))
	total := app.Completion{Agency: agency}
	for _, r := range rows {
		c := r.c
		if agency == "" {
			c.Agency = r.key
		} else {
			c.Agency, c.Department = agency, r.key
		}
		out = append(out, c)
		total.Total += c.Total
		total.Signed += c.Signed
		total.Paper += c.Paper
		total.Exempt += c.Exempt
		total.InProgress += c.InProgress
		total.NotStarted += c.NotStarted
		total.Overdue += c.Overdue
	}
	return out, total, nil
}

type keyedCompletion struct {
	key string
	c   app.Completion
}

// sums reads the completion and pending tables grouped by group ("agency",
// "department" or "”" for one row) under where, and works out each status's
// figure (see migration 013): in progress is the started people less the
// overdue ones among them, not started is whoever is left.
func (s *DashboardService) sums(ctx context.Context, group, where string, args []any, today string) ([]keyedCompletion, error) {
	// One group for all is no GROUP BY at all: PostgreSQL refuses to group
	// or order by a constant. (Without a GROUP BY, HAVING keeps the one row
	// of sums only if there were rows, as grouping does.)
	groupBy, orderBy, pendingGroup := ` GROUP BY `+group, ` ORDER BY `+group, ` GROUP BY `+group
	if group == "''" {
		groupBy, orderBy, pendingGroup = "", "", ` HAVING COUNT(*) > 0`
	}
	// #nosec G202 -- constant SQL fragments; every value is a bound parameter
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+group+`, SUM(total), SUM(signed), SUM(paper), SUM(exempt), SUM(started)
		FROM completion WHERE `+where+groupBy+` HAVING SUM(total) > 0`+orderBy, args...)
	if err != nil {
		return nil, fmt.Errorf("completion: %w", err)
	}
	defer rows.Close()
	var out []keyedCompletion
	started := map[string]int{}
	index := map[string]int{}
	for rows.Next() {
		var r keyedCompletion
		var n int
		if err := rows.Scan(&r.key, &r.c.Total, &r.c.Signed, &r.c.Paper, &r.c.Exempt, &n); err != nil {
			return nil, fmt.Errorf("scan completion: %w", err)
		}
		started[r.key] = n
		index[r.key] = len(out)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	prow, err := s.db.read.QueryContext(ctx, `SELECT `+group+`, SUM(n), SUM(started) FROM pending WHERE `+where+` AND due_on < ?`+pendingGroup, // #nosec G202 -- constant SQL fragments; every value is a bound parameter
		append(append([]any{}, args...), today)...)
	if err != nil {
		return nil, fmt.Errorf("overdue counts: %w", err)
	}
	defer prow.Close()
	overdueStarted := map[string]int{}
	for prow.Next() {
		var key string
		var n, st int
		if err := prow.Scan(&key, &n, &st); err != nil {
			return nil, fmt.Errorf("scan overdue: %w", err)
		}
		if i, ok := index[key]; ok {
			out[i].c.Overdue = n
			overdueStarted[key] = st
		}
	}
	if err := prow.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		c := &out[i].c
		c.InProgress = started[out[i].key] - overdueStarted[out[i].key]
		c.NotStarted = c.Total - c.Signed - c.Paper - c.Exempt - c.InProgress - c.Overdue
	}
	return out, nil
}

// statusDone selects everyone who signed, in the portal or on paper (the
// certificates). It is a filter of the store's own, not a status.
const statusDone = "done"

// peopleWhere builds the WHERE clause of the people list and exports, with
// the assignment as "a".
func peopleWhere(f app.PeopleFilter, rare string) (string, []any) { return peopleWhereAs(f, "a", rare) }

// peopleWhereAs is peopleWhere with the assignment under another alias.
func peopleWhereAs(f app.PeopleFilter, a, rare string) (string, []any) {
	where, args := []string{a + ".cycle_id = ?", a + ".active = 1"}, []any{f.CycleID}
	if sc, sargs := scopeCond(a+".agency", f.Scope); len(sargs) > 0 {
		where, args = append(where, sc), append(args, sargs...)
	}
	if f.Agency != "" {
		where, args = append(where, a+".agency = ?"), append(args, f.Agency)
	}
	if f.Department != "" {
		where, args = append(where, a+".department = ?"), append(args, f.Department)
	}
	// The order of Assignment.Status, in SQL: each status leaves out the
	// ones before it.
	switch f.Status {
	case statusDone:
		where = append(where, a+".signed_at IS NOT NULL")
	case app.StatusPaper:
		where = append(where, a+".signed_at IS NOT NULL AND "+a+".paper <> 0")
	case app.StatusSigned:
		where = append(where, a+".signed_at IS NOT NULL AND "+a+".paper = 0")
	case app.StatusExempt:
		where = append(where, a+".signed_at IS NULL AND "+a+".exempt <> 0")
	case app.StatusOverdue:
		where, args = append(where, a+".signed_at IS NULL AND "+a+".exempt = 0 AND "+a+".due_on < ?"), append(args, f.Today)
	case app.StatusInProgress:
		where, args = append(where, a+".signed_at IS NULL AND "+a+".exempt = 0 AND "+a+".due_on >= ? AND "+a+".started = 1"), append(args, f.Today)
	case app.StatusNotStarted:
		where, args = append(where, a+".signed_at IS NULL AND "+a+".exempt = 0 AND "+a+".due_on >= ? AND "+a+".started = 0"), append(args, f.Today)
	case app.StatusUnreachable:
		where = append(where, "EXISTS (SELECT 1 FROM unreachable u WHERE u.email = e.email)")
	}
	if f.ManagerID != nil {
		where, args = append(where, a+`.employee_id IN (WITH RECURSIVE tree(id) AS (
			SELECT id FROM employees WHERE manager_id = ?
			UNION SELECT x.id FROM employees x JOIN tree t ON x.manager_id = t.id) SELECT id FROM tree)`), append(args, *f.ManagerID)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		cond, cargs := searchCond(a, q, rare)
		where, args = append(where, cond), append(args, cargs...)
	}
	return strings.Join(where, " AND "), args
}

const peopleSelect = `SELECT e.id, e.employee_number, e.full_name, e.email, a.agency, a.department, e.title,
	COALESCE(m.full_name, ''), a.due_on, a.signed_at, COALESCE(k.verify_code, ''), a.started, a.exempt, a.paper,
	EXISTS (SELECT 1 FROM unreachable u WHERE u.email = e.email)
	FROM assignments a JOIN employees e ON e.id = a.employee_id
	LEFT JOIN employees m ON m.id = e.manager_id
	LEFT JOIN acknowledgments k ON k.id = a.ack_id`

func scanPerson(rows *sql.Rows, today string) (*app.PersonStatus, error) {
	var p app.PersonStatus
	var signed sql.NullString
	var asg app.Assignment
	if err := rows.Scan(&p.EmployeeID, &p.EmployeeNumber, &p.FullName, &p.Email, &p.Agency, &p.Department, &p.Title,
		&p.ManagerName, &p.DueOn, &signed, &p.VerifyCode, &asg.Started, &asg.Exempt, &asg.Paper, &p.Unreachable); err != nil {
		return nil, fmt.Errorf("scan person: %w", err)
	}
	asg.DueOn = p.DueOn
	if signed.Valid {
		t := parseTime(signed.String)
		p.SignedAt, asg.SignedAt = &t, &t
	}
	p.Status = asg.Status(today)
	return &p, nil
}

// count returns how many people match f. Without a text search the answer
// comes from the completion and pending tables, a few hundred rows; with one,
// from the matching rows themselves.
func (s *DashboardService) count(ctx context.Context, f app.PeopleFilter, rare string) (int, error) {
	var total int
	if strings.TrimSpace(f.Query) != "" || f.ManagerID != nil || f.Status == app.StatusUnreachable {
		where, args := peopleWhere(f, rare)
		err := s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM assignments a JOIN employees e ON e.id = a.employee_id WHERE `+where, args...).Scan(&total)
		return total, err
	}
	where, args := []string{"cycle_id = ?"}, []any{f.CycleID}
	if sc, sargs := scopeCond("agency", f.Scope); len(sargs) > 0 {
		where, args = append(where, sc), append(args, sargs...)
	}
	if f.Agency != "" {
		where, args = append(where, "agency = ?"), append(args, f.Agency)
	}
	if f.Department != "" {
		where, args = append(where, "department = ?"), append(args, f.Department)
	}
	rows, err := s.sums(ctx, "''", strings.Join(where, " AND "), args, f.Today)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	if f.Status == "" {
		return rows[0].c.Total, nil
	}
	return rows[0].c.Of(f.Status), nil
}

// People returns one page of matching people in f.Sort's order (the earliest due first by default), and the count.
func (s *DashboardService) People(ctx context.Context, f app.PeopleFilter) ([]*app.PersonStatus, int, error) {
	rare, err := rarestWord(ctx, s.db.read, f.Query)
	if err != nil {
		return nil, 0, err
	}
	where, args := peopleWhere(f, rare)
	total, err := s.count(ctx, f, rare)
	if err != nil {
		return nil, 0, fmt.Errorf("count people: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = noLimit
	}
	// The order asked for (due date, then employee by default: the order of
	// the assignments index, so a page of 13,000 overdue people needs no
	// sort). The page is picked from the assignments first, and only its
	// rows are joined to managers, acknowledgments and bounces: a search
	// matching 1,000 people sorts 1,000 short rows, not 1,000 whole ones.
	order, oargs := peopleOrder(f) // team.go
	offset := f.Offset
	if f.AfterID != nil {
		// Keyset paging by employee (the assignments' primary key order):
		// each page starts where the last ended, whatever changed between.
		where, args = where+" AND a.employee_id > ?", append(append([]any{}, args...), *f.AfterID)
		order, oargs, offset = ` ORDER BY a.employee_id`, nil, 0
	}
	qargs := append(append([]any{f.CycleID}, args...), oargs...)
	qargs = append(append(qargs, limit, offset), oargs...)
	rows, err := s.db.read.QueryContext(ctx, peopleSelect+` WHERE a.cycle_id = ? AND a.employee_id IN (
		SELECT a.employee_id FROM assignments a JOIN employees e ON e.id = a.employee_id WHERE `+where+order+`
		LIMIT ? OFFSET ?)`+order, qargs...)
	if err != nil {
		return nil, 0, fmt.Errorf("find people: %w", err)
	}
	defer rows.Close()
	var out []*app.PersonStatus
	for rows.Next() {
		p, err := scanPerson(rows, f.Today)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, p)
	}
	return out, total, rows.Err()
}

// Assignments returns every assignment of one employee, newest cycle first.
func (s *DashboardService) Assignments(ctx context.Context, employeeID int64) ([]*app.Assignment, error) {
	return scanAssignments(ctx, s.db.read, `employee_id = ?`, employeeID)
}

// Scope returns the agencies an HR user is limited to; none means all.
func (s *DashboardService) Scope(ctx context.Context, employeeID int64) ([]string, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT agency FROM hr_scopes WHERE employee_id = ? ORDER BY agency`, employeeID)
	if err != nil {
		return nil, fmt.Errorf("read scope: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetScope limits an HR user to some agencies (none: all of them).
func (s *DashboardService) SetScope(ctx context.Context, employeeID int64, agencies []string, actor *int64) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM hr_scopes WHERE employee_id = ?`, employeeID); err != nil {
		return fmt.Errorf("clear scope: %w", err)
	}
	for _, a := range agencies {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hr_scopes (employee_id, agency) VALUES (?, ?) ON CONFLICT DO NOTHING`, employeeID, a); err != nil {
			return fmt.Errorf("set scope: %w", err)
		}
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: s.db.Now().UTC(), ActorID: actor, Action: "hr.scope_set",
		SubjectType: "employee", SubjectID: employeeID, Detail: strings.Join(agencies, "; ")}); err != nil {
		return err
	}
	return tx.Commit()
}

// Agencies maps each agency with people in the cycle to its departments.
func (s *DashboardService) Agencies(ctx context.Context, cycleID int64, scope []string) (map[string][]string, error) {
	sc, sargs := scopeCond("agency", scope)
	rows, err := s.db.read.QueryContext(ctx, `SELECT agency, department FROM completion WHERE cycle_id = ? AND total > 0 AND `+sc+ // #nosec G202 -- constant SQL fragments; every value is a bound parameter
		` ORDER BY agency, department`, append([]any{cycleID}, sargs...)...)
	if err != nil {
		return nil, fmt.Errorf("list agencies: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var a, d string
		if err := rows.Scan(&a, &d); err != nil {
			return nil, err
		}
		out[a] = append(out[a], d)
	}
	return out, rows.Err()
}

// Counts returns the matching people's totals by status, counted from the rows.
func (s *DashboardService) Counts(ctx context.Context, f app.PeopleFilter) (app.Completion, error) {
	f.Status = ""
	var c app.Completion
	rare, err := rarestWord(ctx, s.db.read, f.Query)
	if err != nil {
		return c, err
	}
	where, args := peopleWhere(f, rare)
	err = s.db.read.QueryRowContext(ctx, `SELECT COUNT(*),
		COUNT(*) FILTER (WHERE a.signed_at IS NOT NULL AND a.paper = 0),
		COUNT(*) FILTER (WHERE a.signed_at IS NOT NULL AND a.paper <> 0),
		COUNT(*) FILTER (WHERE a.signed_at IS NULL AND a.exempt <> 0),
		COUNT(*) FILTER (WHERE a.signed_at IS NULL AND a.exempt = 0 AND a.due_on >= ? AND a.started = 1),
		COUNT(*) FILTER (WHERE a.signed_at IS NULL AND a.exempt = 0 AND a.due_on < ?)
		FROM assignments a JOIN employees e ON e.id = a.employee_id WHERE `+where,
		append([]any{f.Today, f.Today}, args...)...).Scan(&c.Total, &c.Signed, &c.Paper, &c.Exempt, &c.InProgress, &c.Overdue)
	if err != nil {
		return c, fmt.Errorf("count people: %w", err)
	}
	c.NotStarted = c.Total - c.Signed - c.Paper - c.Exempt - c.InProgress - c.Overdue
	return c, nil
}

// UnreachableCount counts active people in scope whose mail bounces.
func (s *DashboardService) UnreachableCount(ctx context.Context, scope []string) (int, error) {
	sc, args := scopeCond("e.agency", scope)
	var n int
	err := s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM unreachable u JOIN employees e ON e.email = u.email AND e.active = 1
		WHERE `+sc, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count unreachable: %w", err)
	}
	return n, nil
}

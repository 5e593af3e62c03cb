package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"portal/app"
)

// EmployeeService implements app.EmployeeService.
type EmployeeService struct{ db *DB }

// NewEmployeeService returns the roster service.
func NewEmployeeService(db *DB) *EmployeeService { return &EmployeeService{db: db} }

const employeeColumns = `e.id, e.employee_number, e.full_name, e.email, e.agency, e.department, e.title,
	e.manager_id, e.hire_date, e.roles, e.bargaining_unit, e.signature_name, e.active, e.created_at, e.updated_at,
	EXISTS (SELECT 1 FROM employees r WHERE r.manager_id = e.id AND r.active = 1),
	COALESCE((SELECT s.agency FROM agency_supervisors s WHERE s.employee_id = e.id AND e.active = 1), ''),
	COALESCE((SELECT string_agg(pa.starts_on || '/' || pa.ends_on, ' ') FROM poster_authorizations pa
		WHERE pa.employee_id = e.id AND e.active = 1 AND pa.agency = e.agency
			AND NOT EXISTS (SELECT 1 FROM authorization_ends x WHERE x.authorization_id = pa.id)), '')`

// scanEmployee scans employeeColumns, after any leading columns given in
// before. Whether the person is a poster today depends on the day: the
// caller sets AuthorizedPoster with derivePoster.
func scanEmployee(row interface{ Scan(...any) error }, before ...any) (*app.Employee, error) {
	var e app.Employee
	var manager sql.NullInt64
	var roles, created, updated, posting string
	dest := append(before, &e.ID, &e.EmployeeNumber, &e.FullName, &e.Email, &e.Agency, &e.Department, &e.Title,
		&manager, &e.HireDate, &roles, &e.BargainingUnit, &e.SignatureName, &e.Active, &created, &updated, &e.IsManager, &e.SupervisorOf, &posting)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	for _, p := range strings.Fields(posting) {
		from, to, _ := strings.Cut(p, "/")
		e.PostingPeriods = append(e.PostingPeriods, app.PostingPeriod{From: from, To: to})
	}
	if manager.Valid {
		e.ManagerID = &manager.Int64
	}
	for _, r := range strings.Split(roles, ";") {
		if r = strings.TrimSpace(r); r != "" {
			e.Roles = append(e.Roles, app.Role(r))
		}
	}
	e.CreatedAt, e.UpdatedAt = parseTime(created), parseTime(updated)
	return &e, nil
}

// derivePoster sets e.AuthorizedPoster from its authorizations and the
// portal's today (the injected clock's date in the portal's time zone).
func (db *DB) derivePoster(e *app.Employee) *app.Employee {
	if e != nil {
		e.AuthorizedPoster = e.PostsOn(db.Today())
	}
	return e
}

// FindEmployeeByID returns the employee with the given id.
func (s *EmployeeService) FindEmployeeByID(ctx context.Context, id int64) (*app.Employee, error) {
	e, err := findEmployee(ctx, s.db.read, `e.id = ?`, id)
	return s.db.derivePoster(e), err
}

// FindEmployeeByEmail returns the employee with the given address, ignoring case.
func (s *EmployeeService) FindEmployeeByEmail(ctx context.Context, email string) (*app.Employee, error) {
	e, err := findEmployee(ctx, s.db.read, `e.email = ?`, strings.TrimSpace(email))
	return s.db.derivePoster(e), err
}

func findEmployee(ctx context.Context, q querier, where string, args ...any) (*app.Employee, error) {
	e, err := scanEmployee(q.QueryRowContext(ctx, `SELECT `+employeeColumns+` FROM employees e WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Employee not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find employee: %w", err)
	}
	return e, nil
}

// FindEmployees returns the employees matching f and the total count.
func (s *EmployeeService) FindEmployees(ctx context.Context, f app.EmployeeFilter) ([]*app.Employee, int, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.ID != nil {
		where, args = append(where, "e.id = ?"), append(args, *f.ID)
	}
	if f.EmployeeNumber != nil {
		where, args = append(where, "e.employee_number = ?"), append(args, *f.EmployeeNumber)
	}
	if f.Email != nil {
		where, args = append(where, "e.email = ?"), append(args, *f.Email)
	}
	if f.Active != nil {
		where, args = append(where, "e.active = ?"), append(args, boolInt(*f.Active))
	}
	if f.Role != nil {
		where, args = append(where, "(';' || e.roles || ';') LIKE ?"), append(args, "%;"+*f.Role+";%")
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM employees e WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count employees: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = noLimit
	}
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+employeeColumns+` FROM employees e WHERE `+cond+ // #nosec G202 -- constant SQL fragments; every value is a bound parameter
		` ORDER BY e.full_name, e.id LIMIT ? OFFSET ?`, append(args, limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("find employees: %w", err)
	}
	defer rows.Close()
	var out []*app.Employee
	for rows.Next() {
		e, err := scanEmployee(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("scan employee: %w", err)
		}
		out = append(out, s.db.derivePoster(e))
	}
	return out, total, rows.Err()
}

// CreateEmployee inserts e and sets its ID.
func (s *EmployeeService) CreateEmployee(ctx context.Context, e *app.Employee) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.createEmployee(ctx, tx, e, s.db.Now()); err != nil {
		return err
	}
	return tx.Commit()
}

// createEmployee adds a person outside a roster file (the demo, the load
// generator), logging their record as a roster change like an import does.
func (s *EmployeeService) createEmployee(ctx context.Context, tx *sql.Tx, e *app.Employee, now time.Time) error {
	e.FullName = app.NormalizeName(e.FullName)
	e.SignatureName = app.NormalizeName(e.SignatureName)
	e.Email = strings.TrimSpace(e.Email)
	e.CreatedAt, e.UpdatedAt = now.UTC(), now.UTC()
	roles := sortedRoles(e.Roles)
	res, err := insert(ctx, tx, `INSERT INTO employees (employee_number, full_name, email, agency, department, title,
		manager_id, hire_date, roles, bargaining_unit, signature_name, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.EmployeeNumber, e.FullName, e.Email, e.Agency, e.Department, e.Title, e.ManagerID, e.HireDate,
		roles, e.BargainingUnit, e.SignatureName, boolInt(e.Active), formatTime(now), formatTime(now))
	if isUniqueViolation(err) {
		return app.Errorf(app.ECONFLICT, "An employee with number %s or address %s already exists.", e.EmployeeNumber, e.Email)
	}
	if err != nil {
		return fmt.Errorf("insert employee %s: %w", e.EmployeeNumber, err)
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	manager := ""
	if e.ManagerID != nil {
		if err := tx.QueryRowContext(ctx, `SELECT employee_number FROM employees WHERE id = ?`, *e.ManagerID).Scan(&manager); err != nil {
			return fmt.Errorf("read manager of %s: %w", e.EmployeeNumber, err)
		}
	}
	fields := map[string]string{
		app.FieldEmployeeNumber: e.EmployeeNumber, app.FieldFullName: e.FullName, app.FieldEmail: e.Email,
		app.FieldAgency: e.Agency, app.FieldDepartment: e.Department, app.FieldTitle: e.Title, app.FieldManager: manager,
		app.FieldHireDate: e.HireDate, app.FieldRoles: roles, app.FieldBargainingUnit: e.BargainingUnit,
		app.FieldActive: strconv.FormatBool(e.Active), app.FieldSignatureName: e.SignatureName,
	}
	ch := &changeWriter{db: s.db, ctx: ctx, tx: tx, at: now, source: "added directly, not from a roster file"}
	if _, err := ch.record(e.ID, e.EmployeeNumber, diffFields(nil, fields)); err != nil {
		return err
	}
	if err := ch.flush(); err != nil {
		return err
	}
	if err := s.db.foldNames(ctx, tx); err != nil {
		return err
	}
	return s.db.syncAssignments(ctx, tx, "1 = 1", "e.id = ?", e.ID)
}

// IsInTree reports whether employeeID reports, directly or indirectly, to managerID.
func (s *EmployeeService) IsInTree(ctx context.Context, managerID, employeeID int64) (bool, error) {
	var n int
	err := s.db.read.QueryRowContext(ctx, `WITH RECURSIVE tree(id) AS (
			SELECT id FROM employees WHERE manager_id = ?
			UNION SELECT e.id FROM employees e JOIN tree t ON e.manager_id = t.id
		) SELECT COUNT(*) FROM tree WHERE id = ?`, managerID, employeeID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check reporting line: %w", err)
	}
	return n > 0, nil
}

// Agencies lists the agencies of active employees.
func (s *EmployeeService) Agencies(ctx context.Context) ([]string, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT DISTINCT agency FROM employees WHERE active = 1 ORDER BY agency`)
	if err != nil {
		return nil, fmt.Errorf("list agencies: %w", err)
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

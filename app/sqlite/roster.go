package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"portal/app"
)

// RosterService implements app.RosterService.
type RosterService struct{ db *DB }

// NewRosterService returns the roster importer.
func NewRosterService(db *DB) *RosterService { return &RosterService{db: db} }

// ActiveManagers maps each active employee number to its manager's number.
func (s *RosterService) ActiveManagers(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT e.employee_number, COALESCE(m.employee_number, '')
		FROM employees e LEFT JOIN employees m ON m.id = e.manager_id WHERE e.active = 1`)
	if err != nil {
		return nil, fmt.Errorf("read managers: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, m string
		if err := rows.Scan(&n, &m); err != nil {
			return nil, fmt.Errorf("scan managers: %w", err)
		}
		out[n] = m
	}
	return out, rows.Err()
}

// stored is an employee as the database has it, for comparison with a row.
type stored struct {
	id                                                     int64
	name, email, agency, dept, title, hire, roles, bu, mgr string
	active                                                 bool
}

func sortedRoles(roles []app.Role) string {
	s := make([]string, 0, len(roles))
	for _, r := range roles {
		s = append(s, string(r))
	}
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ";")
}

func sameFields(row *app.RosterRow, st *stored) bool {
	return row.FullName == st.name && row.Email == st.email && row.Agency == st.agency && row.Department == st.dept &&
		row.Title == st.title && row.HireDate == st.hire && sortedRoles(row.Roles) == st.roles &&
		row.BargainingUnit == st.bu && row.ManagerNumber == st.mgr && st.active
}

// ImportRoster applies a validated roster in one transaction. Rows that
// match the database are not touched, so importing the same file twice
// changes nothing the second time. Conflicts only the database can see (an
// address that belongs to someone not in the file) are returned as problems
// and nothing changes. Deactivation never deletes.
func (s *RosterService) ImportRoster(ctx context.Context, rows []app.RosterRow, opts app.ImportOptions) (*app.ImportSummary, error) {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	existing, err := loadStored(ctx, tx)
	if err != nil {
		return nil, err
	}
	sum := &app.ImportSummary{Rows: len(rows)}
	inFile := make(map[string]*app.RosterRow, len(rows))
	for i := range rows {
		inFile[rows[i].EmployeeNumber] = &rows[i]
	}
	emailOwner := make(map[string]string, len(existing))
	for num, st := range existing {
		emailOwner[strings.ToLower(st.email)] = num
	}
	var inserts, updates, emailChanges []*app.RosterRow
	for i := range rows {
		r := &rows[i]
		if owner, ok := emailOwner[strings.ToLower(r.Email)]; ok && owner != r.EmployeeNumber {
			if other, moving := inFile[owner]; !moving || strings.EqualFold(other.Email, r.Email) {
				sum.Problems = append(sum.Problems, app.RosterProblem{Line: r.Line, Column: "email",
					Message: fmt.Sprintf("e-mail address %s already belongs to employee %s, who is not in this file with another address", r.Email, owner)})
				continue
			}
		}
		if _, kept := inFile[r.ManagerNumber]; opts.DeactivateMissing && r.ManagerNumber != "" && !kept {
			sum.Problems = append(sum.Problems, app.RosterProblem{Line: r.Line, Column: "manager_employee_number",
				Message: fmt.Sprintf("manager %s is not in this full roster, so would be deactivated; add them or correct the manager", r.ManagerNumber)})
			continue
		}
		st, ok := existing[r.EmployeeNumber]
		switch {
		case !ok:
			inserts = append(inserts, r)
			sum.Added++
		case sameFields(r, st):
			sum.Unchanged++
		default:
			updates = append(updates, r)
			if st.active {
				sum.Updated++
			} else {
				sum.Reactivated++
			}
			if !strings.EqualFold(r.Email, st.email) {
				emailChanges = append(emailChanges, r)
			}
		}
	}
	var deactivate []int64
	if opts.DeactivateMissing {
		for num, st := range existing {
			if _, ok := inFile[num]; !ok && st.active {
				deactivate = append(deactivate, st.id)
			}
		}
		sum.Deactivated = len(deactivate)
	}
	if len(sum.Problems) > 0 {
		return sum, nil
	}
	if opts.DryRun || !sum.Changed() {
		return sum, nil
	}
	if err := s.apply(ctx, tx, existing, inserts, updates, emailChanges, deactivate); err != nil {
		return nil, err
	}
	if err := appendAudit(ctx, tx, &app.AuditEvent{At: s.db.Now().UTC(), ActorID: opts.ActorID, Action: "roster.imported",
		SubjectType: "roster", Detail: fmt.Sprintf("%s: %d rows, %d added, %d updated, %d reactivated, %d deactivated, %d unchanged",
			opts.Source, sum.Rows, sum.Added, sum.Updated, sum.Reactivated, sum.Deactivated, sum.Unchanged)}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit roster import: %w", err)
	}
	return sum, nil
}

func loadStored(ctx context.Context, tx *sql.Tx) (map[string]*stored, error) {
	rows, err := tx.QueryContext(ctx, `SELECT e.id, e.employee_number, e.full_name, e.email, e.agency, e.department, e.title,
		e.hire_date, e.roles, e.bargaining_unit, COALESCE(m.employee_number, ''), e.active
		FROM employees e LEFT JOIN employees m ON m.id = e.manager_id`)
	if err != nil {
		return nil, fmt.Errorf("read roster: %w", err)
	}
	defer rows.Close()
	out := map[string]*stored{}
	for rows.Next() {
		var st stored
		var num, roles string
		if err := rows.Scan(&st.id, &num, &st.name, &st.email, &st.agency, &st.dept, &st.title, &st.hire, &roles, &st.bu, &st.mgr, &st.active); err != nil {
			return nil, fmt.Errorf("scan roster: %w", err)
		}
		var rs []app.Role
		for _, r := range strings.Split(roles, ";") {
			if r != "" {
				rs = append(rs, app.Role(r))
			}
		}
		st.roles = sortedRoles(rs)
		out[num] = &st
	}
	return out, rows.Err()
}

// apply writes the planned changes inside tx.
func (s *RosterService) apply(ctx context.Context, tx *sql.Tx, existing map[string]*stored,
	inserts, updates, emailChanges []*app.RosterRow, deactivate []int64) error {
	now := formatTime(s.db.Now())
	// Addresses may move between people in one file: park the changing ones
	// first so the UNIQUE index never sees two owners mid-way.
	for _, r := range emailChanges {
		st := existing[r.EmployeeNumber]
		if _, err := tx.ExecContext(ctx, `UPDATE employees SET email = ? WHERE id = ?`, fmt.Sprintf("#moving-%d", st.id), st.id); err != nil {
			return fmt.Errorf("park address of %s: %w", r.EmployeeNumber, err)
		}
	}
	ids := make(map[string]int64, len(existing)+len(inserts))
	for num, st := range existing {
		ids[num] = st.id
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO employees (employee_number, full_name, email, agency, department, title,
		hire_date, roles, bargaining_unit, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare insert: %w", err)
	}
	defer ins.Close()
	for _, r := range inserts {
		res, err := ins.ExecContext(ctx, r.EmployeeNumber, r.FullName, r.Email, r.Agency, r.Department, r.Title,
			r.HireDate, sortedRoles(r.Roles), r.BargainingUnit, now, now)
		if err != nil {
			return fmt.Errorf("line %d: insert %s: %w", r.Line, r.EmployeeNumber, err)
		}
		if ids[r.EmployeeNumber], err = res.LastInsertId(); err != nil {
			return err
		}
	}
	upd, err := tx.PrepareContext(ctx, `UPDATE employees SET full_name = ?, email = ?, agency = ?, department = ?, title = ?,
		hire_date = ?, roles = ?, bargaining_unit = ?, active = 1, updated_at = ? WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("prepare update: %w", err)
	}
	defer upd.Close()
	for _, r := range updates {
		if _, err := upd.ExecContext(ctx, r.FullName, r.Email, r.Agency, r.Department, r.Title, r.HireDate,
			sortedRoles(r.Roles), r.BargainingUnit, now, ids[r.EmployeeNumber]); err != nil {
			return fmt.Errorf("line %d: update %s: %w", r.Line, r.EmployeeNumber, err)
		}
	}
	mgr, err := tx.PrepareContext(ctx, `UPDATE employees SET manager_id = ? WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("prepare manager update: %w", err)
	}
	defer mgr.Close()
	for _, set := range [][]*app.RosterRow{inserts, updates} {
		for _, r := range set {
			if st, ok := existing[r.EmployeeNumber]; ok && st.mgr == r.ManagerNumber {
				continue
			}
			var m any
			if r.ManagerNumber != "" {
				m = ids[r.ManagerNumber]
			}
			if _, err := mgr.ExecContext(ctx, m, ids[r.EmployeeNumber]); err != nil {
				return fmt.Errorf("line %d: set manager of %s: %w", r.Line, r.EmployeeNumber, err)
			}
		}
	}
	for _, id := range deactivate {
		if _, err := tx.ExecContext(ctx, `UPDATE employees SET active = 0, updated_at = ? WHERE id = ?`, now, id); err != nil {
			return fmt.Errorf("deactivate: %w", err)
		}
	}
	return syncAssignments(ctx, tx, "1 = 1", "1 = 1")
}

// SaveUpload keeps a previewed file until it is applied; uploads older than a
// day are dropped on the way.
func (s *RosterService) SaveUpload(ctx context.Context, u *app.RosterUpload) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.db.Now().UTC()
	if _, err := tx.ExecContext(ctx, `DELETE FROM roster_uploads WHERE created_at < ?`, formatTime(now.Add(-24*time.Hour))); err != nil {
		return fmt.Errorf("prune uploads: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO roster_uploads (sha256, filename, content, deactivate_missing, uploaded_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, u.SHA256, u.Filename, u.Content, boolInt(u.DeactivateMissing), u.UploadedBy, formatTime(now))
	if err != nil {
		return fmt.Errorf("save upload: %w", err)
	}
	if u.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	u.CreatedAt = now
	return tx.Commit()
}

// FindUpload returns a saved upload.
func (s *RosterService) FindUpload(ctx context.Context, id int64) (*app.RosterUpload, error) {
	var u app.RosterUpload
	var created string
	var applied sql.NullString
	err := s.db.read.QueryRowContext(ctx, `SELECT id, sha256, filename, content, deactivate_missing, uploaded_by, created_at, applied_at
		FROM roster_uploads WHERE id = ?`, id).Scan(&u.ID, &u.SHA256, &u.Filename, &u.Content, &u.DeactivateMissing, &u.UploadedBy, &created, &applied)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Upload not found. Uploads are kept for a day; upload the file again.")
	}
	if err != nil {
		return nil, fmt.Errorf("find upload: %w", err)
	}
	u.CreatedAt = parseTime(created)
	if applied.Valid {
		t := parseTime(applied.String)
		u.AppliedAt = &t
	}
	return &u, nil
}

// MarkUploadApplied records that an upload was imported, so a second press does nothing.
func (s *RosterService) MarkUploadApplied(ctx context.Context, id int64) error {
	if _, err := s.db.write.ExecContext(ctx, `UPDATE roster_uploads SET applied_at = ? WHERE id = ?`, formatTime(s.db.Now()), id); err != nil {
		return fmt.Errorf("mark upload applied: %w", err)
	}
	return nil
}

package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
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

// stored is an employee's roster record as the database has it, field by
// field as roster changes name them (app.RosterFields).
type stored struct {
	id int64
	f  map[string]string
}

func (st *stored) number() string { return st.f[app.FieldEmployeeNumber] }
func (st *stored) email() string  { return st.f[app.FieldEmail] }
func (st *stored) active() bool   { return st.f[app.FieldActive] == "true" }

func sortedRoles(roles []app.Role) string {
	s := make([]string, 0, len(roles))
	for _, r := range roles {
		s = append(s, string(r))
	}
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ";")
}

// normalRoles is a stored roles column in the form roster changes use:
// sorted, without repeats or blanks.
func normalRoles(s string) string {
	var rs []app.Role
	for _, r := range strings.Split(s, ";") {
		if r = strings.TrimSpace(r); r != "" {
			rs = append(rs, app.Role(r))
		}
	}
	return sortedRoles(rs)
}

// rowFields is a roster row as record fields, with the roles and address
// that will actually be stored.
func rowFields(r *app.RosterRow, roles, email string) map[string]string {
	return map[string]string{
		app.FieldEmployeeNumber: r.EmployeeNumber, app.FieldFullName: r.FullName, app.FieldEmail: email,
		app.FieldAgency: r.Agency, app.FieldDepartment: r.Department, app.FieldTitle: r.Title,
		app.FieldManager: r.ManagerNumber, app.FieldHireDate: r.HireDate, app.FieldRoles: roles,
		app.FieldBargainingUnit: r.BargainingUnit, app.FieldActive: "true",
	}
}

// diffFields lists the fields that differ between two records, in the
// order of app.RosterFields; old may be nil (a new person).
func diffFields(old, new map[string]string) []app.FieldChange {
	var out []app.FieldChange
	for _, f := range app.RosterFields {
		if old[f] != new[f] {
			out = append(out, app.FieldChange{Field: f, Old: old[f], New: new[f]})
		}
	}
	return out
}

// webRoles is what a web upload may store: the file's roles except hr and
// admin, which stay as the roster has them. changed reports whether the
// file asked for different hr or admin roles.
func webRoles(asked []app.Role, current string) (roles string, changed bool) {
	var keep, want, have []app.Role
	for _, r := range asked {
		if slices.Contains(app.PrivilegedRoles, r) {
			want = append(want, r)
		} else {
			keep = append(keep, r)
		}
	}
	for _, r := range strings.Split(current, ";") {
		if slices.Contains(app.PrivilegedRoles, app.Role(r)) {
			have = append(have, app.Role(r))
			keep = append(keep, app.Role(r))
		}
	}
	return sortedRoles(keep), sortedRoles(want) != sortedRoles(have)
}

// planned is one row to write: the person as they will be stored.
type planned struct {
	row    *app.RosterRow
	st     *stored // nil for a new person
	fields map[string]string
	// newEmail is an address held for approval (web uploads), or "".
	newEmail string
}

// ImportRoster applies a validated roster in one transaction. Rows that
// match the database are not touched, so importing the same file twice
// changes nothing the second time. Conflicts only the database can see (an
// address that belongs to someone not in the file) are returned as problems
// and nothing changes. Deactivation never deletes. Every person whose
// record changes gets a roster change record in the evidence log, naming
// each field's old and new value.
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
	pl := newImportPlan(rows, existing, opts)
	if opts.FromWeb {
		if pl.pending, err = pendingRequests(ctx, tx); err != nil {
			return nil, err
		}
	}
	for i := range rows {
		pl.plan(&rows[i])
	}
	pl.planDeactivations()
	sum := pl.sum
	if len(sum.Problems) > 0 || opts.DryRun || !sum.Changed() {
		return sum, nil
	}
	ch := &changeWriter{db: s.db, ctx: ctx, tx: tx, at: s.db.Now().UTC(), actor: opts.ActorID, source: opts.Source}
	if err := s.apply(ch, existing, pl.inserts, pl.updates, pl.emailChanges, pl.deactivate); err != nil {
		return nil, err
	}
	for _, p := range pl.requests {
		if err := ch.requestAddress(p.st.id, p.st.number(), p.st.email(), p.newEmail); err != nil {
			return nil, err
		}
	}
	if err := ch.flush(); err != nil {
		return nil, err
	}
	// The operator's file may grant or remove hr and admin: every
	// administrator hears of it, as of a change on the roles page.
	for _, id := range ch.roleChanges {
		if err := notifyAdmins(ctx, tx, id, 0, ch.at); err != nil {
			return nil, err
		}
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: ch.at, ActorID: opts.ActorID, Action: "roster.imported",
		SubjectType: "roster", Detail: fmt.Sprintf("%s: %d rows, %d added, %d updated, %d reactivated, %d deactivated, %d unchanged, %d addresses awaiting approval",
			opts.Source, sum.Rows, sum.Added, sum.Updated, sum.Reactivated, sum.Deactivated, sum.Unchanged, sum.AddressChanges)}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit roster import: %w", err)
	}
	return sum, nil
}

// importPlan is what an import will do, worked out row by row before
// anything is written: a file with problems changes nothing.
type importPlan struct {
	opts       app.ImportOptions
	existing   map[string]*stored        // by employee number
	pending    map[int64]map[string]bool // address changes already awaiting approval
	inFile     map[string]*app.RosterRow // by employee number
	emailOwner map[string]string         // lower-case address → employee number
	sum        *app.ImportSummary

	inserts, updates, requests []*planned
	emailChanges, deactivate   []*stored
}

func newImportPlan(rows []app.RosterRow, existing map[string]*stored, opts app.ImportOptions) *importPlan {
	pl := &importPlan{opts: opts, existing: existing, sum: &app.ImportSummary{Rows: len(rows)},
		inFile: make(map[string]*app.RosterRow, len(rows)), emailOwner: make(map[string]string, len(existing))}
	for i := range rows {
		pl.inFile[rows[i].EmployeeNumber] = &rows[i]
	}
	for num, st := range existing {
		pl.emailOwner[strings.ToLower(st.email())] = num
	}
	return pl
}

func (pl *importPlan) problem(r *app.RosterRow, column, format string, args ...any) {
	pl.sum.Problems = append(pl.sum.Problems, app.RosterProblem{Line: r.Line, Column: column, Message: fmt.Sprintf(format, args...)})
}

// plan decides what one row does: add, update, reactivate, nothing, or a
// problem.
func (pl *importPlan) plan(r *app.RosterRow) {
	owner, owned := pl.emailOwner[strings.ToLower(r.Email)]
	if owned && owner != r.EmployeeNumber {
		if other, moving := pl.inFile[owner]; !moving || strings.EqualFold(other.Email, r.Email) {
			pl.problem(r, "email", "e-mail address %s already belongs to employee %s, who is not in this file with another address", r.Email, owner)
			return
		}
	}
	if _, kept := pl.inFile[r.ManagerNumber]; pl.opts.DeactivateMissing && r.ManagerNumber != "" && !kept {
		pl.problem(r, "manager_employee_number", "manager %s is not in this full roster, so would be deactivated; add them or correct the manager", r.ManagerNumber)
		return
	}
	st, ok := pl.existing[r.EmployeeNumber]
	p := &planned{row: r, st: st}
	roles, email := sortedRoles(r.Roles), r.Email
	if pl.opts.FromWeb {
		roles, email = pl.fromWeb(r, st, p)
		if !ok && owned {
			pl.problem(r, "email", "e-mail address %s still belongs to employee %s until a change of their address is approved; add this person after that", r.Email, owner)
			return
		}
	}
	p.fields = rowFields(r, roles, email)
	switch {
	case !ok:
		pl.inserts = append(pl.inserts, p)
		pl.sum.Added++
	case len(diffFields(st.f, p.fields)) == 0:
		pl.sum.Unchanged++
	default:
		pl.updates = append(pl.updates, p)
		if st.active() {
			pl.sum.Updated++
		} else {
			pl.sum.Reactivated++
		}
		if email != st.email() {
			pl.emailChanges = append(pl.emailChanges, st)
		}
	}
}

// fromWeb applies a web upload's limits to a row: roles stay as they are,
// and a new address waits for a second person (sign-in links go to the old
// one until then). It returns the roles and address to store now.
func (pl *importPlan) fromWeb(r *app.RosterRow, st *stored, p *planned) (string, string) {
	current := ""
	if st != nil {
		current = st.f[app.FieldRoles]
	}
	roles, changed := webRoles(r.Roles, current)
	if changed {
		pl.sum.RolesIgnored++
	}
	if st == nil || strings.EqualFold(r.Email, st.email()) {
		return roles, r.Email
	}
	if !pl.pending[st.id][strings.ToLower(r.Email)] {
		p.newEmail = r.Email
		pl.requests = append(pl.requests, p)
		pl.sum.AddressChanges++
	}
	return roles, st.email()
}

// planDeactivations lists, for a full roster, the active people it leaves out.
func (pl *importPlan) planDeactivations() {
	if !pl.opts.DeactivateMissing {
		return
	}
	for num, st := range pl.existing {
		if _, ok := pl.inFile[num]; !ok && st.active() {
			pl.deactivate = append(pl.deactivate, st)
		}
	}
	sortStoredByID(pl.deactivate)
	pl.sum.Deactivated = len(pl.deactivate)
}

func sortStoredByID(s []*stored) {
	slices.SortFunc(s, func(a, b *stored) int { return cmp.Compare(a.id, b.id) })
}

// loadStored reads every person's record, by employee number.
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
		var id int64
		var num, name, email, agency, dept, title, hire, roles, bu, mgr string
		var active bool
		if err := rows.Scan(&id, &num, &name, &email, &agency, &dept, &title, &hire, &roles, &bu, &mgr, &active); err != nil {
			return nil, fmt.Errorf("scan roster: %w", err)
		}
		out[num] = &stored{id: id, f: map[string]string{
			app.FieldEmployeeNumber: num, app.FieldFullName: name, app.FieldEmail: email, app.FieldAgency: agency,
			app.FieldDepartment: dept, app.FieldTitle: title, app.FieldManager: mgr, app.FieldHireDate: hire,
			app.FieldRoles: normalRoles(roles), app.FieldBargainingUnit: bu, app.FieldActive: strconv.FormatBool(active),
		}}
	}
	return out, rows.Err()
}

// pendingRequests maps each person to the addresses (lower case) that
// requests not yet decided would give them.
func pendingRequests(ctx context.Context, tx *sql.Tx) (map[int64]map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT r.employee_id, r.new_email FROM address_changes r
		WHERE r.action = 'request' AND NOT EXISTS (SELECT 1 FROM address_changes d WHERE d.request_id = r.id)`)
	if err != nil {
		return nil, fmt.Errorf("read address changes: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]bool{}
	for rows.Next() {
		var id int64
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			return nil, fmt.Errorf("read address changes: %w", err)
		}
		if out[id] == nil {
			out[id] = map[string]bool{}
		}
		out[id][strings.ToLower(email)] = true
	}
	return out, rows.Err()
}

// apply writes the planned changes inside the change writer's transaction.
func (s *RosterService) apply(ch *changeWriter, existing map[string]*stored, inserts, updates []*planned,
	emailChanges, deactivate []*stored) error {
	ctx, tx := ch.ctx, ch.tx
	now := formatTime(ch.at)
	// Addresses may move between people in one file: park the changing ones
	// first so the UNIQUE index never sees two owners mid-way.
	for _, st := range emailChanges {
		if _, err := tx.ExecContext(ctx, `UPDATE employees SET email = ? WHERE id = ?`, fmt.Sprintf("#moving-%d", st.id), st.id); err != nil {
			return fmt.Errorf("park address of %s: %w", st.number(), err)
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
	for _, p := range inserts {
		f := p.fields
		res, err := ins.ExecContext(ctx, f[app.FieldEmployeeNumber], f[app.FieldFullName], f[app.FieldEmail], f[app.FieldAgency],
			f[app.FieldDepartment], f[app.FieldTitle], f[app.FieldHireDate], f[app.FieldRoles], f[app.FieldBargainingUnit], now, now)
		if err != nil {
			return fmt.Errorf("line %d: insert %s: %w", p.row.Line, p.row.EmployeeNumber, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		ids[p.row.EmployeeNumber] = id
		if _, err := ch.record(id, p.row.EmployeeNumber, diffFields(nil, f)); err != nil {
			return err
		}
	}
	upd, err := tx.PrepareContext(ctx, `UPDATE employees SET full_name = ?, email = ?, agency = ?, department = ?, title = ?,
		hire_date = ?, roles = ?, bargaining_unit = ?, active = 1, updated_at = ? WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("prepare update: %w", err)
	}
	defer upd.Close()
	for _, p := range updates {
		f := p.fields
		if _, err := upd.ExecContext(ctx, f[app.FieldFullName], f[app.FieldEmail], f[app.FieldAgency], f[app.FieldDepartment],
			f[app.FieldTitle], f[app.FieldHireDate], f[app.FieldRoles], f[app.FieldBargainingUnit], now, p.st.id); err != nil {
			return fmt.Errorf("line %d: update %s: %w", p.row.Line, p.row.EmployeeNumber, err)
		}
		if _, err := ch.record(p.st.id, p.st.number(), diffFields(p.st.f, f)); err != nil {
			return err
		}
	}
	mgr, err := tx.PrepareContext(ctx, `UPDATE employees SET manager_id = ? WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("prepare manager update: %w", err)
	}
	defer mgr.Close()
	for _, set := range [][]*planned{inserts, updates} {
		for _, p := range set {
			r := p.row
			if p.st != nil && p.st.f[app.FieldManager] == r.ManagerNumber {
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
	for _, st := range deactivate {
		if _, err := tx.ExecContext(ctx, `UPDATE employees SET active = 0, updated_at = ? WHERE id = ?`, now, st.id); err != nil {
			return fmt.Errorf("deactivate: %w", err)
		}
		if _, err := ch.record(st.id, st.number(), []app.FieldChange{{Field: app.FieldActive, Old: "true", New: "false"}}); err != nil {
			return err
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

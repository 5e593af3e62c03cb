package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"portal/app"
)

// RosterService implements app.RosterService.
type RosterService struct {
	db *DB
	// batchRows, when set, replaces importBatchRows; afterBatch, when set,
	// is called after each committed batch (tests).
	batchRows  int
	afterBatch func()
	// OnPostersChanged, when set, is called after each committed batch
	// for every person whose poster authorizations it ended, as
	// AuthorizationService.OnPostersChanged is (the wiring sets both).
	OnPostersChanged func(ctx context.Context, employeeID int64) error
}

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
		app.FieldBargainingUnit: r.BargainingUnit, app.FieldActive: "true", app.FieldSignatureName: r.SignatureName,
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
	// changes are the fields that differ from the stored record, as its
	// roster change record will list them.
	changes []app.FieldChange
	// newEmail is an address held for approval (web uploads), or "".
	newEmail string
}

// ImportRoster applies a validated roster. Rows that match the database are
// not touched, so importing the same file twice changes nothing the second
// time. Conflicts only the database can see (an address that belongs to
// someone not in the file) are returned as problems and nothing changes.
// Deactivation never deletes. Every person whose record changes gets a
// roster change record in the evidence log, naming each field's old and
// new value.
//
// Everything is worked out from one read of the roster before anything is
// written: the plan, every problem, each record's changes. The writes then
// go in batches sized to hold the write lock for about importBatchTime
// (roster_write.go), each its own transaction with its evidence, and web
// writes get in between batches. A batch is complete in
// itself; an import stopped half way (killed, a full disk) leaves whole
// batches, and importing the same file again plans only what is left.
func (s *RosterService) ImportRoster(ctx context.Context, rows []app.RosterRow, opts app.ImportOptions) (*app.ImportSummary, error) {
	pl, err := s.planImport(ctx, rows, opts)
	if err != nil {
		return nil, err
	}
	sum := pl.sum
	if opts.DryRun && len(sum.Problems) == 0 {
		sum.People = pl.preview()
		if sum.PreviewSHA256, err = previewDigest(sum.People); err != nil {
			return nil, err
		}
	}
	if len(sum.Problems) > 0 || opts.DryRun || !sum.Changed() {
		return sum, nil
	}
	w := &importWriter{db: s.db, opts: opts, sum: sum, at: s.db.Now().UTC(), ids: make(map[string]int64, len(pl.existing)+len(pl.inserts))}
	for num, st := range pl.existing {
		w.ids[num] = st.id
	}
	units := pl.units()
	var after error // the first failure of OnPostersChanged
	size := firstBatchRows
	if s.batchRows > 0 {
		size = s.batchRows
	}
	if opts.Atomic {
		size = math.MaxInt // one batch: one transaction
	}
	for k := 0; k < len(units); {
		var batch []*importItem
		for k < len(units) && (len(batch) == 0 || len(batch)+len(units[k]) <= size) {
			batch = append(batch, units[k]...)
			k++
		}
		if err := w.write(ctx, batch, k == len(units)); err != nil {
			return nil, err
		}
		for _, id := range w.ended {
			if s.OnPostersChanged == nil {
				break
			}
			// The batch is committed: the import goes on, and says at the
			// end that the follow-up failed.
			if err := s.OnPostersChanged(ctx, id); err != nil && after == nil {
				after = &app.CommittedError{Err: err}
			}
		}
		if s.batchRows == 0 && !opts.Atomic { // from how long this batch held the lock
			size = nextBatchRows(len(batch), time.Since(w.locked))
		}
		if s.afterBatch != nil {
			s.afterBatch()
		}
		if k < len(units) {
			// Leave the lock free for a moment: a writer of another process
			// (the server, when this is the command line) looks every few
			// milliseconds and gets in now.
			if err := sleepCtx(ctx, batchPause); err != nil {
				return nil, err
			}
		}
	}
	return sum, after
}

// planImport reads the roster (one consistent snapshot, no write lock) and
// works out what the rows do.
func (s *RosterService) planImport(ctx context.Context, rows []app.RosterRow, opts app.ImportOptions) (*importPlan, error) {
	tx, err := s.db.read.BeginTx(ctx, s.db.snapshot())
	if err != nil {
		return nil, fmt.Errorf("read roster: %w", err)
	}
	defer tx.Rollback()
	existing, err := loadStored(ctx, tx, "")
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
	return pl, nil
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
	deactivate                 []*stored
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
	if r.KeepSignatureName && st != nil {
		p.fields[app.FieldSignatureName] = st.f[app.FieldSignatureName]
	}
	switch {
	case !ok:
		p.changes = diffFields(nil, p.fields)
		pl.inserts = append(pl.inserts, p)
		pl.sum.Added++
	default:
		if p.changes = diffFields(st.f, p.fields); len(p.changes) == 0 {
			pl.sum.Unchanged++
			return
		}
		pl.updates = append(pl.updates, p)
		if st.active() {
			pl.sum.Updated++
		} else {
			pl.sum.Reactivated++
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

// planDeactivations lists, for a full roster, the active people it leaves
// out, and the active people opts.Deactivate names.
func (pl *importPlan) planDeactivations() {
	if !pl.opts.DeactivateMissing && len(pl.opts.Deactivate) == 0 {
		return
	}
	for num, st := range pl.existing {
		_, ok := pl.inFile[num]
		if st.active() && (pl.opts.DeactivateMissing && !ok || slices.Contains(pl.opts.Deactivate, num)) {
			pl.deactivate = append(pl.deactivate, st)
		}
	}
	sortStoredByID(pl.deactivate)
	pl.sum.Deactivated = len(pl.deactivate)
}

func sortStoredByID(s []*stored) {
	slices.SortFunc(s, func(a, b *stored) int { return cmp.Compare(a.id, b.id) })
}

// loadStored reads people's records, by employee number: everyone's, or
// those an SQL condition on e selects.
func loadStored(ctx context.Context, q querier, where string, args ...any) (map[string]*stored, error) {
	return loadStoredFrom(ctx, q, "e.signature_name", where, args...)
}

// loadStoredFrom is loadStored reading the signature name from sig: the
// evidence log's upgrade (migration 005) runs before the column exists
// (migration 010), and passes ”.
func loadStoredFrom(ctx context.Context, q querier, sig, where string, args ...any) (map[string]*stored, error) {
	if where == "" {
		where = "1 = 1"
	}
	// #nosec G202 -- sig and where are constant fragments; values are bound parameters
	rows, err := q.QueryContext(ctx, `SELECT e.id, e.employee_number, e.full_name, e.email, e.agency, e.department, e.title,
		e.hire_date, e.roles, e.bargaining_unit, COALESCE(m.employee_number, ''), e.active, `+sig+`
		FROM employees e LEFT JOIN employees m ON m.id = e.manager_id WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read roster: %w", err)
	}
	defer rows.Close()
	out := map[string]*stored{}
	for rows.Next() {
		var id int64
		var num, name, email, agency, dept, title, hire, roles, bu, mgr, sig string
		var active bool
		if err := rows.Scan(&id, &num, &name, &email, &agency, &dept, &title, &hire, &roles, &bu, &mgr, &active, &sig); err != nil {
			return nil, fmt.Errorf("scan roster: %w", err)
		}
		out[num] = &stored{id: id, f: map[string]string{
			app.FieldEmployeeNumber: num, app.FieldFullName: name, app.FieldEmail: email, app.FieldAgency: agency,
			app.FieldDepartment: dept, app.FieldTitle: title, app.FieldManager: mgr, app.FieldHireDate: hire,
			app.FieldRoles: normalRoles(roles), app.FieldBargainingUnit: bu, app.FieldActive: strconv.FormatBool(active),
			app.FieldSignatureName: sig,
		}}
	}
	return out, rows.Err()
}

// pendingRequests maps each person to the addresses (lower case) that
// requests not yet decided would give them.
func pendingRequests(ctx context.Context, tx querier) (map[int64]map[string]bool, error) {
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
	var summary any // NULL without a preview
	if u.Summary != nil {
		b, err := json.Marshal(u.Summary)
		if err != nil {
			return fmt.Errorf("encode upload summary: %w", err)
		}
		summary = string(b)
	}
	res, err := insert(ctx, tx, `INSERT INTO roster_uploads (sha256, filename, content, deactivate_missing, uploaded_by, created_at, summary)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, u.SHA256, u.Filename, u.Content, boolInt(u.DeactivateMissing), u.UploadedBy, formatTime(now), summary)
	if err != nil {
		return fmt.Errorf("save upload: %w", err)
	}
	if u.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if u.Summary != nil {
		if err := savePreview(ctx, tx, u.ID, u.Summary.People); err != nil {
			return err
		}
	}
	u.CreatedAt = now
	return tx.Commit()
}

// FindUpload returns a saved upload.
func (s *RosterService) FindUpload(ctx context.Context, id int64) (*app.RosterUpload, error) {
	var u app.RosterUpload
	var created string
	var applied, summary sql.NullString
	err := s.db.read.QueryRowContext(ctx, `SELECT id, sha256, filename, content, deactivate_missing, uploaded_by, created_at, applied_at, summary
		FROM roster_uploads WHERE id = ?`, id).Scan(&u.ID, &u.SHA256, &u.Filename, &u.Content, &u.DeactivateMissing, &u.UploadedBy, &created, &applied, &summary)
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
	if summary.Valid {
		u.Summary = &app.ImportSummary{}
		if err := json.Unmarshal([]byte(summary.String), u.Summary); err != nil {
			return nil, fmt.Errorf("decode upload summary: %w", err)
		}
	}
	return &u, nil
}

// MarkUploadApplied records that an upload was imported, so a second press does nothing.
func (s *RosterService) MarkUploadApplied(ctx context.Context, id int64) error {
	if _, err := s.db.execWrite(ctx, `UPDATE roster_uploads SET applied_at = ? WHERE id = ?`, formatTime(s.db.Now()), id); err != nil {
		return fmt.Errorf("mark upload applied: %w", err)
	}
	return nil
}

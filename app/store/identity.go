package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"portal/app"
	"portal/app/evidence"
)

// changeWriter writes roster and address change records, each with its log
// entry, inside one write transaction. It keeps its own appender, so a
// caller writes any other entry of the transaction (an audit event) only
// after its last use.
type changeWriter struct {
	db     *DB
	ctx    context.Context
	tx     *sql.Tx
	at     time.Time
	actor  *int64
	source string
	log    *appender
	// roleChanges are the roster changes written that touch hr or admin.
	roleChanges []int64
	// pending are roster changes given their id but not yet written: an
	// import writes them, and their log entries, a few hundred a statement.
	pending []*app.RosterChange
	nextID  int64
}

func (ch *changeWriter) appendLeaf(leaf evidence.Leaf) error {
	if err := ch.flush(); err != nil {
		return err
	}
	return ch.appendLeaves([]evidence.Leaf{leaf})
}

func (ch *changeWriter) appendLeaves(leaves []evidence.Leaf) error {
	if ch.log == nil {
		var err error
		if ch.log, err = ch.db.newAppender(ch.ctx, ch.tx); err != nil {
			return err
		}
	}
	return ch.log.addAll(leaves)
}

// record logs a change to one person's roster record and returns its id.
// The record is written by flush, which every writer calls before it
// commits (and which any other log entry calls first, to keep the order).
func (ch *changeWriter) record(employeeID int64, number string, changes []app.FieldChange) (int64, error) {
	if len(changes) == 0 {
		return 0, nil
	}
	if ch.nextID == 0 {
		if err := ch.tx.QueryRowContext(ch.ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM roster_changes`).Scan(&ch.nextID); err != nil {
			return 0, fmt.Errorf("read roster changes: %w", err)
		}
	}
	c := &app.RosterChange{ID: ch.nextID, At: ch.at.UTC().Truncate(time.Microsecond), ActorID: ch.actor, Source: ch.source,
		EmployeeID: employeeID, EmployeeNumber: number, Changes: changes}
	ch.nextID++
	if f := c.Change(app.FieldRoles); f != nil {
		for _, r := range app.PrivilegedRoles {
			if slices.Contains(strings.Split(f.Old, ";"), string(r)) != slices.Contains(strings.Split(f.New, ";"), string(r)) {
				ch.roleChanges = append(ch.roleChanges, c.ID)
				break
			}
		}
	}
	ch.pending = append(ch.pending, c)
	if len(ch.pending) >= 1000 {
		return c.ID, ch.flush()
	}
	return c.ID, nil
}

// flush writes the pending roster changes and their log entries.
func (ch *changeWriter) flush() error {
	if len(ch.pending) == 0 {
		return nil
	}
	const rowsPer = 100
	leaves := make([]evidence.Leaf, 0, len(ch.pending))
	for start := 0; start < len(ch.pending); start += rowsPer {
		chunk := ch.pending[start:min(len(ch.pending), start+rowsPer)]
		args := make([]any, 0, 7*len(chunk))
		for _, c := range chunk {
			body, err := encodeChanges(c.Changes)
			if err != nil {
				return err
			}
			args = append(args, c.ID, formatTime(c.At), c.ActorID, c.Source, c.EmployeeID, c.EmployeeNumber, body)
			leaves = append(leaves, evidence.RosterChangeLeaf(c))
		}
		q := `INSERT INTO roster_changes (id, at, actor_id, source, employee_id, employee_number, changes) VALUES (?, ?, ?, ?, ?, ?, ?)` + // #nosec G202 -- only placeholders are added
			strings.Repeat(`, (?, ?, ?, ?, ?, ?, ?)`, len(chunk)-1)
		if _, err := ch.tx.ExecContext(ch.ctx, q, args...); err != nil {
			return fmt.Errorf("record roster changes: %w", err)
		}
	}
	ch.pending = ch.pending[:0]
	return ch.appendLeaves(leaves)
}

func insertRosterChange(ctx context.Context, tx *sql.Tx, c *app.RosterChange) error {
	body, err := encodeChanges(c.Changes)
	if err != nil {
		return err
	}
	c.At = c.At.UTC().Truncate(time.Microsecond)
	res, err := insert(ctx, tx, `INSERT INTO roster_changes (at, actor_id, source, employee_id, employee_number, changes)
		VALUES (?, ?, ?, ?, ?, ?)`, formatTime(c.At), c.ActorID, c.Source, c.EmployeeID, c.EmployeeNumber, body)
	if err != nil {
		return fmt.Errorf("record roster change of %s: %w", c.EmployeeNumber, err)
	}
	c.ID, err = res.LastInsertId()
	return err
}

func insertCycleVersion(ctx context.Context, tx *sql.Tx, c *app.CycleVersionChange) error {
	c.At = c.At.UTC().Truncate(time.Microsecond)
	res, err := insert(ctx, tx, `INSERT INTO cycle_versions (cycle_id, from_version_id, to_version_id, material, at, actor_id)
		VALUES (?, ?, ?, ?, ?, ?)`, c.CycleID, c.FromVersionID, c.ToVersionID, boolInt(c.Material), formatTime(c.At), c.ActorID)
	if err != nil {
		return fmt.Errorf("record cycle version change: %w", err)
	}
	c.ID, err = res.LastInsertId()
	return err
}

// addressStep writes one address change step and its log entry, and tells
// both addresses.
func (ch *changeWriter) addressStep(c *app.AddressChange) error {
	c.At = ch.at.UTC().Truncate(time.Microsecond)
	c.ActorID = ch.actor
	res, err := insert(ch.ctx, ch.tx, `INSERT INTO address_changes (request_id, action, employee_id, old_email, new_email, actor_id, at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, c.RequestID, c.Action, c.EmployeeID, c.OldEmail, c.NewEmail, c.ActorID, formatTime(c.At))
	if err != nil {
		return fmt.Errorf("record address change: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if err := ch.appendLeaf(evidence.AddressChangeLeaf(c)); err != nil {
		return err
	}
	for _, to := range []struct{ which, addr string }{{"old", c.OldEmail}, {"new", c.NewEmail}} {
		if err := queueNotice(ch.ctx, ch.tx, &app.Message{DedupeKey: "address:" + strconv.FormatInt(c.ID, 10) + ":" + to.which,
			Kind: app.MailAddressChange, EmployeeID: &c.EmployeeID, AboutID: &c.ID, ToAddr: to.addr}, ch.at); err != nil {
			return err
		}
	}
	return nil
}

// requestAddress records that a web upload asked for a new address.
func (ch *changeWriter) requestAddress(employeeID int64, number, old, new string) error {
	return ch.addressStep(&app.AddressChange{Action: app.AddressRequest, EmployeeID: employeeID, OldEmail: old, NewEmail: new,
		EmployeeNumber: number})
}

// queueNotice queues a message rendered when sent, inside tx.
func queueNotice(ctx context.Context, tx *sql.Tx, m *app.Message, now time.Time) error {
	at := formatTime(now)
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (dedupe_key, kind, employee_id, cycle_id, about_id, to_addr, to_name,
		subject, text_body, html_body, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, '', '', '', ?, ?)
		ON CONFLICT (dedupe_key) DO NOTHING`, m.DedupeKey, m.Kind, m.EmployeeID, m.CycleID, m.AboutID, m.ToAddr, m.ToName, at, at); err != nil {
		return fmt.Errorf("queue %s message: %w", m.Kind, err)
	}
	return nil
}

// IdentityService implements app.IdentityService.
type IdentityService struct{ db *DB }

// NewIdentityService returns the store of roles, address changes and roster history.
func NewIdentityService(db *DB) *IdentityService { return &IdentityService{db: db} }

var _ app.IdentityService = (*IdentityService)(nil)

// SetRole grants or removes hr or admin. An administrator cannot change
// their own roles (another administrator, or the operator's import-roster,
// can), and the last administrator cannot be removed. Every active
// administrator is told by e-mail.
func (s *IdentityService) SetRole(ctx context.Context, employeeID int64, role app.Role, grant bool, actorID int64) error {
	if !slices.Contains(app.PrivilegedRoles, role) {
		return app.Errorf(app.EINVALID, "Choose the hr or the admin role.")
	}
	if employeeID == actorID {
		return app.Errorf(app.EFORBIDDEN, "You cannot change your own roles. Ask another administrator.")
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var actorRoles string
	var actorActive bool
	if err := tx.QueryRowContext(ctx, `SELECT roles, active FROM employees WHERE id = ?`, actorID).Scan(&actorRoles, &actorActive); err != nil {
		return fmt.Errorf("read administrator: %w", err)
	}
	if !actorActive || !slices.Contains(strings.Split(actorRoles, ";"), string(app.RoleAdmin)) {
		return app.Errorf(app.EFORBIDDEN, "Only an administrator can change roles.")
	}
	var number, roles string
	var active bool
	err = tx.QueryRowContext(ctx, `SELECT employee_number, roles, active FROM employees WHERE id = ?`, employeeID).Scan(&number, &roles, &active)
	if errors.Is(err, sql.ErrNoRows) {
		return app.Errorf(app.ENOTFOUND, "Nobody has that employee number.")
	}
	if err != nil {
		return fmt.Errorf("read employee: %w", err)
	}
	if grant && !active {
		return app.Errorf(app.EINVALID, "Employee %s is not active on the roster.", number)
	}
	old := normalRoles(roles)
	list := strings.Split(old, ";")
	has := slices.Contains(list, string(role))
	if has == grant {
		if grant {
			return app.Errorf(app.ECONFLICT, "Employee %s already has the %s role.", number, role)
		}
		return app.Errorf(app.ECONFLICT, "Employee %s does not have the %s role.", number, role)
	}
	var rs []app.Role
	for _, r := range list {
		if r != "" && (grant || r != string(role)) {
			rs = append(rs, app.Role(r))
		}
	}
	if grant {
		rs = append(rs, role)
	}
	newRoles := sortedRoles(rs)
	now := s.db.Now().UTC()
	if _, err := tx.ExecContext(ctx, `UPDATE employees SET roles = ?, updated_at = ? WHERE id = ?`, newRoles, formatTime(now), employeeID); err != nil {
		return fmt.Errorf("set roles: %w", err)
	}
	ch := &changeWriter{db: s.db, ctx: ctx, tx: tx, at: now, actor: &actorID, source: "roles page"}
	changeID, err := ch.record(employeeID, number, []app.FieldChange{{Field: app.FieldRoles, Old: old, New: newRoles}})
	if err != nil {
		return err
	}
	if err := ch.flush(); err != nil {
		return err
	}
	removedAdmin := int64(0)
	if role == app.RoleAdmin && !grant {
		removedAdmin = employeeID
	}
	if err := notifyAdmins(ctx, tx, changeID, removedAdmin, now); err != nil {
		return err
	}
	return tx.Commit()
}

// notifyAdmins queues a message about a change of roles to every active
// administrator, and to also (an administrator just removed) when set.
func notifyAdmins(ctx context.Context, tx *sql.Tx, changeID, also int64, now time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, email, full_name FROM employees WHERE active = 1
		AND ((';' || roles || ';') LIKE '%;admin;%' OR id = ?)`, also)
	if err != nil {
		return fmt.Errorf("find administrators: %w", err)
	}
	type admin struct {
		id          int64
		email, name string
	}
	var admins []admin
	for rows.Next() {
		var a admin
		if err := rows.Scan(&a.id, &a.email, &a.name); err != nil {
			_ = rows.Close() // the scan error is the one to report
			return err
		}
		admins = append(admins, a)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, a := range admins {
		if err := queueNotice(ctx, tx, &app.Message{DedupeKey: fmt.Sprintf("role:%d:%d", changeID, a.id), Kind: app.MailRoleChange,
			EmployeeID: &a.id, AboutID: &changeID, ToAddr: a.email, ToName: a.name}, now); err != nil {
			return err
		}
	}
	return nil
}

const addressSelect = `SELECT a.id, a.request_id, a.action, a.employee_id, a.old_email, a.new_email, a.actor_id, a.at,
	e.employee_number, e.full_name, COALESCE(x.full_name, '')
	FROM address_changes a JOIN employees e ON e.id = a.employee_id LEFT JOIN employees x ON x.id = a.actor_id`

// PendingAddressChanges lists requests nobody has decided, oldest first.
func (s *IdentityService) PendingAddressChanges(ctx context.Context, limit int) ([]*app.AddressChange, int, error) {
	const pending = `a.action = 'request' AND NOT EXISTS (SELECT 1 FROM address_changes d WHERE d.request_id = a.id)`
	var total int
	if err := s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM address_changes a WHERE `+pending).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count address changes: %w", err)
	}
	out, err := s.withNames(ctx, s.db.read, `WHERE `+pending+` ORDER BY a.id LIMIT ?`, limit)
	return out, total, err
}

// AddressChanges returns every step about one person, oldest first.
func (s *IdentityService) AddressChanges(ctx context.Context, employeeID int64) ([]*app.AddressChange, error) {
	return s.withNames(ctx, s.db.read, `WHERE a.employee_id = ? ORDER BY a.id`, employeeID)
}

// FindAddressChange returns one step.
func (s *IdentityService) FindAddressChange(ctx context.Context, id int64) (*app.AddressChange, error) {
	cs, err := s.withNames(ctx, s.db.read, `WHERE a.id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, app.Errorf(app.ENOTFOUND, "Address change not found.")
	}
	return cs[0], nil
}

// withNames runs addressSelect and fills in the display names.
func (s *IdentityService) withNames(ctx context.Context, q querier, tail string, args ...any) ([]*app.AddressChange, error) {
	rows, err := q.QueryContext(ctx, addressSelect+` `+tail, args...) // #nosec G202 -- constant SQL fragments
	if err != nil {
		return nil, fmt.Errorf("find address changes: %w", err)
	}
	defer rows.Close()
	var out []*app.AddressChange
	for rows.Next() {
		var num, name, actor string
		c, err := scanAddressChange(rows, &num, &name, &actor)
		if err != nil {
			return nil, fmt.Errorf("scan address change: %w", err)
		}
		c.EmployeeNumber, c.EmployeeName, c.ActorName = num, name, actor
		out = append(out, c)
	}
	return out, rows.Err()
}

// DecideAddressChanges approves or refuses requests in one transaction.
// Approving moves each address; addresses may move between the people
// approved together (a swap), but never onto someone else's.
func (s *IdentityService) DecideAddressChanges(ctx context.Context, ids []int64, approve bool, actorID int64) error {
	if len(ids) == 0 {
		return app.Errorf(app.EINVALID, "Choose at least one address change.")
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var reqs []*app.AddressChange
	for _, id := range ids {
		cs, err := s.withNames(ctx, tx, `WHERE a.id = ? AND a.action = 'request'`, id)
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			return app.Errorf(app.ENOTFOUND, "Address change not found.")
		}
		c := cs[0]
		var decided int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM address_changes WHERE request_id = ?`, id).Scan(&decided); err != nil {
			return fmt.Errorf("read decision: %w", err)
		}
		if decided > 0 {
			return app.Errorf(app.ECONFLICT, "The change of %s's address to %s has already been decided.", c.EmployeeName, c.NewEmail)
		}
		if c.ActorID != nil && *c.ActorID == actorID {
			return app.Errorf(app.EFORBIDDEN, "You uploaded the change of %s's address, so someone else must decide it.", c.EmployeeName)
		}
		if c.EmployeeID == actorID {
			return app.Errorf(app.EFORBIDDEN, "Someone else must decide a change of your own address.")
		}
		reqs = append(reqs, c)
	}
	now := s.db.Now().UTC()
	ch := &changeWriter{db: s.db, ctx: ctx, tx: tx, at: now, actor: &actorID, source: "address change approved"}
	action := app.AddressReject
	if approve {
		action = app.AddressApprove
		if err := s.move(ctx, tx, reqs, now); err != nil {
			return err
		}
	}
	for _, r := range reqs {
		rid := r.ID
		if err := ch.addressStep(&app.AddressChange{RequestID: &rid, Action: action, EmployeeID: r.EmployeeID,
			OldEmail: r.OldEmail, NewEmail: r.NewEmail}); err != nil {
			return err
		}
		if approve {
			ch.source = "address change " + strconv.FormatInt(r.ID, 10) + " approved"
			if _, err := ch.record(r.EmployeeID, r.EmployeeNumber, []app.FieldChange{{Field: app.FieldEmail, Old: r.OldEmail, New: r.NewEmail}}); err != nil {
				return err
			}
		}
	}
	if err := ch.flush(); err != nil {
		return err
	}
	return tx.Commit()
}

// move gives each approved request's person their new address.
func (s *IdentityService) move(ctx context.Context, tx *sql.Tx, reqs []*app.AddressChange, now time.Time) error {
	moving := map[int64]bool{}
	for _, r := range reqs {
		if moving[r.EmployeeID] {
			return app.Errorf(app.ECONFLICT, "Two changes of %s's address were chosen; approve one of them.", r.EmployeeName)
		}
		moving[r.EmployeeID] = true
		var current string
		if err := tx.QueryRowContext(ctx, `SELECT email FROM employees WHERE id = ?`, r.EmployeeID).Scan(&current); err != nil {
			return fmt.Errorf("read address: %w", err)
		}
		if current != r.OldEmail {
			return app.Errorf(app.ECONFLICT, "%s's address is now %s, not %s as when the change was asked for: refuse this change and upload the roster again.", r.EmployeeName, current, r.OldEmail)
		}
	}
	for _, r := range reqs {
		var owner int64
		var number string
		err := tx.QueryRowContext(ctx, `SELECT id, employee_number FROM employees WHERE email = ?`, r.NewEmail).Scan(&owner, &number)
		if err == nil && !moving[owner] {
			return app.Errorf(app.ECONFLICT, "%s belongs to employee %s. If their address is changing too, approve both changes together.", r.NewEmail, number)
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check address: %w", err)
		}
	}
	for _, r := range reqs { // park first: addresses may swap
		if _, err := tx.ExecContext(ctx, `UPDATE employees SET email = ? WHERE id = ?`, fmt.Sprintf("#moving-%d", r.EmployeeID), r.EmployeeID); err != nil {
			return fmt.Errorf("park address: %w", err)
		}
	}
	for _, r := range reqs {
		if _, err := tx.ExecContext(ctx, `UPDATE employees SET email = ?, updated_at = ? WHERE id = ?`, r.NewEmail, formatTime(now), r.EmployeeID); err != nil {
			return fmt.Errorf("change address: %w", err)
		}
	}
	return nil
}

// History returns every logged change to a person's record, oldest first.
func (s *IdentityService) History(ctx context.Context, employeeID int64, limit int) ([]*app.RosterChange, int, error) {
	var total int
	if err := s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM roster_changes WHERE employee_id = ?`, employeeID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count roster history: %w", err)
	}
	out, err := s.history(ctx, employeeID, limit)
	slices.Reverse(out)
	return out, total, err
}

// history returns the newest changes to one person's record, newest first.
func (s *IdentityService) history(ctx context.Context, employeeID int64, limit int) ([]*app.RosterChange, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT c.id, c.at, c.actor_id, c.source, c.employee_id, c.employee_number, c.changes,
		COALESCE(x.full_name, '') FROM roster_changes c LEFT JOIN employees x ON x.id = c.actor_id
		WHERE c.employee_id = ? ORDER BY c.id DESC LIMIT ?`, employeeID, limit)
	if err != nil {
		return nil, fmt.Errorf("find roster history: %w", err)
	}
	defer rows.Close()
	var out []*app.RosterChange
	for rows.Next() {
		var actor string
		c, err := scanRosterChange(rows, &actor)
		if err != nil {
			return nil, err
		}
		c.ActorName = actor
		out = append(out, c)
	}
	return out, rows.Err()
}

// FindRosterChange returns one roster change.
func (s *IdentityService) FindRosterChange(ctx context.Context, id int64) (*app.RosterChange, error) {
	var actor string
	c, err := scanRosterChange(s.db.read.QueryRowContext(ctx, `SELECT c.id, c.at, c.actor_id, c.source, c.employee_id,
		c.employee_number, c.changes, COALESCE(x.full_name, '') FROM roster_changes c LEFT JOIN employees x ON x.id = c.actor_id
		WHERE c.id = ?`, id), &actor)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Roster change not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find roster change: %w", err)
	}
	c.ActorName = actor
	return c, nil
}

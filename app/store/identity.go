package store

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

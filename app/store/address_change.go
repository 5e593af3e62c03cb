package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"portal/app"
)

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

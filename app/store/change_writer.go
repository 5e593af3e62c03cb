package store

import (
	"context"
	"database/sql"
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

package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"portal/app"
	"portal/app/evidence"
)

// upgrades are Go steps run right after a migration file, in its transaction.
var upgrades = map[string]func(ctx context.Context, db *DB, tx *sql.Tx) error{
	"migrations/005_evidence_log.sql": upgradeToLog,
}

// upgradeToLog builds the evidence log of a database made before it, once:
// first every record of the old chain, in the chain's order; then the
// published policy versions; then the cycle version changes the audit log
// recorded; then each person's roster record as it stands, as the first
// entry of their history. The old chain stays, and is still checked.
func upgradeToLog(ctx context.Context, db *DB, tx *sql.Tx) error {
	var a *appender
	add := func(leaf evidence.Leaf) error {
		if a == nil {
			var err error
			if a, err = db.newAppender(ctx, tx); err != nil {
				return fmt.Errorf("upgrading this database to the evidence log: %w", err)
			}
		}
		_, err := a.add(leaf)
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT kind, ref_id FROM chain ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("read chain: %w", err)
	}
	type ref struct {
		kind string
		id   int64
	}
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.kind, &r.id); err != nil {
			_ = rows.Close() // the scan error is the one to report
			return fmt.Errorf("read chain: %w", err)
		}
		refs = append(refs, r)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	kinds := recordKindsAt005()
	for _, r := range refs {
		kind := chainLogKinds[r.kind]
		leaf, _, ok, err := readLeafOf(ctx, tx, kinds, kind, r.id)
		if err != nil {
			return err
		}
		if !ok {
			continue // the chain's own check names it
		}
		if err := add(leaf); err != nil {
			return err
		}
	}
	if err := upgradeEach(ctx, tx, evidence.KindPolicyVersion, `SELECT id FROM policy_versions ORDER BY id`, add); err != nil {
		return err
	}
	if err := upgradeCycleVersions(ctx, db, tx, add); err != nil {
		return err
	}
	return upgradeRoster(ctx, db, tx, add)
}

// upgradeEach appends the records of kind whose ids query returns.
func upgradeEach(ctx context.Context, tx *sql.Tx, kind, query string, add func(evidence.Leaf) error) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("read %s: %w", kind, err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close() // the scan error is the one to report
			return err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, id := range ids {
		leaf, _, ok, err := readLeaf(ctx, tx, kind, id)
		if err != nil {
			return err
		}
		if ok {
			if err := add(leaf); err != nil {
				return err
			}
		}
	}
	return nil
}

// upgradeCycleVersions turns the audit log's "cycle.version_changed" events
// ("now 2026.2 (material)") into cycle version records.
func upgradeCycleVersions(ctx context.Context, db *DB, tx *sql.Tx, add func(evidence.Leaf) error) error {
	rows, err := tx.QueryContext(ctx, `SELECT v.subject_id, v.detail, v.at, v.actor_id, p.id FROM audit_events v
		JOIN policy_versions p ON v.detail LIKE 'now ' || p.code || ' (%'
		WHERE v.action = 'cycle.version_changed' ORDER BY v.id`)
	if err != nil {
		return fmt.Errorf("read cycle version events: %w", err)
	}
	var changes []*app.CycleVersionChange
	for rows.Next() {
		c := &app.CycleVersionChange{}
		var detail, at string
		var actor sql.NullInt64
		if err := rows.Scan(&c.CycleID, &detail, &at, &actor, &c.ToVersionID); err != nil {
			_ = rows.Close() // the scan error is the one to report
			return err
		}
		c.Material = strings.HasSuffix(detail, "(material)")
		c.At = parseTime(at)
		if actor.Valid {
			c.ActorID = &actor.Int64
		}
		changes = append(changes, c)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	last := map[int64]int64{}
	for _, c := range changes {
		from, ok := last[c.CycleID]
		if !ok { // the version before the first change: the oldest any signature of the cycle used
			err := tx.QueryRowContext(ctx, `SELECT COALESCE(MIN(policy_version_id), ?) FROM acknowledgments WHERE cycle_id = ?`,
				c.ToVersionID, c.CycleID).Scan(&from)
			if err != nil {
				return err
			}
		}
		c.FromVersionID = from
		last[c.CycleID] = c.ToVersionID
		if err := insertCycleVersion(ctx, tx, c); err != nil {
			return err
		}
		if err := add(evidence.CycleVersionLeaf(c)); err != nil {
			return err
		}
	}
	return nil
}

// upgradeRoster logs each person's record as it stands as the first entry
// of their history.
func upgradeRoster(ctx context.Context, db *DB, tx *sql.Tx, add func(evidence.Leaf) error) error {
	current, err := loadStoredFrom(ctx, tx, "''", "")
	if err != nil {
		return err
	}
	byID := make([]*stored, 0, len(current))
	for _, st := range current {
		byID = append(byID, st)
	}
	sortStoredByID(byID)
	now := db.Now().UTC()
	for _, st := range byID {
		c := &app.RosterChange{At: now, Source: "state at upgrade", EmployeeID: st.id, EmployeeNumber: st.number(),
			Changes: diffFields(nil, st.f)}
		if err := insertRosterChange(ctx, tx, c); err != nil {
			return err
		}
		if err := add(evidence.RosterChangeLeaf(c)); err != nil {
			return err
		}
	}
	return nil
}

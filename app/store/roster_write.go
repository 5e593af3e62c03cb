package store

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"portal/app"
)

// An import's write transactions aim to hold the write lock for about
// importBatchTime each: the size of the next batch follows how long the
// last one took, between minBatchRows and maxBatchRows people, starting at
// firstBatchRows. On a quiet machine a batch is a thousand or two people.
const (
	importBatchTime = 150 * time.Millisecond
	firstBatchRows  = 1000
	minBatchRows    = 50
	maxBatchRows    = 10_000
)

// nextBatchRows sizes the next batch from the last: n people took d.
func nextBatchRows(n int, d time.Duration) int {
	if d <= 0 {
		return min(2*n, maxBatchRows)
	}
	next := int(float64(n) * float64(importBatchTime) / float64(d))
	return max(minBatchRows, min(next, 2*n, maxBatchRows)) // grow at most twofold a batch
}

// importItem is one person's part of an import: their row written (added,
// updated or reactivated), a new address held for approval, or their
// deactivation.
type importItem struct {
	p       *planned // the row, unless a deactivation
	write   bool     // insert or update p
	request bool     // p.newEmail waits for approval
	off     *stored  // deactivate this person
}

// units lists what the import writes, in order, as units that can each be
// committed alone (a batch is whole units) and leave the roster whole:
//
//   - people whose addresses move between them (A takes B's, B takes C's)
//     are one unit, whose batch parks the addresses it moves first;
//   - a new manager comes in a unit before the people who report to them,
//     so every manager_id written exists.
//
// People stay in file order as far as that allows; deactivations come
// last. If the rows' links loop (possible only through moving addresses),
// everything is one unit.
func (pl *importPlan) units() [][]*importItem {
	items := make([]*importItem, 0, len(pl.inserts)+len(pl.updates)+len(pl.requests))
	byNumber := make(map[string]int, cap(items))
	for _, set := range [][]*planned{pl.inserts, pl.updates} {
		for _, p := range set {
			items = append(items, &importItem{p: p, write: true})
		}
	}
	slices.SortStableFunc(items, func(a, b *importItem) int { return a.p.row.Line - b.p.row.Line })
	for i, it := range items {
		byNumber[it.p.row.EmployeeNumber] = i
	}
	for _, p := range pl.requests {
		if i, ok := byNumber[p.row.EmployeeNumber]; ok {
			items[i].request = true
			continue
		}
		byNumber[p.row.EmployeeNumber] = len(items)
		items = append(items, &importItem{p: p, request: true})
	}

	// Units: items that must commit together (moving addresses), by index;
	// nearly every item is a unit of its own.
	parent := make([]int, len(items))
	for i := range parent {
		parent[i] = i
	}
	root := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i, it := range items {
		if !it.write {
			continue
		}
		// A row taking an address someone else of the file gives up.
		if j, ok := byNumber[pl.emailOwner[strings.ToLower(it.p.fields[app.FieldEmail])]]; ok && j != i {
			if a, b := root(i), root(j); a != b {
				parent[max(a, b)] = min(a, b)
			}
		}
	}
	members := make([][]int, len(items)) // by root
	for i := range items {
		r := root(i)
		members[r] = append(members[r], i)
	}
	// Each unit after the units of the new managers its people report to.
	order := make([]int, 0, len(items))
	state := make([]uint8, len(items)) // 1 visiting, 2 done
	loop := false
	var visit func(r int)
	visit = func(r int) {
		switch state[r] {
		case 1:
			loop = true
			return
		case 2:
			return
		}
		state[r] = 1
		for _, i := range members[r] {
			if it := items[i]; it.write {
				if m, ok := byNumber[it.p.row.ManagerNumber]; ok && items[m].write && items[m].p.st == nil {
					if mr := root(m); mr != r {
						visit(mr)
					}
				}
			}
		}
		state[r] = 2
		order = append(order, members[r]...)
	}
	for r := range items {
		if root(r) == r {
			visit(r)
		}
	}
	if loop { // one unit, in file order: every link is inside it
		all := make([]*importItem, len(items))
		copy(all, items)
		units := [][]*importItem{all}
		for _, st := range pl.deactivate {
			units = append(units, []*importItem{{off: st}})
		}
		return units
	}
	units := make([][]*importItem, 0, len(order)+len(pl.deactivate))
	for k := 0; k < len(order); {
		ms := members[root(order[k])]
		u := make([]*importItem, len(ms))
		for j, i := range ms {
			u[j] = items[i]
		}
		units = append(units, u)
		k += len(ms)
	}
	for _, st := range pl.deactivate {
		units = append(units, []*importItem{{off: st}})
	}
	return units
}

// importWriter writes an import's batches, one transaction each.
type importWriter struct {
	db   *DB
	opts app.ImportOptions
	sum  *app.ImportSummary
	at   time.Time
	// ids maps employee numbers to ids: everyone stored when the import
	// was planned, and everyone it has added since.
	ids map[string]int64
	// locked is when the last batch got the write lock.
	locked time.Time
	// ended is the people whose poster authorizations the last batch
	// ended (deactivated or moved to another agency).
	ended []int64
}

// errRosterMoved is the answer when someone else changed a person of the
// batch between the plan and its write.
func errRosterMoved(number string) error {
	return app.Errorf(app.ECONFLICT, "The roster changed while this file was being imported (employee %s was changed by someone else). "+
		"What was imported before that is kept; import the same file again to finish.", number)
}

// write commits one batch: its people, their roster change records and log
// entries, their assignments, and on the last batch the import's audit
// event.
func (w *importWriter) write(ctx context.Context, batch []*importItem, last bool) error {
	tx, err := w.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	w.locked = time.Now()
	if err := w.checkUnchanged(ctx, tx, batch); err != nil {
		return err
	}
	ch := &changeWriter{db: w.db, ctx: ctx, tx: tx, at: w.at, actor: w.opts.ActorID, source: w.opts.Source}
	now := formatTime(w.at)
	touched := make([]any, 0, len(batch))
	var invite []any // the people added or reactivated: invited at once
	// Addresses may move between people of the batch: park the changing
	// ones first so the UNIQUE index never sees two owners mid-way.
	for _, it := range batch {
		if it.write && it.p.st != nil && it.p.fields[app.FieldEmail] != it.p.st.email() {
			st := it.p.st
			if _, err := tx.ExecContext(ctx, `UPDATE employees SET email = ? WHERE id = ?`, fmt.Sprintf("#moving-%d", st.id), st.id); err != nil {
				return fmt.Errorf("park address of %s: %w", st.number(), err)
			}
		}
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO employees (employee_number, full_name, email, agency, department, title,
		hire_date, roles, bargaining_unit, signature_name, manager_id, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`)
	if err != nil {
		return fmt.Errorf("prepare insert: %w", err)
	}
	defer ins.Close()
	upd, err := tx.PrepareContext(ctx, `UPDATE employees SET full_name = ?, email = ?, agency = ?, department = ?, title = ?,
		hire_date = ?, roles = ?, bargaining_unit = ?, signature_name = ?, active = 1, updated_at = ? WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("prepare update: %w", err)
	}
	defer upd.Close()
	added := map[string]int64{} // kept in w.ids once committed
	id := func(number string) int64 {
		if id, ok := added[number]; ok {
			return id
		}
		return w.ids[number]
	}
	var managers []*planned // rows whose manager is set after the batch's inserts
	for _, it := range batch {
		if !it.write {
			continue
		}
		p, f := it.p, it.p.fields
		if p.st == nil {
			var m any
			if mgr := id(p.row.ManagerNumber); mgr != 0 {
				m = mgr
			} else if p.row.ManagerNumber != "" {
				managers = append(managers, p)
			}
			var newID int64
			err := ins.QueryRowContext(ctx, f[app.FieldEmployeeNumber], f[app.FieldFullName], f[app.FieldEmail], f[app.FieldAgency],
				f[app.FieldDepartment], f[app.FieldTitle], f[app.FieldHireDate], f[app.FieldRoles], f[app.FieldBargainingUnit], f[app.FieldSignatureName], m, now, now).Scan(&newID)
			if isUniqueViolation(err) {
				return errRosterMoved(p.row.EmployeeNumber)
			}
			if err != nil {
				return fmt.Errorf("line %d: insert %s: %w", p.row.Line, p.row.EmployeeNumber, err)
			}
			added[p.row.EmployeeNumber] = newID
			touched = append(touched, newID)
			invite = append(invite, newID)
			if _, err := ch.record(newID, p.row.EmployeeNumber, p.changes); err != nil {
				return err
			}
			continue
		}
		_, err := upd.ExecContext(ctx, f[app.FieldFullName], f[app.FieldEmail], f[app.FieldAgency], f[app.FieldDepartment],
			f[app.FieldTitle], f[app.FieldHireDate], f[app.FieldRoles], f[app.FieldBargainingUnit], f[app.FieldSignatureName], now, p.st.id)
		if isUniqueViolation(err) {
			return errRosterMoved(p.row.EmployeeNumber)
		}
		if err != nil {
			return fmt.Errorf("line %d: update %s: %w", p.row.Line, p.row.EmployeeNumber, err)
		}
		touched = append(touched, p.st.id)
		if !p.st.active() {
			invite = append(invite, p.st.id)
		}
		if p.st.f[app.FieldManager] != p.row.ManagerNumber {
			managers = append(managers, p)
		}
		if _, err := ch.record(p.st.id, p.st.number(), p.changes); err != nil {
			return err
		}
	}
	for _, p := range managers {
		var m any
		if p.row.ManagerNumber != "" {
			mgr := id(p.row.ManagerNumber)
			if mgr == 0 {
				return fmt.Errorf("line %d: manager %s of %s is not written yet", p.row.Line, p.row.ManagerNumber, p.row.EmployeeNumber)
			}
			m = mgr
		}
		if _, err := tx.ExecContext(ctx, `UPDATE employees SET manager_id = ? WHERE id = ?`, m, id(p.row.EmployeeNumber)); err != nil {
			return fmt.Errorf("line %d: set manager of %s: %w", p.row.Line, p.row.EmployeeNumber, err)
		}
	}
	for _, it := range batch {
		if st := it.off; st != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE employees SET active = 0, updated_at = ? WHERE id = ?`, now, st.id); err != nil {
				return fmt.Errorf("deactivate: %w", err)
			}
			touched = append(touched, st.id)
			if _, err := ch.record(st.id, st.number(), []app.FieldChange{{Field: app.FieldActive, Old: "true", New: "false"}}); err != nil {
				return err
			}
		}
	}
	for _, it := range batch {
		if it.request {
			p := it.p
			if err := ch.requestAddress(p.st.id, p.st.number(), p.st.email(), p.newEmail); err != nil {
				return err
			}
		}
	}
	if err := ch.flush(); err != nil {
		return err
	}
	// A supervisor the file deactivates or moves to another agency stops
	// being its supervisor with the same change.
	if err := w.db.endDesignationsAfterRoster(ctx, tx, touched, ch.at); err != nil {
		return err
	}
	// Someone deactivated or moved to another agency posts no more for the
	// agency: their authorizations end with the change that caused it.
	ended, err := w.db.endAuthorizationsAfterRoster(ctx, tx, touched, ch.at)
	if err != nil {
		return err
	}
	// The operator's file may grant or remove hr and admin: every
	// administrator hears of it, as of a change on the roles page.
	for _, id := range ch.roleChanges {
		if err := notifyAdmins(ctx, tx, id, 0, ch.at); err != nil {
			return err
		}
	}
	if err := w.db.foldNames(ctx, tx); err != nil {
		return err
	}
	if len(touched) > 0 {
		if err := w.db.syncAssignments(ctx, tx, "1 = 1", "e.id IN ("+placeholders(len(touched))+")", touched...); err != nil {
			return err
		}
	}
	if len(invite) > 0 {
		n, err := queueInvitations(ctx, tx, w.at, app.Today(w.at, w.db.Location), invite)
		if err != nil {
			return err
		}
		w.sum.Invitations += n
	}
	if last {
		sum := w.sum
		if err := w.db.appendAudit(ctx, tx, &app.AuditEvent{At: ch.at, ActorID: w.opts.ActorID, Action: "roster.imported",
			SubjectType: "roster", Detail: fmt.Sprintf("%s: %d rows, %d added, %d updated, %d reactivated, %d deactivated, %d unchanged, %d addresses awaiting approval, %d invitations queued",
				w.opts.Source, sum.Rows, sum.Added, sum.Updated, sum.Reactivated, sum.Deactivated, sum.Unchanged, sum.AddressChanges, sum.Invitations)}); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit roster import: %w", err)
	}
	maps.Copy(w.ids, added)
	w.ended = ended
	// Once the WAL passes half its limit, copy it back into the database
	// file and empty it now, between batches: the checkpointer's own
	// passes, 100 ms apart, rarely catch up between batches, and the WAL
	// would grow by every batch to tens of megabytes. The writer has no
	// busy timeout, so this waits for nobody: if a reader or the
	// checkpointer is in the way it does what it can, and the next batch
	// tries again.
	if st, err := os.Stat(w.db.Path + "-wal"); err == nil && st.Size() > journalSizeLimit/2 {
		var busy, frames, copied int64
		_ = w.db.write.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied) // #nosec G104 -- see above
	}
	return nil
}

// checkUnchanged makes sure the stored people the batch changes are as the
// plan read them: the import planned from one read, and another writer
// (an HR user, another import) may have changed someone since. New people
// need no check: an employee number or address taken meanwhile fails its
// insert.
func (w *importWriter) checkUnchanged(ctx context.Context, tx querier, batch []*importItem) error {
	var ids []any
	want := map[int64]*stored{}
	for _, it := range batch {
		st := it.off
		if it.p != nil {
			st = it.p.st
		}
		if st != nil {
			ids = append(ids, st.id)
			want[st.id] = st
		}
	}
	if len(ids) == 0 {
		return nil
	}
	now, err := loadStored(ctx, tx, "e.id IN ("+placeholders(len(ids))+")", ids...)
	if err != nil {
		return err
	}
	for _, st := range want {
		cur, ok := now[st.number()]
		if !ok || cur.id != st.id || !maps.Equal(cur.f, st.f) {
			return errRosterMoved(st.number())
		}
	}
	return nil
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

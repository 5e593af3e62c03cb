package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
	"portal/app/evidence"
)

// VerifyLog checks the whole evidence log in one read snapshot: every
// record re-read from its table and re-hashed from its canonical form, the
// tree rebuilt from those hashes, every seal (with the key), every signed
// checkpoint (the one given and those stored); then that no evidence row is
// missing from the log, that the roster as stored is what its logged
// changes add up to, that the official documents are the ones their
// versions list (checkDocuments), and that the scans of paper forms are the
// ones their acknowledgments name (checkPaperScans).
func (db *DB) VerifyLog(ctx context.Context, opts evidence.VerifyOptions) (*evidence.Report, error) {
	tx, err := db.read.BeginTx(ctx, db.snapshot())
	if err != nil {
		return nil, fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	src := &verifySource{tx: tx, unlogged: map[string]int64{}}
	rep, err := evidence.Verify(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	if rep.Problem != nil {
		return rep, nil
	}
	kinds := make([]string, 0, len(recordKinds))
	for k := range recordKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		id, err := src.firstUnlogged(ctx, k)
		if err != nil {
			return nil, err
		}
		if id > 0 {
			rep.Problem = &evidence.Problem{Index: -1, Kind: k, RefID: id,
				Reason: fmt.Sprintf("%s %d is not in the evidence log (it was inserted outside the portal)", k, id)}
			return rep, nil
		}
	}
	if rep.Problem, err = checkRoster(ctx, tx); err != nil {
		return nil, err
	}
	if rep.Problem == nil {
		if rep.Problem, err = checkDocuments(ctx, tx); err != nil {
			return nil, err
		}
	}
	if rep.Problem == nil {
		if rep.Problem, err = checkPaperScans(ctx, tx); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// verifySource implements evidence.Source over a read transaction. It walks
// each kind's table in id order beside the log, so a million entries cost a
// few sequential scans rather than a million lookups.
type verifySource struct {
	tx       *sql.Tx
	cursors  map[string]*kindCursor
	unlogged map[string]int64 // the first row of each kind the log skipped
}

type kindCursor struct {
	rk      recordKind
	tx      *sql.Tx
	batch   []cursorRow // read ahead, in id order
	last    int64       // the last id read into a batch
	drained bool        // the table has no row after last
	done    bool
	id      int64
	leaf    evidence.Leaf
	problem string
	looked  map[int64]bool // ids read out of order, by a lookup
}

type cursorRow struct {
	id      int64
	leaf    evidence.Leaf
	problem string
}

// verifyBatch is how many rows a cursor reads at a time. The walk reads
// each table in batches rather than through open result sets: PostgreSQL
// runs one statement at a time on a connection, and the walk moves a cursor
// per kind of record beside the log's own.
const verifyBatch = 2000

func (c *kindCursor) next(ctx context.Context) error {
	if c.done {
		return nil
	}
	if len(c.batch) == 0 {
		if c.drained {
			c.done = true
			return nil
		}
		if err := c.fill(ctx); err != nil {
			return err
		}
		if len(c.batch) == 0 {
			c.done = true
			return nil
		}
	}
	r := c.batch[0]
	c.batch = c.batch[1:]
	c.id, c.leaf, c.problem = r.id, r.leaf, r.problem
	return nil
}

func (c *kindCursor) fill(ctx context.Context) error {
	rows, err := c.tx.QueryContext(ctx, `SELECT `+c.rk.columns+` FROM `+c.rk.table+` WHERE id > ? ORDER BY id LIMIT ?`, c.last, verifyBatch) // #nosec G202 -- from recordKinds
	if err != nil {
		return fmt.Errorf("read %s: %w", c.rk.table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r cursorRow
		var err error
		if r.id, r.leaf, r.problem, err = c.rk.leaf(rows); err != nil {
			return err
		}
		c.batch = append(c.batch, r)
		c.last = r.id
	}
	c.drained = len(c.batch) < verifyBatch
	return rows.Err()
}

func (s *verifySource) cursor(ctx context.Context, kind string) (*kindCursor, error) {
	if c, ok := s.cursors[kind]; ok {
		return c, nil
	}
	rk, ok := recordKinds[kind]
	if !ok {
		return nil, nil
	}
	c := &kindCursor{rk: rk, tx: s.tx, looked: map[int64]bool{}}
	if s.cursors == nil {
		s.cursors = map[string]*kindCursor{}
	}
	s.cursors[kind] = c
	return c, c.next(ctx)
}

// Entries calls fn for every entry in index order with its record re-read.
func (s *verifySource) Entries(ctx context.Context, fn func(*evidence.StoredEntry) error) error {
	last := int64(-1)
	for {
		batch, err := s.entries(ctx, last)
		if err != nil {
			return err
		}
		for _, e := range batch {
			c, err := s.cursor(ctx, e.Kind)
			if err != nil {
				return err
			}
			if c == nil {
				e.Problem = "the entry names an unknown kind of record"
				leaf := evidence.Leaf{Kind: e.Kind, RefID: e.RefID}
				e.Leaf = &leaf
			} else if err := s.find(ctx, c, e); err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return err
			}
			last = e.Index
		}
		if len(batch) < verifyBatch {
			return nil
		}
	}
}

// entries reads the batch of log entries after index last.
func (s *verifySource) entries(ctx context.Context, last int64) ([]*evidence.StoredEntry, error) {
	rows, err := s.tx.QueryContext(ctx, `SELECT idx, kind, ref_id, hash, seal FROM log_entries WHERE idx > ? ORDER BY idx LIMIT ?`, last, verifyBatch)
	if err != nil {
		return nil, fmt.Errorf("read log entries: %w", err)
	}
	defer rows.Close()
	var out []*evidence.StoredEntry
	for rows.Next() {
		e := &evidence.StoredEntry{}
		var h []byte
		if err := rows.Scan(&e.Index, &e.Kind, &e.RefID, &h, &e.Seal); err != nil {
			return nil, fmt.Errorf("read log entries: %w", err)
		}
		copy(e.Hash[:], h)
		out = append(out, e)
	}
	return out, rows.Err()
}

// find sets e's record from the kind's cursor, noting rows it skips.
func (s *verifySource) find(ctx context.Context, c *kindCursor, e *evidence.StoredEntry) error {
	for !c.done && c.id < e.RefID {
		if !c.looked[c.id] {
			if _, seen := s.unlogged[e.Kind]; !seen {
				s.unlogged[e.Kind] = c.id
			}
		}
		if err := c.next(ctx); err != nil {
			return err
		}
	}
	if !c.done && c.id == e.RefID {
		leaf := c.leaf
		e.Leaf, e.Problem = &leaf, c.problem
		return c.next(ctx)
	}
	// Out of order, or missing: look it up.
	leaf, problem, ok, err := readLeaf(ctx, s.tx, e.Kind, e.RefID)
	if err != nil {
		return err
	}
	if ok {
		c.looked[e.RefID] = true
		e.Leaf, e.Problem = &leaf, problem
	}
	return nil
}

// firstUnlogged returns the first row of a kind that has no entry, or 0.
func (s *verifySource) firstUnlogged(ctx context.Context, kind string) (int64, error) {
	if id, ok := s.unlogged[kind]; ok {
		return id, nil
	}
	rk := recordKinds[kind]
	var id int64
	err := s.tx.QueryRowContext(ctx, `SELECT t.id FROM `+rk.table+` t WHERE NOT EXISTS (
		SELECT 1 FROM log_entries l WHERE l.kind = ? AND l.ref_id = t.id) ORDER BY t.id LIMIT 1`, kind).Scan(&id) // #nosec G202 -- from recordKinds
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("look for %s outside the log: %w", kind, err)
	}
	return id, nil
}

// StoredHashes calls fn for every stored tree hash in storage order.
func (s *verifySource) StoredHashes(ctx context.Context, fn func(int64, tlog.Hash) error) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT id, hash FROM log_hashes ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read log hashes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return fmt.Errorf("read log hashes: %w", err)
		}
		var x tlog.Hash
		copy(x[:], h)
		if err := fn(id, x); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Checkpoints returns every stored checkpoint, oldest first.
func (s *verifySource) Checkpoints(ctx context.Context) ([]*app.SignedCheckpoint, error) {
	return (&LogStore{}).checkpoints(ctx, s.tx, `ORDER BY id`)
}

// checkRoster replays every logged roster change and compares the result
// with the roster as stored: a person's row edited outside the portal (an
// address re-pointed, a role added) no longer matches.
func checkRoster(ctx context.Context, tx *sql.Tx) (*evidence.Problem, error) {
	state := map[int64]map[string]string{}
	rows, err := tx.QueryContext(ctx, `SELECT `+rosterChangeColumns+` FROM roster_changes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read roster changes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanRosterChange(rows)
		if err != nil {
			return nil, err
		}
		st := state[c.EmployeeID]
		if st == nil {
			st = map[string]string{}
			state[c.EmployeeID] = st
		}
		for _, f := range c.Changes {
			if st[f.Field] != f.Old {
				return &evidence.Problem{Index: -1, Kind: evidence.KindRosterChange, RefID: c.ID, Reason: fmt.Sprintf(
					"roster change %d says employee %s's %s was %q, but the changes before it left %q (a change is missing)",
					c.ID, c.EmployeeNumber, f.Field, f.Old, st[f.Field])}, nil
			}
			st[f.Field] = f.New
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	emps, err := tx.QueryContext(ctx, `SELECT e.id, e.employee_number, e.full_name, e.email, e.agency, e.department, e.title,
		COALESCE(m.employee_number, ''), e.hire_date, e.roles, e.bargaining_unit, e.active, e.signature_name
		FROM employees e LEFT JOIN employees m ON m.id = e.manager_id ORDER BY e.id`)
	if err != nil {
		return nil, fmt.Errorf("read roster: %w", err)
	}
	defer emps.Close()
	for emps.Next() {
		var id int64
		var active bool
		var roles string
		v := map[string]string{}
		var num, name, email, agency, dept, title, mgr, hire, bu, sig string
		if err := emps.Scan(&id, &num, &name, &email, &agency, &dept, &title, &mgr, &hire, &roles, &bu, &active, &sig); err != nil {
			return nil, fmt.Errorf("read roster: %w", err)
		}
		v[app.FieldEmployeeNumber], v[app.FieldFullName], v[app.FieldEmail], v[app.FieldAgency] = num, name, email, agency
		v[app.FieldDepartment], v[app.FieldTitle], v[app.FieldManager], v[app.FieldHireDate] = dept, title, mgr, hire
		v[app.FieldRoles], v[app.FieldBargainingUnit], v[app.FieldActive] = normalRoles(roles), bu, strconv.FormatBool(active)
		v[app.FieldSignatureName] = sig
		st := state[id]
		for _, f := range app.RosterFields {
			if st[f] != v[f] {
				return &evidence.Problem{Index: -1, Kind: "employee", RefID: id, Reason: fmt.Sprintf(
					"employee %s's %s is %q in the roster, but the evidence log says %q (it was changed outside the portal)",
					num, f, v[f], st[f])}, nil
			}
		}
	}
	return nil, emps.Err()
}

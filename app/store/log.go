package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
	"portal/app/evidence"
)

// The evidence log lives in three append-only tables: log_entries (one row
// an entry: its kind, its record's id, its leaf hash and its seal),
// log_hashes (the Merkle tree's stored hashes, by tlog storage index) and
// log_checkpoints (every signed checkpoint). Each record is appended in the
// transaction that writes it, so a record and its entry commit together or
// not at all; the single writer makes the append order the commit order.

var errNoLogKey = errors.New("the evidence log key is not loaded (set PORTAL_LOG_KEY): evidence cannot be written without it")

// appender adds entries to the log inside one write transaction. It keeps
// the hashes it wrote, so a batch (a roster import, an upgrade) reads each
// hash from the database at most once.
type appender struct {
	ctx     context.Context
	tx      *sql.Tx
	key     *evidence.Key
	size    int64
	written map[int64]tlog.Hash
}

// newAppender starts appending at the log's current end.
func (db *DB) newAppender(ctx context.Context, tx *sql.Tx) (*appender, error) {
	if db.key == nil {
		return nil, errNoLogKey
	}
	a := &appender{ctx: ctx, tx: tx, key: db.key, written: map[int64]tlog.Hash{}}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries`).Scan(&a.size); err != nil {
		return nil, fmt.Errorf("read log size: %w", err)
	}
	return a, nil
}

// ReadHashes implements tlog.HashReader over this transaction.
func (a *appender) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	for i, x := range indexes {
		if h, ok := a.written[x]; ok {
			out[i] = h
			continue
		}
		missing = append(missing, x)
	}
	if len(missing) == 0 {
		return out, nil
	}
	found, err := readHashes(a.ctx, a.tx, missing)
	if err != nil {
		return nil, err
	}
	for i, x := range indexes {
		if h, ok := found[x]; ok {
			out[i] = h
		} else if _, ok := a.written[x]; !ok {
			return nil, fmt.Errorf("log hash %d is missing", x)
		}
	}
	return out, nil
}

// add appends leaf and returns its index.
func (a *appender) add(leaf evidence.Leaf) (int64, error) {
	n := a.size
	h := leaf.Hash()
	hashes, err := tlog.StoredHashesForRecordHash(n, h, a)
	if err != nil {
		return 0, fmt.Errorf("log append: %w", err)
	}
	base := tlog.StoredHashIndex(0, n)
	for i, x := range hashes {
		if _, err := a.tx.ExecContext(a.ctx, `INSERT INTO log_hashes (id, hash) VALUES (?, ?)`, base+int64(i), x[:]); err != nil {
			return 0, fmt.Errorf("log append: %w", err)
		}
		a.written[base+int64(i)] = x
	}
	if _, err := a.tx.ExecContext(a.ctx, `INSERT INTO log_entries (idx, kind, ref_id, hash, seal) VALUES (?, ?, ?, ?, ?)`,
		n, leaf.Kind, leaf.RefID, h[:], a.key.Seal(n, h)); err != nil {
		return 0, fmt.Errorf("log append %s %d: %w", leaf.Kind, leaf.RefID, err)
	}
	a.size++
	// A batch rarely looks back further than the last few hundred hashes.
	if len(a.written) > 1<<16 {
		a.written = map[int64]tlog.Hash{}
	}
	return n, nil
}

// addAll appends many leaves with a few multi-row inserts: a roster import
// of 100,000 people writes its entries in hundreds of statements rather
// than hundreds of thousands.
func (a *appender) addAll(leaves []evidence.Leaf) error {
	if len(leaves) == 1 {
		_, err := a.add(leaves[0])
		return err
	}
	type hashRow struct {
		id int64
		h  tlog.Hash
	}
	var hashes []hashRow
	entries := make([]any, 0, 5*len(leaves))
	for _, leaf := range leaves {
		n := a.size
		h := leaf.Hash()
		hs, err := tlog.StoredHashesForRecordHash(n, h, a)
		if err != nil {
			return fmt.Errorf("log append: %w", err)
		}
		base := tlog.StoredHashIndex(0, n)
		for i, x := range hs {
			a.written[base+int64(i)] = x
			hashes = append(hashes, hashRow{base + int64(i), x})
		}
		entries = append(entries, n, leaf.Kind, leaf.RefID, h[:], a.key.Seal(n, h))
		a.size++
	}
	const rowsPer = 200
	for len(hashes) > 0 {
		chunk := hashes[:min(len(hashes), rowsPer)]
		hashes = hashes[len(chunk):]
		args := make([]any, 0, 2*len(chunk))
		for _, r := range chunk {
			args = append(args, r.id, r.h[:])
		}
		q := `INSERT INTO log_hashes (id, hash) VALUES (?, ?)` + strings.Repeat(`, (?, ?)`, len(chunk)-1) // #nosec G202 -- only placeholders are added
		if _, err := a.tx.ExecContext(a.ctx, q, args...); err != nil {
			return fmt.Errorf("log append: %w", err)
		}
	}
	for len(entries) > 0 {
		chunk := entries[:min(len(entries), 5*rowsPer)]
		entries = entries[len(chunk):]
		q := `INSERT INTO log_entries (idx, kind, ref_id, hash, seal) VALUES (?, ?, ?, ?, ?)` + // #nosec G202 -- only placeholders are added
			strings.Repeat(`, (?, ?, ?, ?, ?)`, len(chunk)/5-1)
		if _, err := a.tx.ExecContext(a.ctx, q, chunk...); err != nil {
			return fmt.Errorf("log append: %w", err)
		}
	}
	if len(a.written) > 1<<16 {
		a.written = map[int64]tlog.Hash{}
	}
	return nil
}

// appendLeaf appends one entry inside tx.
func (db *DB) appendLeaf(ctx context.Context, tx *sql.Tx, leaf evidence.Leaf) (int64, error) {
	a, err := db.newAppender(ctx, tx)
	if err != nil {
		return 0, err
	}
	return a.add(leaf)
}

// readHashes reads stored tree hashes by storage index.
func readHashes(ctx context.Context, q querier, indexes []int64) (map[int64]tlog.Hash, error) {
	out := make(map[int64]tlog.Hash, len(indexes))
	for len(indexes) > 0 {
		chunk := indexes[:min(len(indexes), 200)]
		indexes = indexes[len(chunk):]
		args := make([]any, len(chunk))
		for i, x := range chunk {
			args[i] = x
		}
		rows, err := q.QueryContext(ctx, `SELECT id, hash FROM log_hashes WHERE id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...) // #nosec G202 -- only placeholders are added
		if err != nil {
			return nil, fmt.Errorf("read log hashes: %w", err)
		}
		for rows.Next() {
			var id int64
			var b []byte
			if err := rows.Scan(&id, &b); err != nil {
				_ = rows.Close() // the scan error is the one to report
				return nil, fmt.Errorf("read log hashes: %w", err)
			}
			if len(b) != tlog.HashSize {
				_ = rows.Close()
				return nil, fmt.Errorf("log hash %d is malformed", id)
			}
			out[id] = tlog.Hash(b)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LogStore implements evidence.Store over the database.
type LogStore struct{ db *DB }

// NewLogStore returns the evidence log's store.
func NewLogStore(db *DB) *LogStore { return &LogStore{db: db} }

var _ evidence.Store = (*LogStore)(nil)

// LogSize is the number of committed entries.
func (s *LogStore) LogSize(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries`).Scan(&n); err != nil {
		return 0, fmt.Errorf("read log size: %w", err)
	}
	return n, nil
}

// ReadHashes returns stored tree hashes in the order asked for.
func (s *LogStore) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	found, err := readHashes(ctx, s.db.read, indexes)
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, fmt.Errorf("log hash %d is not stored", x)
		}
		out[i] = h
	}
	return out, nil
}

// Entry returns a record's entry.
func (s *LogStore) Entry(ctx context.Context, kind string, refID int64) (int64, tlog.Hash, error) {
	var idx int64
	var b []byte
	err := s.db.read.QueryRowContext(ctx, `SELECT idx, hash FROM log_entries WHERE kind = ? AND ref_id = ?`, kind, refID).Scan(&idx, &b)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, tlog.Hash{}, app.Errorf(app.ENOTFOUND, "The record is not in the evidence log.")
	}
	if err != nil {
		return 0, tlog.Hash{}, fmt.Errorf("find log entry: %w", err)
	}
	if len(b) != tlog.HashSize {
		return 0, tlog.Hash{}, fmt.Errorf("log entry %d: malformed hash", idx)
	}
	return idx, tlog.Hash(b), nil
}

// Seals calls fn for each entry in [from, to).
func (s *LogStore) Seals(ctx context.Context, from, to int64, fn func(int64, tlog.Hash, []byte) error) error {
	rows, err := s.db.read.QueryContext(ctx, `SELECT idx, hash, seal FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx`, from, to)
	if err != nil {
		return fmt.Errorf("read log entries: %w", err)
	}
	defer rows.Close()
	want := from
	for rows.Next() {
		var idx int64
		var h, seal []byte
		if err := rows.Scan(&idx, &h, &seal); err != nil {
			return fmt.Errorf("read log entries: %w", err)
		}
		if idx != want || len(h) != tlog.HashSize {
			return fmt.Errorf("%w: entry %d is missing or malformed", evidence.ErrInconsistent, want)
		}
		want++
		if err := fn(idx, tlog.Hash(h), seal); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if want != to {
		return fmt.Errorf("%w: entry %d is missing", evidence.ErrInconsistent, want)
	}
	return nil
}

// LatestCheckpoint returns the newest stored checkpoint, or nil.
func (s *LogStore) LatestCheckpoint(ctx context.Context) (*app.SignedCheckpoint, error) {
	cps, err := s.checkpoints(ctx, s.db.read, `ORDER BY size DESC, id DESC LIMIT 1`)
	if err != nil || len(cps) == 0 {
		return nil, err
	}
	return cps[0], nil
}

// Checkpoints returns every stored checkpoint, oldest first.
func (s *LogStore) Checkpoints(ctx context.Context) ([]*app.SignedCheckpoint, error) {
	return s.checkpoints(ctx, s.db.read, `ORDER BY id`)
}

func (s *LogStore) checkpoints(ctx context.Context, q querier, tail string) ([]*app.SignedCheckpoint, error) {
	rows, err := q.QueryContext(ctx, `SELECT size, root, signed_at, note FROM log_checkpoints `+tail) // #nosec G202 -- constant SQL fragments
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	defer rows.Close()
	var out []*app.SignedCheckpoint
	for rows.Next() {
		var cp app.SignedCheckpoint
		var root []byte
		var at string
		if err := rows.Scan(&cp.Size, &root, &at, &cp.Note); err != nil {
			return nil, fmt.Errorf("read checkpoints: %w", err)
		}
		copy(cp.Root[:], root)
		cp.SignedAt = parseTime(at)
		out = append(out, &cp)
	}
	return out, rows.Err()
}

// SaveCheckpoint stores a signed checkpoint; the same size and root signed
// again only moves nothing (the note is the same bytes).
func (s *LogStore) SaveCheckpoint(ctx context.Context, cp *app.SignedCheckpoint) error {
	_, err := s.db.execWrite(ctx, `INSERT INTO log_checkpoints (size, root, signed_at, note) VALUES (?, ?, ?, ?)`,
		cp.Size, cp.Root[:], formatTime(cp.SignedAt), cp.Note)
	if err != nil {
		return fmt.Errorf("store checkpoint: %w", err)
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"portal/app"
)

// CopyResult says what CopyInto copied.
type CopyResult struct {
	Tables int   // tables copied (the PostgreSQL-only name queue is not one)
	Rows   int64 // rows copied, all tables together
}

// CopyInto copies every row of db, an SQLite database, into dst, a
// PostgreSQL database the portal has opened (so its schema is applied) that
// holds no people and no evidence yet: how a deployment moves from one
// node on SQLite to several on PostgreSQL. The rows go across as they are
// (ids, times, seals, the log's hashes), so the evidence log verifies on
// PostgreSQL as it did on SQLite, and certificates keep their numbers and
// codes.
//
// It reads db in one snapshot and writes dst in one transaction under the
// write lock: dst ends with all of it or, on any error, as it was. While
// rows are copied, dst's triggers and foreign-key checks are off for that
// transaction alone (session_replication_role = replica), so the evidence
// triggers let the schema's seed rows be replaced and the counting triggers
// do not count twice what the copied counts already say; that setting
// needs a PostgreSQL superuser.
func (db *DB) CopyInto(ctx context.Context, dst *DB) (*CopyResult, error) {
	if db.pg || !dst.pg {
		return nil, errors.New("copy: the source must be an SQLite database and the target a PostgreSQL one")
	}
	var held int64
	if err := dst.read.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM employees) + (SELECT COUNT(*) FROM log_entries)
		+ (SELECT COUNT(*) FROM acknowledgments)`).Scan(&held); err != nil {
		return nil, fmt.Errorf("copy: read the target: %w", err)
	}
	if held > 0 {
		return nil, app.Errorf(app.ECONFLICT, "The PostgreSQL database already holds people or evidence, so nothing was copied: copy into a new, empty database.")
	}
	src, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer src.Rollback()
	have, err := sqliteTables(ctx, src)
	if err != nil {
		return nil, err
	}
	var entries int64 // the snapshot's log, to see afterwards whether the portal went on writing
	if err := src.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_entries`).Scan(&entries); err != nil {
		return nil, fmt.Errorf("copy: read the source's log: %w", err)
	}
	copySnapshotTaken()
	tx, err := dst.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		return nil, app.Errorf(app.EFORBIDDEN, "Copying turns the target's triggers off while the rows go across, which PostgreSQL allows a superuser only: run the copy as one (the portal itself then runs as its own role). Nothing was copied.")
	}
	tables, err := pgTables(ctx, tx)
	if err != nil {
		return nil, err
	}
	quoted := make([]string, len(tables))
	for i, t := range tables {
		quoted[i] = quoteIdent(t)
	}
	// The schema's seed rows (the kinds, the counts' zero rows) give way to
	// the source's.
	if _, err := tx.ExecContext(ctx, `TRUNCATE `+strings.Join(quoted, ", ")); err != nil { // #nosec G202 -- names from the schema's catalog, quoted
		return nil, fmt.Errorf("copy: empty the target's tables: %w", err)
	}
	res := &CopyResult{}
	for _, t := range tables {
		if !have[t] {
			if t == "name_search_pending" { // PostgreSQL's queue of names to fold: empty is right
				continue
			}
			return nil, fmt.Errorf("copy: the SQLite database has no table %s: start the portal once on it so that its schema is brought up to date, then copy", t)
		}
		n, err := copyTable(ctx, src, tx, t)
		if err != nil {
			return nil, err
		}
		res.Tables++
		res.Rows += n
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("copy: commit: %w", err)
	}
	dst.cycles.clear()
	_ = src.Rollback() // the snapshot ends; the count below is of the file as it is now
	var now int64
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_entries`).Scan(&now); err != nil {
		return res, fmt.Errorf("copy: read the source's log again: %w", err)
	}
	if now != entries {
		return res, app.Errorf(app.ECONFLICT, "The SQLite database took %d more evidence log entries while it was being copied, so the portal was still running and the copy misses them. Stop every portal process, drop the PostgreSQL database, create it empty and copy again.", now-entries)
	}
	return res, nil
}

// copySnapshotTaken runs once the source's snapshot is taken: tests write
// to the source there, as a portal left running would.
var copySnapshotTaken = func() {}

// sqliteTables names the SQLite database's own tables.
func sqliteTables(ctx context.Context, src *sql.Tx) (map[string]bool, error) {
	names, err := tableNames(ctx, src, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return nil, fmt.Errorf("copy: read the source's tables: %w", err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	return have, nil
}

// pgTables names the PostgreSQL schema's tables, but for the migrations'
// own, which differs between the two databases.
func pgTables(ctx context.Context, tx *sql.Tx) ([]string, error) {
	names, err := tableNames(ctx, tx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'
		ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("copy: read the target's tables: %w", err)
	}
	return names, nil
}

// tableNames runs a query of one text column and returns its rows.
func tableNames(ctx context.Context, tx *sql.Tx, query string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// copyParamsPerInsert bounds the values of one INSERT (PostgreSQL takes at most
// 65,535 parameters in one statement).
const copyParamsPerInsert = 30000

// copyBytesPerInsert bounds the text and blobs of one INSERT, so that
// tables of scans (paper acknowledgments) go across a few rows at a time.
const copyBytesPerInsert = 8 << 20

// copyTable copies table t's rows from src into tx, in the source's order,
// and moves the target's id sequence past the largest id copied.
func copyTable(ctx context.Context, src, tx *sql.Tx, t string) (int64, error) {
	type column struct {
		name     string
		bytea    bool
		identity bool
	}
	crows, err := tx.QueryContext(ctx, `SELECT column_name, data_type, is_identity FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? AND is_generated = 'NEVER' ORDER BY ordinal_position`, t)
	if err != nil {
		return 0, fmt.Errorf("copy %s: read its columns: %w", t, err)
	}
	var cols []column
	for crows.Next() {
		var c column
		var typ, ident string
		if err := crows.Scan(&c.name, &typ, &ident); err != nil {
			_ = crows.Close()
			return 0, err
		}
		c.bytea, c.identity = typ == "bytea", ident == "YES"
		cols = append(cols, c)
	}
	_ = crows.Close()
	if err := crows.Err(); err != nil {
		return 0, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.name)
	}
	list := strings.Join(names, ", ")
	rows, err := src.QueryContext(ctx, `SELECT `+list+` FROM `+quoteIdent(t)) // #nosec G202 -- names from the schema's catalog, quoted
	if err != nil {
		return 0, fmt.Errorf("copy %s: read the source (its columns should be %s): %w", t, list, err)
	}
	defer rows.Close()
	perInsert := max(1, copyParamsPerInsert/len(cols))
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	var batch []any
	var n int64
	size := 0 // bytes of text and blobs in batch
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		k := len(batch) / len(cols)
		q := `INSERT INTO ` + quoteIdent(t) + ` (` + list + `) VALUES ` + strings.TrimSuffix(strings.Repeat(one+", ", k), ", ") // #nosec G202 -- names from the schema's catalog, quoted; values are parameters
		if _, err := tx.ExecContext(ctx, q, batch...); err != nil {
			return fmt.Errorf("copy %s: %w", t, err)
		}
		n += int64(k)
		batch, size = batch[:0], 0
		return nil
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, fmt.Errorf("copy %s: %w", t, err)
		}
		for i, c := range cols {
			v := vals[i]
			if b, ok := v.([]byte); ok {
				if c.bytea {
					v = slices.Clone(b)
				} else {
					v = string(b)
				}
			}
			switch x := v.(type) {
			case string:
				size += len(x)
			case []byte:
				size += len(x)
			}
			batch = append(batch, v)
		}
		if len(batch)/len(cols) >= perInsert || size >= copyBytesPerInsert {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("copy %s: %w", t, err)
	}
	if err := flush(); err != nil {
		return 0, err
	}
	for _, c := range cols {
		if c.identity {
			if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(`+ // #nosec G202 -- names from the schema's catalog, quoted
				quoteIdent(c.name)+`) FROM `+quoteIdent(t)+`), 0) + 1, false)`, t, c.name); err != nil {
				return 0, fmt.Errorf("copy %s: move its id sequence on: %w", t, err)
			}
		}
	}
	return n, nil
}

// quoteIdent quotes a table or column name for either database.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"portal/app/pgtest"
)

// evidenceRefusal is one of SQLite's refusals: a BEFORE UPDATE or BEFORE
// DELETE trigger that aborts with a message whatever the row (conditional
// refusals, such as a revoked token staying revoked, are not listed).
type evidenceRefusal struct {
	table, event, message string
	columns               []string // UPDATE OF these columns only; empty: any update
}

// sqliteRefusals reads the refusals from a fresh SQLite store's triggers,
// so that a table made evidence by a later SQLite migration is tested on
// PostgreSQL without anyone remembering to list it here.
func sqliteRefusals(t *testing.T) []evidenceRefusal {
	t.Helper()
	lite := newFixture(t).db
	shape := regexp.MustCompile(`(?is)^CREATE TRIGGER \w+ BEFORE (UPDATE|DELETE)( OF ([\w, ]+?))? ON (\w+)\s+BEGIN\s+SELECT RAISE\(ABORT, '((?:[^']|'')*)'\);\s*END$`)
	var out []evidenceRefusal
	for _, def := range queryColumn(t, lite.read, `SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY tbl_name, name`) {
		m := shape.FindStringSubmatch(strings.TrimSpace(def))
		if m == nil {
			continue
		}
		r := evidenceRefusal{table: m[4], event: strings.ToUpper(m[1]), message: strings.ReplaceAll(m[5], "''", "'")}
		for _, c := range strings.Split(m[3], ",") {
			if c = strings.TrimSpace(c); c != "" {
				r.columns = append(r.columns, c)
			}
		}
		out = append(out, r)
	}
	if len(out) < 40 {
		t.Fatalf("found only %d refusals among SQLite's triggers: has their shape changed?", len(out))
	}
	return out
}

// TestPostgresEvidenceRefusesEveryChange: every table SQLite's triggers keep
// as evidence refuses, on PostgreSQL, an UPDATE and a DELETE of a row with
// exactly SQLite's message, and refuses TRUNCATE (which SQLite has not)
// with the message of its DELETE; the row is still there afterwards. Tables
// the signing does not fill get one row written as an insider would, with
// the foreign keys not checked (session_replication_role), since only the
// refusals are under test.
func TestPostgresEvidenceRefusesEveryChange(t *testing.T) {
	refusals := sqliteRefusals(t)
	f := newFixtureAt(t, pgtest.Database(t))
	f.sign(t)
	ctx := context.Background()
	raw, err := OpenPostgresSQL(f.db.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := raw.Conn(ctx) // one session: the replication role is per session
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	deleteMessage := map[string]string{}
	for _, r := range refusals {
		if r.event == "DELETE" {
			deleteMessage[r.table] = r.message
		}
	}
	for _, r := range refusals {
		if queryText(t, conn, `SELECT CAST(COUNT(*) AS TEXT) FROM `+r.table) == "0" {
			insertAnyRow(t, conn, r.table)
		}
		before := queryText(t, conn, `SELECT CAST(COUNT(*) AS TEXT) FROM `+r.table)
		stmt := `DELETE FROM ` + r.table
		if r.event == "UPDATE" {
			col := firstColumn(t, conn, r.table)
			if len(r.columns) > 0 {
				col = r.columns[0]
			}
			stmt = `UPDATE ` + r.table + ` SET ` + col + ` = ` + col
		}
		refused(t, conn, stmt, r.message)
		if msg, ok := deleteMessage[r.table]; ok && r.event == "DELETE" {
			refused(t, conn, `TRUNCATE `+r.table+` CASCADE`, msg)
		}
		if after := queryText(t, conn, `SELECT CAST(COUNT(*) AS TEXT) FROM `+r.table); after != before {
			t.Errorf("%s: %s rows before, %s after", r.table, before, after)
		}
	}
}

// refused runs stmt and checks PostgreSQL refused it with exactly message.
func refused(t *testing.T, conn *sql.Conn, stmt, message string) {
	t.Helper()
	_, err := conn.ExecContext(context.Background(), stmt)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Message != message {
		t.Errorf("%s: %v, want refused with %q", stmt, err, message)
	}
}

// firstColumn is the table's first column.
func firstColumn(t *testing.T, q querier, table string) string {
	t.Helper()
	return queryText(t, q, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? AND ordinal_position = 1`, table)
}

// insertAnyRow writes one row into table: NULL where a column allows it,
// else its default, else 1 or 'x' (or the first value a CHECK allows).
// Foreign keys and triggers are off for the insert only.
func insertAnyRow(t *testing.T, conn *sql.Conn, table string) {
	t.Helper()
	ctx := context.Background()
	rows, err := conn.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? AND is_nullable = 'NO' AND column_default IS NULL
		AND is_identity = 'NO' ORDER BY ordinal_position`, table)
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	var args []any
	for rows.Next() {
		var col, typ string
		if err := rows.Scan(&col, &typ); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, col)
		switch typ {
		case "bigint", "integer", "double precision":
			args = append(args, 1)
		case "bytea":
			args = append(args, []byte{1})
		default:
			args = append(args, "x")
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	checks := queryStrings(t, conn, `SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
		WHERE c.conrelid = CAST(? AS regclass) AND c.contype = 'c'`, table)
	for i, col := range cols {
		for _, def := range checks {
			if m := regexp.MustCompile(`\(?` + col + `\b[^=]*= ANY \(ARRAY\['([^']*)'`).FindStringSubmatch(def); m != nil {
				args[i] = m[1]
			}
		}
	}
	if _, err := conn.ExecContext(ctx, `SET session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	stmt := `INSERT INTO ` + table + ` DEFAULT VALUES`
	if len(cols) > 0 {
		stmt = `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES (` + placeholders(len(cols)) + `)`
	}
	if _, err := conn.ExecContext(ctx, stmt, args...); err != nil {
		t.Fatalf("a row for %s: %v", table, err)
	}
	if _, err := conn.ExecContext(ctx, `SET session_replication_role = DEFAULT`); err != nil {
		t.Fatal(err)
	}
}

// queryStrings is the query's one column of text, row by row.
func queryStrings(t *testing.T, q querier, query string, args ...any) []string {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

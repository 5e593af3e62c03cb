package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"portal/app"
	"portal/app/pgtest"
)

// TestPostgresSchemaMatchesSQLite: the PostgreSQL schema (pgmigrations)
// has every table of the SQLite schema with the same columns in the same
// order, every index SQLite's migrations name, and every trigger: the same
// SQL runs on both only while they agree. It fails when a SQLite migration
// has no PostgreSQL counterpart yet.
func TestPostgresSchemaMatchesSQLite(t *testing.T) {
	lite, err := Open(filepath.Join(t.TempDir(), "schema.db"), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := Open(pgtest.Database(t), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	liteTables := strings.Fields(queryText(t, lite.read, `SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master
		WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name)`))
	// Only PostgreSQL's: the queue of names its trigger cannot fold (008_name_search.sql).
	pgOnly := []string{"name_search_pending"}
	pgTables := strings.Fields(queryText(t, pg.read, `SELECT string_agg(table_name, ' ' ORDER BY table_name) FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`))
	pgTables = slices.DeleteFunc(pgTables, func(n string) bool { return slices.Contains(pgOnly, n) })
	const fix = "; a SQLite migration changed the schema: write the same change in app/store/pgmigrations"
	if !slices.Equal(liteTables, pgTables) {
		t.Fatalf("tables differ%s\nSQLite:     %v\nPostgreSQL: %v", fix, liteTables, pgTables)
	}
	for _, table := range liteTables {
		liteCols := strings.Fields(queryText(t, lite.read, `SELECT group_concat(name, ' ') FROM (SELECT name FROM pragma_table_info(?) ORDER BY cid)`, table))
		pgCols := strings.Fields(queryText(t, pg.read, `SELECT string_agg(column_name, ' ' ORDER BY ordinal_position) FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ?`, table))
		if !slices.Equal(liteCols, pgCols) {
			t.Errorf("columns of %s differ%s\nSQLite:     %v\nPostgreSQL: %v", table, fix, liteCols, pgCols)
		}
	}
	// SQLite's four counting triggers are three on PostgreSQL: a signature
	// is one more update to its statement trigger (007_counting.sql).
	merged := map[string]string{"assignments_count_sign": "assignments_count_update"}
	for _, kind := range []struct{ what, lite, pg string }{
		{"index", `SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name`,
			`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()`},
		{"trigger", `SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name`,
			`SELECT tgname FROM pg_trigger WHERE NOT tgisinternal`},
	} {
		have := map[string]bool{}
		for _, n := range queryColumn(t, pg.read, kind.pg) {
			have[n] = true
		}
		for _, n := range queryColumn(t, lite.read, kind.lite) {
			if into, ok := merged[n]; ok && kind.what == "trigger" {
				n = into
			}
			if !have[n] {
				t.Errorf("the %s %s is not in the PostgreSQL schema%s", kind.what, n, fix)
			}
		}
	}
}

// TestPostgresRefusesToRewriteEvidence: on PostgreSQL, as on SQLite, a
// signed acknowledgment, its consent, its attempt, the audit trail and the
// log refuse UPDATE and DELETE with the same words, and TRUNCATE too.
func TestPostgresRefusesToRewriteEvidence(t *testing.T) {
	f := newFixtureAt(t, pgtest.Database(t))
	f.sign(t)
	raw, err := OpenPostgresSQL(f.db.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, tc := range []struct{ table, set, refusal string }{
		{"acknowledgments", "typed_name = 'Someone Else'", "signed acknowledgments are never"},
		{"consents", "sha256 = 'x'", "consent records are evidence"},
		{"quiz_attempts", "score = 0", "quiz attempts are evidence"},
		{"audit_events", "detail = 'x'", "audit events are evidence"},
		{"log_entries", "seal = seal", "the evidence log is append-only"},
		{"roster_changes", "changes = '{}'", "roster changes are evidence"},
		{"policy_versions", "title = 'x'", "published policy versions are immutable"},
	} {
		before := queryText(t, raw, `SELECT CAST(COUNT(*) AS TEXT) FROM `+tc.table)
		if before == "0" {
			t.Fatalf("%s is empty: nothing to try to change", tc.table)
		}
		for _, stmt := range []string{`UPDATE ` + tc.table + ` SET ` + tc.set, `DELETE FROM ` + tc.table, `TRUNCATE ` + tc.table + ` CASCADE`} {
			_, err := raw.Exec(stmt)
			if err == nil || !strings.Contains(err.Error(), tc.refusal) {
				t.Errorf("%s: %v, want refused with %q", stmt, err, tc.refusal)
			}
		}
		if after := queryText(t, raw, `SELECT CAST(COUNT(*) AS TEXT) FROM `+tc.table); after != before {
			t.Errorf("%s: %s rows before, %s after", tc.table, before, after)
		}
	}
}

// TestPostgresFoldsNamesAsSQLite: the name search's folded names and words
// are the same on PostgreSQL, where the portal folds them from a queue, as
// on SQLite, where triggers fold them, for hard names of many scripts.
func TestPostgresFoldsNamesAsSQLite(t *testing.T) {
	names := []string{"Zoë Côté", "François LÉVESQUE", "Nguyễn Thị Lan", "Jürgen Straße", "Øyvind Åsmund Ærø",
		"Łukasz Wałęsa", "O'Brien-Smith", "D’Angelo  de la Cruz", "İsmail Işık", "ΣΟΦΊΑ Παπαδοπούλου", "Þórr Ðórsson"}
	fold := func(db *DB) string {
		ctx := context.Background()
		es := NewEmployeeService(db)
		for i, n := range names {
			e := &app.Employee{EmployeeNumber: strings.Repeat("9", i+1), FullName: n, Email: strings.Repeat("x", i+1) + "@fold.example",
				Agency: "A", Department: "D", Active: true}
			if err := es.CreateEmployee(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		return queryText(t, db.read, `SELECT string_agg(x, '|') FROM (SELECT s.employee_id || ':' || s.words AS x FROM name_search s
			ORDER BY s.employee_id) q`) + "\n" + queryText(t, db.read, `SELECT string_agg(x, '|') FROM (SELECT w.employee_id || ':' || w.word AS x
			FROM name_words w ORDER BY w.employee_id, w.word) q`)
	}
	lite, err := Open(filepath.Join(t.TempDir(), "fold.db"), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := Open(pgtest.Database(t), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	want, got := fold(lite), fold(pg)
	if got != want || !strings.Contains(want, "levesque") {
		t.Fatalf("folded names differ\nSQLite:     %s\nPostgreSQL: %s", want, got)
	}
	if n := queryText(t, pg.read, `SELECT CAST(COUNT(*) AS TEXT) FROM name_search_pending`); n != "0" {
		t.Fatalf("%s names left unfolded", n)
	}
}

func queryText(t *testing.T, q querier, query string, args ...any) string {
	t.Helper()
	var s sql.NullString
	if err := q.QueryRowContext(context.Background(), query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s.String
}

func queryColumn(t *testing.T, q querier, query string) []string {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), query)
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
	return out
}

// TestPostgresOutagesAreUnavailable: a PostgreSQL server out of reach, out
// of disk or restarting answers "try again in a moment" (503), not an
// internal error; a constraint broken does not.
func TestPostgresOutagesAreUnavailable(t *testing.T) {
	// A port nobody listens on: the pool cannot connect.
	db, err := OpenPostgresSQL("postgres://portal@127.0.0.1:1/portal?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.PingContext(context.Background())
	if err == nil || !Unavailable(err) {
		t.Fatalf("a server out of reach: %v, Unavailable %v", err, Unavailable(err))
	}
	for code, want := range map[string]bool{"53100": true, "53300": true, "57P01": true, "08006": true, "40P01": true,
		"23505": false, "42P01": false} {
		if got := Unavailable(fmt.Errorf("write: %w", &pgconn.PgError{Code: code})); got != want {
			t.Errorf("SQLSTATE %s: Unavailable %v, want %v", code, got, want)
		}
	}
}

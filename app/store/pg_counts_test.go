package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"portal/app/pgtest"
)

// TestPostgresCountsAsSQLite: the dashboard's counts (completion, pending),
// which triggers keep as assignments change, are the same on PostgreSQL as
// on SQLite after every step of the same raw writes: people assigned
// active and not, started, exempt, signed on the portal and on paper, moved
// to another department or due date, signed off again by a material
// version, deactivated, reactivated and removed.
func TestPostgresCountsAsSQLite(t *testing.T) {
	lite := newFixtureAt(t, filepath.Join(t.TempDir(), "counts.db"))
	pg := newFixtureAt(t, pgtest.Database(t))
	const signed = "2026-02-01T10:00:00Z"
	steps := []struct {
		name string
		sql  string
		args []any
	}{
		{"people", `INSERT INTO employees (id, employee_number, full_name, email, agency, department, created_at, updated_at)
			SELECT 100 + n, 'E' || n, 'Person ' || n, 'p' || n || '@x.example', 'A', 'D', ?, ? FROM (SELECT 1 AS n UNION ALL
			SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8) q`,
			[]any{signed, signed}},
		{"assigned", `INSERT INTO assignments (cycle_id, employee_id, agency, department, due_on, active, started, signed_at, ack_id, exempt, paper) VALUES
			(?, 101, 'A', 'D1', '2026-03-01', 1, 0, NULL, NULL, 0, 0),
			(?, 102, 'A', 'D1', '2026-03-01', 1, 1, NULL, NULL, 0, 0),
			(?, 103, 'A', 'D1', '2026-04-01', 1, 0, NULL, NULL, 1, 0),
			(?, 104, 'A', 'D2', '2026-03-01', 1, 1, ?, NULL, 0, 0),
			(?, 105, 'A', 'D2', '2026-03-01', 1, 0, ?, NULL, 0, 1),
			(?, 106, 'B', 'D1', '2026-03-01', 0, 1, NULL, NULL, 0, 0),
			(?, 107, 'B', 'D1', '2026-05-01', 1, 1, NULL, NULL, 1, 0),
			(?, 108, 'B', 'D2', '2026-03-01', 1, 0, NULL, NULL, 0, 0)`, nil},
		{"started", `UPDATE assignments SET started = 1 WHERE employee_id IN (101, 108)`, nil},
		{"signed", `UPDATE assignments SET signed_at = ? WHERE employee_id = 102`, []any{signed}},
		{"signed on paper", `UPDATE assignments SET signed_at = ?, paper = 1 WHERE employee_id = 108`, []any{signed}},
		{"exempt", `UPDATE assignments SET exempt = 1 WHERE employee_id = 101`, nil},
		{"exemption ends", `UPDATE assignments SET exempt = 0 WHERE employee_id IN (101, 103)`, nil},
		{"moved", `UPDATE assignments SET department = 'D3', agency = 'C' WHERE employee_id IN (103, 104)`, nil},
		{"extended", `UPDATE assignments SET due_on = '2026-06-01' WHERE employee_id IN (101, 103, 106)`, nil},
		{"material version", `UPDATE assignments SET signed_at = NULL, ack_id = NULL, paper = 0 WHERE employee_id IN (102, 104, 105)`, nil},
		{"deactivated", `UPDATE assignments SET active = 0 WHERE employee_id IN (101, 107)`, nil},
		{"reactivated", `UPDATE assignments SET active = 1 WHERE employee_id IN (106, 107)`, nil},
		{"signed again", `UPDATE assignments SET signed_at = ? WHERE employee_id IN (104, 106)`, []any{signed}},
		{"removed", `DELETE FROM assignments WHERE employee_id IN (103, 105, 108)`, nil},
		{"all signed", `UPDATE assignments SET signed_at = ? WHERE signed_at IS NULL`, []any{signed}},
	}
	for _, s := range steps {
		for _, f := range []*fixture{lite, pg} {
			args := s.args
			if s.name == "assigned" {
				c := f.cycle.ID
				args = []any{c, c, c, c, signed, c, signed, c, c, c}
			}
			if _, err := f.db.write.ExecContext(context.Background(), s.sql, args...); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		want, got := countsOf(t, lite), countsOf(t, pg)
		if got != want {
			t.Fatalf("after %q the counts differ\nSQLite:\n%s\nPostgreSQL:\n%s", s.name, want, got)
		}
		if !strings.Contains(want, "completion") {
			t.Fatalf("after %q no counts at all", s.name)
		}
	}
}

// countsOf is every row of completion and pending, in key order, as text.
func countsOf(t *testing.T, f *fixture) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT 'completion', cycle_id - ?, agency, department, total, signed, paper, exempt, started FROM completion
			ORDER BY cycle_id, agency, department`,
		`SELECT 'pending', cycle_id - ?, agency, department, due_on, n, started, 0, 0 FROM pending
			ORDER BY cycle_id, agency, department, due_on`,
	} {
		rows, err := f.db.read.QueryContext(context.Background(), q, f.cycle.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v [9]any
			p := make([]any, len(v))
			for i := range v {
				p[i] = &v[i]
			}
			if err := rows.Scan(p...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, v[:]...)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestPostgresChecksAsSQLite: the same raw writes that SQLite's triggers,
// constraints and partial indexes refuse are refused on PostgreSQL, and the
// same ones pass: a cycle of a kind nobody defined, a second open cycle of a
// kind in one year, a policy version of a kind the CHECK does not know.
func TestPostgresChecksAsSQLite(t *testing.T) {
	lite := newFixtureAt(t, filepath.Join(t.TempDir(), "checks.db"))
	pg := newFixtureAt(t, pgtest.Database(t))
	lite.sign(t)
	pg.sign(t)
	for _, tc := range []struct {
		name, sql, refusal string // refusal: "" when the write passes
	}{
		{"unknown kind", `INSERT INTO cycles (year, name, policy_version_id, opens_on, due_on, created_at, kind)
			SELECT year + 1, 'x', policy_version_id, opens_on, due_on, created_at, 'no-such-kind' FROM cycles`, "unknown acknowledgment kind"},
		{"second open cycle", `INSERT INTO cycles (year, name, policy_version_id, opens_on, due_on, created_at, kind)
			SELECT year, 'x', policy_version_id, opens_on, due_on, created_at, kind FROM cycles`, "cycles"},
		{"closed cycle beside", `INSERT INTO cycles (year, name, policy_version_id, opens_on, due_on, created_at, kind, open)
			SELECT year, 'x', policy_version_id, opens_on, due_on, created_at, kind, 0 FROM cycles`, ""},
		{"other kind", `INSERT INTO cycles (year, name, policy_version_id, opens_on, due_on, created_at, kind)
			SELECT year, 'x', policy_version_id, opens_on, due_on, created_at, 'agency-use' FROM cycles WHERE open = 1`, ""},
		{"policy kind", `INSERT INTO policy_versions (code, title, kind, effective, sha256, bundle, published_at)
			VALUES ('z', 'z', 'major', '', '', '', '')`, "kind"},
	} {
		for _, f := range []*fixture{lite, pg} {
			_, err := f.db.write.ExecContext(context.Background(), tc.sql)
			switch {
			case tc.refusal == "" && err != nil:
				t.Errorf("%s (postgres %v): %v", tc.name, f.db.pg, err)
			case tc.refusal != "" && (err == nil || !strings.Contains(err.Error(), tc.refusal)):
				t.Errorf("%s (postgres %v): %v, want refused naming %q", tc.name, f.db.pg, err, tc.refusal)
			}
		}
	}
}

// TestPostgresSeedRowsAsSQLite: a fresh PostgreSQL database holds the rows
// SQLite's migrations seed (the acknowledgment kinds, the clock …), table
// by table, the same.
func TestPostgresSeedRowsAsSQLite(t *testing.T) {
	lite, err := Open(filepath.Join(t.TempDir(), "seed.db"), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := Open(pgtest.Database(t), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	seeded := 0
	for _, table := range queryStrings(t, lite.read, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name`) {
		want, got := tableRows(t, lite, table), tableRows(t, pg, table)
		if got != want {
			t.Errorf("%s differs in a fresh database; the PostgreSQL schema must seed what SQLite's migrations seed\nSQLite:\n%s\nPostgreSQL:\n%s", table, want, got)
		}
		if want != "" {
			seeded++
		}
	}
	if seeded < 2 {
		t.Fatalf("only %d seeded tables: the acknowledgment kinds and the clock at least", seeded)
	}
}

// tableRows is every row of table, in the order of all its columns, as text.
func tableRows(t *testing.T, db *DB, table string) string {
	t.Helper()
	rows, err := db.read.QueryContext(context.Background(), `SELECT * FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		v := make([]any, len(cols))
		p := make([]any, len(cols))
		for i := range v {
			p[i] = &v[i]
		}
		if err := rows.Scan(p...); err != nil {
			t.Fatal(err)
		}
		for i, x := range v {
			if b, ok := x.([]byte); ok {
				v[i] = string(b)
			}
		}
		lines = append(lines, fmt.Sprint(v...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

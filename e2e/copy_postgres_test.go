package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"portal/app/pgtest"
	"portal/app/store"
	"portal/server"
)

// TestCopyToPostgres: a deployment on SQLite moves to PostgreSQL with
// `portal copy-to-postgres`. Every table arrives row for row, the evidence
// log verifies there with its seals (the canonical records are the same
// bytes on both), a portal on the copy shows the old certificates and signs
// new ones with the next numbers, and the copy refuses, changing nothing, a
// target that holds anything, a role that is not a superuser, and
// arguments that name the wrong things.
func TestCopyToPostgres(t *testing.T) {
	// The source: the demo on SQLite whatever PORTAL_TEST_DB says, with a
	// signature, mail queued and a signed checkpoint.
	tp := startTestPortal(t, func(c *server.Config) { c.DB = filepath.Join(t.TempDir(), "portal.db") })
	old := evSign(t, tp, "1005")
	tp.pass(t)
	tp.logRounds(t, 2)
	tp.commandEnv(t)
	tp.Stop()
	source := tp.DB.Path

	dst := pgtest.Database(t)
	var out bytes.Buffer
	run := func(args ...string) error {
		out.Reset()
		return server.Run(context.Background(), args, &out, &out)
	}
	if err := run("copy-to-postgres", dst); err != nil {
		t.Fatalf("copy-to-postgres: %v\n%s", err, out.String())
	}
	mustContain(t, out.String(), "copied", "evidence log verified on PostgreSQL", "every seal checked")
	t.Log(strings.TrimSpace(out.String()))

	lite, pg := openRaw(t, source), openRaw(t, dst)
	tables := queryStrings(t, pg, tablesQuery(dst))
	if len(tables) < 40 {
		t.Fatalf("%d tables on PostgreSQL", len(tables))
	}
	for _, table := range tables {
		if table == "schema_migrations" || table == "name_search_pending" {
			continue
		}
		a, b := tableRows(t, lite, pg, table), tableRows(t, pg, pg, table)
		if !slices.Equal(a, b) {
			t.Errorf("%s: %d rows on SQLite, %d on PostgreSQL, not the same", table, len(a), len(b))
		}
	}

	if err := run("audit-verify"); err != nil {
		t.Fatalf("audit-verify on the source: %v\n%s", err, out.String())
	}
	t.Setenv("PORTAL_DB", dst)
	if err := run("audit-verify"); err != nil || !strings.Contains(out.String(), "seal checked") {
		t.Fatalf("audit-verify on the copy: %v\n%s", err, out.String())
	}

	// A portal on the copy: the old certificate verifies, and a new
	// signature takes the next number and code (the ids' sequences moved on).
	moved := startTestPortal(t, func(c *server.Config) { c.DB, c.LogKeyFile = dst, tp.Config.LogKeyFile })
	if r := newClient(t, moved.BaseURL).get("/verify/" + old); r.Status != 200 || !strings.Contains(r.Body, old) {
		t.Fatalf("the old certificate on the copy: status %d", r.Status)
	}
	before := moved.count(t, `SELECT MAX(id) FROM acknowledgments`)
	evSign(t, moved, "1006")
	if after := moved.count(t, `SELECT MAX(id) FROM acknowledgments`); after != before+1 {
		t.Fatalf("the new signature's id is %d after %d", after, before)
	}
	moved.logRounds(t, 2)
	moved.Stop()
	if err := run("audit-verify"); err != nil {
		t.Fatalf("audit-verify after a signature on the copy: %v\n%s", err, out.String())
	}

	// Refusals, each changing nothing.
	t.Setenv("PORTAL_DB", source)
	acks := moved.count(t, `SELECT COUNT(*) FROM acknowledgments`)
	if err := run("copy-to-postgres", dst); err == nil || !strings.Contains(err.Error(), "already holds people or evidence") {
		t.Fatalf("a second copy into the same database: %v", err)
	}
	if n := moved.count(t, `SELECT COUNT(*) FROM acknowledgments`); n != acks {
		t.Fatalf("the refused copy changed the target: %d acknowledgments, were %d", n, acks)
	}
	fresh := pgtest.Database(t)
	plain := plainRole(t, fresh)
	if err := run("copy-to-postgres", plain); err == nil || !strings.Contains(err.Error(), "superuser") {
		t.Fatalf("a copy by a role that is not a superuser: %v", err)
	}
	if n := openRawCount(t, fresh, `SELECT COUNT(*) FROM employees`); n != 0 {
		t.Fatalf("the refused copy left %d people", n)
	}
	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"copy-to-postgres", filepath.Join(t.TempDir(), "other.db")}, source, "postgres:// or postgresql:// address"},
		{[]string{"copy-to-postgres", fresh}, dst, "already a PostgreSQL database"},
		{[]string{"copy-to-postgres", fresh}, filepath.Join(t.TempDir(), "missing.db"), "no SQLite database at"},
	} {
		t.Setenv("PORTAL_DB", c.env)
		if err := run(c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q with PORTAL_DB=%s: %v, want %q", c.args, c.env, err, c.want)
		}
	}
	if _, ok := server.Run(context.Background(), []string{"copy-to-postgres"}, &out, &out).(server.UsageError); !ok {
		t.Error("copy-to-postgres without a target is not a usage error")
	}
}

// openRaw opens a database by its PORTAL_DB value for raw reads.
func openRaw(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if store.IsPostgres(dsn) {
		db, err = store.OpenPostgresSQL(dsn)
	} else {
		db, err = sql.Open("sqlite3", "file:"+dsn+"?mode=ro")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openRawCount(t testing.TB, dsn, query string) int {
	t.Helper()
	var n int
	if err := openRaw(t, dsn).QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// tableRows is every row of table in db as text, sorted, with the columns
// PostgreSQL's schema (in pg) lists, in its order.
func tableRows(t testing.TB, db, pg *sql.DB, table string) []string {
	t.Helper()
	cols := queryStrings(t, pg, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	rows, err := db.Query(`SELECT "` + strings.Join(cols, `", "`) + `" FROM "` + table + `"`)
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, v := range vals {
			if s, ok := v.([]byte); ok {
				v = string(s)
			}
			fmt.Fprintf(&b, "%v\x1f", v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// plainRole makes a role that may log in and create tables in dsn's
// database but is not a superuser, and returns dsn as that role.
func plainRole(t testing.TB, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	role := "copier_" + strings.TrimPrefix(u.Path, "/") // roles are the server's, databases the test's
	admin := openRaw(t, dsn)
	if _, err := admin.Exec(`CREATE ROLE ` + role + ` LOGIN; GRANT ALL ON SCHEMA public TO ` + role); err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	return u.String()
}

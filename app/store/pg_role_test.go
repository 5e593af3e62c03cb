package store

import (
	"database/sql"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"portal/app/pgtest"
)

// TestPostgresPortalRoleOwnsNothing: the grants 001_people.sql's header
// gives the database administrator, run as written, let the portal work as
// a role that owns nothing (it opens the store and signs), and that role
// cannot change evidence even with the triggers' help gone: no UPDATE,
// DELETE or TRUNCATE on evidence, no disabling a trigger.
func TestPostgresPortalRoleOwnsNothing(t *testing.T) {
	dsn := pgtest.Database(t)
	owner, err := Open(dsn, testOptions(t)) // the schema, made by its owner
	if err != nil {
		t.Fatal(err)
	}
	owner.Close()

	header, err := os.ReadFile("pgmigrations/001_people.sql")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)--   (CREATE ROLE portal_app .*?FROM portal_app;)`).FindSubmatch(header)
	if block == nil {
		t.Fatal("001_people.sql's header no longer gives the grants for the portal's role")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	role := "portal_app_" + strings.TrimPrefix(u.Path, "/") // roles are the server's, databases the test's
	grants := strings.ReplaceAll(regexp.MustCompile(`(?m)^--\s*`).ReplaceAllString(string(block[1]), ""), "portal_app", role)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(grants); err != nil {
		t.Fatalf("the header's grants: %v\n%s", err, grants)
	}

	u.User = url.User(role)
	f := newFixtureAt(t, u.String())
	f.sign(t)
	raw, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, stmt := range []string{
		`UPDATE acknowledgments SET typed_name = 'x'`, `DELETE FROM acknowledgments`, `TRUNCATE acknowledgments`,
		`UPDATE log_entries SET seal = seal`, `DELETE FROM audit_events`, `TRUNCATE log_entries`,
		`ALTER TABLE acknowledgments DISABLE TRIGGER USER`, `DROP TRIGGER acknowledgments_immutable_u ON acknowledgments`,
	} {
		if _, err := raw.Exec(stmt); err == nil || !strings.Contains(err.Error(), "42501") && !strings.Contains(err.Error(), "must be owner") {
			t.Errorf("%s as the portal's role: %v, want refused for want of a privilege", stmt, err)
		}
	}
}

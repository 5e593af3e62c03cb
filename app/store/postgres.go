package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL. The services are the same Go code on both databases, through
// database/sql: the SQL they send is written once, in the subset both
// databases read the same way (RETURNING, ON CONFLICT, FILTER, CTEs), with
// `?` placeholders that the PostgreSQL connection rewrites to `$1, $2…`
// (rebind.go), and the few expressions the two spell differently chosen
// by db.pg. What differs is below the services:
//
//   - SQLite has one writer per file; PostgreSQL has one writer at a time
//     across every node, by a transaction-level advisory lock that every
//     write transaction takes first (beginWrite). Each check made inside a
//     write transaction ("has this person already signed?") therefore holds
//     on any number of nodes exactly as on one SQLite file, and the evidence
//     log, which every write of evidence appends to, is appended by one
//     writer at a time. The constraints (one acknowledgment per person and
//     cycle, one leaf per index) hold whatever the lock does.
//   - The group committer runs on each node as on SQLite: signatures that
//     arrive together share one transaction, one lock and one commit.
//   - The schema is pgmigrations/, the final state of the SQLite history
//     written fresh: a PostgreSQL database has no history to replay.
//   - There is no write-ahead-log checkpointer: PostgreSQL checkpoints itself.

//go:embed pgmigrations/*.sql
var pgMigrationFS embed.FS

// writeLockKey is the advisory lock every write transaction holds: one
// number the portal's database keeps for itself ("portal" in ASCII).
const writeLockKey = 0x706f7274616c

// IsPostgres reports whether dsn names a PostgreSQL database rather than an
// SQLite file: PORTAL_DB=postgres://… or postgresql://….
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openPostgres connects to the database at url and brings its schema up
// to date. As on SQLite, writers and readers have pools of their own:
// writers take turns on the write lock, and a writer waiting for it holds a
// connection meanwhile, so were they one pool, waiting writers could take
// every connection while the lock's holder needed one to read.
func openPostgres(url string, opts Options) (*DB, error) {
	reads := 10
	if opts.ReadConns > 0 {
		reads = min(opts.ReadConns, 1000)
	}
	writePool, err := newPgPool(url, pgWriteConns)
	if err != nil {
		return nil, err
	}
	readPool, err := newPgPool(url, reads)
	if err != nil {
		writePool.Close()
		return nil, err
	}
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	db := &DB{pg: true, pools: []*pgxpool.Pool{writePool, readPool}, write: pgDB(writePool), read: pgDB(readPool),
		Path: redactURL(url), dsn: url, Now: time.Now, Location: loc, key: opts.LogKey}
	fail := func(err error) (*DB, error) {
		_ = db.write.Close()
		_ = db.read.Close()
		db.closePools()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.read.PingContext(ctx); err != nil {
		return fail(fmt.Errorf("open PostgreSQL database %s: %w", db.Path, err))
	}
	if err := db.migratePostgres(ctx); err != nil {
		return fail(err)
	}
	// Names written while no portal ran (a restore, an operator's SQL) are
	// folded before anyone searches.
	if err := db.FoldPendingNames(ctx); err != nil {
		return fail(err)
	}
	db.group = newGroupCommitter(db)
	return db, nil
}

// pgWriteConns is the size of a node's write pool: one write holds the lock
// at a time, the group committer runs one transaction at a time, and a few
// more writers (the mail worker, a sweep, a migration) wait their turn.
const pgWriteConns = 4

// newPgPool is a pgx pool of size connections to url.
func newPgPool(url string, size int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error can quote the URL, password and all.
		return nil, errors.New("PORTAL_DB is not a PostgreSQL address the portal can read (postgres://user@host:port/database?sslmode=…)")
	}
	cfg.MaxConns = int32(size) // #nosec G115 -- at most 1,000
	// Every time is written as text in UTC; the session's own zone is
	// never used, but set it so that a DBA's ad hoc now() agrees.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.ConnConfig.RuntimeParams["application_name"] = "portal"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL: %w", err)
	}
	return pool, nil
}

// pgDB is a database/sql pool over a pgx pool, with the portal's
// placeholders (rebind.go).
func pgDB(pool *pgxpool.Pool) *sql.DB {
	db := sql.OpenDB(pgConnector{stdlib.GetPoolConnector(pool), pool})
	db.SetMaxOpenConns(int(pool.Config().MaxConns))
	db.SetMaxIdleConns(int(pool.Config().MaxConns))
	return db
}

func (db *DB) closePools() {
	for _, p := range db.pools {
		p.Close()
	}
}

// migratePostgres applies the PostgreSQL schema's files not yet applied,
// each in a transaction holding the write lock, so nodes starting together
// apply each file once.
func (db *DB) migratePostgres(ctx context.Context) error {
	// A portal running as a role that owns nothing (the administrator made
	// the schema) may not even say CREATE TABLE IF NOT EXISTS: look first.
	var have int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name = 'schema_migrations'`).Scan(&have); err != nil {
		return fmt.Errorf("look for the migrations table: %w", err)
	}
	if have == 0 {
		if _, err := db.execWrite(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
			return fmt.Errorf("create migrations table: %w", err)
		}
	}
	names, err := fs.Glob(pgMigrationFS, "pgmigrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migratePostgresFile(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) migratePostgresFile(ctx context.Context, name string) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return fmt.Errorf("check migration %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	body, err := pgMigrationFS.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read migration %s: %w", name, err)
	}
	// No arguments: sent as one simple query, several statements and all.
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("apply migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, formatTime(time.Now())); err != nil {
		return fmt.Errorf("record migration %s: %w", name, err)
	}
	return tx.Commit()
}

// beginPostgres begins a write transaction and waits for the write lock,
// held until it commits or rolls back.
func (db *DB) beginPostgres(ctx context.Context) (*sql.Tx, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(writeLockKey)); err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("wait for the write lock: %w", err)
	}
	return tx, nil
}

// redactURL is url without its password, for messages and logs.
func redactURL(url string) string {
	at := strings.LastIndex(url, "@")
	scheme := strings.Index(url, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return url
	}
	userinfo := url[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return url[:scheme+3] + userinfo[:i] + ":xxxxx" + url[at:]
	}
	return url
}

// isPgUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isPgUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// OpenPostgresSQL opens a plain connection pool to the PostgreSQL database
// at url, with the portal's placeholders (`?`), and nothing else: no
// migration, no lock. It is for tools and tests that read the database as
// an auditor would, or write it as an insider holding the database would.
func OpenPostgresSQL(url string) (*sql.DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, errors.New("not a PostgreSQL address")
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(pgConnector{stdlib.GetPoolConnector(pool), pool}), nil
}

// openPostgresReadOnly opens the database at url to read it and nothing
// else: no migration, and every transaction read-only, so that checking a
// database never changes it.
func openPostgresReadOnly(url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, errors.New("PORTAL_DB is not a PostgreSQL address the portal can read (postgres://user@host:port/database?sslmode=…)")
	}
	cfg.MaxConns = 2
	cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL: %w", err)
	}
	db := &DB{pg: true, pools: []*pgxpool.Pool{pool}, read: pgDB(pool), Path: redactURL(url), Now: time.Now, Location: time.UTC}
	var n int
	if err := db.read.QueryRow(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'`).Scan(&n); err != nil || n == 0 {
		_ = db.read.Close()
		db.closePools()
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL database %s: %w", db.Path, err)
		}
		return nil, fmt.Errorf("%s is not a portal database", db.Path)
	}
	return db, nil
}

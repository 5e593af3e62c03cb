// Package store implements the portal's services on SQLite (one writer
// connection for every write transaction and a separate pool for reads) or
// on PostgreSQL (postgres.go: pgx's pools, one advisory lock for writers),
// with the same Go and SQL for both (dialect.go has the few differences).
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mattn/go-sqlite3"

	"portal/app"
	"portal/app/atomicfile"
	"portal/app/evidence"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// TimeLayout stores times as fixed-width UTC RFC 3339 so that they sort as text.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// DB is the portal's database.
type DB struct {
	// On SQLite, write is exactly one connection (SQLite allows one writer
	// at a time) and read a pool of query-only connections. On PostgreSQL
	// (pg) both are the one pool, and writers take turns by a lock
	// (postgres.go).
	write *sql.DB
	read  *sql.DB
	pg    bool
	pools []*pgxpool.Pool // PostgreSQL's, under write and read
	group *groupCommitter
	ckpt  *checkpointer
	// cycles caches the current cycle (CycleService).
	cycles cycleCache
	// lastSigned is when a signature was last committed (Unix nanoseconds).
	lastSigned atomic.Int64
	// key seals each evidence log entry; without it evidence cannot be written.
	key *evidence.Key
	// steady is the time links and sessions expire by (clock.go).
	steady steadyClock
	// logger receives what background work (the checkpointer) has to report.
	logger atomic.Pointer[slog.Logger]

	// Path is the database file.
	Path string
	dsn  string // the writer's DSN, for one-off connections such as backups
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Location is the time zone whose calendar says what "today" is.
	Location *time.Location
}

// Today is the date at Now in the portal's time zone (YYYY-MM-DD).
func (db *DB) Today() string { return app.Today(db.Now(), db.Location) }

// Options tune how the database is opened.
type Options struct {
	// Synchronous is NORMAL (safe against a crash of the process, the
	// default) or FULL (also safe against a power loss).
	Synchronous string
	// ReadConns is the size of the read pool (default 4).
	ReadConns int
	// LogKey is the evidence log's key, read from outside the database.
	// Without it the database can be read but no evidence written.
	LogKey *evidence.Key
	// Location is the time zone whose calendar says what "today" is (default UTC).
	Location *time.Location
}

// Open opens (creating if needed) the database at path and applies any
// pending migrations. A path that is a postgres:// or postgresql:// URL
// opens that PostgreSQL database instead of an SQLite file.
func Open(path string, opts Options) (*DB, error) {
	if IsPostgres(path) {
		return openPostgres(path, opts)
	}
	sync := strings.ToUpper(opts.Synchronous)
	if sync == "" {
		sync = "NORMAL"
	}
	if sync != "NORMAL" && sync != "FULL" {
		return nil, fmt.Errorf("synchronous must be NORMAL or FULL, not %q", opts.Synchronous)
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
	}
	// Pragmas go in the DSN so every pooled connection gets them.
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "5000")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	q.Set("_synchronous", sync)
	q.Set("_stmt_cache_size", "64") // re-use prepared statements: the portal runs a few dozen distinct queries
	dsn := "file:" + path + "?" + q.Encode()

	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	db := &DB{Path: path, Now: time.Now, Location: loc, dsn: dsn, key: opts.LogKey}
	// The writer looks for the lock itself (waitForWriter), so it has no
	// busy timeout of its own.
	var err error
	if db.write, err = sql.Open(writerDriverName, dsnWith(path, q, "_busy_timeout", strconv.Itoa(writerBusyTimeout))); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	db.write.SetConnMaxIdleTime(0)
	if err := db.write.Ping(); err != nil {
		_ = db.write.Close() // the open error is the one to report
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := db.migrate(); err != nil {
		_ = db.write.Close() // the open error is the one to report
		return nil, err
	}
	q.Set("_query_only", "1")
	q.Set("_txlock", "deferred")
	if db.read, err = sql.Open(driverName, "file:"+path+"?"+q.Encode()); err != nil {
		_ = db.write.Close() // the open error is the one to report
		return nil, fmt.Errorf("open read pool: %w", err)
	}
	db.read.SetMaxOpenConns(opts.ReadConns)
	db.read.SetMaxIdleConns(opts.ReadConns)
	// The checkpointer never waits for the lock (checkpoint.go).
	if db.ckpt, err = startCheckpointer(dsnWith(path, q, "_busy_timeout", "0", "_query_only", ""), &db.logger); err != nil {
		_ = db.read.Close() // the open error is the one to report
		_ = db.write.Close()
		return nil, err
	}
	db.group = newGroupCommitter(db)
	return db, nil
}

// OpenReadOnly opens an existing database to read it and nothing else: no
// migration, no file created, nothing written. It is for checking a
// database, perhaps a copy, as it is. A missing or empty file is an error.
func OpenReadOnly(path string) (*DB, error) {
	if IsPostgres(path) {
		return openPostgresReadOnly(path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("no database at %s", path)
	}
	if st.Size() == 0 || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is empty or not a database file", path)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_busy_timeout", "5000")
	q.Set("_query_only", "1")
	q.Set("_txlock", "deferred")
	db := &DB{Path: path, Now: time.Now, Location: time.UTC}
	if db.read, err = sql.Open(driverName, "file:"+path+"?"+q.Encode()); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.read.SetMaxOpenConns(2)
	var n int
	if err := db.read.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil || n == 0 {
		_ = db.read.Close() // the file is the problem
		return nil, fmt.Errorf("%s is not a portal database", path)
	}
	return db, nil
}

// HasLog reports whether the database has been upgraded to the evidence log.
func (db *DB) HasLog(ctx context.Context) (bool, error) {
	var n int
	if db.pg {
		return true, nil // PostgreSQL's schema has had the log from the start
	}
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = 'migrations/005_evidence_log.sql'`).Scan(&n)
	return n > 0, err
}

// SetLogger sets where the database's background work (the checkpointer)
// reports its errors; until it is set they are not logged.
func (db *DB) SetLogger(l *slog.Logger) { db.logger.Store(l) }

// Close closes both pools.
func (db *DB) Close() error {
	if db.write == nil { // read-only
		err := db.read.Close()
		db.closePools()
		return err
	}
	db.group.close()
	if db.pg {
		err := errors.Join(db.write.Close(), db.read.Close())
		db.closePools()
		return err
	}
	return errors.Join(db.ckpt.close(), db.read.Close(), db.write.Close())
}

// Signing reports whether a signature was committed within the last d of
// the portal's clock: people are signing right now, and background work
// can wait.
func (db *DB) Signing(d time.Duration) bool {
	last := db.lastSigned.Load()
	return last != 0 && db.Now().UnixNano()-last < int64(d)
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

func (db *DB) migrate() error {
	if _, err := db.execWrite(context.Background(), `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(name); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) migrateFile(name string) error {
	tx, err := db.beginWrite(context.Background())
	if err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return fmt.Errorf("check migration %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	body, err := migrationFS.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read migration %s: %w", name, err)
	}
	if _, err := tx.Exec(string(body)); err != nil {
		return fmt.Errorf("apply migration %s: %w", name, err)
	}
	if up, ok := upgrades[name]; ok {
		if err := up(context.Background(), db, tx); err != nil {
			return fmt.Errorf("apply migration %s: %w", name, err)
		}
	}
	if _, err := tx.Exec(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, formatTime(time.Now())); err != nil {
		return fmt.Errorf("record migration %s: %w", name, err)
	}
	return tx.Commit()
}

// Backup writes a consistent copy of the live database to path.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.pg {
		return db.backupPostgres(ctx, path)
	}
	// VACUUM INTO writes into a temporary name (it accepts an empty file),
	// renamed once synced: a backup killed half way leaves no partial copy
	// under the name asked for.
	f, err := atomicfile.Create(path)
	if errors.Is(err, fs.ErrExist) {
		return app.Errorf(app.ECONFLICT, "%s already exists", path)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Abort()
	// A connection of its own: VACUUM INTO reads one snapshot of the source
	// (WAL lets writers go on meanwhile), but the read pool is query-only.
	conn, err := sql.Open(driverName, db.dsn)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, f.Name()); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	err = f.Commit()
	if errors.Is(err, fs.ErrExist) {
		return app.Errorf(app.ECONFLICT, "%s already exists", path)
	}
	return err
}

// dsnWith is the DSN of the file at path with q's parameters, each key of
// set given the value after it (an empty value removes the parameter).
func dsnWith(path string, q url.Values, set ...string) string {
	p := url.Values{}
	for k, v := range q {
		p[k] = v
	}
	for i := 0; i+1 < len(set); i += 2 {
		if set[i+1] == "" {
			p.Del(set[i])
		} else {
			p.Set(set[i], set[i+1])
		}
	}
	return "file:" + path + "?" + p.Encode()
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func formatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

func parseTime(s string) time.Time {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		t, _ = time.Parse(time.RFC3339Nano, s)
	}
	return t.UTC()
}

// isUniqueViolation reports whether err is a UNIQUE constraint failure.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique || isPgUniqueViolation(err)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// noLimit is a LIMIT that takes every row: SQLite reads a negative limit
// so, PostgreSQL refuses one.
const noLimit = 1 << 62

// insert runs an INSERT of one row into a table with an id column, and
// returns a result whose LastInsertId is the new row's id, read with
// RETURNING: PostgreSQL has no "last insert id", and both databases read
// RETURNING the same way.
func insert(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	var id int64
	if err := q.QueryRowContext(ctx, query+` RETURNING id`, args...).Scan(&id); err != nil {
		return nil, err
	}
	return insertResult(id), nil
}

// insertResult is the result of insert: one row, whose id it holds.
type insertResult int64

func (r insertResult) LastInsertId() (int64, error) { return int64(r), nil }
func (r insertResult) RowsAffected() (int64, error) { return 1, nil }

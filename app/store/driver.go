package store

/*
typedef struct sqlite3 sqlite3;

// sqlite3_db_config is defined by the SQLite that github.com/mattn/go-sqlite3
// compiles into the same binary. The reference is weak so that cgo's own
// test link of this package, which lacks that object, still succeeds.
extern int sqlite3_db_config(sqlite3*, int op, ...) __attribute__((weak));

// portal_qpsg turns on the query planner stability guarantee
// (SQLITE_DBCONFIG_ENABLE_QPSG = 1007) and returns its state afterwards,
// or -1 when SQLite is not linked in.
static int portal_qpsg(void *db, int set) {
	int on = -1;
	if (!sqlite3_db_config) return -1;
	if (sqlite3_db_config((sqlite3*)db, 1007, set, &on) != 0) return -1;
	return on;
}
*/
import "C"

import (
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/mattn/go-sqlite3"
)

// The SQLite drivers with the portal's connection hooks: one for the read
// pool, one for the writer.
const (
	driverName       = "sqlite3-portal"
	writerDriverName = "sqlite3-portal-writer"
)

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: everyConnection})
	sql.Register(writerDriverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		if err := everyConnection(c); err != nil {
			return err
		}
		// The writer runs every signature of a group commit in a savepoint,
		// and SQLite keeps what a savepoint may have to undo in a statement
		// journal that spills to a temporary file past 64 KiB: one write
		// system call per page. In memory it costs no system call; the
		// writer's temporary tables and sorts (roster import, reminder
		// passes) are a few megabytes at 100,000 people.
		if _, err := c.Exec(`PRAGMA temp_store = MEMORY`, nil); err != nil {
			return err
		}
		// The checkpointer copies the WAL back in the background; the
		// writer does it only if that falls far behind.
		_, err := c.Exec(fmt.Sprintf(`PRAGMA wal_autocheckpoint = %d`, writerAutoCheckpoint), nil)
		return err
	}})
}

// everyConnection is every connection's hook: stable plans and the SQL
// functions of search, which the name_words triggers call whatever the
// connection writes (search.go).
func everyConnection(c *sqlite3.SQLiteConn) error {
	if err := stablePlans(c); err != nil {
		return err
	}
	return registerSearchFunctions(c)
}

// stablePlans is every connection's hook: stable plans (qpsg) and the
// bound on the WAL file left on disk (journalSizeLimit, checkpoint.go).
func stablePlans(c *sqlite3.SQLiteConn) error {
	if qpsg(c, 1) != 1 {
		return errors.New("cannot turn on SQLite's query planner stability guarantee")
	}
	_, err := c.Exec(fmt.Sprintf(`PRAGMA journal_size_limit = %d`, journalSizeLimit), nil)
	return err
}

// qpsg sets (set=1) or reads (set=-1) SQLITE_DBCONFIG_ENABLE_QPSG on a
// connection and returns its state.
//
// Why: go-sqlite3 calls sqlite3_clear_bindings before every execution, and
// SQLite expires a prepared statement whose plan looked at a bound value when
// its bindings are cleared. The planner looks at bound values for many
// ordinary queries (an ORDER BY id DESC over an indexed equality is enough),
// so those statements were compiled again on every run: the employee's
// progress query spent two thirds of its time in the parser. With the
// guarantee on, plans never depend on bound values, so a cached statement is
// run as it is. The portal gains nothing from value-dependent plans: it
// keeps no sqlite_stat4 and binds no LIKE prefixes that an index could use.
func qpsg(c *sqlite3.SQLiteConn, set int) int {
	// go-sqlite3 does not export the sqlite3* handle; it is the db field.
	h := reflect.ValueOf(c).Elem().FieldByName("db").UnsafePointer()
	if h == nil {
		return -1
	}
	return int(C.portal_qpsg(unsafe.Pointer(h), C.int(set))) // #nosec G103 -- passes SQLite's own handle back to SQLite
}

package store

import "database/sql"

// snapshot is a read-only transaction that sees one state of the database
// throughout: what SQLite's read transactions are, and PostgreSQL's
// REPEATABLE READ (its default, READ COMMITTED, sees each statement's own).
func (db *DB) snapshot() *sql.TxOptions {
	if db.pg {
		return &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	}
	return &sql.TxOptions{ReadOnly: true}
}

// The few SQL spellings SQLite and PostgreSQL do not share. Everything else
// the services send is written once, in SQL both read the same way; each
// helper here returns an SQL expression from SQL expressions.

// addDays is the date (YYYY-MM-DD text) days after the date date.
func (db *DB) addDays(date, days string) string {
	if db.pg {
		return `to_char(CAST(` + date + ` AS date) + CAST((` + days + `) AS integer), 'YYYY-MM-DD')`
	}
	return `date(` + date + `, '+' || (` + days + `) || ' days')`
}

// addYear is the date a year after the date date.
func (db *DB) addYear(date string) string {
	if db.pg {
		return `to_char(CAST(` + date + ` AS date) + interval '1 year', 'YYYY-MM-DD')`
	}
	return `date(` + date + `, '+1 year')`
}

// greatest is the larger of a and b (neither NULL).
func (db *DB) greatest(a, b string) string {
	if db.pg {
		return `GREATEST(` + a + `, ` + b + `)`
	}
	return `MAX(` + a + `, ` + b + `)`
}

// skipLocked ends a SELECT of rows to claim: on PostgreSQL, rows another
// transaction has locked are passed over rather than waited for, so two
// nodes' mail workers claiming at once each take different messages.
// SQLite has one writer, so there is nothing to skip.
func (db *DB) skipLocked() string {
	if db.pg {
		return ` FOR UPDATE SKIP LOCKED`
	}
	return ``
}

package store

import (
	"errors"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// Unavailable reports whether err means the portal cannot save right now
// for a reason that passes by itself: the disk (or the database's quota)
// is full, the disk failed a read or write, or another process held the
// write lock past every wait; on PostgreSQL, the server is out of reach or
// out of room (pgUnavailable). The web layer answers these with 503 and
// "try again in a moment" rather than a generic internal error; nothing of
// the failed transaction was written, and the next write tries afresh.
func Unavailable(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrFull, sqlite3.ErrIoErr, sqlite3.ErrBusy, sqlite3.ErrLocked:
			return true
		}
	}
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EIO) || pgUnavailable(err)
}

// pgUnavailable is Unavailable for PostgreSQL: the server cannot be
// reached or is restarting, its disk or memory or connections are full
// (class 53), or it broke off the transaction to avoid a deadlock; each
// passes by itself, and nothing of the transaction was written.
func pgUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "57P"),
			pe.Code == "40001", pe.Code == "40P01":
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || pgconn.Timeout(err)
}

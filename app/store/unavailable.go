package store

import (
	"errors"
	"syscall"

	"github.com/mattn/go-sqlite3"
)

// Unavailable reports whether err means the portal cannot save right now
// for a reason that passes by itself: the disk (or the database's quota)
// is full, the disk failed a read or write, or another process held the
// write lock past every wait. The web layer answers these with 503 and
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
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EIO)
}

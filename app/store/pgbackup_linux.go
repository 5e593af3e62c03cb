package store

import (
	"runtime"
	"syscall"
)

// dieWithParent has Linux kill pg_dump when the portal process dies, so a
// `portal backup` killed with SIGKILL leaves no child writing the
// temporary file on its own. Linux sends the signal when the thread that
// started the child ends, so the caller keeps its goroutine on one thread
// until pg_dump has finished (unlock).
func dieWithParent() (attr *syscall.SysProcAttr, unlock func()) {
	runtime.LockOSThread()
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}, runtime.UnlockOSThread
}

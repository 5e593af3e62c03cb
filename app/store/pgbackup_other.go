//go:build !linux

package store

import "syscall"

// dieWithParent: only Linux can tie a child's life to its parent's; on
// other systems a killed `portal backup` may leave pg_dump finishing the
// temporary file, which is never renamed.
func dieWithParent() (attr *syscall.SysProcAttr, unlock func()) { return nil, func() {} }

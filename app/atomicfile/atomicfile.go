// Package atomicfile writes a file that appears under its final name only
// once it is whole. It is written under a temporary name in the same
// folder (FINAL.tmp-<16 hex digits>, mode 0600), synced, then given its final
// name, and the folder synced. A run killed half way leaves at most the
// temporary file, never a partial file under the final name, and a rerun
// picks another temporary name.
//
// The final name is never overwritten: it is given with a hard link, which
// fails if the name exists (os.Rename would replace a file that appeared
// meanwhile without a word).
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// TempInfix is what a temporary name adds to the final one, before 16 hex
// digits: "backup.db" is written as "backup.db.tmp-3f2a…".
const TempInfix = ".tmp-"

// File is a file being written under a temporary name.
type File struct {
	*os.File
	final string
	ended bool
}

// Create starts writing the file final. It refuses if final exists.
func Create(final string) (*File, error) {
	if _, err := os.Lstat(final); err == nil {
		return nil, &fs.PathError{Op: "create", Path: final, Err: fs.ErrExist}
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	tmp := final + TempInfix + hex.EncodeToString(b)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the operator names the file on the command line
	if err != nil {
		return nil, err
	}
	return &File{File: f, final: final}, nil
}

// Final is the name the file gets on Commit.
func (f *File) Final() string { return f.final }

// Commit syncs and closes the file, then gives it its final name and syncs
// the folder, so the name survives a power loss too. If a file of the final
// name appeared meanwhile, it is left alone and Commit fails. Either way the
// temporary name is gone afterwards.
func (f *File) Commit() error {
	if f.ended {
		return errors.New("atomicfile: already ended")
	}
	f.ended = true
	tmp := f.Name()
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp) // best effort: the write's error is the one to report
		return fmt.Errorf("write %s: %w", f.final, err)
	}
	if err := link(tmp, f.final); err != nil {
		_ = os.Remove(tmp) // best effort: the name's error is the one to report
		return err
	}
	// Gone already if link fell back to a rename.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s is written, but its temporary name %s is left: %w", f.final, tmp, err)
	}
	return syncDir(filepath.Dir(f.final))
}

// Abort closes and removes the temporary file. It does nothing after Commit,
// so it can be deferred.
func (f *File) Abort() {
	if f.ended {
		return
	}
	f.ended = true
	_ = f.Close()           // the file is thrown away: its errors say nothing more
	_ = os.Remove(f.Name()) // best effort: an error here leaves only a temporary name
}

// link gives tmp the name final unless final exists. Where the file system
// has no hard links (some network and FAT file systems), it falls back to a
// rename after checking the name is free: a file that appeared in between
// would be replaced, a window of microseconds on a file system without the
// means to close it.
func link(tmp, final string) error {
	err := os.Link(tmp, final)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return &fs.PathError{Op: "create", Path: final, Err: fs.ErrExist}
	}
	if _, serr := os.Lstat(final); serr == nil {
		return &fs.PathError{Op: "create", Path: final, Err: fs.ErrExist}
	}
	return os.Rename(tmp, final)
}

func syncDir(dir string) error {
	d, err := os.Open(dir) // #nosec G304 -- the folder of a file the operator named
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func leftovers(t *testing.T, final string) []string {
	t.Helper()
	m, err := filepath.Glob(final + TempInfix + "*")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTheFinalNameAppearsOnlyWhole(t *testing.T) {
	final := filepath.Join(t.TempDir(), "out.zip")
	f, err := Create(final)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("half"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(final); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the final name exists while writing: %v", err)
	}
	if _, err := f.WriteString(" and whole"); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // after Commit: nothing to do
	b, err := os.ReadFile(final)
	if err != nil || string(b) != "half and whole" {
		t.Fatalf("%q %v", b, err)
	}
	if fi, _ := os.Stat(final); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if l := leftovers(t, final); len(l) != 0 {
		t.Fatalf("left %v", l)
	}
	if _, err := Create(final); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create over an existing file: %v", err)
	}
}

func TestAFileThatAppearedMeanwhileIsKept(t *testing.T) {
	final := filepath.Join(t.TempDir(), "backup.db")
	f, err := Create(final)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("ours"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(final, []byte("theirs"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Commit over a file that appeared: %v", err)
	}
	if b, _ := os.ReadFile(final); string(b) != "theirs" {
		t.Fatalf("the other file became %q", b)
	}
	if l := leftovers(t, final); len(l) != 0 {
		t.Fatalf("left %v", l)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	final := filepath.Join(t.TempDir(), "out.zip")
	f, err := Create(final)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("half"); err != nil {
		t.Fatal(err)
	}
	f.Abort()
	if _, err := os.Lstat(final); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("final after Abort: %v", err)
	}
	if l := leftovers(t, final); len(l) != 0 {
		t.Fatalf("left %v", l)
	}
	if err := f.Commit(); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
}

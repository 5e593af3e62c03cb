package content

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"portal/app"
)

// The ZIP tests cannot reach these limits past archive/zip's own check of
// the declared sizes, so limitFS is tested here over an fs.FS that has no
// headers to lie in.
func TestLimitFSCountsBytesRead(t *testing.T) {
	t.Run("one file over 1 MiB", func(t *testing.T) {
		fsys := newLimitFS(fstest.MapFS{"big.md": {Data: make([]byte, maxEntrySize+1)}, "ok.md": {Data: make([]byte, maxEntrySize)}})
		if _, err := fs.ReadFile(fsys, "ok.md"); err != nil {
			t.Fatalf("a file of exactly 1 MiB: %v", err)
		}
		_, err := fs.ReadFile(fsys, "big.md")
		if app.ErrorCode(err) != app.EINVALID || !strings.Contains(app.ErrorMessage(err), `"big.md" decompresses to more than 1 MiB`) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("more than 10 MiB in all", func(t *testing.T) {
		m := fstest.MapFS{}
		for i := range 11 {
			m[fmt.Sprintf("f%d.md", i)] = &fstest.MapFile{Data: make([]byte, maxEntrySize)}
		}
		fsys := newLimitFS(m)
		var err error
		for i := 0; i < 11 && err == nil; i++ {
			_, err = fs.ReadFile(fsys, fmt.Sprintf("f%d.md", i))
			if i < 10 && err != nil {
				t.Fatalf("file %d: %v", i, err)
			}
		}
		if app.ErrorCode(err) != app.EINVALID || !strings.Contains(app.ErrorMessage(err), "more than 10 MiB in all") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("folders still list", func(t *testing.T) {
		fsys := newLimitFS(fstest.MapFS{"d/a.md": {Data: []byte("x")}})
		if es, err := fs.ReadDir(fsys, "d"); err != nil || len(es) != 1 {
			t.Errorf("ReadDir: %v, %v", es, err)
		}
	})
}

package content_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"portal/app"
	"portal/app/content"
	"portal/data"
)

// entry is one file of a test ZIP; a name ending in "/" is a folder.
type entry struct {
	name string
	data []byte
}

// makeZip writes entries into an in-memory ZIP, compressed with Deflate.
func makeZip(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// shippedEntries returns the shipped version's files with their paths
// relative to its folder, prefixed with prefix.
func shippedEntries(t *testing.T, prefix string) []entry {
	t.Helper()
	sub, err := fs.Sub(data.FS, shippedDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []entry
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		if d.IsDir() {
			out = append(out, entry{name: prefix + p + "/"})
			return nil
		}
		b, err := fs.ReadFile(sub, p)
		out = append(out, entry{name: prefix + p, data: b})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func loadZip(b []byte) (*app.PolicyVersion, error) {
	return content.LoadVersionZip(bytes.NewReader(b), int64(len(b)))
}

func TestLoadVersionZip(t *testing.T) {
	want := loadShipped(t)
	for name, prefix := range map[string]string{"files at the root": "", "one top-level folder": "2026.1/"} {
		t.Run(name, func(t *testing.T) {
			entries := shippedEntries(t, prefix)
			// What macOS adds to a ZIP must not get in the way.
			entries = append(entries, entry{"__MACOSX/" + prefix + "._policy.md", []byte("junk")}, entry{prefix + ".DS_Store", []byte("junk")})
			v, err := loadZip(makeZip(t, entries))
			if err != nil {
				t.Fatal(err)
			}
			if v.SHA256 != want.SHA256 || len(v.Modules) != len(want.Modules) {
				t.Errorf("loaded %s with %d modules, want %s with %d", v.SHA256, len(v.Modules), want.SHA256, len(want.Modules))
			}
		})
	}

	t.Run("content problems name the file as it is in the ZIP", func(t *testing.T) {
		entries := shippedEntries(t, "v/")
		for i := range entries {
			if entries[i].name == "v/modules/02-off-duty-use.md" {
				entries[i].data = []byte("---\ntitle: Off duty\naudience: everyone\nminutes: 3\n---\nText.\n")
			}
		}
		_, err := loadZip(makeZip(t, entries))
		if app.ErrorCode(err) != app.EINVALID || !strings.Contains(app.ErrorMessage(err), `v/modules/02-off-duty-use.md: audience "everyone"`) {
			t.Errorf("got %v", err)
		}
	})

	t.Run("content problems at the root", func(t *testing.T) {
		_, err := loadZip(makeZip(t, without(shippedEntries(t, ""), "questions/")))
		if msg := app.ErrorMessage(err); !strings.HasPrefix(msg, "policy version is invalid:\n") || !strings.Contains(msg, "\nquestions: missing folder") {
			t.Errorf("got %v", err)
		}
	})
}

// without returns entries without those whose name starts with prefix.
func without(entries []entry, prefix string) []entry {
	var out []entry
	for _, e := range entries {
		if !strings.HasPrefix(e.name, prefix) {
			out = append(out, e)
		}
	}
	return out
}

// bomb returns a ZIP whose policy.md declares 10 bytes in its headers but
// inflates to 5 MB.
func bomb(t *testing.T) []byte {
	t.Helper()
	var packed bytes.Buffer
	fw, err := flate.NewWriter(&packed, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(bytes.Repeat([]byte("a"), 5_000_000)); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name:               "policy.md",
		Method:             zip.Deflate,
		CompressedSize64:   uint64(packed.Len()),
		UncompressedSize64: 10, // the lie
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(packed.Bytes()); err != nil {
		t.Fatal(err)
	}
	for _, e := range without(shippedEntries(t, ""), "policy.md") {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadVersionZipRejectsHostileArchives(t *testing.T) {
	one := func(name string, data string) []byte { return makeZip(t, []entry{{name, []byte(data)}}) }
	many := func(n int, size int) []byte {
		var es []entry
		for i := range n {
			es = append(es, entry{fmt.Sprintf("f%03d.md", i), make([]byte, size)})
		}
		return makeZip(t, es)
	}
	cases := []struct {
		name string
		zip  []byte
		want string // part of the message
	}{
		{"not a ZIP", []byte("policy.md: this is plain text"), "not a ZIP"},
		{"empty file", nil, "not a ZIP"},
		{"too many entries", many(501, 1), "501 entries; the limit is 500"},
		{"an entry over 1 MiB", one("policy.md", strings.Repeat("a", 1<<20+1)), `"policy.md" is 1048577 bytes uncompressed; the limit is 1 MiB per file`},
		{"over 10 MiB in all", many(11, 1<<20), "more than 10 MiB"},
		{"zip bomb", bomb(t), `"policy.md" decompresses to more than its header declares`},
		{"parent folder", one("../policy.md", "x"), `"../policy.md" uses ".." to leave its folder`},
		{"parent folder inside", one("v/../../etc/policy.md", "x"), `uses ".."`},
		{"absolute path", one("/etc/policy.md", "x"), `"/etc/policy.md" is an absolute path`},
		{"drive letter", one("C:/policy.md", "x"), "absolute path"},
		{"backslash", one(`v\policy.md`, "x"), "contains a backslash"},
		{"unclean path", one("v//policy.md", "x"), "not a clean relative path"},
		{"same path twice", makeZip(t, []entry{{"policy.md", []byte("a")}, {"policy.md", []byte("b")}}), `"policy.md" more than once`},
		{"file and folder", makeZip(t, []entry{{"modules", []byte("a")}, {"modules/01-a.md", []byte("b")}, {"policy.md", nil}}), `"modules" both as a file and as a folder`},
		{"no policy.md", makeZip(t, without(shippedEntries(t, ""), "policy.md")), "no policy.md"},
		{"policy.md is a folder", makeZip(t, []entry{{"policy.md/", nil}, {"policy.md/x.md", []byte("x")}}), "no policy.md"},
		{"policy.md too deep", makeZip(t, shippedEntries(t, "export/2026.1/")), "export/2026.1/policy.md is too deep"},
		{"two candidate folders", makeZip(t, append(shippedEntries(t, "a/"), shippedEntries(t, "b/")...)), "more than one place (a/, b/)"},
		{"root and a folder", makeZip(t, append(shippedEntries(t, ""), shippedEntries(t, "b/")...)), "more than one place (the root, b/)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := loadZip(tc.zip)
			if err == nil {
				t.Fatalf("no error; loaded %s", v.Code)
			}
			if app.ErrorCode(err) != app.EINVALID {
				t.Errorf("code %s, want %s (%v)", app.ErrorCode(err), app.EINVALID, err)
			}
			if msg := app.ErrorMessage(err); !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not contain %q", msg, tc.want)
			}
			if testing.Verbose() {
				t.Log(app.ErrorMessage(err))
			}
		})
	}
}

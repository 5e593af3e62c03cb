package content_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"portal/app"
	"portal/app/content"
	"portal/data"
)

const docsFixture = "testdata/2026.1-documents"

func TestLoadVersionWithDocuments(t *testing.T) {
	v, err := content.LoadVersion(os.DirFS("."), docsFixture)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Documents) != 2 {
		t.Fatalf("documents: %+v", v.Documents)
	}
	// Sorted by name, typed by extension, hashed over the bytes on disk.
	for i, want := range []struct{ name, ctype string }{{"adoption-notice.txt", app.DocumentText}, {"official-policy.pdf", app.DocumentPDF}} {
		d := v.Documents[i]
		raw, err := os.ReadFile(docsFixture + "/documents/" + want.name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		if d.Name != want.name || d.ContentType != want.ctype || d.Size != int64(len(raw)) ||
			d.SHA256 != hex.EncodeToString(sum[:]) || !bytes.Equal(d.Data, raw) {
			t.Errorf("document %d: %s %s %d %s", i, d.Name, d.ContentType, d.Size, d.SHA256)
		}
	}
	t.Run("documents are part of the hash", func(t *testing.T) {
		without := *v
		without.Documents = nil
		if content.VersionSHA256(&without) == v.SHA256 {
			t.Error("dropping the documents left the hash unchanged")
		}
		for name, edit := range map[string]func(d *app.PolicyDocument){
			"name":   func(d *app.PolicyDocument) { d.Name = "other.pdf" },
			"type":   func(d *app.PolicyDocument) { d.ContentType = app.DocumentText },
			"size":   func(d *app.PolicyDocument) { d.Size++ },
			"sha256": func(d *app.PolicyDocument) { d.SHA256 = strings.Repeat("0", 64) },
		} {
			w := *v
			w.Documents = append([]app.PolicyDocument(nil), v.Documents...)
			edit(&w.Documents[1])
			if content.VersionSHA256(&w) == v.SHA256 {
				t.Errorf("editing the document's %s left the hash unchanged", name)
			}
		}
	})
	t.Run("a version without documents hashes as before", func(t *testing.T) {
		shipped, err := content.LoadVersion(data.FS, "policies/2026.1") // the text the fixture copies
		if err != nil {
			t.Fatal(err)
		}
		if len(shipped.Documents) != 0 {
			t.Fatalf("the shipped version has documents: %+v", shipped.Documents)
		}
		// The same content with only the code changed, as the fixture is:
		// its hash without documents is the shipped form under that code.
		same := *shipped
		same.Code = v.Code
		without := *v
		without.Documents = nil
		if content.VersionSHA256(&same) != content.VersionSHA256(&without) {
			t.Error("the fixture without its documents does not hash as the shipped text")
		}
	})
}

// TestLoadVersionDocumentErrors: each bad document is refused with a
// message naming the file, and no version is returned.
func TestLoadVersionDocumentErrors(t *testing.T) {
	pdf := []byte("%PDF-1.4\n% a stand-in\n%%EOF\n")
	cases := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"forbidden type", map[string][]byte{"v/documents/policy.html": []byte("<p>hi</p>")}, "v/documents/policy.html: only PDF (.pdf) and plain text (.txt)"},
		{"executable", map[string][]byte{"v/documents/run.exe": []byte("MZ")}, "only PDF (.pdf) and plain text (.txt)"},
		{"too big", map[string][]byte{"v/documents/big.pdf": append(pdf, make([]byte, content.MaxDocumentSize)...)}, "v/documents/big.pdf: larger than 4 MiB"},
		{"empty", map[string][]byte{"v/documents/empty.txt": {}}, "v/documents/empty.txt: the document is empty"},
		{"not really a PDF", map[string][]byte{"v/documents/fake.pdf": []byte("<script>alert(1)</script>")}, "named .pdf but is not a PDF"},
		{"binary text file", map[string][]byte{"v/documents/notes.txt": {'a', 0, 'b'}}, "holds a control character"},
		{"text not UTF-8", map[string][]byte{"v/documents/notes.txt": {0xff, 0xfe}}, "must be UTF-8"},
		{"unsafe name", map[string][]byte{"v/documents/my policy.pdf": pdf}, "v/documents/my policy.pdf: name a document with letters"},
		{"hidden file", map[string][]byte{"v/documents/.policy.pdf": pdf}, "starting with a letter or digit"},
		{"nested folder", map[string][]byte{"v/documents/old/policy.pdf": pdf}, "v/documents/old: a folder inside documents/"},
		{"duplicate name", map[string][]byte{"v/documents/Policy.pdf": pdf, "v/documents/policy.pdf": pdf}, "the same name as Policy.pdf"},
		{"too many", map[string][]byte{"v/documents/a.pdf": pdf, "v/documents/b.pdf": pdf, "v/documents/c.pdf": pdf,
			"v/documents/d.pdf": pdf, "v/documents/e.pdf": pdf, "v/documents/f.pdf": pdf}, "v/documents: 6 documents: the limit is 5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fixture()
			for name, data := range tc.files {
				fsys[name] = &fstest.MapFile{Data: data}
			}
			v, err := content.LoadVersion(fsys, "v")
			if v != nil || app.ErrorCode(err) != app.EINVALID || !strings.Contains(app.ErrorMessage(err), tc.want) {
				t.Fatalf("got %v, %v; want EINVALID containing %q", v, err, tc.want)
			}
		})
	}
}

// TestLoadVersionZipDocuments: documents come through an uploaded ZIP, and
// the ZIP-level refusals (paths leaving the folder, sizes) apply to them.
func TestLoadVersionZipDocuments(t *testing.T) {
	base := shippedEntries(t, "")
	pdf := []byte("%PDF-1.4\n% a stand-in\n%%EOF\n")
	t.Run("accepted", func(t *testing.T) {
		// A document over the 1 MiB limit for text files, under the 4 MiB one for documents.
		big := append(append([]byte(nil), pdf...), bytes.Repeat([]byte(" "), 2<<20)...)
		v, err := loadZip(makeZip(t, append(base, entry{"documents/", nil}, entry{"documents/official.pdf", big})))
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Documents) != 1 || v.Documents[0].Name != "official.pdf" || v.Documents[0].Size != int64(len(big)) {
			t.Errorf("documents: %+v", v.Documents)
		}
	})
	for _, tc := range []struct {
		name    string
		entries []entry
		want    string
	}{
		{"path leaving the folder", []entry{{"documents/../../x.pdf", pdf}}, `uses ".." to leave its folder`},
		{"nested folder", []entry{{"documents/old/x.pdf", pdf}}, "documents/old: a folder inside documents/"},
		{"document too big", []entry{{"documents/x.pdf", append(append([]byte(nil), pdf...), make([]byte, content.MaxDocumentSize)...)}}, "the limit is 4 MiB per document"},
		{"duplicate name", []entry{{"documents/x.pdf", pdf}, {"documents/x.pdf", pdf}}, `holds "documents/x.pdf" more than once`},
		{"forbidden type", []entry{{"documents/x.svg", []byte("<svg/>")}}, "only PDF (.pdf) and plain text (.txt)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := loadZip(makeZip(t, append(append([]entry(nil), base...), tc.entries...)))
			if v != nil || app.ErrorCode(err) != app.EINVALID || !strings.Contains(app.ErrorMessage(err), tc.want) {
				t.Fatalf("got %v, %v; want EINVALID containing %q", v, err, tc.want)
			}
		})
	}
}

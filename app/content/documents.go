package content

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"portal/app"
)

// Limits on official documents. A PDF of an adopted policy is usually well
// under 1 MiB; 4 MiB leaves room for a scanned one without letting a bundle
// fill the database.
const (
	MaxDocumentSize = 4 << 20
	MaxDocuments    = 5
)

// documentName is a safe file name: it starts with a letter or digit and
// holds only letters, digits, dots, hyphens and underscores, so it can go
// in a URL path and a Content-Disposition header as it is.
var documentName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// documentTypes is the allow-list of official document types, by extension
// (lower case). Only types a browser will not run as a page: PDF and text.
var documentTypes = map[string]string{
	".pdf": app.DocumentPDF,
	".txt": app.DocumentText,
}

// documents loads the optional documents folder: plain files only (no
// sub-folders), at most MaxDocuments, each at most MaxDocumentSize, named
// safely, with an allowed extension, whose bytes are what the extension
// says (a PDF starts with "%PDF-"; text is UTF-8 without control
// characters other than tab and line breaks), no two names the same when
// case is ignored (they would clash on a case-insensitive disk). A missing
// folder means no documents.
func (l *loader) documents(folder string) ([]app.PolicyDocument, error) {
	entries, err := fs.ReadDir(l.fsys, folder)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("content: list %s: %w", folder, err)
	}
	var out []app.PolicyDocument
	seen := map[string]string{}
	for _, e := range entries {
		file := path.Join(folder, e.Name())
		if e.IsDir() {
			l.problem(file, "a folder inside documents/: put the documents directly in documents/")
			continue
		}
		name := e.Name()
		if !documentName.MatchString(name) {
			l.problem(file, "name a document with letters, digits, dots, hyphens and underscores only, starting with a letter or digit (at most 100 characters)")
			continue
		}
		ctype, ok := documentTypes[strings.ToLower(path.Ext(name))]
		if !ok {
			l.problem(file, "only PDF (.pdf) and plain text (.txt) documents are accepted")
			continue
		}
		if other, dup := seen[strings.ToLower(name)]; dup {
			l.problem(file, "the same name as %s (names must differ in more than upper and lower case)", other)
			continue
		}
		seen[strings.ToLower(name)] = name
		data, err := l.readDocument(file)
		if err != nil {
			return nil, err
		}
		if data == nil {
			continue
		}
		if p := checkDocument(ctype, data); p != "" {
			l.problem(file, "%s", p)
			continue
		}
		sum := sha256.Sum256(data)
		out = append(out, app.PolicyDocument{Name: name, ContentType: ctype, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Data: data})
	}
	if len(out) > MaxDocuments {
		l.problem(folder, "%d documents: the limit is %d", len(out), MaxDocuments)
	}
	slices.SortFunc(out, func(a, b app.PolicyDocument) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// readDocument reads a document, recording a problem (and returning nil)
// when it is empty or larger than MaxDocumentSize.
func (l *loader) readDocument(file string) ([]byte, error) {
	f, err := l.fsys.Open(file)
	if err != nil {
		return nil, fmt.Errorf("content: open %s: %w", file, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxDocumentSize+1))
	if err != nil {
		return nil, err
	}
	switch {
	case len(data) > MaxDocumentSize:
		l.problem(file, "larger than %s; the limit for a document is %s", mib(MaxDocumentSize), mib(MaxDocumentSize))
		return nil, nil
	case len(data) == 0:
		l.problem(file, "the document is empty")
		return nil, nil
	}
	return data, nil
}

// checkDocument says what is wrong when data is not of type ctype.
func checkDocument(ctype string, data []byte) string {
	switch ctype {
	case app.DocumentPDF:
		if !bytes.HasPrefix(data, []byte("%PDF-")) {
			return "the file is named .pdf but is not a PDF"
		}
	case app.DocumentText:
		if !utf8.Valid(data) {
			return "a .txt document must be UTF-8 text"
		}
		if i := bytes.IndexFunc(data, func(r rune) bool { return r < ' ' && r != '\t' && r != '\n' && r != '\r' }); i >= 0 {
			return "a .txt document must be plain text; it holds a control character"
		}
	}
	return ""
}

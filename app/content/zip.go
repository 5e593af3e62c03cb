package content

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"portal/app"
)

// Limits on an uploaded version ZIP. The shipped version is about 60 KiB of
// text in 27 files, so these leave ample room while keeping a hostile
// archive from filling memory.
const (
	maxZipSize     = 16 << 20 // the archive itself
	maxZipEntries  = 500
	maxEntrySize   = 1 << 20  // one file, uncompressed
	maxZipUnpacked = 10 << 20 // all files, uncompressed
)

// LoadVersionZip reads a policy version uploaded as a ZIP archive of size
// bytes: the folder layout LoadVersion reads (policy.md, optional
// changes.md, modules/, questions/, optional documents/), either at the root of the archive or
// inside exactly one top-level folder. It returns what LoadVersion returns
// for that folder; problems in the content are reported by LoadVersion with
// the files named as they are in the archive.
//
// The archive is treated as hostile. It is rejected with an EINVALID
// *app.Error if it is not a ZIP, is larger than 16 MiB, holds more than 500
// entries, declares a file over 1 MiB (a document over 4 MiB) or files over 10 MiB in all, has an
// entry whose path is absolute, uses "..", a backslash or is otherwise not
// a clean relative path, holds the same path twice, a symbolic link, an
// encrypted entry or an unknown compression method, or has policy.md in
// more than one candidate folder or in none. Because headers can lie, the
// same size limits are enforced again on the bytes actually decompressed.
func LoadVersionZip(r io.ReaderAt, size int64) (*app.PolicyVersion, error) {
	if size > maxZipSize {
		return nil, app.Errorf(app.EINVALID, "The ZIP file is %d bytes; the limit is %s.", size, mib(maxZipSize))
	}
	zr, err := zip.NewReader(r, size)
	// ErrInsecurePath comes with a usable reader (GODEBUG zipinsecurepath=0);
	// checkZip reports the offending entry itself.
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, app.Errorf(app.EINVALID, "The file is not a ZIP archive, or it is damaged.")
	}
	dir, err := checkZip(zr.File)
	if err != nil {
		return nil, err
	}
	return LoadVersion(newLimitFS(zr), dir)
}

// checkZip checks the entries' headers and returns the folder holding
// policy.md: "." for the root, or the name of the one top-level folder.
func checkZip(files []*zip.File) (string, error) {
	if len(files) > maxZipEntries {
		return "", app.Errorf(app.EINVALID, "The ZIP holds %d entries; the limit is %d.", len(files), maxZipEntries)
	}
	var total uint64
	seen, isFile := map[string]bool{}, map[string]bool{}
	folders := map[string]bool{} // every folder some entry lies in
	var candidates, deeper []string
	for _, f := range files {
		name := f.Name
		if err := checkZipPath(name); err != nil {
			return "", err
		}
		clean := strings.TrimSuffix(name, "/")
		if seen[clean] {
			return "", app.Errorf(app.EINVALID, "The ZIP holds %q more than once.", clean)
		}
		seen[clean], isFile[clean] = true, !strings.HasSuffix(name, "/")
		for d := path.Dir(clean); d != "."; d = path.Dir(d) {
			folders[d] = true
		}
		if f.Mode()&fs.ModeSymlink != 0 {
			return "", app.Errorf(app.EINVALID, "The ZIP entry %q is a symbolic link; only plain files and folders are allowed.", name)
		}
		if f.Flags&0x1 != 0 {
			return "", app.Errorf(app.EINVALID, "The ZIP entry %q is encrypted; upload an archive without a password.", name)
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return "", app.Errorf(app.EINVALID, "The ZIP entry %q uses compression method %d; use Deflate or no compression.", name, f.Method)
		}
		if limit := entryLimit(clean); f.UncompressedSize64 > uint64(limit) { // #nosec G115 -- limit is a positive constant
			return "", app.Errorf(app.EINVALID, "The ZIP entry %q is %d bytes uncompressed; the limit is %s per %s.",
				name, f.UncompressedSize64, mib(limit), entryKind(clean))
		}
		if total += f.UncompressedSize64; total > maxZipUnpacked {
			return "", app.Errorf(app.EINVALID, "The files in the ZIP add up to more than %s uncompressed; that is the limit.", mib(maxZipUnpacked))
		}
		switch {
		case path.Base(clean) != "policy.md" || strings.HasSuffix(name, "/"):
		case clean == "policy.md":
			candidates = append(candidates, ".")
		case strings.Count(clean, "/") == 1:
			candidates = append(candidates, path.Dir(clean))
		default:
			deeper = append(deeper, clean)
		}
	}
	for d := range folders {
		if isFile[d] {
			return "", app.Errorf(app.EINVALID, "The ZIP holds %q both as a file and as a folder.", d)
		}
	}
	switch len(candidates) {
	case 1:
		return candidates[0], nil
	case 0:
		msg := "The ZIP has no policy.md, at its root or in a top-level folder."
		if len(deeper) > 0 {
			msg = fmt.Sprintf("The ZIP has no policy.md at its root or in a top-level folder (%s is too deep): zip the version folder itself, or its contents.", deeper[0])
		}
		return "", app.Errorf(app.EINVALID, "%s", msg)
	default:
		slices.Sort(candidates)
		for i, c := range candidates {
			if c == "." {
				candidates[i] = "the root"
			} else {
				candidates[i] = c + "/"
			}
		}
		return "", app.Errorf(app.EINVALID, "The ZIP has a policy.md in more than one place (%s): upload one version at a time.", strings.Join(candidates, ", "))
	}
}

// entryLimit is the most bytes the entry at clean may hold: official
// documents (files in a documents folder) may be larger than text files.
func entryLimit(clean string) int64 {
	if path.Base(path.Dir(clean)) == "documents" {
		return MaxDocumentSize
	}
	return maxEntrySize
}

// entryKind names what entryLimit limits, for messages.
func entryKind(clean string) string {
	if entryLimit(clean) == MaxDocumentSize {
		return "document"
	}
	return "file"
}

// checkZipPath rejects entry names that could point outside the folder the
// archive describes, or that fs.FS would silently rewrite.
func checkZipPath(name string) error {
	clean := strings.TrimSuffix(name, "/")
	switch {
	case strings.Contains(name, `\`):
		return app.Errorf(app.EINVALID, `The ZIP entry %q contains a backslash; ZIP paths use "/".`, name)
	case strings.HasPrefix(name, "/") || (len(name) >= 2 && name[1] == ':'):
		return app.Errorf(app.EINVALID, "The ZIP entry %q is an absolute path; paths must be relative.", name)
	case slices.Contains(strings.Split(clean, "/"), ".."):
		return app.Errorf(app.EINVALID, `The ZIP entry %q uses ".." to leave its folder.`, name)
	case !fs.ValidPath(clean) || clean == ".":
		return app.Errorf(app.EINVALID, "The ZIP entry %q is not a clean relative path.", name)
	}
	return nil
}

// limitFS wraps an fs.FS and enforces entryLimit on every file read from
// it and maxZipUnpacked on all of them together, counting the bytes really
// read rather than trusting any header. It also turns errors that mean the
// archive is damaged into EINVALID errors naming the entry.
type limitFS struct {
	fsys fs.FS
	left int64 // bytes that may still be read, over all files
}

func newLimitFS(fsys fs.FS) *limitFS { return &limitFS{fsys: fsys, left: maxZipUnpacked} }

// Open implements fs.FS.
func (l *limitFS) Open(name string) (fs.File, error) {
	f, err := l.fsys.Open(name)
	if err != nil {
		return nil, zipError(name, err, false)
	}
	if _, isDir := f.(fs.ReadDirFile); isDir {
		return f, nil
	}
	return &limitFile{File: f, fs: l, name: name}, nil
}

// limitFile is a file opened through a limitFS.
type limitFile struct {
	fs.File
	fs   *limitFS
	name string
	read int64
}

// Read implements fs.File, failing once the file or the archive as a whole
// has produced more bytes than the limits allow.
func (f *limitFile) Read(p []byte) (int, error) {
	limit := entryLimit(f.name)
	left := min(limit-f.read, f.fs.left)
	if int64(len(p)) > left+1 {
		p = p[:left+1] // one byte more than allowed shows the limit is crossed
	}
	n, err := f.File.Read(p)
	f.read += int64(n)
	f.fs.left -= int64(n)
	switch {
	case f.read > limit:
		return n, app.Errorf(app.EINVALID, "The ZIP entry %q decompresses to more than %s; the archive is damaged or hostile.", f.name, mib(limit))
	case f.fs.left < 0:
		return n, app.Errorf(app.EINVALID, "The files in the ZIP decompress to more than %s in all; the archive is damaged or hostile.", mib(maxZipUnpacked))
	case err != nil && err != io.EOF:
		return n, zipError(f.name, err, true)
	}
	return n, err
}

// zipError turns errors that mean the archive is damaged into an EINVALID
// error naming the entry; others (such as fs.ErrNotExist) pass through.
// reading tells an error from Read from one from Open.
func zipError(name string, err error, reading bool) error {
	var corrupt flate.CorruptInputError
	switch {
	case reading && errors.Is(err, zip.ErrFormat):
		// While reading, archive/zip reports this only when an entry yields
		// more bytes than its header declares: the mark of a zip bomb.
		return app.Errorf(app.EINVALID, "The ZIP entry %q decompresses to more than its header declares; the archive is damaged or hostile.", name)
	case errors.Is(err, zip.ErrFormat), errors.Is(err, zip.ErrChecksum), errors.Is(err, zip.ErrAlgorithm),
		errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &corrupt):
		return app.Errorf(app.EINVALID, "The ZIP entry %q is damaged (%v).", name, err)
	}
	return err
}

// mib formats a limit, a whole number of MiB, for messages.
func mib(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }

// Package export writes the signed certificates of many people as one ZIP
// with a manifest, streaming: one certificate is in memory at a time,
// whatever the number of people.
package export

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"portal/app"
)

// ManifestName is the manifest's name inside the ZIP.
const ManifestName = "manifest.csv"

// ManifestHeader names the manifest's columns.
// The path column is each PDF's path in the ZIP (with its folders, if any).
var ManifestHeader = []string{"employee_number", "full_name", "cycle", "signed_at_utc", "certificate_code", "path", "sha256"}

// Source calls fn for each acknowledgment to export, in a stable order.
type Source func(ctx context.Context, fn func(*app.Acknowledgment) error) error

// Render writes the PDF of one acknowledgment.
type Render func(w io.Writer, a *app.Acknowledgment) error

// WriteZip writes a ZIP of every acknowledgment from src, each as a PDF
// stored without compression (PDFs are compressed already), then
// manifest.csv with each file's SHA-256. Each PDF's entry is dated with its
// signing time; the manifest's with at, the time of the export. The manifest
// starts with a UTF-8 byte-order mark, without which spreadsheet programs
// read it in a legacy code page and garble names such as "Siobhán". It
// returns how many certificates it wrote. Memory holds one PDF and the
// manifest rows, never the archive. Every PDF is at the ZIP's top level.
func WriteZip(ctx context.Context, w io.Writer, at time.Time, src Source, render Render) (int, error) {
	return writeZip(ctx, w, at, src, render, newEntryNames(false))
}

// WriteZipByDepartment is WriteZip with each PDF in a folder per agency and
// department as at signing (Agency/Department/file.pdf, see FolderName),
// for exports that span several departments.
func WriteZipByDepartment(ctx context.Context, w io.Writer, at time.Time, src Source, render Render) (int, error) {
	return writeZip(ctx, w, at, src, render, newEntryNames(true))
}

func writeZip(ctx context.Context, w io.Writer, at time.Time, src Source, render Render, names *entryNames) (int, error) {
	zw := zip.NewWriter(w)
	var manifest bytes.Buffer
	manifest.WriteString("\ufeff")
	mw := csv.NewWriter(&manifest)
	if err := mw.Write(ManifestHeader); err != nil {
		return 0, err
	}
	var pdf bytes.Buffer
	n := 0
	err := src(ctx, func(a *app.Acknowledgment) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		pdf.Reset()
		if err := render(&pdf, a); err != nil {
			return fmt.Errorf("certificate %s: %w", a.CertificateNo, err)
		}
		name := names.path(a)
		hdr := &zip.FileHeader{Name: name, Method: zip.Store, Modified: a.SignedAt.UTC()}
		f, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := f.Write(pdf.Bytes()); err != nil {
			return err
		}
		sum := sha256.Sum256(pdf.Bytes())
		n++
		return mw.Write([]string{FormulaSafe(a.EmployeeNumber), FormulaSafe(a.EmployeeName), FormulaSafe(a.CycleName),
			a.SignedAt.UTC().Format(time.RFC3339), a.VerifyCode, name, hex.EncodeToString(sum[:])})
	})
	if err != nil {
		return n, err
	}
	mw.Flush()
	if err := mw.Error(); err != nil {
		return n, err
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: at.UTC()})
	if err != nil {
		return n, err
	}
	if _, err := f.Write(manifest.Bytes()); err != nil {
		return n, err
	}
	return n, zw.Close()
}

// FormulaSafe neutralises a CSV or spreadsheet cell that a spreadsheet would
// run as a formula (one that begins with =, +, -, @, or a tab or carriage
// return before one) by putting an apostrophe in front of it.
func FormulaSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// FileName is the server-made name of a certificate in the ZIP: the
// employee number, the name in plain ASCII letters and the certificate
// number, e.g. "1005-zoe-cote-smp-2026-000042.pdf". Nothing a user typed
// reaches the file system unfiltered.
func FileName(a *app.Acknowledgment) string {
	parts := []string{Slug(a.EmployeeNumber), Slug(a.EmployeeName), Slug(a.CertificateNo)}
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		keep = []string{"certificate"}
	}
	return strings.Join(keep, "-") + ".pdf"
}

// Slug reduces s to lower-case ASCII letters, digits and single hyphens:
// accents are dropped ("Zoë Côté" → "zoe-cote"), other scripts vanish.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return b.String()
}

// Certificates writes the ZIP of every signed certificate a filter
// matches: the HR and team downloads and the export-certificates command
// all use it.
type Certificates struct {
	Exports  app.ExportService
	Certs    app.CertificateRenderer
	BaseURL  string           // for each certificate's verification link
	Location *time.Location   // for its dates
	Now      func() time.Time // the export's time, for the manifest's date
}

// Write writes the ZIP of the certificates matching f and returns how many
// it holds: in a folder per agency and department, unless f is one
// department.
func (x *Certificates) Write(ctx context.Context, w io.Writer, f app.PeopleFilter) (int, error) {
	src := func(ctx context.Context, fn func(*app.Acknowledgment) error) error {
		return x.Exports.EachCertificate(ctx, f, fn)
	}
	write := WriteZipByDepartment
	if f.Department != "" {
		write = WriteZip
	}
	return write(ctx, w, x.Now(), src, func(w io.Writer, a *app.Acknowledgment) error {
		return x.Certs.RenderPDF(w, app.CertificateFor(a, x.BaseURL, x.Location))
	})
}

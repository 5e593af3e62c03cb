package export

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"portal/app"
)

// TestWriteZipDatesAndManifest: each PDF's entry carries its signing time,
// the manifest the export's time (never the format's 1980 zero date), and
// the manifest starts with a UTF-8 byte-order mark so that a spreadsheet
// reads "Siobhán O'Brien" as written.
func TestWriteZipDatesAndManifest(t *testing.T) {
	signed := time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC)
	at := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	ack := &app.Acknowledgment{EmployeeNumber: "1008", EmployeeName: "Siobhán O'Brien", CycleName: "2026",
		CertificateNo: "SMP-2026-000008", VerifyCode: "ABCD", SignedAt: signed}
	var buf bytes.Buffer
	n, err := WriteZip(context.Background(), &buf, at,
		func(ctx context.Context, fn func(*app.Acknowledgment) error) error { return fn(ack) },
		func(w io.Writer, a *app.Acknowledgment) error {
			_, err := io.WriteString(w, "%PDF-1.4 "+a.CertificateNo)
			return err
		})
	if err != nil || n != 1 {
		t.Fatalf("WriteZip: %d, %v", n, err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		want := signed
		if f.Name == ManifestName {
			want = at
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.HasPrefix(b, []byte("\ufeff")) || !strings.Contains(string(b), "Siobhán O'Brien") {
				t.Errorf("manifest %q: want a byte-order mark and the name as written", b)
			}
		}
		if !f.Modified.Equal(want) {
			t.Errorf("%s is dated %v, want %v", f.Name, f.Modified, want)
		}
	}
}

package export

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"path"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"portal/app"
)

func TestFolderNamesAreSafeEverywhere(t *testing.T) {
	for in, want := range map[string]string{
		"Department of Labor":          "Department of Labor",
		"Bureau de la Santé":           "Bureau de la Santé",
		"../../etc":                    "-..-etc",
		"..":                           "fallback",
		" . ":                          "fallback",
		"":                             "fallback",
		"R&D / Ops: North|South?*":     "R&D - Ops- North-South--",
		`a<b>c"d\e`:                    "a-b-c-d-e",
		"Tab\there\nnew\x00line":       "Tab here new line",
		"Hidden\u202eevil":             "Hidden evil", // a right-to-left override
		"CON":                          "CON_",
		"nul.txt":                      "nul.txt_",
		"Com1":                         "Com1_",
		"LPT9 ":                        "LPT9_",
		"COM10":                        "COM10",
		"Console":                      "Console",
		"trailing dots...":             "trailing dots",
		strings.Repeat("é", 40):        strings.Repeat("é", 25),
		strings.Repeat("a", 49) + "éz": strings.Repeat("a", 49),
	} {
		got := FolderName(in, "fallback")
		if got != want {
			t.Errorf("FolderName(%q) = %q, want %q", in, got, want)
		}
		if !utf8.ValidString(got) || len(got) > maxFolderBytes+1 || strings.ContainsAny(got, `<>:"/\|?*`) {
			t.Errorf("FolderName(%q) = %q is not safe", in, got)
		}
	}
}

// readZip returns a ZIP's entries by name and its manifest's rows.
func readZip(t *testing.T, b []byte) (map[string][]byte, [][]string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = body
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(files[ManifestName], []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return files, rows
}

// TestZipHasAFolderPerDepartment checks the ZIP of several departments:
// Agency/Department/file.pdf, the names made safe, two people of the same
// name (even with the same numbers) never in one file, folders that differ
// only in case merged, and the manifest's path column naming each file.
func TestZipHasAFolderPerDepartment(t *testing.T) {
	signed := time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC)
	acks := []*app.Acknowledgment{
		{EmployeeNumber: "1005", EmployeeName: "Zoë Côté", EmployeeAgency: "Department of Administrative and Financial Services",
			EmployeeDept: "Office of Information Technology", CertificateNo: "SMP-2026-000005"},
		{EmployeeNumber: "4004", EmployeeName: "Fatuma Warsame", EmployeeAgency: "Department of Labor",
			EmployeeDept: "Bureau of Employment Services", CertificateNo: "SMP-2026-000044"},
		{EmployeeNumber: "4005", EmployeeName: "Fatuma Warsame", EmployeeAgency: "Department of Labor",
			EmployeeDept: "Bureau of Employment Services", CertificateNo: "SMP-2026-000045"},
		{EmployeeNumber: "4005", EmployeeName: "Fatuma Warsame", EmployeeAgency: "DEPARTMENT OF LABOR",
			EmployeeDept: "bureau of employment services", CertificateNo: "SMP-2026-000045"},
		{EmployeeNumber: "../9", EmployeeName: "Eve", EmployeeAgency: "../../etc", EmployeeDept: "CON", CertificateNo: "X"},
		{EmployeeNumber: "9", EmployeeName: "Nobody", CertificateNo: "Y"},
	}
	for i, a := range acks {
		a.SignedAt, a.VerifyCode, a.CycleName = signed, "V"+string(rune('A'+i)), "2026"
	}
	src := func(ctx context.Context, fn func(*app.Acknowledgment) error) error {
		for _, a := range acks {
			if err := fn(a); err != nil {
				return err
			}
		}
		return nil
	}
	render := func(w io.Writer, a *app.Acknowledgment) error {
		_, err := io.WriteString(w, "%PDF-1.4 "+a.VerifyCode)
		return err
	}
	var buf bytes.Buffer
	n, err := WriteZipByDepartment(context.Background(), &buf, signed, src, render)
	if err != nil || n != len(acks) {
		t.Fatalf("WriteZipByDepartment: %d, %v", n, err)
	}
	files, rows := readZip(t, buf.Bytes())
	want := []string{
		"Department of Administrative and Financial Service/Office of Information Technology/1005-zoe-cote-smp-2026-000005.pdf",
		"Department of Labor/Bureau of Employment Services/4004-fatuma-warsame-smp-2026-000044.pdf",
		"Department of Labor/Bureau of Employment Services/4005-fatuma-warsame-smp-2026-000045.pdf",
		"Department of Labor/Bureau of Employment Services/4005-fatuma-warsame-smp-2026-000045-2.pdf",
		"-..-etc/CON_/9-eve-x.pdf",
		"No agency/No department/9-nobody-y.pdf",
	}
	if strings.Join(rows[0], ",") != "employee_number,full_name,cycle,signed_at_utc,certificate_code,path,sha256" {
		t.Fatalf("manifest header %q", rows[0])
	}
	if len(rows) != len(want)+1 || len(files) != len(want)+1 {
		t.Fatalf("%d manifest rows and %d files for %d certificates", len(rows)-1, len(files)-1, len(want))
	}
	for i, w := range want {
		if got := rows[i+1][5]; got != w {
			t.Errorf("row %d: path %q, want %q", i+1, got, w)
		}
		body, ok := files[w]
		if !ok {
			t.Errorf("the ZIP has no %q", w)
		}
		if string(body) != "%PDF-1.4 "+acks[i].VerifyCode {
			t.Errorf("%s holds %q", w, body)
		}
		if path.Clean(w) != w || strings.HasPrefix(w, "/") || slices.Contains(strings.Split(w, "/"), "..") {
			t.Errorf("%q leaves the folder it is unpacked in", w)
		}
	}

	// One department: no folders.
	buf.Reset()
	if _, err := WriteZip(context.Background(), &buf, signed, src, render); err != nil {
		t.Fatal(err)
	}
	_, rows = readZip(t, buf.Bytes())
	if got := rows[1][5]; got != "1005-zoe-cote-smp-2026-000005.pdf" {
		t.Errorf("flat ZIP path %q", got)
	}
}

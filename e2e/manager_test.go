package e2e

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"

	"portal/server"
)

// checkZip opens an export, checks every manifest row against its file and
// returns the employee numbers in it.
func checkZip(t *testing.T, body []byte) []string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	mf, ok := files["manifest.csv"]
	if !ok {
		t.Fatal("no manifest.csv")
	}
	// Dated with the export, not the ZIP format's zero date of 1980 (the
	// portal's clock, which tests may move, says when the export is).
	if mf.Modified.Year() < 2026 {
		t.Errorf("manifest.csv is dated %v", mf.Modified)
	}
	rc, err := mf.Open()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	// A spreadsheet program needs the byte-order mark to read UTF-8.
	if !bytes.HasPrefix(raw, []byte("\ufeff")) {
		t.Error("manifest.csv has no UTF-8 byte-order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "employee_number,full_name,cycle,signed_at_utc,certificate_code,path,sha256" {
		t.Fatalf("manifest header %v", rows[0])
	}
	if len(rows)-1 != len(zr.File)-1 {
		t.Fatalf("%d manifest rows for %d files", len(rows)-1, len(zr.File)-1)
	}
	var numbers []string
	for _, row := range rows[1:] {
		f, ok := files[row[5]]
		if !ok {
			t.Fatalf("manifest names a missing file %q", row[5])
		}
		if f.Method != zip.Store {
			t.Errorf("%s is compressed; PDFs should be stored", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != row[6] {
			t.Errorf("%s: manifest hash does not match the file", f.Name)
		}
		if !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Errorf("%s is not a PDF", f.Name)
		}
		// At most Agency/Department/file.pdf, each part made by the server.
		parts := strings.Split(f.Name, "/")
		file := parts[len(parts)-1]
		if len(parts) > 3 || strings.ContainsAny(file, " \\") || !strings.HasPrefix(file, row[0]+"-") {
			t.Errorf("file name %q not made by the server", f.Name)
		}
		for _, dir := range parts[:len(parts)-1] {
			if dir == "" || strings.Trim(dir, ". ") != dir || strings.ContainsAny(dir, `<>:"\|?*`) || len(dir) > 51 {
				t.Errorf("folder %q of %q is not safe", dir, f.Name)
			}
		}
		numbers = append(numbers, row[0])
	}
	return numbers
}

func TestManagerTeamAndExports(t *testing.T) {
	tp := startTestPortal(t)
	mgr := newClient(t, tp.BaseURL)
	mgr.signIn(tp.signInLink(t, "1004")) // François Lévesque: 1005–1008 report to him
	t.Run("the team page lists exactly the tree under the manager", func(t *testing.T) {
		r := mgr.get("/team")
		mustContain(t, r.Body, "Zoë Côté", "José Núñez", "Nguyễn Thị Lan", "Siobhán O&#39;Brien", "4 people")
		for _, outsider := range []string{"Margaret Thibodeau", "Hannah Roy", "Robert Pelletier", "Łukasz Wiśniewski"} {
			if strings.Contains(r.Body, outsider) {
				t.Errorf("team page shows %s", outsider)
			}
		}
		top := newClient(t, tp.BaseURL)
		top.signIn(tp.signInLink(t, "1001")) // her tree includes 1004's people indirectly
		mustContain(t, top.get("/team").Body, "Zoë Côté", "François Lévesque", "Łukasz Wiśniewski", "7 people")
	})
	t.Run("filters by status and department", func(t *testing.T) {
		mustContain(t, mgr.get("/team?status=signed").Body, "Siobhán O&#39;Brien", "1 person")
		r := mgr.get("/team?status=nope")
		wantFieldError(t, r, "status", "Unknown status filter. Choose a status from the list.")
		if strings.Contains(r.Body, "Siobhán O&#39;Brien") {
			t.Error("a refused filter still listed the team")
		}
		if r := mgr.get("/team?department=" + urlEscape("Bureau of Human Resources")); !strings.Contains(r.Body, "0 people") {
			t.Fatal("a department outside the tree shows people")
		}
	})
	t.Run("the ZIP holds every signed certificate of the tree with a correct manifest", func(t *testing.T) {
		r := mgr.get("/team/certificates.zip")
		if r.Status != 200 || r.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("status %d type %q", r.Status, r.Header.Get("Content-Type"))
		}
		cd := r.Header.Get("Content-Disposition")
		if !strings.Contains(cd, `filename="certificates-`) || !strings.Contains(cd, "filename*=UTF-8''") || !strings.Contains(cd, "Fran%C3%A7ois") {
			t.Errorf("Content-Disposition %q", cd)
		}
		if got := checkZip(t, []byte(r.Body)); strings.Join(got, ",") != "1008" {
			t.Fatalf("ZIP holds %v, want the one signed report 1008", got)
		}
		if tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'certificates.exported'`) != 1 {
			t.Fatal("the export is not in the evidence log")
		}
	})
	t.Run("another tree's people are never in reach", func(t *testing.T) {
		other := newClient(t, tp.BaseURL)
		other.signIn(tp.signInLink(t, "2001")) // Robert Pelletier, another agency's tree
		body := other.get("/team").Body
		if strings.Contains(body, "Siobhán") || strings.Contains(body, "Zoë") {
			t.Fatal("another tree on the team page")
		}
		z := other.get("/team/certificates.zip")
		for _, n := range checkZip(t, []byte(z.Body)) {
			if strings.HasPrefix(n, "10") {
				t.Fatalf("employee %s of another tree in the ZIP", n)
			}
		}
		if r := other.get("/team/certificates.zip?department=" + urlEscape("Office of Information Technology")); r.Status != 404 {
			t.Fatalf("another tree's department: %d", r.Status)
		}
		vc := tp.codeOf(t, tp.employee(t, "1008").ID)
		for _, path := range []string{"/certificates/" + vc, "/certificates/" + vc + "/pdf"} {
			if r := other.get(path); r.Status != 404 {
				t.Errorf("%s: %d", path, r.Status)
			}
		}
	})
	t.Run("people without reports cannot use the manager pages", func(t *testing.T) {
		e := newClient(t, tp.BaseURL)
		e.signIn(tp.signInLink(t, "1005"))
		for _, p := range []string{"/team", "/team/certificates.zip"} {
			if r := e.get(p); r.Status != 403 {
				t.Errorf("%s: %d", p, r.Status)
			}
		}
	})
	t.Run("exports are rate-limited with a clear message", func(t *testing.T) {
		var last response
		for i := 0; i < 6; i++ {
			last = mgr.get("/team/certificates.zip")
		}
		if last.Status != 429 || !strings.Contains(last.Body, "wait a few minutes") {
			t.Fatalf("sixth export in ten minutes: status %d", last.Status)
		}
	})
	t.Run("HR exports an agency within scope", func(t *testing.T) {
		hr := hrClient(t, tp)
		r := hr.get("/hr/certificates.zip?agency=" + urlEscape("Department of Labor"))
		got := checkZip(t, []byte(r.Body))
		want := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE agency = 'Department of Labor' AND ack_id IS NOT NULL`)
		if len(got) != want || want == 0 {
			t.Fatalf("%d certificates, want %d", len(got), want)
		}
		for _, n := range got {
			if !strings.HasPrefix(n, "40") {
				t.Fatalf("employee %s is not in the Department of Labor", n)
			}
		}
	})
}

func TestExportCertificatesCommand(t *testing.T) {
	tp := startTestPortal(t)
	tp.commandEnv(t)
	t.Setenv("PORTAL_BASE_URL", tp.BaseURL)
	dir := t.TempDir()
	var out bytes.Buffer
	exportTo := func(args ...string) []string {
		t.Helper()
		path := dir + "/" + strings.Join(append([]string{"x"}, args...), "_") + ".zip"
		path = strings.ReplaceAll(path, " ", "")
		out.Reset()
		if err := server.Run(t.Context(), append([]string{"export-certificates", "--out", path}, args...), &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return checkZip(t, b)
	}
	all := exportTo()
	if len(all) != tp.count(t, `SELECT COUNT(*) FROM assignments WHERE ack_id IS NOT NULL`) {
		t.Fatalf("%d certificates for everyone", len(all))
	}
	if got := exportTo("--manager", "1004"); strings.Join(got, ",") != "1008" {
		t.Fatalf("--manager 1004: %v", got)
	}
	if got := exportTo("--agency", "Department of Labor", "--department", "Bureau of Employment Services"); len(got) == 0 {
		t.Fatal("--agency/--department exported nothing")
	}
	if err := server.Run(t.Context(), []string{"export-certificates", "--out", dir + "/x.zip"}, &out, io.Discard); err == nil {
		t.Fatal("overwrote an existing file")
	}
	if err := server.Run(t.Context(), []string{"export-certificates", "--manager", "nobody", "--out", dir + "/y.zip"}, &out, io.Discard); err == nil {
		t.Fatal("unknown manager accepted")
	}
	if _, ok := server.Run(t.Context(), []string{"export-certificates"}, &out, io.Discard).(server.UsageError); !ok {
		t.Fatal("no --out: not a usage error")
	}
}

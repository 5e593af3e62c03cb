package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"portal/app"
)

// TestExportsReadWell checks issue 15's export defects through HTTP: the
// CSV's statuses were codes; the XLSX was all text, without a bold frozen
// header, a filter or column widths; the certificate ZIP of several
// departments was one flat folder.
func TestExportsReadWell(t *testing.T) {
	tp := startTestPortal(t)
	hr := hrClient(t, tp)
	signedAt := tp.ackByCode(t, tp.codeOf(t, tp.employee(t, "1008").ID)).SignedAt
	t.Run("CSV statuses in words, codes in their own column", func(t *testing.T) {
		r := hr.get("/hr/export.csv")
		if !strings.HasPrefix(r.Body, "\ufeff") {
			t.Fatal("no byte-order mark")
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if rows[0][8] != "status" || rows[0][9] != "status_code" {
			t.Fatalf("header %q", rows[0])
		}
		codes := map[string]bool{}
		for _, row := range rows[1:] {
			codes[row[9]] = true
			if !slices.Contains(app.Statuses, row[9]) || row[8] != app.StatusLabel(row[9]) || row[8] == row[9] {
				t.Errorf("%s: status %q, code %q", row[0], row[8], row[9])
			}
			if row[0] == "1008" && row[8] != "Signed" {
				t.Errorf("1008: %q", row)
			}
		}
		if len(codes) < 2 {
			t.Errorf("the demo's statuses: %v", codes)
		}
	})
	t.Run("XLSX with dates, a frozen bold header and a filter", func(t *testing.T) {
		r := hr.get("/hr/export.xlsx")
		x, err := excelize.OpenReader(strings.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		rows, err := x.GetRows("Completion")
		if err != nil {
			t.Fatal(err)
		}
		if want := "Signed (" + tp.Config.TimeZone.String() + ")"; rows[0][10] != want {
			t.Errorf("K1 %q, want %q", rows[0][10], want)
		}
		row := 0
		for i, cells := range rows {
			if cells[0] == "1008" {
				row = i + 1
			}
		}
		if row == 0 {
			t.Fatal("1008 is not in the spreadsheet")
		}
		k := "K" + strconv.Itoa(row)
		raw, _ := x.GetCellValue("Completion", k, excelize.Options{RawCellValue: true})
		serial, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			t.Fatalf("%s holds %q, not a date", k, raw)
		}
		got, _ := excelize.ExcelDateToTime(serial, false)
		if want := signedAt.In(tp.Config.TimeZone).Format("2006-01-02 15:04"); got.Format("2006-01-02 15:04") != want {
			t.Errorf("%s is %v, want %s in the portal's time zone", k, got, want)
		}
		h := "H" + strconv.Itoa(row)
		if raw, _ := x.GetCellValue("Completion", h, excelize.Options{RawCellValue: true}); strings.Contains(raw, "-") {
			t.Errorf("%s holds the text %q, not a date", h, raw)
		}
		id, _ := x.GetCellStyle("Completion", "A1")
		if st, err := x.GetStyle(id); err != nil || st.Font == nil || !st.Font.Bold {
			t.Error("the header is not bold")
		}
		if p, err := x.GetPanes("Completion"); err != nil || !p.Freeze || p.YSplit != 1 {
			t.Errorf("panes %+v %v", p, err)
		}
		last := "$L$" + strconv.Itoa(len(rows))
		found := false
		for _, dn := range x.GetDefinedName() {
			found = found || (dn.Name == "_xlnm._FilterDatabase" && strings.HasSuffix(dn.RefersTo, "!$A$1:"+last))
		}
		if !found {
			t.Errorf("no filter over A1:%s: %+v", last, x.GetDefinedName())
		}
		if w, _ := x.GetColWidth("Completion", "B"); w < 20 {
			t.Errorf("the name column is %v wide", w)
		}
	})
	t.Run("a ZIP of several departments has a folder for each", func(t *testing.T) {
		r := hr.get("/hr/certificates.zip")
		checkZip(t, []byte(r.Body))
		zr, err := zip.NewReader(bytes.NewReader([]byte(r.Body)), int64(len(r.Body)))
		if err != nil {
			t.Fatal(err)
		}
		folders := map[string]bool{}
		for _, f := range zr.File {
			if f.Name == "manifest.csv" {
				continue
			}
			parts := strings.Split(f.Name, "/")
			if len(parts) != 3 {
				t.Fatalf("%q is not Agency/Department/file.pdf", f.Name)
			}
			folders[parts[0]+"/"+parts[1]] = true
		}
		if !folders["Department of Labor/Bureau of Employment Services"] || len(folders) < 3 {
			t.Errorf("folders %v", folders)
		}
		// One department: no folders.
		one := hr.get("/hr/certificates.zip?agency=" + urlEscape("Department of Labor") + "&department=" + urlEscape("Bureau of Employment Services"))
		for _, n := range checkZip(t, []byte(one.Body)) {
			if !strings.HasPrefix(n, "40") {
				t.Errorf("employee %s in the Bureau of Employment Services", n)
			}
		}
		zr, err = zip.NewReader(bytes.NewReader([]byte(one.Body)), int64(len(one.Body)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if strings.Contains(f.Name, "/") {
				t.Errorf("%q is in a folder in a one-department ZIP", f.Name)
			}
		}
	})
}

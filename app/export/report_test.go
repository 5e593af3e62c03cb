package export

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"portal/app"
)

func reportPeople() []*app.PersonStatus {
	signed := time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC) // 9:05 in New York
	return []*app.PersonStatus{
		{EmployeeNumber: "1005", FullName: "Zoë Côté", Email: "zoe@x.example", Agency: "DAFS", Department: "OIT",
			DueOn: "2026-10-31", Status: app.StatusNotStarted},
		{EmployeeNumber: "1008", FullName: "Siobhán O'Brien", Email: "s@x.example", Agency: "DAFS", Department: "OIT",
			DueOn: "2026-10-31", Status: app.StatusSigned, SignedAt: &signed, VerifyCode: "ABCD"},
		{EmployeeNumber: "1009", FullName: "=HYPERLINK(\"http://x\")", Email: "e@x.example", Agency: "DAFS", Department: "OIT",
			DueOn: "2026-09-30", Status: app.StatusOverdue},
		{EmployeeNumber: "1010", FullName: "Dmitri Volkov", Email: "d@x.example", Agency: "DAFS", Department: "BHR",
			DueOn: "2026-10-31", Status: app.StatusInProgress},
	}
}

func eachOf(people []*app.PersonStatus) People {
	return func(fn func(*app.PersonStatus) error) error {
		for _, p := range people {
			if err := fn(p); err != nil {
				return err
			}
		}
		return nil
	}
}

// TestReportCSVSaysStatusesInWords checks issue 15's CSV defect: statuses
// were codes (not_started); now words, with the code in status_code, a
// byte-order mark, and formulas neutralised.
func TestReportCSVSaysStatusesInWords(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteReportCSV(&buf, eachOf(reportPeople())); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\ufeff")) {
		t.Fatal("no byte-order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "employee_number,full_name,email,agency,department,title,manager,due_on,status,status_code,signed_at_utc,certificate_code" {
		t.Fatalf("header %q", rows[0])
	}
	for i, want := range [][2]string{{"Not started", "not_started"}, {"Signed", "signed"}, {"Overdue", "overdue"}, {"In progress", "in_progress"}} {
		if rows[i+1][8] != want[0] || rows[i+1][9] != want[1] {
			t.Errorf("row %d: status %q, code %q, want %q", i+1, rows[i+1][8], rows[i+1][9], want)
		}
	}
	if rows[2][10] != "2026-03-02T14:05:00Z" || rows[2][1] != "Siobhán O'Brien" {
		t.Errorf("row 2: %q", rows[2])
	}
	if rows[3][1] != `'=HYPERLINK("http://x")` {
		t.Errorf("formula not neutralised: %q", rows[3][1])
	}
}

// TestReportXLSXReadsWell checks issue 15's XLSX defects, reading the file
// back with excelize: dates are dates (numbers with a date format), the
// signing time is a date and time in the portal's time zone, the header is
// bold and frozen, a filter covers the table, columns have widths, and
// text stays text.
func TestReportXLSXReadsWell(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteReportXLSX(&buf, ny, eachOf(reportPeople())); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	const s = ReportSheet
	rows, err := x.GetRows(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[0][0] != "Employee number" || rows[0][8] != "Status" || rows[0][9] != "Status code" ||
		rows[0][10] != "Signed (America/New_York)" {
		t.Fatalf("rows %q", rows)
	}
	if rows[1][8] != "Not started" || rows[1][9] != "not_started" || rows[3][1] != `'=HYPERLINK("http://x")` {
		t.Errorf("rows %q", rows[1:])
	}

	numFmt := func(cell string) string {
		t.Helper()
		id, err := x.GetCellStyle(s, cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := x.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.CustomNumFmt == nil {
			return strconv.Itoa(st.NumFmt)
		}
		return *st.CustomNumFmt
	}
	raw := func(cell string) string {
		t.Helper()
		v, err := x.GetCellValue(s, cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The due date: a number (the date's serial) shown as a date.
	for _, cell := range []string{"H2", "H3", "H4", "H5"} {
		if typ, _ := x.GetCellType(s, cell); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s has cell type %v, want a number", cell, typ)
		}
		if f := numFmt(cell); f != DateFormat {
			t.Errorf("%s has number format %q, want %q", cell, f, DateFormat)
		}
	}
	if v := raw("H2"); v != "46326" { // 2026-10-31
		t.Errorf("H2 holds %q, want the serial of 2026-10-31", v)
	}
	if v, _ := x.GetCellValue(s, "H4"); v != "2026-09-30" {
		t.Errorf("H4 shows %q", v)
	}
	// The signing time: 14:05 UTC is 09:05 in New York, as a date and time.
	if f := numFmt("K3"); f != DateTimeFormat {
		t.Errorf("K3 has number format %q", f)
	}
	serial, err := strconv.ParseFloat(raw("K3"), 64)
	if err != nil {
		t.Fatalf("K3 is not a number: %v", err)
	}
	if got, err := excelize.ExcelDateToTime(serial, false); err != nil || got.Format("2006-01-02 15:04") != "2026-03-02 09:05" {
		t.Errorf("K3 is %v (%v), want 2026-03-02 09:05", got, err)
	}
	if v, _ := x.GetCellValue(s, "K3"); v != "2026-03-02 09:05" {
		t.Errorf("K3 shows %q", v)
	}
	if v := raw("K2"); v != "" {
		t.Errorf("an unsigned person's signing time: %q", v)
	}
	// Text is text, never a formula.
	for _, cell := range []string{"A2", "B4", "I2", "J2", "L3"} {
		if typ, _ := x.GetCellType(s, cell); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
			t.Errorf("%s has cell type %v, want a string", cell, typ)
		}
		if f, _ := x.GetCellFormula(s, cell); f != "" {
			t.Errorf("%s holds a formula", cell)
		}
	}

	// A bold header row, frozen above the rows.
	for _, cell := range []string{"A1", "L1"} {
		id, _ := x.GetCellStyle(s, cell)
		if st, err := x.GetStyle(id); err != nil || st.Font == nil || !st.Font.Bold {
			t.Errorf("%s is not bold", cell)
		}
	}
	if id, _ := x.GetCellStyle(s, "A2"); id != 0 {
		if st, _ := x.GetStyle(id); st.Font != nil && st.Font.Bold {
			t.Error("the rows are bold too")
		}
	}
	panes, err := x.GetPanes(s)
	if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v (%v), want the first row frozen", panes, err)
	}

	// A filter over the whole table: the sheet's autoFilter and Excel's
	// hidden name for it.
	found := false
	for _, dn := range x.GetDefinedName() {
		if dn.Name == "_xlnm._FilterDatabase" {
			found = true
			if dn.RefersTo != "'Completion'!$A$1:$L$5" && dn.RefersTo != "Completion!$A$1:$L$5" {
				t.Errorf("filter range %q", dn.RefersTo)
			}
		}
	}
	if !found {
		t.Error("no filter")
	}
	if ref := strings.ReplaceAll(sheetAutoFilter(t, buf.Bytes()), "$", ""); ref != "A1:L5" {
		t.Errorf("the sheet's autoFilter covers %q, want A1:L5", ref)
	}

	// Columns wide enough to read.
	for col, want := range map[string]float64{"A": 16, "B": 28, "C": 32, "H": 12, "K": 20} {
		if w, err := x.GetColWidth(s, col); err != nil || w != want {
			t.Errorf("column %s is %v wide (%v), want %v", col, w, err, want)
		}
	}
}

// sheetAutoFilter returns the ref of the first sheet's autoFilter element.
func sheetAutoFilter(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	body, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<autoFilter ref="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		return ""
	}
	return string(m[1])
}

package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"portal/app"
)

// People calls fn for each person of a completion report, in order.
type People func(fn func(*app.PersonStatus) error) error

// ReportHeader names the completion report's CSV columns. The status is in
// words, as the portal shows it; its code, for formulas and scripts that
// compare it, has a column of its own.
var ReportHeader = []string{"employee_number", "full_name", "email", "agency", "department", "title", "manager",
	"due_on", "status", "status_code", "signed_at_utc", "certificate_code"}

// WriteReportCSV writes the completion report as CSV: UTF-8 with a
// byte-order mark (without it spreadsheet programs read the file in a
// legacy code page and garble accents), every cell formula-safe.
func WriteReportCSV(w io.Writer, each People) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(ReportHeader); err != nil {
		return err
	}
	err := each(func(p *app.PersonStatus) error {
		signed := ""
		if p.SignedAt != nil {
			signed = p.SignedAt.UTC().Format(time.RFC3339)
		}
		row := []string{p.EmployeeNumber, p.FullName, p.Email, p.Agency, p.Department, p.Title, p.ManagerName,
			p.DueOn, app.StatusLabel(p.Status), p.Status, signed, p.VerifyCode}
		for i := range row {
			row[i] = FormulaSafe(row[i])
		}
		return cw.Write(row)
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return err
}

// ReportSheet is the name of the XLSX report's one sheet.
const ReportSheet = "Completion"

// Number formats of the XLSX report's date cells: ISO order, which no
// reader takes for another date whatever their locale.
const (
	DateFormat     = "yyyy-mm-dd"
	DateTimeFormat = "yyyy-mm-dd hh:mm"
)

// xlsxColumn is one column of the XLSX report: its heading and width (in
// characters).
type xlsxColumn struct {
	title string
	width float64
}

// reportColumns are the XLSX report's columns; the signing time's heading
// names the time zone.
func reportColumns(loc *time.Location) []xlsxColumn {
	return []xlsxColumn{{"Employee number", 16}, {"Name", 28}, {"E-mail", 32}, {"Agency", 34}, {"Department", 34},
		{"Title", 26}, {"Manager", 26}, {"Due", 12}, {"Status", 16}, {"Status code", 13},
		{"Signed (" + loc.String() + ")", 20}, {"Certificate code", 18}}
}

// WriteReportXLSX writes the completion report as a spreadsheet: a bold
// header row frozen above the rows, a filter over the whole table, columns
// wide enough to read, the due date as a date and the signing time as a
// date and time in loc, the portal's time zone. Every text cell is a plain,
// formula-safe string, never a formula. The people are read first (the
// filter's range needs their number); a spreadsheet is built in memory
// anyway.
func WriteReportXLSX(w io.Writer, loc *time.Location, each People) error {
	var people []*app.PersonStatus
	if err := each(func(p *app.PersonStatus) error { people = append(people, p); return nil }); err != nil {
		return err
	}
	if loc == nil {
		loc = time.UTC
	}
	x := excelize.NewFile()
	defer x.Close()
	if err := x.SetSheetName("Sheet1", ReportSheet); err != nil {
		return err
	}
	cols := reportColumns(loc)
	last, err := excelize.CoordinatesToCellName(len(cols), len(people)+1)
	if err != nil {
		return err
	}
	// The filter is the sheet's, set before the stream writer takes the
	// sheet over (it cannot be added to a streamed sheet afterwards).
	if err := x.AutoFilter(ReportSheet, "A1:"+last, nil); err != nil {
		return fmt.Errorf("report filter: %w", err)
	}
	header, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}}})
	if err != nil {
		return err
	}
	date, err := x.NewStyle(&excelize.Style{CustomNumFmt: ptr(DateFormat)})
	if err != nil {
		return err
	}
	dateTime, err := x.NewStyle(&excelize.Style{CustomNumFmt: ptr(DateTimeFormat)})
	if err != nil {
		return err
	}
	sw, err := x.NewStreamWriter(ReportSheet)
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	heads := make([]any, len(cols))
	for i, c := range cols {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return err
		}
		heads[i] = excelize.Cell{StyleID: header, Value: c.title}
	}
	if err := sw.SetRow("A1", heads); err != nil {
		return err
	}
	for i, p := range people {
		var due, signed any = text(p.DueOn), nil
		if d, err := time.Parse(time.DateOnly, p.DueOn); err == nil {
			due = excelize.Cell{StyleID: date, Value: d}
		}
		if p.SignedAt != nil {
			signed = excelize.Cell{StyleID: dateTime, Value: p.SignedAt.In(loc)}
		}
		row := []any{text(p.EmployeeNumber), text(p.FullName), text(p.Email), text(p.Agency), text(p.Department),
			text(p.Title), text(p.ManagerName), due, text(app.StatusLabel(p.Status)), text(p.Status), signed,
			text(p.VerifyCode)}
		if err := sw.SetRow("A"+fmt.Sprint(i+2), row); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = x.WriteTo(w)
	return err
}

// text is a plain string cell, formula-safe: never a formula.
func text(s string) excelize.Cell { return excelize.Cell{Value: FormulaSafe(s)} }

func ptr[T any](v T) *T { return &v }

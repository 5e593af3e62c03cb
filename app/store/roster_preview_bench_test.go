package store

import (
	"context"
	"fmt"
	"testing"

	"portal/app"
)

// BenchmarkRosterPreviewPage reads one page of the saved preview of a
// 13,000-person upload, as each page view does: the counts by kind, the
// total matching the filter, and 50 rows.
func BenchmarkRosterPreviewPage(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b)
	rs := NewRosterService(f.db)
	const people = 13_000
	sum := &app.ImportSummary{Rows: people}
	for i := range people {
		kind := app.RosterKinds[i%len(app.RosterKinds)]
		sum.People = append(sum.People, &app.RosterPreviewRow{Kind: kind, EmployeeNumber: fmt.Sprint(100000 + i),
			FullName: fmt.Sprintf("Person %05d Lévesque", i), Agency: "A", Department: "D",
			Changes: []app.FieldChange{{Field: app.FieldDepartment, Old: "Finance", New: "Payroll"}}})
	}
	up := &app.RosterUpload{SHA256: "x", Filename: "big.csv", Content: []byte("x"), UploadedBy: f.emp.ID, Summary: sum}
	if err := rs.SaveUpload(ctx, up); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		f    app.RosterPreviewFilter
	}{
		{"first-page", app.RosterPreviewFilter{}},
		{"last-page", app.RosterPreviewFilter{Offset: people - 50}},
		{"deactivated-page-20", app.RosterPreviewFilter{Kind: app.RosterDeactivated, Offset: 19 * 50}},
		{"search-by-name", app.RosterPreviewFilter{Query: "00123 LEVESQUE"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			flt := bc.f
			flt.UploadID, flt.Limit = up.ID, 50
			for b.Loop() {
				pv, err := rs.FindPreview(ctx, flt)
				if err != nil || len(pv.Rows) == 0 {
					b.Fatalf("%v %d rows", err, len(pv.Rows))
				}
			}
		})
	}
}

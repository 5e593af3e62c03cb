package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portal/app"
	"portal/app/pgtest"
)

// A portal left running while its SQLite file is copied writes evidence the
// copy does not have: the copy says so, and how to start again.
func TestCopyNoticesAPortalStillRunning(t *testing.T) {
	lite := newFixtureAt(t, filepath.Join(t.TempDir(), "source.db"))
	lite.sign(t)
	pg, err := Open(pgtest.Database(t), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	late := &app.Employee{EmployeeNumber: "2", FullName: "Late Writer", Email: "late@x.example", Agency: "A", Department: "D", Active: true}
	copySnapshotTaken = func() {
		if err := NewEmployeeService(lite.db).CreateEmployee(context.Background(), late); err != nil {
			t.Error(err)
		}
	}
	defer func() { copySnapshotTaken = func() {} }()
	res, err := lite.db.CopyInto(context.Background(), pg)
	if app.ErrorCode(err) != app.ECONFLICT || !strings.Contains(app.ErrorMessage(err), "1 more evidence log entries") ||
		!strings.Contains(app.ErrorMessage(err), "Stop every portal process") {
		t.Fatalf("a copy while the source took a write: %v", err)
	}
	var people int
	if err := pg.read.QueryRow(`SELECT COUNT(*) FROM employees`).Scan(&people); err != nil || res == nil || people != 1 {
		t.Fatalf("the copy holds %d people (%v), want the snapshot's 1", people, err)
	}
}

// A source that is PostgreSQL, or a target that is SQLite, is refused.
func TestCopyNeedsSQLiteIntoPostgres(t *testing.T) {
	a := newFixtureAt(t, filepath.Join(t.TempDir(), "a.db"))
	b := newFixtureAt(t, filepath.Join(t.TempDir(), "b.db"))
	if _, err := a.db.CopyInto(context.Background(), b.db); err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("SQLite into SQLite: %v", err)
	}
}

// BenchmarkCopyToPostgres copies an SQLite database of 100,000 employees
// over 5 cycles (500,000 assignments, 460,000 acknowledgments: about 1.1
// million rows) into PostgreSQL, against the raw limit in the same run: the
// same number of rows of five text columns inserted the same way (batches
// of multi-row INSERTs in one transaction) into a table with no index, key
// or trigger. It reports rows a second and the ratio.
func BenchmarkCopyToPostgres(b *testing.B) {
	src, _ := seedLarge(b, 100_000, 5)
	ctx := context.Background()
	var rows int64
	var copyTime, rawTime float64
	for i := 0; i < b.N; i++ {
		dst, err := Open(pgtest.Database(b), testOptions(b))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := src.CopyInto(ctx, dst)
		if err != nil {
			b.Fatal(err)
		}
		copyTime += time.Since(start).Seconds()
		rows = res.Rows

		start = time.Now()
		tx, err := dst.write.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`CREATE TABLE raw_rows (a TEXT, b TEXT, c TEXT, d TEXT, e TEXT)`); err != nil {
			b.Fatal(err)
		}
		const per = copyParamsPerInsert / 5
		one := "(?, ?, ?, ?, ?)"
		args := make([]any, 0, per*5)
		for n := int64(0); n < rows; {
			k := min(int64(per), rows-n)
			args = args[:0]
			for j := int64(0); j < k; j++ {
				args = append(args, "2026-09-01T00:00:00.000000Z", fmt.Sprint("E", n+j), "Agency 7", "Department 3", "p@bench.invalid")
			}
			if _, err := tx.Exec(`INSERT INTO raw_rows VALUES `+strings.TrimSuffix(strings.Repeat(one+", ", int(k)), ", "), args...); err != nil {
				b.Fatal(err)
			}
			n += k
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		rawTime += time.Since(start).Seconds()
		dst.Close()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/copyTime, "rows/s")
	b.ReportMetric(float64(rows)*float64(b.N)/rawTime, "raw_rows/s")
	b.ReportMetric(copyTime/rawTime, "x_raw")
	b.ReportMetric(copyTime/float64(b.N), "s/copy")
}

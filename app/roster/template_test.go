package roster

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

func TestTemplate(t *testing.T) {
	tpl := Template()
	t.Run("UTF-8 with a byte-order mark, the header naming every column in order", func(t *testing.T) {
		if !bytes.HasPrefix(tpl, []byte("\xef\xbb\xbf")) {
			t.Fatal("no byte-order mark")
		}
		recs, err := csv.NewReader(bytes.NewReader(tpl[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 {
			t.Fatalf("%d records, want the header and one example", len(recs))
		}
		if !slices.Equal(recs[0], columnNames[:]) {
			t.Errorf("header %q, want %q", recs[0], columnNames)
		}
		var names []string
		for _, c := range Columns() {
			names = append(names, c.Name)
			if c.Format == "" {
				t.Errorf("column %s is not described", c.Name)
			}
			if c.Required != (c.Name == "employee_number" || c.Name == "full_name" || c.Name == "email" || c.Name == "agency" || c.Name == "department") {
				t.Errorf("column %s: required %v", c.Name, c.Required)
			}
		}
		if !slices.Equal(names, recs[0]) {
			t.Errorf("described columns %q differ from the header", names)
		}
	})
	t.Run("imported unchanged, the example row is refused", func(t *testing.T) {
		res, err := Parse(bytes.NewReader(tpl), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != 0 || len(res.Problems) != 1 {
			t.Fatalf("rows %d, problems %+v", len(res.Rows), res.Problems)
		}
		if p := res.Problems[0]; p.Line != 2 || p.Column != "employee_number" || !strings.Contains(p.Message, "template's example row") {
			t.Errorf("problem %+v", p)
		}
	})
	t.Run("with a real number, every example value is valid", func(t *testing.T) {
		res, err := Parse(bytes.NewReader(bytes.Replace(tpl, []byte("EXAMPLE-0001"), []byte("E1"), 1)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) != 0 || len(res.Rows) != 1 {
			t.Fatalf("rows %d, problems %+v", len(res.Rows), res.Problems)
		}
		if r := res.Rows[0]; r.FullName != "Siobhán Example" || r.HireDate != "2026-01-05" {
			t.Errorf("row %+v", r)
		}
	})
	t.Run("a number starting with example, in any case, is refused", func(t *testing.T) {
		for _, n := range []string{"example", "Example-7", "EXAMPLE-0001"} {
			if exampleProblem(n) == "" {
				t.Errorf("%s accepted", n)
			}
		}
		for _, n := range []string{"1001", "EXAMPL", "X-EXAMPLE"} {
			if exampleProblem(n) != "" {
				t.Errorf("%s refused", n)
			}
		}
	})
}

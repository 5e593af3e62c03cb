package roster

import (
	"encoding/csv"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"portal/app"
)

// FuzzParse feeds arbitrary files (and arbitrary existing manager links,
// written "employee>manager" one a line) to Parse and checks what must hold
// whatever the input.
func FuzzParse(f *testing.F) {
	for _, seed := range []struct{ in, links string }{
		{header + "E1,Ann,a@x.gov,A,D,,,,,\nE2,Bob,b@x.gov,A,D,Clerk,E1,2024-02-29,hr;admin,U1\n", ""},
		{"\xef\xbb\xbfEmployee Number,Full Name,E-mail,Agency,Department\r\nE1,\"Lee, Ann\",a@x.gov,A,\"D\r\nept\"\r\n", ""},
		{header + "E1,Ann,a@x.gov,A,D,,M1,,,\nM1,Bob,b@x.gov,A,D,,E1,,,\n", ""},
		{header + "E1,Ann,a@x.gov,A,D,,X1,,,\n", "X1>X2\nX2>E1\n"},
		{header + "E1,Bo\"b,a@x.gov,A,D,,,,,\nE2,\"Cy,c@x.gov,A,D,,,,,\n", ""},
		{header + "E1,Ren\xe9e,a@x.gov,A,D,,,,,\nE1,A\x00n,A@X.GOV,A,D,,E1,2023-02-29,god,\n", "E1>E1"},
		{"employee_number;full_name;email\n1;2;3\n", ""},
		{"employee_number,employee_number,full_name\n", ""},
		{sigHeader + "E1,王小明,w@x.gov,A,D,Wang Xiaoming\nE2,Bo,b@x.gov,A,D,王\nE3,Cy,c@x.gov,A,D,\" - \"\n", ""},
		{"\xff\xfe", ""},
		{"", ""},
		{"\n\n,,,\n", ""},
	} {
		f.Add(seed.in, seed.links)
	}
	f.Fuzz(func(t *testing.T, in, links string) {
		existing := map[string]string{}
		for l := range strings.SplitSeq(links, "\n") {
			emp, mgr, _ := strings.Cut(l, ">")
			existing[emp] = mgr
		}
		if got, want := normalizeText(in), app.NormalizeName(in); got != want {
			t.Errorf("normalizeText(%q) = %q, app.NormalizeName gives %q", in, got, want)
		}
		res, err := Parse(strings.NewReader(in), existing)
		if err != nil {
			t.Fatalf("Parse of a string reader failed: %v", err)
		}
		again, err := Parse(strings.NewReader(in), existing)
		if err != nil || !reflect.DeepEqual(res, again) {
			t.Fatalf("Parse is not deterministic")
		}

		lines := strings.Count(in, "\n") + 1
		bad := map[int]bool{}
		for _, p := range res.Problems {
			if p.Line < 0 || p.Line > lines+1 {
				t.Errorf("problem line %d outside 0..%d: %+v", p.Line, lines+1, p)
			}
			if p.Message == "" || !utf8.ValidString(p.Message) {
				t.Errorf("problem message empty or not UTF-8: %+v", p)
			}
			bad[p.Line] = true
		}

		numbers := map[string]int{}
		emails := map[string]int{}
		prev := 0
		for _, r := range res.Rows {
			if r.Line <= prev || r.Line > lines {
				t.Errorf("row line %d after %d (of %d lines)", r.Line, prev, lines)
			}
			prev = r.Line
			if bad[r.Line] {
				t.Errorf("row on line %d is in Rows but has a problem", r.Line)
			}
			if r.EmployeeNumber == "" || r.FullName == "" || r.Email == "" || r.Agency == "" || r.Department == "" {
				t.Errorf("row missing a required field: %+v", r)
			}
			for _, s := range []string{r.EmployeeNumber, r.FullName, r.Email, r.Agency, r.Department, r.Title, r.ManagerNumber, r.HireDate, r.BargainingUnit} {
				if !utf8.ValidString(s) {
					t.Errorf("row field not UTF-8: %q", s)
				}
			}
			numbers[r.EmployeeNumber]++
			emails[strings.ToLower(r.Email)]++
		}
		if len(res.Problems) == 0 {
			for n, c := range numbers {
				if c > 1 {
					t.Errorf("no problems, but employee number %q appears %d times", n, c)
				}
			}
			for e, c := range emails {
				if c > 1 {
					t.Errorf("no problems, but e-mail %q appears %d times", e, c)
				}
			}
		}
	})
}

// roster100k returns a 100,000-person roster and the same people as they
// would already be in the portal: one agency head, a manager tree eight
// wide (six levels deep), a mix of scripts in the names, BOM and CRLF as a
// spreadsheet saves it.
func roster100k() (string, map[string]string) {
	const n = 100_000
	first := []string{"Ann", "Zoë", "José", "Дарья", "王", "Nguyễn Thị", "Mary-Kate", "O'Neil"}
	last := []string{"Lee", "Côté", "Smirnova", "小明", "Lan", "van der Berg", "Ó Briain", "Smith"}
	agencies := []string{"Health and Human Services", "Transportation", "Administrative and Financial Services"}
	var sb strings.Builder
	sb.WriteString("\xef\xbb\xbf" + strings.ReplaceAll(header, "\n", "\r\n"))
	existing := make(map[string]string, n)
	for i := range n {
		mgr := ""
		if i > 0 {
			mgr = fmt.Sprintf("E%06d", (i-1)/8)
		}
		roles := ""
		if i%97 == 0 {
			roles = "hr;admin"
		}
		num := fmt.Sprintf("E%06d", i)
		fmt.Fprintf(&sb, "%s,\"%s %s\",person.%d@example.gov,%s,Department %d,Analyst %d,%s,20%02d-%02d-%02d,%s,MSEA\r\n",
			num, first[i%len(first)], last[(i/8)%len(last)], i, agencies[i%len(agencies)], i%40, i%3+1, mgr, i%25, i%12+1, i%28+1, roles)
		existing[num] = mgr
	}
	return sb.String(), existing
}

// BenchmarkParse100k parses and validates roster100k, a yearly re-import of
// 100,000 people. Compare with BenchmarkCSVRead100k, the bare read.
func BenchmarkParse100k(b *testing.B) {
	in, existing := roster100k()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := Parse(strings.NewReader(in), existing)
		if err != nil || len(res.Problems) != 0 || len(res.Rows) != 100_000 {
			b.Fatalf("err %v, %d problems, %d rows", err, len(res.Problems), len(res.Rows))
		}
	}
}

// BenchmarkCSVRead100k is the raw limit for BenchmarkParse100k: reading the
// same file with encoding/csv and keeping nothing.
func BenchmarkCSVRead100k(b *testing.B) {
	in, _ := roster100k()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		cr := csv.NewReader(strings.NewReader(in))
		cr.ReuseRecord = true
		n := 0
		for {
			_, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 100_001 {
			b.Fatalf("%d records", n)
		}
	}
}

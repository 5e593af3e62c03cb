package roster

import (
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/unicode/norm"

	"portal/app"
)

const header = "employee_number,full_name,email,agency,department,title,manager_employee_number,hire_date,roles,bargaining_unit\n"

func mustParse(t *testing.T, in string, existing map[string]string) *Result {
	t.Helper()
	res, err := Parse(strings.NewReader(in), existing)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return res
}

func noProblems(t *testing.T, res *Result) {
	t.Helper()
	for _, p := range res.Problems {
		t.Errorf("unexpected problem: line %d [%s] %s", p.Line, p.Column, p.Message)
	}
}

// want describes an expected problem: its line, column and a piece of its message.
type want struct {
	line int
	col  string
	text string
}

func sameProblems(t *testing.T, res *Result, wants ...want) {
	t.Helper()
	if len(res.Problems) != len(wants) {
		for _, p := range res.Problems {
			t.Logf("got: line %d [%s] %s", p.Line, p.Column, p.Message)
		}
		t.Fatalf("got %d problems, want %d", len(res.Problems), len(wants))
	}
	for k, w := range wants {
		p := res.Problems[k]
		if p.Line != w.line || p.Column != w.col || !strings.Contains(p.Message, w.text) {
			t.Errorf("problem %d = line %d [%s] %q; want line %d [%s] containing %q", k, p.Line, p.Column, p.Message, w.line, w.col, w.text)
		}
	}
}

func TestHeaderNamesMatchIgnoringCaseSpacesHyphensUnderscores(t *testing.T) {
	for _, h := range []string{
		"employee_number,full_name,email,agency,department",
		"Employee Number,Full Name,E-mail,Agency,Department",
		"employee-number,full-name,EMAIL,AGENCY,department",
		"EMPLOYEE_NUMBER, Full  Name ,email,Agency,Department",
		"Department,Email,Agency,Full_Name,Employee-Number", // any order
		"EmployeeNumber,FullName,Email,Agency,Department",
	} {
		t.Run(h, func(t *testing.T) {
			cols := strings.Split(h, ",")
			vals := map[string]string{"employee_number": "E1", "full_name": "Ann Lee", "email": "ann@example.gov", "agency": "DHHS", "department": "IT"}
			row := make([]string, len(cols))
			for k, c := range cols {
				row[k] = vals[columnNamed(c).String()]
			}
			res := mustParse(t, h+"\n"+strings.Join(row, ",")+"\n", nil)
			noProblems(t, res)
			want := Row{Line: 2, EmployeeNumber: "E1", FullName: "Ann Lee", Email: "ann@example.gov", Agency: "DHHS", Department: "IT"}
			if len(res.Rows) != 1 || !reflect.DeepEqual(res.Rows[0], want) {
				t.Fatalf("rows = %+v", res.Rows)
			}
		})
	}
}

func TestNormalizeHeader(t *testing.T) {
	for in, out := range map[string]string{
		"Employee Number":          "employee_number",
		"employee-number":          "employee_number",
		"EMPLOYEE_NUMBER":          "employee_number",
		"  Manager - Employee  No": "manager_employee_no",
		"\ufeffemployee_number":    "employee_number",
		"__x__":                    "x",
		"":                         "",
	} {
		if got := NormalizeHeader(in); got != out {
			t.Errorf("NormalizeHeader(%q) = %q, want %q", in, got, out)
		}
	}
}

func TestUnknownColumnsAreIgnored(t *testing.T) {
	res := mustParse(t, "notes,employee_number,full_name,email,agency,department,\nanything \x01,E1,Ann,a@x.gov,A,D,\n", nil)
	noProblems(t, res)
	if len(res.Rows) != 1 || res.Rows[0].EmployeeNumber != "E1" {
		t.Fatalf("rows = %+v", res.Rows)
	}
}

func TestHeaderProblems(t *testing.T) {
	t.Run("missing required columns are line-0 problems naming each", func(t *testing.T) {
		res := mustParse(t, "employee_number,full_name,title\nE1,Ann,Boss\n", nil)
		sameProblems(t, res,
			want{0, "email", "required column email is missing"},
			want{0, "agency", "agency"},
			want{0, "department", "department"})
		if len(res.Rows) != 0 {
			t.Errorf("rows = %+v", res.Rows)
		}
	})
	t.Run("a duplicated column is a problem on the header line", func(t *testing.T) {
		res := mustParse(t, "employee_number,full_name,email,agency,department,Full Name\nE1,Ann,a@x.gov,A,D,Bob\n", nil)
		sameProblems(t, res, want{1, "full_name", "columns 2 and 6"})
	})
	t.Run("no known column at all says a header is needed", func(t *testing.T) {
		res := mustParse(t, "E1,Ann,a@x.gov,A,D\n", nil)
		sameProblems(t, res, want{0, "", "header"})
	})
	t.Run("a semicolon-separated file gets a hint", func(t *testing.T) {
		res := mustParse(t, "employee_number;full_name;email;agency;department\nE1;Ann;a@x.gov;A;D\n", nil)
		sameProblems(t, res, want{0, "", "semicolons"})
	})
	t.Run("an empty file", func(t *testing.T) {
		sameProblems(t, mustParse(t, "", nil), want{0, "", "empty"})
		sameProblems(t, mustParse(t, "\xef\xbb\xbf\n\n", nil), want{0, "", "empty"})
	})
	t.Run("a header with no rows", func(t *testing.T) {
		sameProblems(t, mustParse(t, header+",,,,,,,,,\n\n", nil), want{0, "", "no employees"})
	})
	t.Run("a UTF-16 file is refused", func(t *testing.T) {
		sameProblems(t, mustParse(t, "\xff\xfee\x00m\x00", nil), want{0, "", "UTF-16"})
	})
}

func TestBOMIsSkipped(t *testing.T) {
	res := mustParse(t, "\xef\xbb\xbf"+header+"E1,Ann,a@x.gov,A,D,,,,,\n", nil)
	noProblems(t, res)
	if len(res.Rows) != 1 || res.Rows[0].Line != 2 {
		t.Fatalf("rows = %+v", res.Rows)
	}
}

func TestCRLFLineEndings(t *testing.T) {
	in := strings.ReplaceAll(header+"E1,Ann,a@x.gov,A,D,,,,,\n\nE2,Bob,b@x.gov,A,D,,E1,2020-01-31,hr,\nE3,Cy,c@x.gov,A,D,,E1,,,\n", "\n", "\r\n")
	res := mustParse(t, in, nil)
	noProblems(t, res)
	if len(res.Rows) != 3 || res.Rows[1].Line != 4 || res.Rows[2].Line != 5 {
		t.Fatalf("rows = %+v", res.Rows)
	}
	if res.Rows[1].HireDate != "2020-01-31" || res.Rows[2].BargainingUnit != "" || res.Rows[1].ManagerNumber != "E1" {
		t.Errorf("CR left in a field: %+v", res.Rows)
	}
}

func TestQuotedFieldsWithCommasAndLineBreaksKeepLineNumbers(t *testing.T) {
	in := header +
		`E1,"Lee, Ann",a@x.gov,"Health, Human Services",D,"Director` + "\n" + `of IT",,,,` + "\n" + // lines 2-3
		`E2,"Bob ""Bo"" Ray",b@x.gov,A,D,,E1,,,` + "\n" + // line 4
		`E3,"Cy` + "\r\n\r\n" + `Dee",c@x.gov,A,D,,E1,,,` + "\r\n" + // lines 5-7
		`E4,Di,not-an-email,A,D,,E1,,,` + "\n" // line 8
	res := mustParse(t, in, nil)
	sameProblems(t, res, want{8, "email", `"not-an-email"`})
	got := res.Rows
	if len(got) != 3 {
		t.Fatalf("rows = %+v", got)
	}
	if got[0].Line != 2 || got[0].FullName != "Lee, Ann" || got[0].Agency != "Health, Human Services" || got[0].Title != "Director of IT" {
		t.Errorf("row 1 = %+v", got[0])
	}
	if got[1].Line != 4 || got[1].FullName != `Bob "Bo" Ray` {
		t.Errorf("row 2 = %+v", got[1])
	}
	if got[2].Line != 5 || got[2].FullName != "Cy Dee" {
		t.Errorf("row 3 = %+v", got[2])
	}
}

func TestMalformedQuotes(t *testing.T) {
	t.Run("a bare quote is reported on its line and reading goes on", func(t *testing.T) {
		in := header + "E1,Ann,a@x.gov,A,D,,,,,\nE2,Bo\"b,b@x.gov,A,D,,,,,\nE3,Cy,c@x.gov,A,D,,,,,\nE4,Di,bad,A,D,,,,,\n"
		res := mustParse(t, in, nil)
		sameProblems(t, res, want{3, "", "quote"}, want{5, "email", "not valid"})
		if len(res.Rows) != 2 {
			t.Errorf("rows = %+v", res.Rows)
		}
	})
	t.Run("an unclosed quote is reported on the line it opens", func(t *testing.T) {
		in := header + "E1,Ann,a@x.gov,A,D,,,,,\nE2,\"Bob,b@x.gov,A,D,,,,,\nE3,Cy,c@x.gov,A,D,,,,,\n"
		res := mustParse(t, in, nil)
		sameProblems(t, res, want{3, "", "not closed"})
	})
	t.Run("a broken header stops with that one problem", func(t *testing.T) {
		res := mustParse(t, "employee_number,\"full_name\"x,email,agency,department\nE1,Ann,a@x.gov,A,D\n", nil)
		sameProblems(t, res, want{1, "", "quote"})
	})
}

func TestBlankLinesAreSkipped(t *testing.T) {
	res := mustParse(t, "\n\n"+header+"\nE1,Ann,a@x.gov,A,D,,,,,\n,,,,,,,,,\n  ,, ,,,,,,,\n\nE2,Bob,b@x.gov,A,D,,,,,", nil)
	noProblems(t, res)
	if len(res.Rows) != 2 || res.Rows[0].Line != 5 || res.Rows[1].Line != 9 {
		t.Fatalf("rows = %+v", res.Rows)
	}
}

func TestEachProblemOnItsLine(t *testing.T) {
	long := strings.Repeat("é", 201)
	for _, tc := range []struct {
		name string
		rows string // lines 2 onwards
		want []want
	}{
		{"missing employee number", " ,Ann,a@x.gov,A,D,,,,,", []want{{2, "employee_number", "employee number is missing"}}},
		{"missing full name", "E1,,a@x.gov,A,D,,,,,", []want{{2, "full_name", "full name is missing"}}},
		{"missing email", "E1,Ann, ,A,D,,,,,", []want{{2, "email", "email is missing"}}},
		{"missing agency and department", "E1,Ann,a@x.gov,,,,,,,", []want{{2, "agency", "missing"}, {2, "department", "missing"}}},
		{"email with a display name", `E1,Ann,Ann <a@x.gov>,A,D,,,,,`, []want{{2, "email", "not valid"}}},
		{"email with no at", "E1,Ann,ax.gov,A,D,,,,,", []want{{2, "email", "not valid"}}},
		{"email with two ats", "E1,Ann,a@b@x.gov,A,D,,,,,", []want{{2, "email", "not valid"}}},
		{"email with a dotless domain", "E1,Ann,a@localhost,A,D,,,,,", []want{{2, "email", "not valid"}}},
		{"email with a space", "E1,Ann,a b@x.gov,A,D,,,,,", []want{{2, "email", "not valid"}}},
		{"email too long", "E1,Ann," + strings.Repeat("a", 250) + "@x.gov,A,D,,,,,", []want{{2, "email", "256 characters"}}},
		{"duplicate employee number names both lines", "E1,Ann,a@x.gov,A,D,,,,,\nE2,Bob,b@x.gov,A,D,,,,,\nE1,Cy,c@x.gov,A,D,,,,,", []want{{4, "employee_number", "also on line 2"}}},
		{"duplicate email ignores case", "E1,Ann,Ann@X.gov,A,D,,,,,\nE2,Bob,ann@x.GOV,A,D,,,,,", []want{{3, "email", "also on line 2"}}},
		{"unknown manager", "E1,Ann,a@x.gov,A,D,,E9,,,", []want{{2, "manager_employee_number", `manager "E9"`}}},
		{"own manager", "E1,Ann,a@x.gov,A,D,,E1,,,", []want{{2, "manager_employee_number", "own manager"}}},
		{"manager loop reported once on its first member", "E0,Zed,z@x.gov,A,D,,,,,\nE1,Ann,a@x.gov,A,D,,E3,,,\nE2,Bob,b@x.gov,A,D,,E1,,,\nE3,Cy,c@x.gov,A,D,,E2,,,\nE4,Di,d@x.gov,A,D,,E2,,,",
			[]want{{3, "manager_employee_number", "E1 → E3 → E2 → E1"}}},
		{"two-person loop", "E1,Ann,a@x.gov,A,D,,E2,,,\nE2,Bob,b@x.gov,A,D,,E1,,,", []want{{2, "manager_employee_number", "E1 → E2 → E1"}}},
		{"hire date in another format", "E1,Ann,a@x.gov,A,D,,,3/4/2024,,", []want{{2, "hire_date", `"3/4/2024"`}}},
		{"hire date that does not exist", "E1,Ann,a@x.gov,A,D,,,2023-02-29,,", []want{{2, "hire_date", "real date"}}},
		{"hire date with one-digit month", "E1,Ann,a@x.gov,A,D,,,2024-1-015,,", []want{{2, "hire_date", "real date"}}},
		{"unknown role is named", "E1,Ann,a@x.gov,A,D,,,,hr;superuser,", []want{{2, "roles", `"superuser"`}}},
		{"manager is not a role", "E1,Ann,a@x.gov,A,D,,,,Manager,", []want{{2, "roles", "anyone with reports"}}},
		{"invalid UTF-8 is one problem per line", "E1,Ren\xe9e,r\xe9@x.gov,A,D,,,,,", []want{{2, "full_name", "(in full_name, email)"}}},
		{"control character in a name", "E1,Ann\x07,a@x.gov,A,D,,,,,", []want{{2, "full_name", "U+0007"}}},
		{"C1 control character", "E1,Ann,a@x.gov,A\u0085\u009b,D,,,,,", []want{{2, "agency", "U+009B"}}},
		{"bidi override", "E1,Ann\u202eeeL,a@x.gov,A,D,,,,,", []want{{2, "full_name", "U+202E"}}},
		{"line break in an employee number", "\"E\n1\",Ann,a@x.gov,A,D,,,,,", []want{{2, "employee_number", "U+000A"}}},
		{"zero-width space in an e-mail address", "E1,Ann,ann\u200b@x.gov,A,D,,,,,", []want{{2, "email", "U+200B"}}},
		{"space in an employee number", "E 1,Ann,a@x.gov,A,D,,,,,", []want{{2, "employee_number", "space"}}},
		{"field too long names the column", "E1,Ann,a@x.gov,A,D," + long + ",,,,", []want{{2, "title", "title is 201 characters"}}},
		{"too few fields", "E1,Ann,a@x.gov,A,D", []want{{2, "", "5 fields but the header has 10"}}},
		{"too many fields", "E1,Ann,a@x.gov,A,D,,,,,,x", []want{{2, "", "11 fields"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mustParse(t, header+tc.rows+"\n", nil)
			sameProblems(t, res, tc.want...)
			for _, r := range res.Rows {
				for _, w := range tc.want {
					if r.Line == w.line {
						t.Errorf("row on line %d has a problem but is in Rows", r.Line)
					}
				}
			}
		})
	}
}

func TestTrailingEmptyFieldsAreAllowed(t *testing.T) {
	res := mustParse(t, header+"E1,Ann,a@x.gov,A,D,,,,,,,\n", nil)
	noProblems(t, res)
}

func TestFileWithManyErrorsReportsAll(t *testing.T) {
	in := header +
		"E1,Ann,a@x.gov,A,D,,,,,\n" + // 2 fine
		"E2,,b@x.gov,A,D,,E1,2024-13-01,,\n" + // 3 name, date
		"E3,Cy,bad,A,D,,E99,,admin;god,\n" + // 4 email, role, manager
		"E1,Di,A@X.GOV,A,D,,,,,\n" + // 5 number, email
		"E5,Ed,e@x.gov,A,D,,E6,,,\n" + // 6 loop
		"E6,Flo,f@x.gov,A,D,,E5,,,\n" + // 7
		"E7,Gus,g@x.gov,A,D\n" + // 8 field count
		"E8,Hal,h@x.gov,A,D,,E8,,,\n" // 9 own manager
	res := mustParse(t, in, nil)
	sameProblems(t, res,
		want{3, "full_name", "missing"},
		want{3, "hire_date", "2024-13-01"},
		want{4, "email", "bad"},
		want{4, "roles", "god"},
		want{4, "manager_employee_number", "E99"},
		want{5, "employee_number", "line 2"},
		want{5, "email", "line 2"},
		want{6, "manager_employee_number", "E5 → E6 → E5"},
		want{8, "", "fields"},
		want{9, "manager_employee_number", "own manager"},
	)
	if len(res.Rows) != 2 || res.Rows[0].Line != 2 || res.Rows[1].Line != 7 {
		t.Errorf("rows = %+v", res.Rows)
	}
}

func TestOddUnicodeNamesAreAcceptedAndNormalised(t *testing.T) {
	nfd := norm.NFD.String("Zoë Côté")
	in := header +
		"E1,\"  " + nfd + "\t \",zoe@x.gov,\"Santé  et\u00a0Services\",Dept,,,,,\n" +
		"E2,Дарья Смирнова,darya@x.gov,A,D,,E1,,,\n" +
		"E3,王小明,wang@x.gov,A,D,,E1,,,\n" +
		"E4,مريم العلي,maryam@x.gov,A,D,,E1,,,\n" +
		"E5,יעל כהן\u200f,yael@x.gov,A,D,,E1,,,\n" +
		"E6,Nguyễn Thị Lan,lan@x.gov,A,D,,E1,,,\n" +
		"E7,Zoë,zoë@exämple.gov,A,D,,E1,,,\n"
	res := mustParse(t, in, nil)
	noProblems(t, res)
	names := []string{"Zoë Côté", "Дарья Смирнова", "王小明", "مريم العلي", "יעל כהן\u200f", "Nguyễn Thị Lan", "Zoë"}
	if len(res.Rows) != len(names) {
		t.Fatalf("rows = %+v", res.Rows)
	}
	for k, n := range names {
		if res.Rows[k].FullName != n {
			t.Errorf("name %d = %q, want %q", k, res.Rows[k].FullName, n)
		}
	}
	if a := res.Rows[0].Agency; a != "Santé et Services" {
		t.Errorf("agency = %q", a)
	}
}

func TestRolesParsing(t *testing.T) {
	for in, out := range map[string][]app.Role{
		"":                     nil,
		"hr":                   {app.RoleHR},
		" HR ; Admin ":         {app.RoleAdmin, app.RoleHR},
		"poster;hr;poster;HR;": {app.RoleHR, app.RolePoster},
		";;admin;;":            {app.RoleAdmin},
		"admin; poster ;hr":    {app.RoleAdmin, app.RoleHR, app.RolePoster},
		"\"hr;\nadmin\"":       {app.RoleAdmin, app.RoleHR},
	} {
		res := mustParse(t, header+"E1,Ann,a@x.gov,A,D,,,,"+in+",\n", nil)
		noProblems(t, res)
		if len(res.Rows) != 1 || !reflect.DeepEqual(res.Rows[0].Roles, out) {
			t.Errorf("roles %q = %+v, want %v", in, res.Rows, out)
		}
	}
	res := mustParse(t, header+"E1,Ann,a@x.gov,A,D,,,,\"hr,admin\",\n", nil)
	sameProblems(t, res, want{2, "roles", `"hr,admin"`})
}

func TestExistingEmployees(t *testing.T) {
	existing := map[string]string{"M1": "", "M2": "M1", "X1": "X2", "X2": "X3", "X3": "F1"}
	t.Run("a manager already in the portal resolves", func(t *testing.T) {
		res := mustParse(t, header+"F1,Ann,a@x.gov,A,D,,M2,,,\n", existing)
		noProblems(t, res)
	})
	t.Run("a loop through existing employees is reported on the file's line", func(t *testing.T) {
		res := mustParse(t, header+"E0,Zed,z@x.gov,A,D,,,,,\nF1,Ann,a@x.gov,A,D,,X1,,,\n", existing)
		sameProblems(t, res, want{3, "manager_employee_number", "F1 → X1 → X2 → X3 → F1"})
	})
	t.Run("a row replaces the employee's existing manager link", func(t *testing.T) {
		// In the portal X3 reports to F1; the file moves X3 under M1, so F1 → X1 is fine.
		res := mustParse(t, header+"F1,Ann,a@x.gov,A,D,,X1,,,\nX3,Cy,c@x.gov,A,D,,M1,,,\n", existing)
		noProblems(t, res)
	})
	t.Run("a loop only among existing employees is not the file's", func(t *testing.T) {
		res := mustParse(t, header+"F9,Ann,a@x.gov,A,D,,L1,,,\n", map[string]string{"L1": "L2", "L2": "L1"})
		noProblems(t, res)
	})
}

func TestLongChainWithoutLoopValidates(t *testing.T) {
	const n = 100_000
	var b strings.Builder
	b.WriteString(header)
	for i := range n {
		mgr := ""
		if i > 0 {
			mgr = "E" + strconv.Itoa(i-1)
		}
		b.WriteString("E" + strconv.Itoa(i) + ",Person " + strconv.Itoa(i) + ",p" + strconv.Itoa(i) + "@x.gov,A,D,," + mgr + ",,,\n")
	}
	res := mustParse(t, b.String(), nil)
	noProblems(t, res)
	if len(res.Rows) != n {
		t.Fatalf("%d rows", len(res.Rows))
	}

	// Close the chain into a 100,000-person loop: one problem, briefly named.
	in := strings.Replace(b.String(), "E0,Person 0,p0@x.gov,A,D,,,", "E0,Person 0,p0@x.gov,A,D,,E"+strconv.Itoa(n-1)+",", 1)
	res = mustParse(t, in, nil)
	sameProblems(t, res, want{2, "manager_employee_number", "(100000 people in all)"})
}

func TestLimits(t *testing.T) {
	t.Run("more than the most rows stops with a line-0 problem", func(t *testing.T) {
		in := header + "E1,Ann,a@x.gov,A,D,,,,,\nE2,Bob,b@x.gov,A,D,,,,,\nE3,Cy,c,A,D,,,,,\n"
		res, err := parse(strings.NewReader(in), nil, 2)
		if err != nil {
			t.Fatal(err)
		}
		sameProblems(t, res, want{0, "", "more than 2 rows"})
	})
	t.Run("collecting stops at MaxProblems", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(header)
		for i := range MaxProblems + 10 {
			b.WriteString("E" + strconv.Itoa(i) + ",Ann,bad,A,D,,,,,\n")
		}
		res := mustParse(t, b.String(), nil)
		if len(res.Problems) != MaxProblems+1 || res.Problems[0].Line != 0 || !strings.Contains(res.Problems[0].Message, "Stopped") {
			t.Fatalf("%d problems, first %+v", len(res.Problems), res.Problems[0])
		}
	})
}

func TestReadErrorIsReturned(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader(header+"E1,Ann,a@x.gov,A,D,,,,,\n"), iotest.ErrReader(boom))
	if _, err := Parse(r, nil); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}

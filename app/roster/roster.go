// Package roster parses and validates the HR roster CSV (SPEC §3.5). It is
// pure: it reads a file and reports its rows and every problem in it, and
// leaves applying them to the database to its caller.
package roster

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"portal/app"
)

// MaxRows is the most data rows a roster file may hold; a longer file is
// refused with one line-0 problem.
const MaxRows = 1_000_000

// MaxProblems is the most problems Parse collects. Past it, parsing stops and
// a line-0 problem says so: nobody fixes ten thousand errors one by one, and
// it bounds memory on a file that is wrong on every line.
const MaxProblems = 10_000

// Row is one valid roster line, normalised.
type Row struct {
	Line           int        // 1-based line number where the record starts (the header is line 1)
	EmployeeNumber string     // trimmed; no white space
	FullName       string     // app.NormalizeName (NFC, single spaces)
	Email          string     // trimmed; compare case-insensitively
	Agency         string     // trimmed, NFC, inner runs of white space collapsed
	Department     string     // as Agency
	Title          string     // as Agency; may be empty
	ManagerNumber  string     // the manager's employee number; "" if none
	HireDate       string     // "" or YYYY-MM-DD (a real calendar date)
	Roles          []app.Role // sorted, without repeats; nil if none
	BargainingUnit string     // as Agency; may be empty
	SignatureName  string     // as FullName, Latin letters; may be empty
	// HasSignatureName is false when the file has no signature_name column.
	HasSignatureName bool
}

// Problem is one reason a file cannot be imported. Line 0 means the file as a
// whole (e.g. a missing column). Column is the canonical column name
// ("employee_number") or "" when the problem is not about one column.
type Problem struct {
	Line    int
	Column  string
	Message string
}

// Result of Parse. Rows holds every record no problem was reported on, in
// file order; the file may be applied only when Problems is empty.
type Result struct {
	Rows     []Row
	Problems []Problem
}

// Parse reads a roster CSV. existing maps the employee number of every ACTIVE
// employee already in the portal to that employee's manager's number ("" for
// none); it is used to resolve managers not in the file and to find loops
// across the file and the database (a row in the file replaces that
// employee's existing manager link). The error is only for I/O failures;
// everything about the content is a Problem.
func Parse(r io.Reader, existing map[string]string) (*Result, error) {
	return parse(r, existing, MaxRows)
}

// NormalizeHeader returns a header name in canonical form: trimmed, lower
// case, with runs of spaces, hyphens and underscores turned into one
// underscore, so "Employee Number", "employee-number" and "EMPLOYEE_NUMBER"
// all become "employee_number".
func NormalizeHeader(s string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '\ufeff': // a byte-order mark that survived into the first name
		case r == '-' || r == '_' || unicode.IsSpace(r):
			sep = true
		default:
			if sep && b.Len() > 0 {
				b.WriteByte('_')
			}
			sep = false
			b.WriteRune(r)
		}
	}
	return b.String()
}

// column is one of the roster's known columns.
type column int

const (
	colEmployeeNumber column = iota
	colFullName
	colEmail
	colAgency
	colDepartment
	colTitle
	colManager
	colHireDate
	colRoles
	colBargainingUnit
	colSignatureName
	numColumns
	noColumn column = -1
)

var columnNames = [numColumns]string{
	"employee_number", "full_name", "email", "agency", "department",
	"title", "manager_employee_number", "hire_date", "roles", "bargaining_unit", "signature_name",
}

func (c column) String() string {
	if c < 0 || c >= numColumns {
		return ""
	}
	return columnNames[c]
}

// columnNamed returns the column a header names, or noColumn. Separators are
// dropped altogether when matching, so "E-mail" and "EmployeeNumber" work too.
func columnNamed(h string) column {
	key := strings.ReplaceAll(NormalizeHeader(h), "_", "")
	for c, name := range columnNames {
		if strings.ReplaceAll(name, "_", "") == key {
			return column(c)
		}
	}
	return noColumn
}

func (c column) required() bool { return c <= colDepartment }

// parser holds the state of one Parse call.
type parser struct {
	existing map[string]string
	cols     [numColumns]int // index of each column in a record; -1 if absent
	width    int             // fields in the header
	rows     []Row           // every data record; fields that failed a check are left empty
	bad      []bool          // bad[i]: a problem was reported on rows[i]
	problems []Problem
	stopped  string // why parsing stopped early, if it did
}

func parse(r io.Reader, existing map[string]string, maxRows int) (*Result, error) {
	p := &parser{existing: existing}
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(3)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("roster: read: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		if _, err := br.Discard(3); err != nil {
			return nil, fmt.Errorf("roster: read: %w", err)
		}
	case bytes.HasPrefix(head, []byte("\xff\xfe")), bytes.HasPrefix(head, []byte("\xfe\xff")):
		p.fileProblem(0, "", "The file is saved as UTF-16 text. Save it as “CSV UTF-8” and import it again.")
		return p.result(), nil
	}

	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	fields, line, err := p.read(cr)
	switch {
	case err == io.EOF:
		p.fileProblem(0, "", "The file is empty.")
		return p.result(), nil
	case err != nil:
		return nil, err
	case fields == nil: // a broken quote in the header: nothing below can be trusted
		return p.result(), nil
	}
	if !p.header(fields, line) {
		return p.result(), nil
	}

	n := 0
	for p.stopped == "" {
		fields, line, err := p.read(cr)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if fields == nil || blank(fields) {
			continue
		}
		if n++; n > maxRows {
			p.stopped = fmt.Sprintf("The file has more than %d rows. Split it into smaller files.", maxRows)
			break
		}
		p.record(fields, line)
	}
	if p.stopped == "" {
		if n == 0 && len(p.problems) == 0 {
			p.fileProblem(0, "", "The file has a header but no employees.")
		}
		p.links()
	}
	return p.result(), nil
}

// read returns the next record and the line it starts on. A malformed quote
// is reported as a problem and returned as nil fields, so reading goes on.
func (p *parser) read(cr *csv.Reader) ([]string, int, error) {
	fields, err := cr.Read()
	if err == nil {
		line, _ := cr.FieldPos(0)
		return fields, line, nil
	}
	var pe *csv.ParseError // declared here, not above: it escapes, and this is the hot path
	switch {
	case errors.As(err, &pe):
		msg := "A quoted field is not closed, or a quote inside it is not doubled."
		if errors.Is(pe.Err, csv.ErrBareQuote) {
			msg = "A quote (\") appears in a field that is not wrapped in quotes."
		}
		p.fileProblem(pe.StartLine, "", fmt.Sprintf("%s Wrap any field holding a comma, quote or line break in double quotes and write each quote inside it as two (\"\"). (Found at line %d, position %d.)",
			msg, pe.Line, pe.Column))
		return nil, 0, nil
	case err == io.EOF:
		return nil, 0, io.EOF
	default:
		return nil, 0, fmt.Errorf("roster: read: %w", err)
	}
}

// header finds the known columns and reports whether the file can be read.
func (p *parser) header(fields []string, line int) bool {
	p.width = len(fields)
	found := false
	for c := range p.cols {
		p.cols[c] = -1
	}
	for k, f := range fields {
		c := columnNamed(f)
		if c == noColumn {
			continue // unknown columns are ignored, so HR can leave extra ones in
		}
		found = true
		if p.cols[c] >= 0 {
			p.fileProblem(line, c.String(), fmt.Sprintf("The column %s appears twice (columns %d and %d).", c, p.cols[c]+1, k+1))
			continue
		}
		p.cols[c] = k
	}
	if !found {
		msg := "The first line must be a header naming the columns: " + strings.Join(columnNames[:], ", ") + "."
		if len(fields) == 1 && strings.ContainsAny(fields[0], ";\t") {
			msg += " This file seems to separate fields with semicolons or tabs; save it as “CSV UTF-8 (comma delimited)”."
		}
		p.fileProblem(0, "", msg)
		return false
	}
	for c := range colTitle {
		if p.cols[c] < 0 {
			p.fileProblem(0, c.String(), fmt.Sprintf("The required column %s is missing.", c))
		}
	}
	return len(p.problems) == 0
}

// problem reports a problem on record i.
func (p *parser) problem(i int, c column, msg string) {
	p.bad[i] = true
	p.fileProblem(p.rows[i].Line, c.String(), msg)
}

// fileProblem reports a problem on a line that is not a record (or line 0).
func (p *parser) fileProblem(line int, col, msg string) {
	if p.stopped != "" {
		return
	}
	p.problems = append(p.problems, Problem{Line: line, Column: col, Message: msg})
	if len(p.problems) >= MaxProblems {
		p.stopped = fmt.Sprintf("Stopped after %d problems. Fix these and import the file again.", MaxProblems)
	}
}

func (p *parser) result() *Result {
	slices.SortStableFunc(p.problems, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	if p.stopped != "" {
		p.problems = slices.Insert(p.problems, 0, Problem{Message: p.stopped})
	}
	// Keep the good rows in place rather than copy them: a roster is big.
	rows := p.rows[:0]
	for i := range p.rows {
		if !p.bad[i] {
			rows = append(rows, p.rows[i])
		}
	}
	clear(p.rows[len(rows):])
	if len(rows) == 0 {
		rows = nil
	}
	return &Result{Rows: rows, Problems: p.problems}
}

// blank reports whether every field is empty or white space, as in the
// ",,,," lines spreadsheets write for empty rows.
func blank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

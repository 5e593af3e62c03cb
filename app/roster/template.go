package roster

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
)

// ColumnInfo describes one column of the roster file, for the template and
// the upload page.
type ColumnInfo struct {
	Name     string
	Required bool
	Format   string // what to write, in a sentence
	Example  string // the template's example value
}

// exampleNumberPrefix starts the employee number of the template's example
// row. A row whose number starts with it is refused (see exampleProblem).
const exampleNumberPrefix = "EXAMPLE"

// columnInfo describes every column, in the order of columnNames.
var columnInfo = [numColumns]ColumnInfo{
	colEmployeeNumber: {Format: "The person's number in the HR system, unique, without spaces.", Example: exampleNumberPrefix + "-0001"},
	colFullName:       {Format: "The name as the person signs it, accents included.", Example: "Siobhán Example"},
	colEmail:          {Format: "A work address on its own, like jane.doe@agency.gov.", Example: "siobhan.example@example.com"},
	colAgency:         {Format: "The agency's name, written the same way on every row.", Example: "Department of Examples"},
	colDepartment:     {Format: "The department within the agency.", Example: "Office of Sample Data"},
	colTitle:          {Format: "The job title.", Example: "Program Analyst"},
	colManager:        {Format: "The manager's employee number; they must be in the portal already or in the same file.", Example: ""},
	colHireDate:       {Format: "A date written YYYY-MM-DD; a new hire is due a set number of days after it.", Example: "2026-01-05"},
	colRoles:          {Format: "poster for people who post for their agency, or empty; several roles are separated by semicolons. The hr and admin roles are granted by an administrator, not by a file.", Example: ""},
	colBargainingUnit: {Format: "The bargaining unit, if any.", Example: ""},
	colSignatureName:  {Format: "The name in Latin letters, which the person may type to sign instead of the full name. Leave the whole column out to keep the ones the portal holds: an empty cell clears it.", Example: ""},
}

// Columns lists every column the import reads, in the documented order.
func Columns() []ColumnInfo {
	out := make([]ColumnInfo, numColumns)
	for c := range numColumns {
		out[c] = columnInfo[c]
		out[c].Name = c.String()
		out[c].Required = c.required()
	}
	return out
}

// Template is a roster file to fill in: UTF-8 with a byte-order mark (so a
// spreadsheet reads accents right), the header naming every column in the
// documented order, and one example row. The example row is refused on
// import (its employee number starts with EXAMPLE): a template uploaded
// unchanged would otherwise add a made-up person, invite them at once
// and, as a full roster, deactivate everyone else.
func Template() []byte {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	w.UseCRLF = true // what spreadsheets write
	cols := Columns()
	head, example := make([]string, len(cols)), make([]string, len(cols))
	for i, c := range cols {
		head[i], example[i] = c.Name, c.Example
	}
	// Writing to a bytes.Buffer cannot fail.
	_ = w.Write(head)    // #nosec G104
	_ = w.Write(example) // #nosec G104
	w.Flush()
	return b.Bytes()
}

// exampleProblem says why a row with this employee number is refused: it is
// the template's example row, left in.
func exampleProblem(number string) string {
	if len(number) < len(exampleNumberPrefix) || !strings.EqualFold(number[:len(exampleNumberPrefix)], exampleNumberPrefix) {
		return ""
	}
	return fmt.Sprintf("The employee number %s marks the template's example row. Replace the row with a real person, or delete it.", show(number))
}

package roster

import (
	"io"

	"portal/app"
)

// ParseRows reads and validates a roster file against the active roster:
// the rows to apply and every problem found. It is shared by the web upload
// and the command line.
func ParseRows(r io.Reader, existing map[string]string) ([]app.RosterRow, []app.RosterProblem, error) {
	res, err := Parse(r, existing)
	if err != nil {
		return nil, nil, err
	}
	rows := make([]app.RosterRow, len(res.Rows))
	for i, x := range res.Rows {
		rows[i] = app.RosterRow{Line: x.Line, EmployeeNumber: x.EmployeeNumber, FullName: x.FullName, Email: x.Email,
			Agency: x.Agency, Department: x.Department, Title: x.Title, ManagerNumber: x.ManagerNumber,
			HireDate: x.HireDate, Roles: x.Roles, BargainingUnit: x.BargainingUnit,
			SignatureName: x.SignatureName, KeepSignatureName: !x.HasSignatureName}
	}
	probs := make([]app.RosterProblem, len(res.Problems))
	for i, p := range res.Problems {
		probs[i] = app.RosterProblem{Line: p.Line, Column: p.Column, Message: p.Message}
	}
	return rows, probs, nil
}

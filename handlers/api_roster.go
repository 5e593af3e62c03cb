package handlers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portal/app"
	"portal/app/roster"
)

// PUT /api/v1/roster: the directory sends the roster file's rows, as JSON
// or as CSV, and they go through the upload's own code: the same parser
// (app/roster), the same import with the same web limits (hr and admin
// roles untouched, a new address held for a second person), the same
// evidence and invitations. It is a partial roster unless ?full=1, which
// deactivates the active people it leaves out, as --deactivate-missing does.
// Unlike an upload it is applied in one transaction: all or nothing.

var errAPIRosterTooLarge = app.Errorf(app.ETOOLARGE, "The roster is larger than 20 MB. Send it in parts (without full=1), or import it with the import-roster command.")

// apiRosterBody reports whether the request is the roster sync, whose body
// its handler reads after the token is checked.
func apiRosterBody(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPut && strings.EqualFold(strings.TrimSuffix(c.Path(), "/"), "/api/v1/roster")
}

// readAPIRoster reads the roster sync's body, at most MaxRosterBytes.
func readAPIRoster(c *fiber.Ctx) ([]byte, error) {
	req := c.Request()
	if req.BodyStream() == nil {
		return req.Body(), nil
	}
	body, err := io.ReadAll(io.LimitReader(req.BodyStream(), MaxRosterBytes+1))
	if err != nil {
		return nil, errBodyUnread
	}
	if len(body) > MaxRosterBytes {
		return nil, errAPIRosterTooLarge
	}
	req.SetBody(body) // lets go of the stream: the body is read
	return body, nil
}

// apiRosterProblem is one problem of the rows, as the upload reports it.
type apiRosterProblem struct {
	Line    int    `json:"line"`            // the CSV line (the header is line 1); for JSON, the line the row would have in the file; 0 for the whole roster
	Index   *int   `json:"index,omitempty"` // JSON only: the row's index in the array, from 0
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

type apiRosterInvalid struct {
	apiError
	Problems []apiRosterProblem `json:"problems"`
}

type apiRosterChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

type apiRosterPerson struct {
	Kind           string            `json:"kind"` // added, changed, reactivated or deactivated
	EmployeeNumber string            `json:"employee_number"`
	FullName       string            `json:"full_name"`
	Agency         string            `json:"agency"`
	Department     string            `json:"department"`
	Changes        []apiRosterChange `json:"changes"`
	// A new address that waits for a second person's approval, and the one kept until then.
	NewEmail string `json:"new_email,omitempty"`
	OldEmail string `json:"old_email,omitempty"`
}

type apiRosterResult struct {
	DryRun         bool              `json:"dry_run"`
	Full           bool              `json:"full"`
	Rows           int               `json:"rows"`
	Added          int               `json:"added"`
	Updated        int               `json:"updated"`
	Reactivated    int               `json:"reactivated"`
	Deactivated    int               `json:"deactivated"`
	Unchanged      int               `json:"unchanged"`
	AddressChanges int               `json:"address_changes"` // new addresses waiting for a second person's approval
	RolesIgnored   int               `json:"roles_ignored"`   // rows whose hr or admin roles differ: left as they are
	Invitations    int               `json:"invitations"`     // queued (0 in a dry run)
	People         []apiRosterPerson `json:"people,omitempty"`
}

// apiFlag reads a 0/1 query flag.
func apiFlag(c *fiber.Ctx, name string) (bool, error) {
	switch c.Query(name) {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, apiBadRequest("%s must be 1 or 0.", name)
}

func (h *Handler) apiRosterPut(c *fiber.Ctx) error {
	ctx := c.UserContext()
	full, err := apiFlag(c, "full")
	if err != nil {
		return err
	}
	dry, err := apiFlag(c, "dry_run")
	if err != nil {
		return err
	}
	body, err := readAPIRoster(c)
	if err != nil {
		return err
	}
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	var content []byte
	var starts []int // JSON: the CSV line of each row
	switch mt {
	case "text/csv":
		content = body
	case fiber.MIMEApplicationJSON:
		if content, starts, err = rosterJSONToCSV(body); err != nil {
			return err
		}
	default:
		return &requestError{fiber.StatusUnsupportedMediaType, "Send the rows as application/json (an array of objects named by the roster's columns) or as text/csv."}
	}
	existing, err := h.Roster.ActiveManagers(ctx)
	if err != nil {
		return err
	}
	rows, probs, err := roster.ParseRows(bytes.NewReader(content), existing)
	if err != nil {
		return err
	}
	opts := app.ImportOptions{DeactivateMissing: full, DryRun: true, FromWeb: true, Atomic: true}
	var sum *app.ImportSummary
	if len(probs) == 0 {
		if sum, err = h.Roster.ImportRoster(ctx, slices.Clone(rows), opts); err != nil {
			return err
		}
		probs = sum.Problems
	}
	if len(probs) > 0 {
		return apiRosterProblems(c, probs, starts)
	}
	if !dry {
		tok := currentAPIToken(c)
		opts.DryRun = false
		opts.Source = "API token “" + tok.Name + "” (id " + strconv.FormatInt(tok.ID, 10) + "), PUT /api/v1/roster"
		if full {
			opts.Source += "?full=1"
		}
		people := sum.People
		sum, err = h.Roster.ImportRoster(ctx, rows, opts)
		if err = h.committed(c, err); err != nil {
			return err
		}
		if len(sum.Problems) > 0 { // the roster changed between the two reads
			return apiRosterProblems(c, sum.Problems, starts)
		}
		sum.People = people
		if sum.Invitations > 0 {
			h.KickMail()
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(apiRosterSummary(sum, dry, full))
}

func apiRosterSummary(sum *app.ImportSummary, dry, full bool) apiRosterResult {
	out := apiRosterResult{DryRun: dry, Full: full, Rows: sum.Rows, Added: sum.Added, Updated: sum.Updated,
		Reactivated: sum.Reactivated, Deactivated: sum.Deactivated, Unchanged: sum.Unchanged,
		AddressChanges: sum.AddressChanges, RolesIgnored: sum.RolesIgnored, Invitations: sum.Invitations}
	for _, p := range sum.People {
		ap := apiRosterPerson{Kind: p.Kind, EmployeeNumber: p.EmployeeNumber, FullName: p.FullName, Agency: p.Agency,
			Department: p.Department, Changes: []apiRosterChange{}, NewEmail: p.NewEmail, OldEmail: p.OldEmail}
		for _, ch := range p.Changes {
			ap.Changes = append(ap.Changes, apiRosterChange{Field: ch.Field, Old: ch.Old, New: ch.New})
		}
		out.People = append(out.People, ap)
	}
	return out
}

// apiRosterProblems answers 422 with every problem; for JSON rows each
// names its index in the array too.
func apiRosterProblems(c *fiber.Ctx, probs []app.RosterProblem, starts []int) error {
	out := apiRosterInvalid{apiError: apiError{Error: apiErrorCodes[fiber.StatusUnprocessableEntity],
		Message: "The roster has problems, so nothing was changed. Correct every row listed and send it again."}}
	for _, p := range probs {
		ap := apiRosterProblem{Line: p.Line, Column: p.Column, Message: p.Message}
		if starts != nil && p.Line >= 2 {
			i := sort.SearchInts(starts, p.Line+1) - 1 // the last row starting at or before the line
			if i >= 0 {
				ap.Index = &i
			}
		}
		out.Problems = append(out.Problems, ap)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusUnprocessableEntity).JSON(out)
}

// rosterJSONToCSV writes JSON rows as the CSV file they stand for, so that
// they are checked by exactly the upload's parser. The columns are every
// name the objects use, in the order first seen; a row without one has it
// empty. Values are strings (numbers are taken as written; roles may be an
// array). It returns the CSV line each row starts on.
func rosterJSONToCSV(body []byte) ([]byte, []int, error) {
	var objs []map[string]json.RawMessage
	if err := json.Unmarshal(body, &objs); err != nil {
		return nil, nil, &requestError{fiber.StatusBadRequest, "The body is not a JSON array of objects: one object a row, named by the roster's columns (employee_number, full_name, email, agency, department, …)."}
	}
	if len(objs) == 0 {
		return nil, nil, &requestError{fiber.StatusUnprocessableEntity, "The roster has no rows, so nothing was changed."}
	}
	var cols []string
	seen := map[string]bool{}
	for _, o := range objs {
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		sort.Strings(keys) // a map has no order; the file's column order does not matter
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(cols); err != nil {
		return nil, nil, err
	}
	starts := make([]int, len(objs))
	line := 2
	rec := make([]string, len(cols))
	for i, o := range objs {
		starts[i] = line
		breaks := 0
		for j, k := range cols {
			v, ok := jsonCell(o[k])
			if !ok {
				return nil, nil, apiBadRequest("Row %d (index %d), %s: the value must be a string (roles may be an array of strings)", i+1, i, k)
			}
			rec[j] = v
			breaks += strings.Count(v, "\n")
		}
		if err := w.Write(rec); err != nil {
			return nil, nil, err
		}
		line += 1 + breaks
	}
	w.Flush()
	return buf.Bytes(), starts, w.Error()
}

// jsonCell is one JSON value as a CSV field; ok is false for a value that
// is not a string, a number, null or an array of strings.
func jsonCell(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), true
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return strings.Join(list, ";"), true
	}
	return "", false
}

// currentAPIToken is the token of an authorized API call (authorizeAPI sets it).
func currentAPIToken(c *fiber.Ctx) *app.APIToken {
	t, _ := c.Locals(localAPIToken).(*app.APIToken)
	return t
}

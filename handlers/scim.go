package handlers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
	"portal/app/roster"
)

// The SCIM Users endpoints. Every write is a one-person roster import: the
// upload's parser checks the person's row, and the import writes it with
// its evidence (a roster change record, the audit event naming the token)
// in one transaction. active=false deactivates through the import's own
// deactivation, so authorizations and supervisor designations end exactly
// as when a full roster leaves the person out.

// scimMaxCount is the most Users one list call returns.
const scimMaxCount = 1000

// scimRespond answers a SCIM handler's error in SCIM's format; other errors
// go on to the error handler, which answers in SCIM's format too.
func scimRespond(c *fiber.Ctx, err error) error {
	if se, ok := err.(*scimError); ok {
		return writeSCIMError(c, se.Status, se.ScimType, se.Detail)
	}
	return err
}

// scimFind returns the person named by :id, or 404.
func (h *Handler) scimFind(c *fiber.Ctx) (*app.Employee, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, &scimError{Status: fiber.StatusNotFound, Detail: "No User has this id."}
	}
	e, err := h.Employees.FindEmployeeByID(c.UserContext(), id)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return nil, &scimError{Status: fiber.StatusNotFound, Detail: "No User has this id."}
	}
	return e, err
}

func (h *Handler) scimGetUser(c *fiber.Ctx) error {
	e, err := h.scimFind(c)
	if err != nil {
		return scimRespond(c, err)
	}
	return scimJSON(c, fiber.StatusOK, h.scimResource(e))
}

// scimFilter is `attr eq "value"`, the one filter provisioning clients send.
var scimFilter = regexp.MustCompile(`(?i)^\s*([A-Za-z0-9:._-]+)\s+eq\s+("(?:[^"\\]|\\.)*")\s*$`)

func (h *Handler) scimListUsers(c *fiber.Ctx) error {
	f := app.EmployeeFilter{}
	if raw := c.Query("filter"); raw != "" {
		m := scimFilter.FindStringSubmatch(raw)
		if m == nil {
			return writeSCIMError(c, fiber.StatusBadRequest, "invalidFilter", `Only filters of the form userName eq "address" (or employeeNumber eq "number") are supported.`)
		}
		var v string
		if json.Unmarshal([]byte(m[2]), &v) != nil {
			return writeSCIMError(c, fiber.StatusBadRequest, "invalidFilter", "The filter's value is not a valid quoted string.")
		}
		switch strings.ToLower(strings.TrimPrefix(strings.ToLower(m[1]), strings.ToLower(scimEnterpriseSchema)+":")) {
		case "username":
			f.Email = &v
		case "employeenumber":
			f.EmployeeNumber = &v
		default:
			return writeSCIMError(c, fiber.StatusBadRequest, "invalidFilter", "Users can be filtered by userName or employeeNumber only.")
		}
	}
	start, count := 1, 100
	if s := c.Query("startIndex"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return writeSCIMError(c, fiber.StatusBadRequest, "invalidValue", "startIndex must be a whole number.")
		}
		start = max(n, 1) // RFC 7644 §3.4.2.4: less than 1 is taken as 1
	}
	if s := c.Query("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return writeSCIMError(c, fiber.StatusBadRequest, "invalidValue", "count must be a whole number.")
		}
		count = min(max(n, 0), scimMaxCount)
	}
	f.Offset, f.Limit = start-1, count
	people, total := []*app.Employee{}, 0
	var err error
	if count > 0 {
		people, total, err = h.Employees.FindEmployees(c.UserContext(), f)
	} else {
		f.Limit = 1 // the total alone
		_, total, err = h.Employees.FindEmployees(c.UserContext(), f)
	}
	if err != nil {
		return err
	}
	res := make([]scimUserResource, len(people))
	for i, e := range people {
		res[i] = h.scimResource(e)
	}
	return scimJSON(c, fiber.StatusOK, map[string]any{"schemas": []string{scimListSchema}, "totalResults": total,
		"startIndex": start, "itemsPerPage": len(res), "Resources": res})
}

func (h *Handler) scimCreateUser(c *fiber.Ctx) error {
	u, err := parseSCIMUser(c.Body())
	if err != nil {
		return scimRespond(c, err)
	}
	e, err := h.scimSave(c, nil, u)
	if err != nil {
		return scimRespond(c, err)
	}
	c.Set(fiber.HeaderLocation, h.scimResource(e).Meta.Location)
	return scimJSON(c, fiber.StatusCreated, h.scimResource(e))
}

// scimReplaceUser is PUT: the attributes sent replace the roster's; those
// the portal keeps but SCIM does not carry (hire date, roles, bargaining
// unit) stay as they are.
func (h *Handler) scimReplaceUser(c *fiber.Ctx) error {
	cur, err := h.scimFind(c)
	if err != nil {
		return scimRespond(c, err)
	}
	u, err := parseSCIMUser(c.Body())
	if err != nil {
		return scimRespond(c, err)
	}
	e, err := h.scimSave(c, cur, u)
	if err != nil {
		return scimRespond(c, err)
	}
	return scimJSON(c, fiber.StatusOK, h.scimResource(e))
}

type scimPatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// scimPatchUser applies add, replace and remove operations. Op names are
// taken in any case ("Replace" from Entra ID).
func (h *Handler) scimPatchUser(c *fiber.Ctx) error {
	cur, err := h.scimFind(c)
	if err != nil {
		return scimRespond(c, err)
	}
	var req struct {
		Schemas    []string      `json:"schemas"`
		Operations []scimPatchOp `json:"Operations"`
	}
	if err := json.Unmarshal(c.Body(), &req); err != nil || len(req.Operations) == 0 {
		return writeSCIMError(c, fiber.StatusBadRequest, "invalidSyntax", "The body must be a PatchOp with at least one operation.")
	}
	u := &scimUser{}
	for _, op := range req.Operations {
		switch strings.ToLower(op.Op) {
		case "add", "replace":
			if op.Path != "" {
				err = u.set(op.Path, op.Value)
				break
			}
			var attrs map[string]json.RawMessage
			if json.Unmarshal(op.Value, &attrs) != nil {
				err = scimBad("invalidValue", "An operation without a path needs an object of attributes as its value.")
				break
			}
			for k, v := range attrs {
				if err = u.set(k, v); err != nil {
					break
				}
			}
		case "remove":
			switch {
			case op.Path == "":
				err = scimBad("noTarget", "A remove operation needs a path.")
			case strings.EqualFold(op.Path, "active"):
				err = scimBad("invalidValue", "active cannot be removed; replace it with false to deactivate.")
			default:
				err = u.set(op.Path, json.RawMessage("null"))
			}
		default:
			err = scimBad("invalidSyntax", "Unknown operation %q: use add, replace or remove.", op.Op)
		}
		if err != nil {
			return scimRespond(c, err)
		}
	}
	e, err := h.scimSave(c, cur, u)
	if err != nil {
		return scimRespond(c, err)
	}
	return scimJSON(c, fiber.StatusOK, h.scimResource(e))
}

// scimDeleteUser deactivates: the portal never deletes a person, whose
// evidence stays (Entra ID deletes some time after it deactivates).
func (h *Handler) scimDeleteUser(c *fiber.Ctx) error {
	cur, err := h.scimFind(c)
	if err != nil {
		return scimRespond(c, err)
	}
	off := false
	if _, err := h.scimSave(c, cur, &scimUser{Active: &off}); err != nil {
		return scimRespond(c, err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// scimSave writes a person through the roster import: cur is the person as
// stored (nil to create), u what the request sets.
func (h *Handler) scimSave(c *fiber.Ctx, cur *app.Employee, u *scimUser) (*app.Employee, error) {
	ctx := c.UserContext()
	off := u.Active != nil && !*u.Active
	if cur != nil && !cur.Active && !(u.Active != nil && *u.Active) {
		// A deactivated person stays so: the import writes only active
		// people, and writing them would reactivate them.
		return cur, nil
	}
	tok := currentAPIToken(c)
	opts := app.ImportOptions{FromWeb: true, Atomic: true,
		Source: "SCIM token “" + tok.Name + "” (id " + strconv.FormatInt(tok.ID, 10) + "), " + c.Method() + " " + utils.CopyString(c.Path())}
	var rows []app.RosterRow
	var number string
	if cur != nil {
		number = cur.EmployeeNumber
	}
	if cur == nil || !(off && u.onlyActive()) { // deactivating alone needs no row, so nothing else can stop it
		row, err := h.scimRow(c, cur, u)
		if err != nil {
			return nil, err
		}
		number = row[0]
		if rows, err = h.scimParse(c, row); err != nil {
			return nil, err
		}
	}
	if off && cur != nil {
		opts.Deactivate = []string{number}
	}
	sum, err := h.Roster.ImportRoster(ctx, rows, opts)
	if err = h.committed(c, err); err != nil {
		return nil, err
	}
	if err := scimProblems(sum.Problems); err != nil {
		return nil, err
	}
	if off && cur == nil { // created, then deactivated: the import deactivates only people it finds stored
		opts.Deactivate = []string{number}
		sum2, err := h.Roster.ImportRoster(ctx, nil, opts)
		if err = h.committed(c, err); err != nil {
			return nil, err
		}
		if err := scimProblems(sum2.Problems); err != nil {
			return nil, err
		}
	}
	if sum.Invitations > 0 {
		h.KickMail()
	}
	people, _, err := h.Employees.FindEmployees(ctx, app.EmployeeFilter{EmployeeNumber: &number, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(people) == 0 {
		return nil, app.Errorf(app.EINTERNAL, "person %s not found after the import", number)
	}
	return people[0], nil
}

// scimColumns are the roster columns a SCIM write sends; signature_name is
// left out, so the person keeps theirs.
var scimColumns = []string{"employee_number", "full_name", "email", "agency", "department", "title",
	"manager_employee_number", "hire_date", "roles", "bargaining_unit"}

// scimRow is the person's roster row: the stored one with what u sets.
func (h *Handler) scimRow(c *fiber.Ctx, cur *app.Employee, u *scimUser) ([]string, error) {
	ctx := c.UserContext()
	row := make([]string, len(scimColumns))
	if cur != nil {
		row = []string{cur.EmployeeNumber, cur.FullName, cur.Email, cur.Agency, cur.Department, cur.Title, "",
			cur.HireDate, cur.RolesString(), cur.BargainingUnit}
		if cur.ManagerID != nil {
			m, err := h.Employees.FindEmployeeByID(ctx, *cur.ManagerID)
			if err != nil {
				return nil, err
			}
			row[6] = m.EmployeeNumber
		}
	}
	if n := u.EmployeeNumber; n != nil && strings.TrimSpace(*n) != "" {
		switch {
		case cur == nil:
			row[0] = strings.TrimSpace(*n)
		case strings.TrimSpace(*n) != cur.EmployeeNumber:
			return nil, scimBad("mutability", "employeeNumber cannot change: it is how the roster knows the person. Create a new User for a new number.")
		}
	}
	if cur == nil {
		if row[0] == "" {
			return nil, scimBad("invalidValue", "Send the employee number in "+scimEnterpriseSchema+":employeeNumber: the roster needs one for everyone.")
		}
		others, _, err := h.Employees.FindEmployees(ctx, app.EmployeeFilter{EmployeeNumber: &row[0], Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(others) > 0 {
			return nil, &scimError{Status: fiber.StatusConflict, ScimType: "uniqueness", Detail: "A User with employee number " + row[0] + " exists already (id " + strconv.FormatInt(others[0].ID, 10) + ")."}
		}
	}
	if v := u.email(); v != nil {
		if !strings.Contains(*v, "@") {
			return nil, scimBad("invalidValue", "userName must be the person's e-mail address, the one they sign in with.")
		}
		row[2] = *v
	} else if cur == nil {
		return nil, scimBad("invalidValue", "Send userName: the person's e-mail address, the one they sign in with.")
	}
	for i, v := range []*string{nil, u.fullName(), nil, u.Organization, u.Department, u.Title} {
		if v != nil {
			row[i] = *v
		}
	}
	if u.Manager != nil {
		row[6] = ""
		if v := strings.TrimSpace(*u.Manager); v != "" {
			bad := scimBad("invalidValue", "The manager %q is not the id of a User of the portal.", v)
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, bad
			}
			m, err := h.Employees.FindEmployeeByID(ctx, id)
			if app.ErrorCode(err) == app.ENOTFOUND {
				return nil, bad
			}
			if err != nil {
				return nil, err
			}
			row[6] = m.EmployeeNumber
		}
	}
	if n := u.EmployeeNumber; n != nil && strings.TrimSpace(*n) != "" {
		switch {
		case cur == nil:
			row[0] = strings.TrimSpace(*n)
		case strings.TrimSpace(*n) != cur.EmployeeNumber:
			return nil, scimBad("mutability", "employeeNumber cannot change: it is how the roster knows the person. Create a new User for a new number.")
		}
	}
	if cur == nil {
		if row[0] == "" {
			return nil, scimBad("invalidValue", "Send the employee number in "+scimEnterpriseSchema+":employeeNumber: the roster needs one for everyone.")
		}
		others, _, err := h.Employees.FindEmployees(ctx, app.EmployeeFilter{EmployeeNumber: &row[0], Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(others) > 0 {
			return nil, &scimError{Status: fiber.StatusConflict, ScimType: "uniqueness", Detail: "A User with employee number " + row[0] + " exists already (id " + strconv.FormatInt(others[0].ID, 10) + ")."}
		}
	}
	if v := u.email(); v != nil {
		if !strings.Contains(*v, "@") {
			return nil, scimBad("invalidValue", "userName must be the person's e-mail address, the one they sign in with.")
		}
		row[2] = *v
	} else if cur == nil {
		return nil, scimBad("invalidValue", "Send userName: the person's e-mail address, the one they sign in with.")
	}
	for i, v := range []*string{nil, u.fullName(), nil, u.Organization, u.Department, u.Title} {
		if v != nil {
			row[i] = *v
		}
	}
	if u.Manager != nil {
		row[6] = ""
		if v := strings.TrimSpace(*u.Manager); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			var m *app.Employee
			if err == nil {
				m, err = h.Employees.FindEmployeeByID(ctx, id)
			}
			if err != nil {
				if app.ErrorCode(err) == app.ENOTFOUND || err != nil && m == nil {
					return nil, scimBad("invalidValue", "The manager %q is not the id of a User of the portal.", v)
				}
				return nil, err
			}
			row[6] = m.EmployeeNumber
		}
	}
	return row, nil
}

// scimParse checks the row with the roster upload's parser.
func (h *Handler) scimParse(c *fiber.Ctx, row []string) ([]app.RosterRow, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll([][]string{scimColumns, row}); err != nil {
		return nil, err
	}
	existing, err := h.Roster.ActiveManagers(c.UserContext())
	if err != nil {
		return nil, err
	}
	rows, probs, err := roster.ParseRows(&buf, existing)
	if err != nil {
		return nil, err
	}
	if err := scimProblems(probs); err != nil {
		return nil, err
	}
	return rows, nil
}

// scimAttribute names a roster column as SCIM does, for messages.
var scimAttribute = map[string]string{"employee_number": "employeeNumber", "full_name": "name", "email": "userName",
	"agency": "organization", "department": "department", "title": "title", "manager_employee_number": "manager"}

// scimProblems turns the roster's problems into one SCIM error: an address
// or number someone else has is a uniqueness conflict (409), anything else
// an invalid value (400).
func scimProblems(probs []app.RosterProblem) error {
	if len(probs) == 0 {
		return nil
	}
	var msgs []string
	conflict := false
	for _, p := range probs {
		msg := p.Message
		if a := scimAttribute[p.Column]; a != "" {
			msg = a + ": " + msg
		}
		msgs = append(msgs, msg)
		conflict = conflict || p.Column == "email" && strings.Contains(p.Message, "belongs to")
	}
	if conflict {
		return &scimError{Status: fiber.StatusConflict, ScimType: "uniqueness", Detail: strings.Join(msgs, " ")}
	}
	return scimBad("invalidValue", "%s", strings.Join(msgs, " "))
}

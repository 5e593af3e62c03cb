package handlers

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
)

// The read API: completion per person for a cycle (the HR people list's
// query and statuses, paged by cursor), one person's acknowledgments, and a
// certificate's PDF. A token sees every agency: tokens are made by an
// administrator for systems of the whole state.

// API page sizes: the default and the most one call may ask for.
const (
	apiDefaultLimit = 100
	apiMaxLimit     = 500
)

type apiCycle struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Year    int    `json:"year"`
	OpensOn string `json:"opens_on"`
	DueOn   string `json:"due_on"`
	Open    bool   `json:"open"`
}

type apiPerson struct {
	EmployeeNumber  string     `json:"employee_number"`
	Name            string     `json:"name"`
	Email           string     `json:"email"`
	Agency          string     `json:"agency"`
	Department      string     `json:"department"`
	Title           string     `json:"title"`
	Manager         string     `json:"manager"`
	DueOn           string     `json:"due_on"`
	Status          string     `json:"status"`       // one of app.Statuses
	StatusLabel     string     `json:"status_label"` // the same in words, as the dashboard shows it
	SignedAt        *time.Time `json:"signed_at"`
	CertificateCode string     `json:"certificate_code,omitempty"`
}

type apiCompletionPage struct {
	Cycle  apiCycle    `json:"cycle"`
	Total  int         `json:"total"` // people matching the filters, on every page together
	People []apiPerson `json:"people"`
	Next   *string     `json:"next"` // the cursor of the next page; null on the last
}

// apiCompletionParams are the query parameters /api/v1/completion takes.
var apiCompletionParams = []string{"cycle", "agency", "department", "status", "q", "limit", "cursor"}

// apiCompletion lists each person of a cycle with their status.
func (h *Handler) apiCompletion(c *fiber.Ctx) error {
	ctx := c.UserContext()
	for k := range c.Context().QueryArgs().All() {
		if !slices.Contains(apiCompletionParams, string(k)) {
			return apiBadRequest("Unknown parameter %q: this call takes %s.", string(k), strings.Join(apiCompletionParams, ", "))
		}
	}
	cycle, err := h.apiCycle(c)
	if err != nil {
		return err
	}
	f := app.PeopleFilter{CycleID: cycle.ID, Today: h.today(),
		Agency: utils.CopyString(c.Query("agency")), Department: utils.CopyString(c.Query("department")),
		Status: utils.CopyString(c.Query("status")), Query: utils.CopyString(strings.TrimSpace(c.Query("q")))}
	if f.Status != "" && !slices.Contains(app.Statuses, f.Status) {
		return apiBadRequest("Unknown status %q: use one of %s.", f.Status, strings.Join(app.Statuses, ", "))
	}
	if len(f.Query) > 200 {
		return apiBadRequest("The search q must be 200 characters or fewer.")
	}
	if f.Agency != "" || f.Department != "" {
		agencies, err := h.Dashboard.Agencies(ctx, cycle.ID, nil)
		if err != nil {
			return err
		}
		if err := checkUnit(agencies, f.Agency, f.Department); err != nil {
			return err
		}
	}
	limit := apiDefaultLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > apiMaxLimit {
			return apiBadRequest("The limit must be a whole number from 1 to %d.", apiMaxLimit)
		}
		limit = n
	}
	after := int64(0)
	if v := c.Query("cursor"); v != "" {
		if after, err = h.readCursor(v, f); err != nil {
			return err
		}
	}
	f.AfterID, f.Limit = &after, limit+1 // one more than the page: is there a next one?
	people, total, err := h.Dashboard.People(ctx, f)
	if err != nil {
		return err
	}
	out := apiCompletionPage{Cycle: apiCycleOf(cycle), Total: total, People: make([]apiPerson, 0, min(len(people), limit))}
	if len(people) > limit {
		people = people[:limit]
		next := h.cursor(people[limit-1].EmployeeID, f)
		out.Next = &next
	}
	for _, p := range people {
		out.People = append(out.People, apiPerson{EmployeeNumber: p.EmployeeNumber, Name: p.FullName, Email: p.Email, Agency: p.Agency,
			Department: p.Department, Title: p.Title, Manager: p.ManagerName, DueOn: p.DueOn, Status: p.Status,
			StatusLabel: app.StatusLabel(p.Status), SignedAt: p.SignedAt, CertificateCode: p.VerifyCode})
	}
	return c.JSON(out)
}

// checkUnit refuses an agency or department that has nobody in the cycle:
// most likely a typing mistake, which an empty list would hide.
func checkUnit(agencies map[string][]string, agency, department string) error {
	if agency != "" {
		deps, ok := agencies[agency]
		if !ok {
			return apiBadRequest("No agency named %q has people in this cycle.", agency)
		}
		if department != "" && !slices.Contains(deps, department) {
			return apiBadRequest("Agency %q has no department named %q in this cycle.", agency, department)
		}
		return nil
	}
	for _, deps := range agencies {
		if slices.Contains(deps, department) {
			return nil
		}
	}
	return apiBadRequest("No department named %q has people in this cycle.", department)
}

// apiCycle is the cycle asked for (?cycle=ID), or the one the dashboard
// shows first: the open annual cycle, else the newest.
func (h *Handler) apiCycle(c *fiber.Ctx) (*app.Cycle, error) {
	cycles, err := h.Cycles.FindCycles(c.UserContext())
	if err != nil {
		return nil, err
	}
	if v := c.Query("cycle"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, apiBadRequest("The cycle must be a cycle's id, a whole number.")
		}
		for _, cy := range cycles {
			if cy.ID == id {
				return cy, nil
			}
		}
		return nil, app.Errorf(app.ENOTFOUND, "No cycle has id %d.", id)
	}
	if cur, err := h.Cycles.CurrentCycle(c.UserContext()); err == nil {
		return cur, nil
	} else if app.ErrorCode(err) != app.ENOTFOUND {
		return nil, err
	}
	if len(cycles) == 0 {
		return nil, app.Errorf(app.ENOTFOUND, "No cycle has been opened yet.")
	}
	return cycles[0], nil
}

func apiCycleOf(c *app.Cycle) apiCycle {
	return apiCycle{ID: c.ID, Name: c.Name, Year: c.Year, OpensOn: c.OpensOn, DueOn: c.DueOn, Open: c.Open}
}

// A cursor is the last employee id of a page, with the cycle and filters it
// was made for and a MAC over them: a client cannot make one up, nor carry
// one over to other filters (where its pages would skip or repeat people).
func (h *Handler) cursorMAC(payload string, f app.PeopleFilter) []byte {
	m := hmac.New(sha256.New, h.Config.Secret)
	m.Write([]byte("api-cursor\x00" + payload + "\x00" + strconv.FormatInt(f.CycleID, 10) + "\x00" + f.Agency + "\x00" +
		f.Department + "\x00" + f.Status + "\x00" + f.Query))
	return m.Sum(nil)[:16]
}

func (h *Handler) cursor(afterID int64, f app.PeopleFilter) string {
	payload := "1." + strconv.FormatInt(afterID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(h.cursorMAC(payload, f))
}

var errBadCursor = apiBadRequest("The cursor is not one this call gave for these filters. Start again without a cursor, or send the filters of the call that gave it.")

func (h *Handler) readCursor(s string, f app.PeopleFilter) (int64, error) {
	p, m, ok := strings.Cut(s, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(m)
	if !ok || len(s) > 100 || err1 != nil || err2 != nil || !hmac.Equal(mac, h.cursorMAC(string(payload), f)) {
		return 0, errBadCursor
	}
	v, ok := strings.CutPrefix(string(payload), "1.")
	id, err := strconv.ParseInt(v, 10, 64)
	if !ok || err != nil || id < 0 {
		return 0, errBadCursor
	}
	return id, nil
}

type apiAck struct {
	Cycle           apiAckCycle `json:"cycle"`
	PolicyVersion   string      `json:"policy_version"`
	Kind            string      `json:"kind"`
	Annual          bool        `json:"annual"`
	SignedAt        time.Time   `json:"signed_at"`
	Method          string      `json:"method"` // email-link, sso-header, paper…
	PaperSignedOn   string      `json:"paper_signed_on,omitempty"`
	CertificateNo   string      `json:"certificate_number"`
	CertificateCode string      `json:"certificate_code"`
	Superseded      bool        `json:"superseded"`
}

type apiAckCycle struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type apiPersonAcks struct {
	EmployeeNumber  string   `json:"employee_number"`
	Name            string   `json:"name"`
	Active          bool     `json:"active"`
	Acknowledgments []apiAck `json:"acknowledgments"`
}

// apiPersonAcks lists one person's acknowledgments, newest first. A person
// has one or two a year, so the list is not paged.
func (h *Handler) apiPersonAcks(c *fiber.Ctx) error {
	ctx := c.UserContext()
	number := utils.CopyString(c.Params("number"))
	if number == "" || len(number) > 100 {
		return apiBadRequest("Give an employee number of at most 100 characters.")
	}
	es, _, err := h.Employees.FindEmployees(ctx, app.EmployeeFilter{EmployeeNumber: &number, Limit: 1})
	if err != nil {
		return err
	}
	if len(es) == 0 {
		return app.Errorf(app.ENOTFOUND, "Nobody on the roster has employee number %s.", number)
	}
	e := es[0]
	acks, _, err := h.Acks.FindAcknowledgments(ctx, app.AckFilter{EmployeeID: &e.ID})
	if err != nil {
		return err
	}
	out := apiPersonAcks{EmployeeNumber: e.EmployeeNumber, Name: e.FullName, Active: e.Active, Acknowledgments: make([]apiAck, 0, len(acks))}
	for _, a := range acks {
		x := apiAck{Cycle: apiAckCycle{ID: a.CycleID, Name: a.CycleName}, PolicyVersion: a.PolicyCode, Kind: a.KindTitle, Annual: a.KindAnnual,
			SignedAt: a.SignedAt.UTC(), Method: a.AuthMethod, CertificateNo: a.CertificateNo, CertificateCode: a.VerifyCode, Superseded: a.Superseded}
		if a.Paper != nil {
			x.PaperSignedOn = a.Paper.SignedOn
		}
		out.Acknowledgments = append(out.Acknowledgments, x)
	}
	return c.JSON(out)
}

// apiCertificate sends a certificate's PDF by its code, as the certificate
// page's download does.
func (h *Handler) apiCertificate(c *fiber.Ctx) error {
	code, ok := app.NormalizeVerifyCode(c.Params("code"))
	if !ok {
		return apiBadRequest("A certificate code is ten letters and digits, for example 7K2QD-M9XRA.")
	}
	a, err := h.Acks.FindAcknowledgmentByCode(c.UserContext(), code)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return app.Errorf(app.ENOTFOUND, "No certificate has the code %s.", code)
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := h.Certs.RenderPDF(&buf, h.certificate(a)); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, ContentDisposition(a.CertificateNo+" "+a.EmployeeName+".pdf"))
	return c.Send(buf.Bytes())
}

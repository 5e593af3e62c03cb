package handlers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// SCIM 2.0 (RFC 7643, 7644): the small subset Entra ID and Okta provision
// with, written here rather than with a library (see the README). A SCIM
// User is a person of the roster:
//
//	id                       the portal's own id of the person (stable; the employee number may be reused)
//	userName                 the e-mail address, the one sign-in matches (PORTAL_OIDC_CLAIM=email)
//	name.formatted           the full name; else givenName and familyName, else displayName
//	emails                   returned as the userName; sent ones are not read
//	active                   false deactivates, as a full roster leaving the person out does
//	title                    the title
//	enterprise employeeNumber  the employee number: required to create, never changed
//	enterprise department    the department
//	enterprise organization  the agency
//	enterprise manager.value the manager's SCIM id
//
// externalId is accepted and not kept: the portal finds people by userName
// and by its own id.

const (
	scimUserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimEnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	scimListSchema       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimPatchSchema      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	scimErrorSchema      = "urn:ietf:params:scim:api:messages:2.0:Error"
	scimMediaType        = "application/scim+json"
)

// scimUser is the attributes the portal maps, as a SCIM request sets them.
// A nil pointer is an attribute not sent.
type scimUser struct {
	UserName, Formatted, GivenName, FamilyName, DisplayName, Title *string
	Email                                                          *string // a work or primary address of emails
	Active                                                         *bool
	EmployeeNumber, Department, Organization, Manager              *string
}

type scimName struct {
	Formatted  string `json:"formatted,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
}

type scimEmail struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

type scimManager struct {
	Value string `json:"value"`
	Ref   string `json:"$ref,omitempty"`
}

type scimEnterprise struct {
	EmployeeNumber string       `json:"employeeNumber"`
	Department     string       `json:"department"`
	Organization   string       `json:"organization"`
	Manager        *scimManager `json:"manager,omitempty"`
}

type scimMeta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Location     string `json:"location"`
}

// scimUserResource is a person as SCIM returns them.
type scimUserResource struct {
	Schemas     []string        `json:"schemas"`
	ID          string          `json:"id"`
	UserName    string          `json:"userName"`
	Name        scimName        `json:"name"`
	DisplayName string          `json:"displayName"`
	Title       string          `json:"title,omitempty"`
	Emails      []scimEmail     `json:"emails"`
	Active      bool            `json:"active"`
	Enterprise  *scimEnterprise `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
	Meta        scimMeta        `json:"meta"`
}

func (h *Handler) scimResource(e *app.Employee) scimUserResource {
	id := strconv.FormatInt(e.ID, 10)
	loc := strings.TrimSuffix(h.Config.BaseURL, "/") + "/scim/v2/Users/" + id
	r := scimUserResource{Schemas: []string{scimUserSchema, scimEnterpriseSchema}, ID: id, UserName: e.Email,
		Name: scimName{Formatted: e.FullName}, DisplayName: e.FullName, Title: e.Title,
		Emails: []scimEmail{{Value: e.Email, Type: "work", Primary: true}}, Active: e.Active,
		Enterprise: &scimEnterprise{EmployeeNumber: e.EmployeeNumber, Department: e.Department, Organization: e.Agency},
		Meta:       scimMeta{ResourceType: "User", Location: loc}}
	if !e.CreatedAt.IsZero() {
		r.Meta.Created = e.CreatedAt.UTC().Format(time.RFC3339)
	}
	if !e.UpdatedAt.IsZero() {
		r.Meta.LastModified = e.UpdatedAt.UTC().Format(time.RFC3339)
	}
	if e.ManagerID != nil {
		m := strconv.FormatInt(*e.ManagerID, 10)
		r.Enterprise.Manager = &scimManager{Value: m, Ref: strings.TrimSuffix(h.Config.BaseURL, "/") + "/scim/v2/Users/" + m}
	}
	return r
}

// scimError is an answer in SCIM's error format (RFC 7644 §3.12).
type scimError struct {
	Status   int
	ScimType string // invalidFilter, invalidValue, uniqueness, mutability, invalidSyntax, noTarget…; "" for none
	Detail   string
}

func (e *scimError) Error() string { return e.Detail }

func scimBad(scimType, format string, args ...any) *scimError {
	return &scimError{Status: fiber.StatusBadRequest, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// writeSCIMError answers err in SCIM's format; the status and words of the
// portal's other errors are kept.
func writeSCIMError(c *fiber.Ctx, status int, scimType, detail string) error {
	body := map[string]any{"schemas": []string{scimErrorSchema}, "status": strconv.Itoa(status), "detail": detail}
	if scimType != "" {
		body["scimType"] = scimType
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, scimMediaType)
	return c.Status(status).Send(b)
}

// isSCIMPath reports whether path is under /scim/ (Fiber matches regardless of case).
func isSCIMPath(path string) bool { return strings.HasPrefix(strings.ToLower(path), "/scim/") }

// scimJSON answers v as SCIM JSON.
func scimJSON(c *fiber.Ctx, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, scimMediaType)
	return c.Status(status).Send(b)
}

// scimString reads a JSON string attribute (null: the empty string).
func scimString(attr string, raw json.RawMessage) (*string, error) {
	var s *string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, scimBad("invalidValue", "%s must be a string.", attr)
	}
	if s == nil {
		s = new(string)
	}
	return s, nil
}

// scimBool reads active: a JSON boolean, or the strings "True" and "False"
// in any case, which Entra ID sends.
func scimBool(attr string, raw json.RawMessage) (*bool, error) {
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return &b, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			b = true
			return &b, nil
		case "false":
			return &b, nil
		}
	}
	return nil, scimBad("invalidValue", "%s must be true or false.", attr)
}

// scimEmailValue picks the address from emails: the primary one, else the
// work one, else the first.
func scimEmailValue(raw json.RawMessage) (*string, error) {
	var list []scimEmail
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, scimBad("invalidValue", "emails must be a list of {value, type, primary}.")
	}
	if len(list) == 0 {
		return nil, nil
	}
	pick := list[0]
	for _, e := range list {
		if e.Type == "work" && !pick.Primary {
			pick = e
		}
		if e.Primary {
			pick = e
		}
	}
	return &pick.Value, nil
}

// set sets one attribute, named as a SCIM path (case-insensitive, the
// enterprise extension's attributes with or without its URN).
func (u *scimUser) set(path string, raw json.RawMessage) error {
	p := strings.ToLower(strings.TrimSpace(path))
	p = strings.TrimPrefix(p, strings.ToLower(scimEnterpriseSchema)+":")
	p = strings.TrimPrefix(p, strings.ToLower(scimUserSchema)+":")
	var err error
	switch p {
	case "username":
		u.UserName, err = scimString("userName", raw)
	case "name":
		var n map[string]json.RawMessage
		if err := json.Unmarshal(raw, &n); err != nil {
			return scimBad("invalidValue", "name must be an object.")
		}
		for k, v := range n {
			if err := u.set("name."+k, v); err != nil && !isInvalidPath(err) {
				return err
			}
		}
	case "name.formatted":
		u.Formatted, err = scimString("name.formatted", raw)
	case "name.givenname":
		u.GivenName, err = scimString("name.givenName", raw)
	case "name.familyname":
		u.FamilyName, err = scimString("name.familyName", raw)
	case "displayname":
		u.DisplayName, err = scimString("displayName", raw)
	case "title":
		u.Title, err = scimString("title", raw)
	case "active":
		u.Active, err = scimBool("active", raw)
	case "emails":
		u.Email, err = scimEmailValue(raw)
	case `emails[type eq "work"].value`, `emails[primary eq true].value`:
		u.Email, err = scimString("emails.value", raw)
	case "employeenumber":
		u.EmployeeNumber, err = scimString("employeeNumber", raw)
	case "department":
		u.Department, err = scimString("department", raw)
	case "organization":
		u.Organization, err = scimString("organization", raw)
	case "manager":
		var m *struct {
			Value string `json:"value"`
		}
		if json.Unmarshal(raw, &m) != nil {
			// Entra ID sends the manager's id alone in a PATCH.
			var s *string
			if s, err = scimString("manager", raw); err == nil {
				u.Manager = s
			}
			break
		}
		u.Manager = new(string)
		if m != nil {
			*u.Manager = m.Value
		}
	case "manager.value":
		u.Manager, err = scimString("manager.value", raw)
	case strings.ToLower(scimEnterpriseSchema):
		var ext map[string]json.RawMessage
		if err := json.Unmarshal(raw, &ext); err != nil {
			return scimBad("invalidValue", "The enterprise extension must be an object.")
		}
		for k, v := range ext {
			if err := u.set(k, v); err != nil && !isInvalidPath(err) {
				return err
			}
		}
	case "schemas", "id", "meta", "externalid", "password", "locale", "timezone", "preferredlanguage", "nickname",
		"usertype", "phonenumbers", "addresses", "groups", "roles", "entitlements", "x509certificates", "ims", "photos", "profileurl",
		"costcenter", "division", "name.middlename", "name.honorificprefix", "name.honorificsuffix":
		// Not kept by the portal; accepted so that a directory's usual
		// mappings provision without errors.
	default:
		return scimBad("invalidPath", "The attribute %q is not one the portal keeps.", path)
	}
	return err
}

func isInvalidPath(err error) bool {
	se, ok := err.(*scimError)
	return ok && se.ScimType == "invalidPath"
}

// parseSCIMUser reads a User resource (POST, PUT).
func parseSCIMUser(body []byte) (*scimUser, error) {
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(body, &attrs); err != nil {
		return nil, scimBad("invalidSyntax", "The body is not a SCIM User in JSON.")
	}
	u := &scimUser{}
	for k, v := range attrs {
		// An attribute the portal does not know is ignored in a whole
		// resource (a directory sends its own extensions), and refused
		// as a PATCH's path, where it is the only thing asked.
		if err := u.set(k, v); err != nil && !isInvalidPath(err) {
			return nil, err
		}
	}
	return u, nil
}

// fullName is the name the roster keeps, from what was sent.
func (u *scimUser) fullName() *string {
	switch {
	case u.Formatted != nil && strings.TrimSpace(*u.Formatted) != "":
		return u.Formatted
	case u.GivenName != nil && u.FamilyName != nil: // one alone cannot be put with the other: the roster keeps one name
		var parts []string
		for _, s := range []*string{u.GivenName, u.FamilyName} {
			if s != nil && strings.TrimSpace(*s) != "" {
				parts = append(parts, strings.TrimSpace(*s))
			}
		}
		if len(parts) > 0 {
			n := strings.Join(parts, " ")
			return &n
		}
	}
	if u.DisplayName != nil && strings.TrimSpace(*u.DisplayName) != "" {
		return u.DisplayName
	}
	return nil
}

// email is the address the roster keeps: the userName, which is the
// address sign-in matches (emails are not read).
func (u *scimUser) email() *string { return u.UserName }

// onlyActive reports whether active is the one attribute sent.
func (u *scimUser) onlyActive() bool {
	return *u == scimUser{Active: u.Active}
}

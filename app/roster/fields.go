package roster

import (
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"portal/app"
)

const (
	maxField = 200 // characters in any field but the e-mail address
	maxEmail = 254 // characters in an e-mail address (RFC 5321's path limit)
)

// record checks one data record and appends it to p.rows.
func (p *parser) record(fields []string, line int) {
	i := len(p.rows)
	if i == cap(p.rows) {
		// Double, where append grows big slices by a quarter: copying the
		// rows over and over was the largest cost of a 100,000-row file.
		p.rows = slices.Grow(p.rows, max(i, 256))
	}
	p.rows = append(p.rows, Row{Line: line})
	p.bad = append(p.bad, false)
	if len(fields) < p.width || !blank(fields[p.width:]) {
		p.problem(i, noColumn, fmt.Sprintf("This line has %d fields but the header has %d. Look for a missing or extra comma, or a comma in a field that is not wrapped in quotes.", len(fields), p.width))
		return
	}

	// Invalid UTF-8 almost always means the whole file is in another
	// encoding, so it is one problem per line, not one per field.
	var raw [numColumns]string
	var invalid []string
	for c, k := range p.cols {
		if k < 0 {
			continue
		}
		if !utf8.ValidString(fields[k]) {
			invalid = append(invalid, column(c).String())
			continue
		}
		raw[c] = fields[k]
	}
	if len(invalid) > 0 {
		p.problem(i, column(slices.Index(columnNames[:], invalid[0])),
			fmt.Sprintf("This line is not valid UTF-8 text (in %s). Save the file as “CSV UTF-8” and import it again.", strings.Join(invalid, ", ")))
	}

	r := &p.rows[i]
	r.HasSignatureName = p.cols[colSignatureName] >= 0
	for c := range numColumns {
		if k := p.cols[c]; k >= 0 && raw[c] == "" && fields[k] != "" {
			continue // not UTF-8, reported above
		}
		v := p.value(i, c, raw[c])
		if v == "" {
			continue
		}
		switch c {
		case colEmployeeNumber:
			if msg := exampleProblem(v); msg != "" {
				p.problem(i, c, msg)
			} else {
				r.EmployeeNumber = v
			}
		case colFullName:
			r.FullName = v
		case colEmail:
			if validEmail(v) {
				r.Email = v
			} else {
				p.problem(i, c, fmt.Sprintf("The e-mail address %s is not valid. Write the address alone, like jane.doe@example.gov.", show(v)))
			}
		case colAgency:
			r.Agency = v
		case colDepartment:
			r.Department = v
		case colTitle:
			r.Title = v
		case colManager:
			r.ManagerNumber = v
		case colHireDate:
			if validDate(v) {
				r.HireDate = v
			} else {
				p.problem(i, c, fmt.Sprintf("The hire date %s is not a real date written YYYY-MM-DD (for example 2024-03-31).", show(v)))
			}
		case colRoles:
			r.Roles = p.roles(i, v)
		case colBargainingUnit:
			r.BargainingUnit = v
		case colSignatureName:
			if msg := signatureProblem(v); msg != "" {
				p.problem(i, c, msg)
			} else {
				r.SignatureName = v
			}
		}
	}
}

// value normalises one field and checks what every field must satisfy:
// no control characters, present if required, not too long. It returns ""
// if the field is empty or a problem was reported.
func (p *parser) value(i int, c column, s string) string {
	text := c == colFullName || c == colSignatureName || c == colAgency || c == colDepartment || c == colTitle || c == colBargainingUnit
	var v string
	if text {
		// A line break typed in a spreadsheet cell becomes a space here, as
		// does any other run of white space.
		if r, bad := forbidden(s, true); bad {
			p.problem(i, c, fmt.Sprintf("The %s contains the invisible character %U. Retype the field.", label(c), r))
			return ""
		}
		v = normalizeText(s)
	} else {
		if c == colRoles {
			// Only spaces around items are allowed, and a line break in a
			// spreadsheet cell is one; the items themselves are checked below.
			s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
		}
		v = norm.NFC.String(strings.TrimSpace(s))
		if r, bad := forbidden(v, false); bad {
			p.problem(i, c, fmt.Sprintf("The %s contains the invisible character %U. Retype the field.", label(c), r))
			return ""
		}
		if (c == colEmployeeNumber || c == colManager) && strings.ContainsFunc(v, unicode.IsSpace) {
			p.problem(i, c, fmt.Sprintf("The %s %s contains a space.", label(c), show(v)))
			return ""
		}
	}
	if v == "" {
		if c.required() {
			p.problem(i, c, fmt.Sprintf("The %s is missing.", label(c)))
		}
		return ""
	}
	limit := maxField
	if c == colEmail {
		limit = maxEmail
	}
	if n := utf8.RuneCountInString(v); n > limit {
		p.problem(i, c, fmt.Sprintf("The %s is %d characters long; the most allowed is %d.", label(c), n, limit))
		return ""
	}
	return v
}

// signatureProblem says why a signature name cannot be used, or "". It is
// what a person types on a keyboard with Latin letters only: letters of the
// Latin script (accented ones too), spaces, hyphens, apostrophes and
// periods, with at least one letter.
func signatureProblem(v string) string {
	letters := 0
	for _, r := range v {
		switch {
		case unicode.Is(unicode.Latin, r):
			letters++
		case r == ' ' || r == '-' || r == '\'' || r == '’' || r == '.' || unicode.Is(unicode.Mn, r):
		default:
			return fmt.Sprintf("The signature name %s contains %s, which is not a Latin letter. The signature name is the name in Latin letters (like Wang Xiaoming); leave it empty if the full name is already written so.", show(v), show(string(r)))
		}
	}
	if letters == 0 {
		return fmt.Sprintf("The signature name %s has no letters. Write the name in Latin letters, or leave it empty.", show(v))
	}
	return ""
}

// normalizeText is app.NormalizeName, without allocating for the usual
// field that is already in that form.
func normalizeText(s string) string {
	prevSpace := true // a leading space needs work
	for _, r := range s {
		space := unicode.IsSpace(r)
		if space && (r != ' ' || prevSpace) {
			return app.NormalizeName(s)
		}
		prevSpace = space
	}
	if prevSpace && s != "" {
		return app.NormalizeName(s)
	}
	// NFC never turns a lone ' ' into anything else, nor anything but the
	// quad spaces (caught above) into white space.
	return norm.NFC.String(s)
}

// roles parses a ';'-separated list of roles, reporting the unknown ones.
func (p *parser) roles(i int, s string) []app.Role {
	var roles []app.Role
	for item := range strings.SplitSeq(s, ";") {
		item = strings.ToLower(strings.TrimSpace(item))
		switch r := app.Role(item); {
		case item == "":
		case slices.Contains(app.KnownRoles, r):
			roles = append(roles, r)
		case item == "employee" || item == "manager":
			p.problem(i, colRoles, fmt.Sprintf("%s is not a role to list: everyone is an employee, and a manager is anyone with reports. Leave it out.", show(item)))
		default:
			p.problem(i, colRoles, fmt.Sprintf("Unknown role %s. Roles are %s, separated by semicolons.", show(item), knownRoles()))
		}
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

func knownRoles() string {
	s := make([]string, len(app.KnownRoles))
	for i, r := range app.KnownRoles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// forbidden returns the first character s must not hold: a C0 or C1
// control, white space ones excepted if text is true; a bidirectional
// override or isolate, which would let a name display as something other
// than its text; and, unless text is true, any other invisible formatting
// character (a zero-width space pasted into an employee number or address
// would make it silently differ from the one typed elsewhere). Free text
// keeps those: joiners and direction marks belong in some scripts.
func forbidden(s string, text bool) (rune, bool) {
	for _, r := range s {
		switch {
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			if text && unicode.IsSpace(r) {
				continue
			}
			return r, true
		case r < utf8.RuneSelf:
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			return r, true
		case !text && unicode.Is(unicode.Cf, r):
			return r, true
		}
	}
	return 0, false
}

// validEmail reports whether s is a bare address (no display name, no angle
// brackets, no comments) with a dotted domain.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, "[") && !strings.HasSuffix(domain, ".")
}

// validDate reports whether s is a real calendar date written YYYY-MM-DD.
func validDate(s string) bool {
	if len(s) != len(time.DateOnly) {
		return false
	}
	for k := range len(s) {
		if k == 4 || k == 7 {
			if s[k] != '-' {
				return false
			}
		} else if s[k] < '0' || s[k] > '9' {
			return false
		}
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// label names a column in words for messages.
func label(c column) string {
	return strings.ReplaceAll(c.String(), "_", " ")
}

// show quotes a value for a message, shortened so one bad field cannot
// flood the problem list.
func show(s string) string {
	const most = 60
	if utf8.RuneCountInString(s) > most {
		s = string([]rune(s)[:most]) + "…"
	}
	return strconv.Quote(s)
}

package app

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Role is something an employee may do beyond the employee journey. Every
// active person is an employee; a manager is anyone with reports.
type Role string

// Roles held in the roster's roles column.
const (
	RoleHR     Role = "hr"
	RoleAdmin  Role = "admin"
	RolePoster Role = "poster" // a roster label only: who owes the agency-use acknowledgment follows poster_authorizations
)

// KnownRoles lists every role the roster may name.
var KnownRoles = []Role{RoleHR, RoleAdmin, RolePoster}

// Employee is one person on the roster.
type Employee struct {
	ID             int64
	EmployeeNumber string
	FullName       string
	Email          string
	Agency         string
	Department     string
	Title          string
	ManagerID      *int64
	HireDate       string // YYYY-MM-DD, may be empty
	Roles          []Role
	BargainingUnit string
	// SignatureName is a Latin-letter form of FullName the person may type
	// to sign instead of it; "" if the roster gives none.
	SignatureName string
	Active        bool
	CreatedAt     time.Time
	UpdatedAt     time.Time

	// IsManager is derived: true when someone active reports to this person.
	IsManager bool
	// SupervisorOf is derived: the agency whose Social Media Supervisor this
	// person is (an administrator designated them), "" for none.
	SupervisorOf string
	// AuthorizedPoster is derived: the person holds an authorization to
	// post for their agency that is in force today (a supervisor gave it).
	// It makes them a poster (RolePoster) whatever the roster says.
	AuthorizedPoster bool
	// PostingPeriods is derived: the periods of the person's authorizations
	// that have not been ended early, from which the store works out
	// AuthorizedPoster for today (PostsOn).
	PostingPeriods []PostingPeriod
}

// PostingPeriod is when one authorization lets its holder post: From to To
// (YYYY-MM-DD, both included; To "" until revoked).
type PostingPeriod struct{ From, To string }

// PostsOn reports whether one of the person's authorizations is in force
// on today (YYYY-MM-DD).
func (e *Employee) PostsOn(today string) bool {
	for _, p := range e.PostingPeriods {
		if p.From <= today && (p.To == "" || p.To >= today) {
			return true
		}
	}
	return false
}

// HasRole reports whether the employee holds role r.
// The poster role follows from an authorization in force; a "poster" in the
// roster's roles column is still honoured for data from before
// authorizations (RosterPoster says so, for a note where roles are shown).
func (e *Employee) HasRole(r Role) bool {
	return slices.Contains(e.Roles, r) || (r == RolePoster && e.AuthorizedPoster)
}

// RosterPoster reports whether the roster file, rather than an
// authorization, names the person a poster: the old way, shown with a note
// asking for an authorization instead.
func (e *Employee) RosterPoster() bool { return slices.Contains(e.Roles, RolePoster) }

// SignsAs reports whether typed is a name the employee may sign with: the
// roster name or, if the roster gives one, the signature name.
func (e *Employee) SignsAs(typed string) bool {
	return NamesMatch(typed, e.FullName) || (e.SignatureName != "" && NamesMatch(typed, e.SignatureName))
}

// SignatureNames is the names the employee may sign with, for a hint or a
// message: "王小明 or Wang Xiaoming", or the roster name alone.
func (e *Employee) SignatureNames() string {
	if e.SignatureName == "" || e.SignatureName == e.FullName {
		return e.FullName
	}
	return e.FullName + " or " + e.SignatureName
}

// RolesString joins the roles with ";" as in the roster file.
func (e *Employee) RolesString() string {
	s := make([]string, len(e.Roles))
	for i, r := range e.Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ";")
}

// EmployeeFilter selects employees; nil fields do not filter.
type EmployeeFilter struct {
	ID             *int64
	EmployeeNumber *string
	Email          *string
	Active         *bool
	Role           *string // holds this role
	Offset, Limit  int
}

// EmployeeService reads and writes the roster.
type EmployeeService interface {
	FindEmployeeByID(ctx context.Context, id int64) (*Employee, error)
	FindEmployeeByEmail(ctx context.Context, email string) (*Employee, error)
	FindEmployees(ctx context.Context, filter EmployeeFilter) ([]*Employee, int, error)
	CreateEmployee(ctx context.Context, e *Employee) error
	// Agencies lists the agencies of active employees.
	Agencies(ctx context.Context) ([]string, error)
	// IsInTree reports whether employeeID reports, directly or indirectly, to managerID.
	IsInTree(ctx context.Context, managerID, employeeID int64) (bool, error)
}

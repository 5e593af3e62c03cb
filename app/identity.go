package app

import (
	"context"
	"time"
)

// Roster fields as a RosterChange names them.
const (
	FieldEmployeeNumber = "employee_number"
	FieldFullName       = "full_name"
	FieldEmail          = "email"
	FieldAgency         = "agency"
	FieldDepartment     = "department"
	FieldTitle          = "title"
	FieldManager        = "manager_employee_number"
	FieldHireDate       = "hire_date"
	FieldRoles          = "roles"
	FieldBargainingUnit = "bargaining_unit"
	FieldSignatureName  = "signature_name"
	FieldActive         = "active"
)

// RosterFields lists the fields of a person's roster record in the order
// changes name them.
var RosterFields = []string{FieldEmployeeNumber, FieldFullName, FieldEmail, FieldAgency, FieldDepartment, FieldTitle,
	FieldManager, FieldHireDate, FieldRoles, FieldBargainingUnit, FieldActive, FieldSignatureName}

// FieldChange is one field of a roster record going from Old to New
// ("" for a field that had no value; active is "true" or "false").
type FieldChange struct {
	Field string
	Old   string
	New   string
}

// RosterChange is the evidence record of one change to one person's roster
// record: who made it, when, through what, and every field that changed.
// The current roster is the sum of these records, so a row edited outside
// the portal no longer matches them.
type RosterChange struct {
	ID             int64
	At             time.Time
	ActorID        *int64 // nil: the operator's command line
	Source         string // how: "roster upload people.csv", "import-roster people.csv", "roles page", …
	EmployeeID     int64
	EmployeeNumber string
	Changes        []FieldChange
	ActorName      string // joined, for display
}

// Change returns the change to one field, or nil.
func (c *RosterChange) Change(field string) *FieldChange {
	for i := range c.Changes {
		if c.Changes[i].Field == field {
			return &c.Changes[i]
		}
	}
	return nil
}

// Address change actions.
const (
	AddressRequest = "request" // a web roster upload asked for a new address
	AddressApprove = "approve" // a second person approved it: it took effect
	AddressReject  = "reject"  // a second person refused it
)

// AddressChange is one step of changing a person's e-mail address from a
// web upload: the request, then an approval or a refusal by someone else.
// Each step is an evidence record. Until approved, sign-in links go to the
// old address only.
type AddressChange struct {
	ID         int64
	RequestID  *int64 // for a decision: the request it decides
	Action     string // AddressRequest, AddressApprove or AddressReject
	EmployeeID int64
	OldEmail   string
	NewEmail   string
	ActorID    *int64
	At         time.Time

	// Joined for display.
	EmployeeNumber string
	EmployeeName   string
	ActorName      string
	Decision       *AddressChange // for a request: its decision, if any
}

// CycleVersionChange is the evidence record of an open cycle moving to a
// newer policy version. Material is true when a material version lies
// between the two: acknowledgments of older versions of the cycle are then
// superseded. Validity is worked out from these records alone.
type CycleVersionChange struct {
	ID            int64
	CycleID       int64
	FromVersionID int64
	ToVersionID   int64
	Material      bool
	At            time.Time
	ActorID       *int64
}

// IdentityService manages who people are and what they may do: role grants
// by administrators, address changes that need a second person, and the
// logged history of every roster record.
type IdentityService interface {
	// SetRole grants (or removes) the hr or admin role; actor is the
	// administrator. Every active administrator is told by e-mail.
	SetRole(ctx context.Context, employeeID int64, role Role, grant bool, actorID int64) error
	// PendingAddressChanges lists the oldest requests that nobody has
	// decided yet, at most limit, and how many there are.
	PendingAddressChanges(ctx context.Context, limit int) ([]*AddressChange, int, error)
	// DecideAddressChanges approves or refuses requests. The decider must
	// not be whoever asked for them nor the person whose address it is.
	DecideAddressChanges(ctx context.Context, ids []int64, approve bool, actorID int64) error
	// History returns the newest logged changes to a person's roster
	// record, at most limit, oldest first, and how many there are.
	History(ctx context.Context, employeeID int64, limit int) ([]*RosterChange, int, error)
	// AddressChanges returns every address change step about a person, oldest first.
	AddressChanges(ctx context.Context, employeeID int64) ([]*AddressChange, error)
	// FindAddressChange returns one address change step.
	FindAddressChange(ctx context.Context, id int64) (*AddressChange, error)
	// FindRosterChange returns one roster change.
	FindRosterChange(ctx context.Context, id int64) (*RosterChange, error)
}

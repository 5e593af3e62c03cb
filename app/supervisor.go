package app

import (
	"context"
	"time"
)

// AgencySupervisor is an agency's Social Media Supervisor as the central
// IT office lists them: who, which agency, since when. An agency with no
// supervisor has EmployeeID 0.
type AgencySupervisor struct {
	Agency         string
	EmployeeID     int64
	EmployeeNumber string
	FullName       string
	Email          string
	Since          time.Time
}

// SupervisorDesignation is one step of an agency's supervisor history
// (evidence): a designation or its end. ActorID nil means the portal ended
// it after a roster change.
type SupervisorDesignation struct {
	ID         int64
	Agency     string
	EmployeeID int64
	FullName   string
	Action     string // "designate" or "end"
	Reason     string
	ActorID    *int64
	ActorName  string
	At         time.Time
}

// SupervisorService designates and ends Social Media Supervisors. Each step
// is a designation row, the agency's current supervisor and an audit event
// in one transaction.
type SupervisorService interface {
	// Supervisors lists every agency of the roster with its supervisor
	// (EmployeeID 0 for none), by agency.
	Supervisors(ctx context.Context) ([]*AgencySupervisor, error)
	// Designate makes the active employee with this number the agency's
	// supervisor, ending the previous one's designation.
	Designate(ctx context.Context, agency, employeeNumber, reason string, actorID int64) (*AgencySupervisor, error)
	// EndDesignation ends the agency's current designation.
	EndDesignation(ctx context.Context, agency, reason string, actorID int64) error
	// Designations is an agency's history, newest first.
	Designations(ctx context.Context, agency string) ([]*SupervisorDesignation, error)
}

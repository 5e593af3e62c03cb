package app

import (
	"context"
	"time"
)

// RosterRow is one valid, normalised line of a roster file.
type RosterRow struct {
	Line           int
	EmployeeNumber string
	FullName       string
	Email          string
	Agency         string
	Department     string
	Title          string
	ManagerNumber  string
	HireDate       string
	Roles          []Role
	BargainingUnit string
	SignatureName  string
	// KeepSignatureName is set when the file has no signature_name column:
	// the person keeps the one the portal holds, so a file in the older
	// format does not wipe them.
	KeepSignatureName bool
}

// RosterProblem is one reason a roster file cannot be imported; Line 0 is
// the file as a whole.
type RosterProblem struct {
	Line    int
	Column  string
	Message string
}

// ImportOptions say how to apply a roster.
type ImportOptions struct {
	DeactivateMissing bool   // active people missing from the file are deactivated (never deleted)
	DryRun            bool   // work out what would change, change nothing
	ActorID           *int64 // the HR user, or nil from the command line
	Source            string // how the file came, for the log: "roster upload people.csv"
	// FromWeb marks an HR user's upload: it never grants or removes the hr
	// and admin roles (an administrator does, on the roles page), and a
	// changed e-mail address waits for a second person's approval. The
	// operator's import-roster applies both directly.
	FromWeb bool
	// Atomic writes the whole import in one transaction rather than in
	// batches: the API's roster sync and SCIM, whose callers are told it
	// all happened or none of it did.
	Atomic bool
	// Deactivate lists employee numbers to deactivate whether or not the
	// rows name them (SCIM's active=false): the same deactivation a full
	// roster makes of the people it leaves out, so authorizations and
	// supervisor designations end the same way.
	Deactivate []string
}

// PrivilegedRoles are granted only by an administrator, never by a web upload.
var PrivilegedRoles = []Role{RoleHR, RoleAdmin}

// ImportSummary says what an import did (or, in a dry run, would do).
type ImportSummary struct {
	Rows        int
	Added       int
	Updated     int
	Unchanged   int
	Reactivated int
	Deactivated int
	// AddressChanges are new addresses held for a second person's approval (web uploads).
	AddressChanges int
	// RolesIgnored counts rows whose hr or admin roles differ from the
	// roster's: a web upload leaves those roles as they are.
	RolesIgnored int
	Problems     []RosterProblem // conflicts only the database can see; when any, nothing changed
	// Invitations counts the invitations queued with the import, one to
	// each person it added or reactivated while a cycle is open.
	Invitations int
	// People lists what a dry run would do to each person (added, changed,
	// reactivated, deactivated), for the preview; nil after a real import.
	People []*RosterPreviewRow `json:"-"`
	// PreviewSHA256 is a digest of People: applying a previewed file
	// checks that it would still do what its preview showed.
	PreviewSHA256 string
}

// Changed reports whether the import changes anything.
func (s *ImportSummary) Changed() bool {
	return s.Added+s.Updated+s.Reactivated+s.Deactivated+s.AddressChanges > 0
}

// RosterUpload is a roster file between its preview and its import.
type RosterUpload struct {
	ID                int64
	SHA256            string
	Filename          string
	Content           []byte
	DeactivateMissing bool
	UploadedBy        int64
	CreatedAt         time.Time
	AppliedAt         *time.Time
	// Summary is the dry run's summary, worked out once when the file was
	// previewed and kept with it (its People too, saved row by row).
	Summary *ImportSummary
}

// The kinds of change a roster upload makes to one person.
const (
	RosterAdded       = "added"
	RosterChanged     = "changed"
	RosterReactivated = "reactivated"
	RosterDeactivated = "deactivated"
)

// RosterKinds lists the kinds of change in the order the preview offers them.
var RosterKinds = []string{RosterAdded, RosterChanged, RosterReactivated, RosterDeactivated}

// RosterPreviewRow is what an upload would do to one person.
type RosterPreviewRow struct {
	Kind           string
	EmployeeNumber string
	FullName       string
	Agency         string
	Department     string
	// Changes are the fields as the preview shows them: for a new person
	// every field with a value (Old empty), for a changed or reactivated one
	// each field that changes; a manager is named "Name (number)". The
	// active field is not listed: Kind says it.
	Changes []FieldChange
	// NewEmail is an address that waits for a second person's approval
	// (web uploads); OldEmail is the address kept until then.
	NewEmail, OldEmail string
}

// RosterPreviewFilter selects rows of a saved upload's preview.
type RosterPreviewFilter struct {
	UploadID int64
	Kind     string // "" for every kind
	Query    string // part of the name or the employee number, ignoring case and accents
	Offset   int
	Limit    int
}

// RosterPreview is one page of a saved upload's preview.
type RosterPreview struct {
	Rows   []*RosterPreviewRow
	Total  int            // rows matching the filter
	Counts map[string]int // people by kind, whatever the filter
}

// RosterService applies roster files.
type RosterService interface {
	SaveUpload(ctx context.Context, u *RosterUpload) error
	FindUpload(ctx context.Context, id int64) (*RosterUpload, error)
	MarkUploadApplied(ctx context.Context, id int64) error
	// ActiveManagers maps each active employee number to its manager's number.
	ActiveManagers(ctx context.Context) (map[string]string, error)
	// ImportRoster applies rows. A file with problems changes nothing; a
	// good one may be written in batches, each whole with its evidence, so
	// one stopped half way leaves whole batches and applying the same rows
	// again finishes it.
	ImportRoster(ctx context.Context, rows []RosterRow, opts ImportOptions) (*ImportSummary, error)
	// FindPreview returns a page of the changes a saved upload would make,
	// as its dry run worked them out when it was saved.
	FindPreview(ctx context.Context, f RosterPreviewFilter) (*RosterPreview, error)
}

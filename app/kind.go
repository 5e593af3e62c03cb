package app

import (
	"context"
	"encoding/json"
)

// How people come to owe an acknowledgment of a kind (acknowledgment_kinds.assign).
const (
	// AssignCycle: everyone in a cycle HR opens (the annual one).
	AssignCycle = "cycle"
	// AssignAuthorization: each person authorized to post for their agency,
	// due some days after their first authorization, then a year after each
	// signature; the portal opens and keeps the cycles.
	AssignAuthorization = "authorization"
)

// AcknowledgmentKind is what a person acknowledges, as data: the part of a
// policy version it covers (the modules, and their questions, whose
// audience is Part), how people come to owe it, its pass mark and due days,
// the policy it names and the intent sentence the signer affirms. Behaviour
// follows these fields; no code looks at a kind's Code to decide anything.
type AcknowledgmentKind struct {
	Code       string
	Title      string // e.g. "Authorized poster acknowledgment: posting for your agency"
	PolicyName string // the policy the certificate names
	Part       string // AudienceAll or AudiencePosters
	Assign     string // AssignCycle or AssignAuthorization
	PassMark   int    // 0: the portal's PORTAL_PASS_MARK
	DueDays    int
	Intent     string // "": the policy version's own intent sentence
	Position   int    // the order pages list kinds in
}

// PassMarkOr returns the kind's pass mark, or portal's when it has none.
func (k *AcknowledgmentKind) PassMarkOr(portal int) int {
	if k.PassMark > 0 {
		return k.PassMark
	}
	return portal
}

// IntentFor returns the intent sentence signed for this kind with v.
func (k *AcknowledgmentKind) IntentFor(v *PolicyVersion) string {
	if k.Intent != "" {
		return k.Intent
	}
	return v.Intent
}

// ByAuthorization reports whether the portal assigns the kind to the people
// authorized to post, rather than HR opening cycles of it.
func (k *AcknowledgmentKind) ByAuthorization() bool { return k.Assign == AssignAuthorization }

// KeptCycleError is the refusal of a change by HR to a cycle of kind k
// that the portal keeps itself (k.ByAuthorization()).
func KeptCycleError(k *AcknowledgmentKind) error {
	return Errorf(ECONFLICT, "The portal keeps the cycles of the %s itself, from the people's authorizations: "+
		"HR does not close them, move their version or change their due date.", k.Title)
}

// PosterContext is what an agency-use acknowledgment names as at signing:
// the accounts the person is authorized on ("Platform handle") and the
// Terms of Comment version in force for their agency.
type PosterContext struct {
	Accounts     []string
	TermsID      *int64
	TermsAgency  string
	TermsVersion int
}

// KindService reads acknowledgment kinds and keeps the cycles and
// assignments of the kinds the portal assigns itself.
type KindService interface {
	// FindKinds lists every kind in position order.
	FindKinds(ctx context.Context) ([]*AcknowledgmentKind, error)
	// FindKind returns one kind, or ENOTFOUND.
	FindKind(ctx context.Context, code string) (*AcknowledgmentKind, error)
	// OpenCycleOf returns the newest open cycle of the kind in which the
	// person has an active assignment, or ENOTFOUND when they owe none.
	OpenCycleOf(ctx context.Context, kind string, employeeID int64) (*Cycle, error)
	// SyncAuthorizationKinds keeps, for every kind assigned by
	// authorization, one open cycle a year and the person's assignment in
	// it: active with its due date while they hold an active authorization
	// (or have signed), inactive once every authorization has ended.
	SyncAuthorizationKinds(ctx context.Context, employeeID int64) error
	// SyncAllAuthorizationKinds does the same for everyone (the reminder pass).
	SyncAllAuthorizationKinds(ctx context.Context) error
	// PosterContext reads the person's active authorizations' accounts and
	// their agency's Terms of Comment in force.
	PosterContext(ctx context.Context, employeeID int64) (*PosterContext, error)
}

// EncodeAccounts is how an acknowledgment stores and logs its accounts: a
// JSON array of "Platform handle" strings, or "" for none.
func EncodeAccounts(accounts []string) string {
	if len(accounts) == 0 {
		return ""
	}
	b, err := json.Marshal(accounts)
	if err != nil {
		return "" // a []string always marshals
	}
	return string(b)
}

// DecodeAccounts reads what EncodeAccounts wrote.
func DecodeAccounts(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

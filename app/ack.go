package app

import (
	"context"
	"time"
)

// Sign-in methods recorded with each acknowledgment.
const (
	AuthEmailLink = "email-link"
	AuthSSOHeader = "sso-header"
	AuthOIDC      = "oidc" // OpenID Connect: SignInIdentity is the subject (sub), SignInIssuer the issuer
)

// Flood limits: evidence is never deleted, so nobody may add it without end.
const (
	// MaxQuizAttempts knowledge-check attempts a person may submit in QuizAttemptWindow.
	MaxQuizAttempts   = 10
	QuizAttemptWindow = time.Hour
	// MaxSignIns sessions a person may start in SignInWindow.
	MaxSignIns   = 10
	SignInWindow = 15 * time.Minute
)

// Acknowledgment is a signed acknowledgment: the evidence. It is written once
// in one transaction and never updated or deleted. It holds the signer's
// identity as it was at signing (number, name, agency, department, the
// address the sign-in link went to or the SSO identity), so a later roster
// change alters nothing it says.
type Acknowledgment struct {
	ID              int64
	EmployeeID      int64
	CycleID         int64
	PolicyVersionID int64
	PolicySHA256    string
	TypedName       string
	ConsentVersion  string
	ConsentSHA256   string
	ConsentID       int64
	IntentText      string
	Comment         string
	SignedAt        time.Time // UTC
	IP              string
	UserAgent       string
	AuthMethod      string
	SignInIdentity  string // the address the sign-in link was sent to, the SSO identity, or the OpenID subject
	SignInIssuer    string // the OpenID Connect issuer the subject belongs to; "" for other methods
	QuizAttemptID   int64
	CertificateNo   string
	VerifyCode      string
	EmployeeNumber  string // the signer as at signing (a snapshot, not a join)
	EmployeeName    string
	EmployeeAgency  string
	EmployeeDept    string
	LogIndex        int64  // its entry in the evidence log; -1 if it has none
	PolicyCode      string // joined, for display
	PolicyTitle     string
	CycleName       string
	Superseded      bool // a logged material version change of its cycle came after its version
	// Paper is set for an acknowledgment HR recorded from a signed paper
	// form (AuthMethod is AuthPaper); nil for one signed in the portal.
	Paper *PaperRecord
	// What an agency-use acknowledgment names, as at signing: the Terms of
	// Comment version in force and the accounts the signer was authorized
	// on ("Platform handle"). Unset for the annual one.
	TermsID  *int64
	Accounts []string
	// Joined, for display: the kind of its cycle and the Terms version.
	KindTitle      string
	KindPolicyName string
	KindAnnual     bool // of the annual acknowledgment (the first kind HR opens cycles of)
	TermsAgency    string
	TermsVersion   int
}

// SignRequest is what the employee submits on the sign page, plus the
// request context the evidence records.
type SignRequest struct {
	EmployeeID int64
	CycleID    int64
	TypedName  string
	Intent     bool
	Comment    string
	IP         string
	UserAgent  string
	AuthMethod string
}

// MaxCommentLength bounds the optional comment, in characters.
const MaxCommentLength = 1000

// ConsentRecord records that an employee was shown and accepted the
// consent-to-electronic-records notice.
type ConsentRecord struct {
	ID         int64
	EmployeeID int64
	CycleID    int64
	Version    string
	SHA256     string
	AcceptedAt time.Time
	IP         string
	UserAgent  string
}

// QuizAttempt is one submitted knowledge check.
type QuizAttempt struct {
	ID              int64
	EmployeeID      int64
	CycleID         int64
	PolicyVersionID int64
	Answers         map[string]string // question id → option key
	Wrong           []string          // ids of wrongly answered questions
	Score           int               // right answers
	Total           int
	PassMark        int // percent
	Passed          bool
	CreatedAt       time.Time
	// Shown is what the attempt displayed: question ids in order, each with
	// its option keys in the order shown. Empty for attempts from before
	// questions were drawn, which showed every question as stored.
	Shown []ShownQuestion
}

// Percent is the attempt's score in whole percent.
func (a *QuizAttempt) Percent() int {
	if a.Total == 0 {
		return 0
	}
	return a.Score * 100 / a.Total
}

// AckFilter selects acknowledgments; nil fields do not filter.
type AckFilter struct {
	ID         *int64
	EmployeeID *int64
	CycleID    *int64
	VerifyCode *string
	Offset     int
	Limit      int
}

// AckService records and finds acknowledgments and what leads to them.
type AckService interface {
	MarkModuleRead(ctx context.Context, employeeID, cycleID int64, slug string) error
	CreateQuizAttempt(ctx context.Context, a *QuizAttempt) error
	FindQuizAttempts(ctx context.Context, employeeID, cycleID int64) ([]*QuizAttempt, error)
	FindQuizAttempt(ctx context.Context, id int64) (*QuizAttempt, error)
	// FindQuizDraft returns the check in progress (ENOTFOUND if none);
	// StartQuizDraft replaces it with a new draw; SaveQuizAnswers merges
	// answers into it (EINVALID if its draw was replaced meanwhile).
	FindQuizDraft(ctx context.Context, employeeID, versionID int64, kind string) (*QuizDraft, error)
	StartQuizDraft(ctx context.Context, d *QuizDraft) error
	SaveQuizAnswers(ctx context.Context, d *QuizDraft, answers map[string]string) error
	// QuestionStats says how often each question of a version was shown and
	// answered wrongly, the highest share wrong first.
	QuestionStats(ctx context.Context, versionID int64) ([]QuestionStat, error)
	RecordConsent(ctx context.Context, c *ConsentRecord) error
	// CreateAcknowledgment stores a in one transaction with its chain link.
	// If the employee already signed this cycle's version it returns the
	// existing acknowledgment and created=false.
	CreateAcknowledgment(ctx context.Context, a *Acknowledgment) (existing *Acknowledgment, created bool, err error)
	FindAcknowledgments(ctx context.Context, f AckFilter) ([]*Acknowledgment, int, error)
	FindAcknowledgmentByCode(ctx context.Context, code string) (*Acknowledgment, error)
	// FindAssignment returns what the employee owes in a cycle.
	FindAssignment(ctx context.Context, cycleID, employeeID int64) (*Assignment, error)
	// Progress reads the assignment, modules read, attempts, the passing
	// attempt of versionID and the consent in one query; ENOTFOUND without an assignment.
	Progress(ctx context.Context, cycleID, employeeID, versionID int64) (*ProgressData, error)
}

// ProgressData is everything about one employee's work in one cycle that a
// page needs, read in one query.
type ProgressData struct {
	Assignment *Assignment
	Read       map[string]time.Time // module slug → when read
	Attempts   int
	Passed     *QuizAttempt   // the latest passing attempt of the given version (without answers)
	Consent    *ConsentRecord // the latest consent in the cycle
}

// SignInMethodText says in words how the signer signed in, for the person
// page and the certificate: "OpenID Connect as <sub> at <issuer>" for an
// OpenID Connect sign-in, "email-link as <address>" and the like otherwise.
func (a *Acknowledgment) SignInMethodText() string {
	if a.AuthMethod == AuthOIDC {
		return "OpenID Connect as " + a.SignInIdentity + " at " + a.SignInIssuer
	}
	if a.SignInIdentity == "" {
		return a.AuthMethod
	}
	return a.AuthMethod + " as " + a.SignInIdentity
}

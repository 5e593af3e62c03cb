package app

import (
	"io"
	"strconv"
	"time"
)

// Certificate is everything printed on an acknowledgment certificate. It is
// derived entirely from the stored acknowledgment, so rendering it twice gives
// the same bytes.
type Certificate struct {
	Number         string // certificate number, e.g. "SMP-2026-000042"
	VerifyCode     string // code for /verify/{code}
	VerifyURL      string // absolute URL of the verification page
	FullName       string // the roster name, as signed
	EmployeeNumber string
	Agency         string
	Department     string
	PolicyTitle    string
	PolicyVersion  string // the version code
	PolicySHA256   string // hex
	CycleName      string
	SignedAt       time.Time // UTC
	Location       *time.Location
	Comment        string // the signer's optional comment
	LogIndex       int64  // the acknowledgment's entry in the evidence log; -1 if none
	// Paper is set when HR recorded the acknowledgment from a signed paper
	// form: the certificate says so, by whom and when, with the scan's hash.
	Paper *PaperRecord
	// An acknowledgment of another kind than the annual one (the agency-use
	// one) is titled with its kind's title and names its policy and, for
	// the agency-use one, the accounts and the Terms of Comment version as
	// at signing. All empty on the annual one's, whose certificate stays as
	// it always was.
	KindTitle  string
	PolicyName string
	Accounts   []string
	Terms      string // e.g. "DAFS Terms of Comment, version 1"
	// SignedInWith says how the signer signed in when it was with their
	// agency account ("OpenID Connect as <sub> at <issuer>"); empty
	// otherwise, so other certificates stay as they always were.
	SignedInWith string
}

// OtherKind reports whether the certificate is of another acknowledgment
// than the annual one, titled with its kind's title.
func (c *Certificate) OtherKind() bool { return c.KindTitle != "" }

// AgencyUse reports whether the certificate names accounts and Terms of Comment.
func (c *Certificate) AgencyUse() bool { return len(c.Accounts) > 0 || c.Terms != "" }

// PaperSignedOnText is the paper form's date in words, e.g. "February 9, 2026".
func (c *Certificate) PaperSignedOnText() string {
	if c.Paper == nil {
		return ""
	}
	d, err := time.Parse(DateLayout, c.Paper.SignedOn)
	if err != nil {
		return c.Paper.SignedOn
	}
	return d.Format("January 2, 2006")
}

// PaperStatement is the sentence a certificate of a paper acknowledgment
// carries: from a paper form signed on what day, recorded by whom and when
// (in the certificate's time zone). Empty for one signed in the portal.
func (c *Certificate) PaperStatement() string {
	if c.Paper == nil {
		return ""
	}
	at := c.Paper.RecordedAt.UTC()
	if c.Location != nil {
		at = at.In(c.Location)
	}
	return "Recorded from a paper form signed on " + c.PaperSignedOnText() + "; recorded by " + c.Paper.RecordedByName +
		" on " + at.Format("January 2, 2006 at 3:04 PM MST") + "."
}

// SignedAtLocal returns the signing time in the certificate's time zone.
func (c *Certificate) SignedAtLocal() time.Time {
	if c.Location == nil {
		return c.SignedAt.UTC()
	}
	return c.SignedAt.In(c.Location)
}

// CertificateRenderer renders a certificate as a one-page PDF. The output is
// deterministic: the same Certificate gives the same bytes.
type CertificateRenderer interface {
	RenderPDF(w io.Writer, c *Certificate) error
}

// CertificateFor builds what is printed for a stored acknowledgment.
func CertificateFor(a *Acknowledgment, baseURL string, loc *time.Location) *Certificate {
	c := &Certificate{
		Number: a.CertificateNo, VerifyCode: a.VerifyCode, VerifyURL: baseURL + "/verify/" + a.VerifyCode,
		FullName: a.EmployeeName, EmployeeNumber: a.EmployeeNumber, Agency: a.EmployeeAgency, Department: a.EmployeeDept,
		PolicyTitle: a.PolicyTitle, PolicyVersion: a.PolicyCode, PolicySHA256: a.PolicySHA256, CycleName: a.CycleName,
		SignedAt: a.SignedAt, Location: loc, Comment: a.Comment, LogIndex: a.LogIndex, Paper: a.Paper,
	}
	if a.AuthMethod == AuthOIDC {
		c.SignedInWith = a.SignInMethodText()
	}
	if !a.KindAnnual && a.KindTitle != "" {
		c.KindTitle, c.PolicyName = a.KindTitle, a.KindPolicyName
	}
	if a.TermsID != nil || len(a.Accounts) > 0 {
		c.Accounts = a.Accounts
		if a.TermsID != nil {
			c.Terms = a.TermsAgency + " Terms of Comment, version " + strconv.Itoa(a.TermsVersion)
		}
	}
	return c
}

package app

import (
	"context"
	"io"
	"time"
)

// Version kinds. A material version requires everyone to sign again; a minor
// one (a typo fixed) does not.
const (
	KindMaterial = "material"
	KindMinor    = "minor"
)

// Module audiences.
const (
	AudienceAll     = "all"
	AudiencePosters = "posters" // the agency-use acknowledgment's part (acknowledgment_kinds.part)
)

// PolicyVersion is one frozen bundle of policy text, guidance modules and
// knowledge-check questions. Once published it never changes; SHA256 is the
// hash of its canonical form (see content.Canonical).
type PolicyVersion struct {
	ID          int64
	Code        string // e.g. "2026.1"
	Title       string
	Kind        string // KindMaterial or KindMinor
	Effective   string // YYYY-MM-DD
	Changes     string // Markdown: what changed since the previous version
	PolicyText  string // Markdown: the policy, in plain language
	Intent      string // the exact intent sentence the signer affirms
	Modules     []Module
	Questions   []Question
	Documents   []PolicyDocument // official documents the text summarises; often none
	SHA256      string
	PublishedAt time.Time
	PublishedBy *int64 // the HR user or administrator who published it, for the audit log
}

// Module is one short guidance page.
type Module struct {
	Slug     string
	Title    string
	Audience string // AudienceAll or AudiencePosters
	Minutes  int    // estimated reading time
	Body     string // Markdown
}

// Question is one scenario question of the knowledge check, with exactly one
// right answer.
type Question struct {
	ID      string
	Module  string // slug of the module it checks
	Prompt  string // Markdown
	Options []Option
	Answer  string // key of the right option
}

// PolicyDocument is one official document a version carries beside its
// plain-language text (the policy as the agency adopted it, as PDF or plain
// text). Its name, type, size and SHA-256 are part of the version's
// canonical form; the bytes are checked against SHA256 when read back.
type PolicyDocument struct {
	Name        string // a safe file name such as "agency-policy.pdf"
	ContentType string // DocumentPDF or DocumentText
	Size        int64  // bytes
	SHA256      string // hex SHA-256 of Data
	Data        []byte `json:"-"` // filled in only by FindDocument and by the loader
}

// Content types of official documents.
const (
	DocumentPDF  = "application/pdf"
	DocumentText = "text/plain; charset=utf-8"
)

// Document returns the document with the given name, or nil.
func (v *PolicyVersion) Document(name string) *PolicyDocument {
	for i := range v.Documents {
		if v.Documents[i].Name == name {
			return &v.Documents[i]
		}
	}
	return nil
}

// Option is one choice of a Question.
type Option struct {
	Key  string
	Text string
}

// ModulesFor returns the modules of one part of the version (an
// acknowledgment kind's Part): the annual acknowledgment covers the modules
// for everyone (AudienceAll), the agency-use one the posters-only modules.
// A poster reads each part once, for the acknowledgment that covers it.
func (v *PolicyVersion) ModulesFor(part string) []Module {
	var out []Module
	for _, m := range v.Modules {
		if m.Audience == part {
			out = append(out, m)
		}
	}
	return out
}

// Module returns the module with the given slug, or nil.
func (v *PolicyVersion) Module(slug string) *Module {
	for i := range v.Modules {
		if v.Modules[i].Slug == slug {
			return &v.Modules[i]
		}
	}
	return nil
}

// Consent is the consent-to-electronic-records notice shown before signing.
type Consent struct {
	Version string
	Title   string
	Body    string // Markdown
	SHA256  string
}

// PolicyService stores and finds published policy versions.
type PolicyService interface {
	// PublishVersion stores v, freezing it. Publishing a version whose code
	// exists with the same hash is a no-op; with another hash it is ECONFLICT.
	PublishVersion(ctx context.Context, v *PolicyVersion) error
	FindVersionByID(ctx context.Context, id int64) (*PolicyVersion, error)
	FindVersionByCode(ctx context.Context, code string) (*PolicyVersion, error)
	// FindVersions lists every published version, newest first, without
	// their modules and questions.
	FindVersions(ctx context.Context) ([]*PolicyVersion, error)
	// FindDocument returns an official document of a published version,
	// with its bytes, or ENOTFOUND.
	FindDocument(ctx context.Context, versionID int64, name string) (*PolicyDocument, error)
}

// PolicyRenderer renders a policy version's text as a printable PDF.
type PolicyRenderer interface {
	RenderPolicyPDF(w io.Writer, v *PolicyVersion) error
}

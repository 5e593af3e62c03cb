package content

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"portal/app"
)

// Canonical returns the canonical form of v: the bytes its evidence hash
// (PolicyVersion.SHA256) covers. It holds everything that defines the
// version and nothing that does not (ID, SHA256 and PublishedAt are left
// out).
//
// The form is the header line "portal/policy-version/1\n" followed by
// fields, each written as
//
//	<name> SP <length> ":" <value> LF
//
// where name is a fixed ASCII label, length is the value's length in bytes
// in decimal, and value is the raw UTF-8 text, so no value can be mistaken
// for another whatever characters it holds. Numbers (minutes, counts) are
// written as decimal text in the same way. The fields, in order:
//
//	code, title, kind, effective, changes, policy, intent,
//	modules (the count), then for each module in order:
//	    module.slug, module.title, module.audience, module.minutes, module.body
//	questions (the count), then for each question in order:
//	    question.id, question.module, question.prompt, question.answer,
//	    question.options (the count), then for each option in order:
//	        option.key, option.text
//
// then, only when the version carries official documents (so versions
// without them hash as they always did):
//
//	documents (the count), then for each document in name order:
//	    document.name, document.type, document.size, document.sha256
//
// The document's bytes are covered through its SHA-256.
//
// Values are serialised exactly as they are; LoadVersion has already put
// them in NFC with LF line endings. A change to this format is a new header
// version, so hashes recorded under the old one can still be checked.
func Canonical(v *app.PolicyVersion) []byte {
	var w canonWriter
	w.b.WriteString("portal/policy-version/1\n")
	w.field("code", v.Code)
	w.field("title", v.Title)
	w.field("kind", v.Kind)
	w.field("effective", v.Effective)
	w.field("changes", v.Changes)
	w.field("policy", v.PolicyText)
	w.field("intent", v.Intent)
	w.number("modules", len(v.Modules))
	for _, m := range v.Modules {
		w.field("module.slug", m.Slug)
		w.field("module.title", m.Title)
		w.field("module.audience", m.Audience)
		w.number("module.minutes", m.Minutes)
		w.field("module.body", m.Body)
	}
	w.number("questions", len(v.Questions))
	for _, q := range v.Questions {
		w.field("question.id", q.ID)
		w.field("question.module", q.Module)
		w.field("question.prompt", q.Prompt)
		w.field("question.answer", q.Answer)
		w.number("question.options", len(q.Options))
		for _, o := range q.Options {
			w.field("option.key", o.Key)
			w.field("option.text", o.Text)
		}
	}
	if len(v.Documents) > 0 {
		w.number("documents", len(v.Documents))
		for _, d := range v.Documents {
			w.field("document.name", d.Name)
			w.field("document.type", d.ContentType)
			w.field("document.size", strconv.FormatInt(d.Size, 10))
			w.field("document.sha256", d.SHA256)
		}
	}
	return w.b.Bytes()
}

// CanonicalConsent returns the canonical form of a consent notice, in the
// same field format as Canonical: the header line "portal/consent/1\n",
// then the fields version, title and body.
func CanonicalConsent(c *app.Consent) []byte {
	var w canonWriter
	w.b.WriteString("portal/consent/1\n")
	w.field("version", c.Version)
	w.field("title", c.Title)
	w.field("body", c.Body)
	return w.b.Bytes()
}

// VersionSHA256 returns the hex SHA-256 of Canonical(v): the value LoadVersion
// puts in v.SHA256 and that a stored version can be checked against.
func VersionSHA256(v *app.PolicyVersion) string { return sum(Canonical(v)) }

// ConsentSHA256 returns the hex SHA-256 of CanonicalConsent(c).
func ConsentSHA256(c *app.Consent) string { return sum(CanonicalConsent(c)) }

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// canonWriter writes length-prefixed fields.
type canonWriter struct{ b bytes.Buffer }

func (w *canonWriter) field(name, value string) {
	w.b.WriteString(name)
	w.b.WriteByte(' ')
	w.b.WriteString(strconv.Itoa(len(value)))
	w.b.WriteByte(':')
	w.b.WriteString(value)
	w.b.WriteByte('\n')
}

func (w *canonWriter) number(name string, n int) { w.field(name, strconv.Itoa(n)) }

// Package evidence is the portal's transparency log: the canonical form of
// every evidence record, built from the app types (never from a driver's
// row), the Merkle tree over them (golang.org/x/mod/sumdb/tlog), signed
// checkpoints (golang.org/x/mod/sumdb/note, Ed25519, the C2SP
// tlog-checkpoint text), proofs, verification and the witness client. It
// knows no store: a store implements Store.
package evidence

import (
	"bytes"
	"slices"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
)

// Record kinds: what a log entry is. A kind names a type of evidence record
// and the table a store keeps it in.
const (
	KindAcknowledgment = "acknowledgment"
	KindConsent        = "consent"
	KindQuizAttempt    = "quiz_attempt"
	KindAuditEvent     = "audit_event"
	KindPolicyVersion  = "policy_version"
	KindRosterChange   = "roster_change"
	KindAddressChange  = "address_change"
	KindCycleVersion   = "cycle_version"
)

// Kinds lists every kind of record the log holds.
var Kinds = []string{KindAcknowledgment, KindConsent, KindQuizAttempt, KindAuditEvent, KindPolicyVersion,
	KindRosterChange, KindAddressChange, KindCycleVersion}

// TimeLayout is how times appear in canonical forms: UTC, microseconds.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Leaf is one record as the log hashes it.
type Leaf struct {
	Kind  string
	RefID int64  // the record's id in its kind
	Data  []byte // the canonical form
}

// Hash is the leaf's hash in the Merkle tree: SHA-256(0x00 || Data), as
// RFC 6962 and tlog.RecordHash define it.
func (l Leaf) Hash() tlog.Hash { return tlog.RecordHash(l.Data) }

// The canonical form of a record is the header line "portal/evidence/1\n",
// then fields, each written as
//
//	<name> SP <length> ":" <value> LF
//
// where name is a fixed ASCII label, length the value's length in bytes in
// decimal and value the raw bytes — the same field format as a policy
// version's canonical form (app/content/canonical.go), so no value can be
// mistaken for another whatever it holds. The first field is always kind,
// the second id. Integers are decimal; an absent optional id (an event with
// no actor) is the empty value; booleans are "true" or "false"; times are UTC
// with microseconds, "2006-01-02T15:04:05.000000Z"; a list is its count
// followed by its items' fields. The fields of each kind, in order, are
// listed beside the functions below. A change to any of this is a new header
// version, so entries written under this one can always be checked.
type canonWriter struct{ b bytes.Buffer }

func newCanon(kind string, id int64) *canonWriter {
	w := &canonWriter{}
	w.b.WriteString("portal/evidence/1\n")
	w.str("kind", kind)
	w.int("id", id)
	return w
}

func (w *canonWriter) str(name, value string) {
	w.b.WriteString(name)
	w.b.WriteByte(' ')
	w.b.WriteString(strconv.Itoa(len(value)))
	w.b.WriteByte(':')
	w.b.WriteString(value)
	w.b.WriteByte('\n')
}

func (w *canonWriter) int(name string, n int64) { w.str(name, strconv.FormatInt(n, 10)) }

func (w *canonWriter) optInt(name string, n *int64) {
	if n == nil {
		w.str(name, "")
		return
	}
	w.int(name, *n)
}

func (w *canonWriter) bool(name string, b bool) { w.str(name, strconv.FormatBool(b)) }

func (w *canonWriter) time(name string, t time.Time) { w.str(name, FormatTime(t)) }

func (w *canonWriter) leaf(kind string, id int64) Leaf {
	return Leaf{Kind: kind, RefID: id, Data: w.b.Bytes()}
}

// FormatTime writes t as canonical forms do: UTC, truncated to microseconds.
func FormatTime(t time.Time) string { return t.UTC().Truncate(time.Microsecond).Format(TimeLayout) }

// AcknowledgmentLeaf is a signed acknowledgment's entry. Fields: kind, id,
// employee_id, employee_number, full_name, agency, department, cycle_id,
// policy_version_id, policy_sha256, typed_name, consent_id,
// consent_version, consent_sha256, intent_text, comment, signed_at, ip,
// user_agent, auth_method, sign_in_identity, quiz_attempt_id,
// certificate_no, verify_code; and for a paper acknowledgment (Paper set)
// paper.signed_on, paper.recorded_at, paper.recorded_by,
// paper.recorded_by_name, paper.scan_id, paper.scan_sha256, paper.scan_type,
// paper.note. A paper one has no consent and no attempt, written as 0.
// Acknowledgments signed in the portal have no paper fields, so their
// entries are byte for byte what was logged before paper ones existed.
// Last, and only when set (an agency-use acknowledgment), terms_id (0 for
// none) and accounts (the stored JSON array): every entry without them is
// byte for byte what it was before agency-use acknowledgments existed.
// Last of all, and only when set (an OpenID Connect sign-in),
// sign_in_issuer: the issuer of the subject in sign_in_identity.
func AcknowledgmentLeaf(a *app.Acknowledgment) Leaf {
	w := newCanon(KindAcknowledgment, a.ID)
	w.int("employee_id", a.EmployeeID)
	w.str("employee_number", a.EmployeeNumber)
	w.str("full_name", a.EmployeeName)
	w.str("agency", a.EmployeeAgency)
	w.str("department", a.EmployeeDept)
	w.int("cycle_id", a.CycleID)
	w.int("policy_version_id", a.PolicyVersionID)
	w.str("policy_sha256", a.PolicySHA256)
	w.str("typed_name", a.TypedName)
	w.int("consent_id", a.ConsentID)
	w.str("consent_version", a.ConsentVersion)
	w.str("consent_sha256", a.ConsentSHA256)
	w.str("intent_text", a.IntentText)
	w.str("comment", a.Comment)
	w.time("signed_at", a.SignedAt)
	w.str("ip", a.IP)
	w.str("user_agent", a.UserAgent)
	w.str("auth_method", a.AuthMethod)
	w.str("sign_in_identity", a.SignInIdentity)
	w.int("quiz_attempt_id", a.QuizAttemptID)
	w.str("certificate_no", a.CertificateNo)
	w.str("verify_code", a.VerifyCode)
	if p := a.Paper; p != nil {
		w.str("paper.signed_on", p.SignedOn)
		w.time("paper.recorded_at", p.RecordedAt)
		w.int("paper.recorded_by", p.RecordedBy)
		w.str("paper.recorded_by_name", p.RecordedByName)
		w.int("paper.scan_id", p.ScanID)
		w.str("paper.scan_sha256", p.ScanSHA256)
		w.str("paper.scan_type", p.ScanType)
		w.str("paper.note", p.Note)
	}
	if a.TermsID != nil || len(a.Accounts) > 0 {
		var terms int64
		if a.TermsID != nil {
			terms = *a.TermsID
		}
		w.int("terms_id", terms)
		w.str("accounts", app.EncodeAccounts(a.Accounts))
	}
	if a.SignInIssuer != "" {
		w.str("sign_in_issuer", a.SignInIssuer)
	}
	return w.leaf(KindAcknowledgment, a.ID)
}

// ConsentLeaf is a consent record's entry. Fields: kind, id, employee_id,
// cycle_id, version, sha256, accepted_at, ip, user_agent.
func ConsentLeaf(c *app.ConsentRecord) Leaf {
	w := newCanon(KindConsent, c.ID)
	w.int("employee_id", c.EmployeeID)
	w.int("cycle_id", c.CycleID)
	w.str("version", c.Version)
	w.str("sha256", c.SHA256)
	w.time("accepted_at", c.AcceptedAt)
	w.str("ip", c.IP)
	w.str("user_agent", c.UserAgent)
	return w.leaf(KindConsent, c.ID)
}

// QuizAttemptLeaf is a knowledge-check attempt's entry. Fields: kind, id,
// employee_id, cycle_id, policy_version_id, answers (the count, then
// answer.question and answer.option for each, by question id), wrong (the
// count, then wrong.question for each, in order), score, total, pass_mark,
// passed, created_at, and for a drawn attempt (Shown not empty) shown (the
// count), then for each question in the order shown: shown.question and
// shown.options (the count), then shown.option for each key in the order
// shown. Attempts from before drawing have no shown fields, so their entries
// are byte for byte what was logged then.
func QuizAttemptLeaf(a *app.QuizAttempt) Leaf {
	w := newCanon(KindQuizAttempt, a.ID)
	w.int("employee_id", a.EmployeeID)
	w.int("cycle_id", a.CycleID)
	w.int("policy_version_id", a.PolicyVersionID)
	keys := make([]string, 0, len(a.Answers))
	for k := range a.Answers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.int("answers", int64(len(keys)))
	for _, k := range keys {
		w.str("answer.question", k)
		w.str("answer.option", a.Answers[k])
	}
	w.int("wrong", int64(len(a.Wrong)))
	for _, q := range a.Wrong {
		w.str("wrong.question", q)
	}
	w.int("score", int64(a.Score))
	w.int("total", int64(a.Total))
	w.int("pass_mark", int64(a.PassMark))
	w.bool("passed", a.Passed)
	w.time("created_at", a.CreatedAt)
	if len(a.Shown) > 0 {
		w.int("shown", int64(len(a.Shown)))
		for _, q := range a.Shown {
			w.str("shown.question", q.ID)
			w.int("shown.options", int64(len(q.Options)))
			for _, o := range q.Options {
				w.str("shown.option", o)
			}
		}
	}
	return w.leaf(KindQuizAttempt, a.ID)
}

// AuditEventLeaf is an audit event's entry. Fields: kind, id, at, actor_id,
// action, subject_type, subject_id, detail, ip.
func AuditEventLeaf(e *app.AuditEvent) Leaf {
	w := newCanon(KindAuditEvent, e.ID)
	w.time("at", e.At)
	w.optInt("actor_id", e.ActorID)
	w.str("action", e.Action)
	w.str("subject_type", e.SubjectType)
	w.int("subject_id", e.SubjectID)
	w.str("detail", e.Detail)
	w.str("ip", e.IP)
	return w.leaf(KindAuditEvent, e.ID)
}

// PolicyVersionLeaf is a published policy version's entry. Its content is
// covered by sha256, the hash of the version's own canonical form
// (content.Canonical), which a verifier recomputes from the stored content.
// Fields: kind, id, code, title, version_kind, effective, sha256,
// published_at, published_by.
func PolicyVersionLeaf(v *app.PolicyVersion) Leaf {
	w := newCanon(KindPolicyVersion, v.ID)
	w.str("code", v.Code)
	w.str("title", v.Title)
	w.str("version_kind", v.Kind)
	w.str("effective", v.Effective)
	w.str("sha256", v.SHA256)
	w.time("published_at", v.PublishedAt)
	w.optInt("published_by", v.PublishedBy)
	return w.leaf(KindPolicyVersion, v.ID)
}

// RosterChangeLeaf is a roster change's entry. Fields: kind, id, at,
// actor_id, source, employee_id, employee_number, changes (the count, then
// change.field, change.old and change.new for each, in order).
func RosterChangeLeaf(c *app.RosterChange) Leaf {
	w := newCanon(KindRosterChange, c.ID)
	w.time("at", c.At)
	w.optInt("actor_id", c.ActorID)
	w.str("source", c.Source)
	w.int("employee_id", c.EmployeeID)
	w.str("employee_number", c.EmployeeNumber)
	w.int("changes", int64(len(c.Changes)))
	for _, f := range c.Changes {
		w.str("change.field", f.Field)
		w.str("change.old", f.Old)
		w.str("change.new", f.New)
	}
	return w.leaf(KindRosterChange, c.ID)
}

// AddressChangeLeaf is an address change step's entry. Fields: kind, id,
// request_id, action, employee_id, old_email, new_email, actor_id, at.
func AddressChangeLeaf(c *app.AddressChange) Leaf {
	w := newCanon(KindAddressChange, c.ID)
	w.optInt("request_id", c.RequestID)
	w.str("action", c.Action)
	w.int("employee_id", c.EmployeeID)
	w.str("old_email", c.OldEmail)
	w.str("new_email", c.NewEmail)
	w.optInt("actor_id", c.ActorID)
	w.time("at", c.At)
	return w.leaf(KindAddressChange, c.ID)
}

// CycleVersionLeaf is a cycle version change's entry. Fields: kind, id,
// cycle_id, from_version_id, to_version_id, material, at, actor_id.
func CycleVersionLeaf(c *app.CycleVersionChange) Leaf {
	w := newCanon(KindCycleVersion, c.ID)
	w.int("cycle_id", c.CycleID)
	w.int("from_version_id", c.FromVersionID)
	w.int("to_version_id", c.ToVersionID)
	w.bool("material", c.Material)
	w.time("at", c.At)
	w.optInt("actor_id", c.ActorID)
	return w.leaf(KindCycleVersion, c.ID)
}

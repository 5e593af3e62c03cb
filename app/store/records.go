package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"portal/app"
	"portal/app/content"
	"portal/app/evidence"
)

// recordKind says where one kind of evidence record is kept and how to read
// it back into its app type, whose canonical form is its log leaf.
type recordKind struct {
	table   string
	columns string // the id first
	// leaf scans one row; problem names something wrong in the record that
	// its hash alone would not show.
	leaf func(row interface{ Scan(...any) error }) (id int64, leaf evidence.Leaf, problem string, err error)
}

// recordKinds maps every kind of log entry to its table. A new kind of
// evidence is a new entry here and a leaf function in package evidence.
var recordKinds = map[string]recordKind{
	evidence.KindAcknowledgment: {"acknowledgments", ackColumns + ", " + ackPaperColumns + ", " + ackAgencyColumns + ", " + ackIssuerColumns, func(row interface{ Scan(...any) error }) (int64, evidence.Leaf, string, error) {
		a, err := scanAckRecord(row)
		if err != nil {
			return 0, evidence.Leaf{}, "", err
		}
		return a.ID, evidence.AcknowledgmentLeaf(a), "", nil
	}},
	evidence.KindConsent: {"consents", consentColumns, func(row interface{ Scan(...any) error }) (int64, evidence.Leaf, string, error) {
		c, err := scanConsent(row)
		if err != nil {
			return 0, evidence.Leaf{}, "", err
		}
		return c.ID, evidence.ConsentLeaf(c), "", nil
	}},
	evidence.KindQuizAttempt: {"quiz_attempts", quizColumns, func(row interface{ Scan(...any) error }) (int64, evidence.Leaf, string, error) {
		a, err := scanQuiz(row)
		if err != nil {
			return 0, evidence.Leaf{}, "", err
		}
		return a.ID, evidence.QuizAttemptLeaf(a), "", nil
	}},
	evidence.KindAuditEvent: {"audit_events", auditColumns, func(row interface{ Scan(...any) error }) (int64, evidence.Leaf, string, error) {
		e, err := scanAuditRecord(row)
		if err != nil {
			return 0, evidence.Leaf{}, "", err
		}
		return e.ID, evidence.AuditEventLeaf(e), "", nil
	}},
	evidence.KindPolicyVersion: {"policy_versions", policyColumns, func(row interface{ Scan(...any) error }) (int64, evidence.Leaf, string, error) {
		v, err := scanPolicyVersion(row)
		if err != nil {
			return 0, evidence.Leaf{}, "", err
		}
		problem := ""
		if got := content.VersionSHA256(v); got != v.SHA256 {
			problem = "the stored policy text no longer hashes to the version's published SHA-256 (its content was changed)"
		}
		return v.ID, evidence.PolicyVersionLeaf(v), problem, nil
	}},
	evidence.KindRosterChange: {"roster_changes", rosterChangeColumns, func(row interface{ Scan(...any) error }) (int64, evidence.Leaf, string, error) {
		c, err := scanRosterChange(row)
		if err != nil {
			return 0, evidence.Leaf{}, "", err
		}
		return c.ID, evidence.RosterChangeLeaf(c), "", nil
	}},
	evidence.KindAddressChange: {"address_changes", addressChangeColumns, func(row interface{ Scan(...any) error }) (int64, evidence.Leaf, string, error) {
		c, err := scanAddressChange(row)
		if err != nil {
			return 0, evidence.Leaf{}, "", err
		}
		return c.ID, evidence.AddressChangeLeaf(c), "", nil
	}},
	evidence.KindCycleVersion: {"cycle_versions", cycleVersionColumns, func(row interface{ Scan(...any) error }) (int64, evidence.Leaf, string, error) {
		c, err := scanCycleVersion(row)
		if err != nil {
			return 0, evidence.Leaf{}, "", err
		}
		return c.ID, evidence.CycleVersionLeaf(c), "", nil
	}},
}

// ackColumns are an acknowledgment's stored columns, in the order scanAckRecord reads them.
const ackColumns = `id, employee_id, employee_number, full_name, agency, department, cycle_id, policy_version_id,
	policy_sha256, typed_name, consent_id, consent_version, consent_sha256, intent_text, comment, signed_at, ip,
	user_agent, auth_method, sign_in_identity, quiz_attempt_id, certificate_no, verify_code`

// ackPaperColumns are what makes an acknowledgment a paper one (014), in
// the order scanAckRecord reads them after ackColumns.
const ackPaperColumns = `paper_scan_id, paper_signed_on, paper_recorded_at, paper_recorded_by, paper_recorded_by_name,
	paper_scan_sha256, paper_scan_type, paper_note`

// ackPaperColumnsAt005 stand for ackPaperColumns where the table has no
// paper columns yet: no acknowledgment was a paper one then.
const ackPaperColumnsAt005 = `NULL, '', '', NULL, '', '', '', ''`

// ackAgencyColumns are what an agency-use acknowledgment names (019), read
// after ackPaperColumns.
const ackAgencyColumns = `terms_id, accounts`

// ackAgencyColumnsAt005 stand for them before 019.
const ackAgencyColumnsAt005 = `NULL, ''`

// ackIssuerColumns are the OpenID Connect issuer of the signer's sign-in
// (026), read after ackAgencyColumns; ackIssuerColumnsAt005 stands for it before.
const ackIssuerColumns = `sign_in_issuer`
const ackIssuerColumnsAt005 = `''`

// scanAckRecord reads ackColumns, ackPaperColumns, ackAgencyColumns and ackIssuerColumns, then after. A paper
// acknowledgment has no consent and no attempt (NULL), read as 0.
func scanAckRecord(row interface{ Scan(...any) error }, after ...any) (*app.Acknowledgment, error) {
	var a app.Acknowledgment
	var p app.PaperRecord
	var signed, recordedAt string
	var consent, attempt, scan, recordedBy, terms sql.NullInt64
	var accounts string
	dest := append([]any{&a.ID, &a.EmployeeID, &a.EmployeeNumber, &a.EmployeeName, &a.EmployeeAgency, &a.EmployeeDept,
		&a.CycleID, &a.PolicyVersionID, &a.PolicySHA256, &a.TypedName, &consent, &a.ConsentVersion, &a.ConsentSHA256,
		&a.IntentText, &a.Comment, &signed, &a.IP, &a.UserAgent, &a.AuthMethod, &a.SignInIdentity, &attempt,
		&a.CertificateNo, &a.VerifyCode,
		&scan, &p.SignedOn, &recordedAt, &recordedBy, &p.RecordedByName, &p.ScanSHA256, &p.ScanType, &p.Note,
		&terms, &accounts, &a.SignInIssuer}, after...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	a.ConsentID, a.QuizAttemptID = consent.Int64, attempt.Int64
	a.SignedAt = parseTime(signed)
	if terms.Valid {
		a.TermsID = &terms.Int64
	}
	var err error
	if a.Accounts, err = app.DecodeAccounts(accounts); err != nil {
		return nil, fmt.Errorf("decode accounts: %w", err)
	}
	a.LogIndex = -1
	if scan.Valid {
		p.ScanID, p.RecordedBy, p.RecordedAt = scan.Int64, recordedBy.Int64, parseTime(recordedAt)
		a.Paper = &p
	}
	return &a, nil
}

const consentColumns = `id, employee_id, cycle_id, version, sha256, accepted_at, ip, user_agent`

func scanConsent(row interface{ Scan(...any) error }) (*app.ConsentRecord, error) {
	var c app.ConsentRecord
	var at string
	if err := row.Scan(&c.ID, &c.EmployeeID, &c.CycleID, &c.Version, &c.SHA256, &at, &c.IP, &c.UserAgent); err != nil {
		return nil, err
	}
	c.AcceptedAt = parseTime(at)
	return &c, nil
}

const auditColumns = `id, at, actor_id, action, subject_type, subject_id, detail, ip`

func scanAuditRecord(row interface{ Scan(...any) error }, after ...any) (*app.AuditEvent, error) {
	var e app.AuditEvent
	var at string
	var actor sql.NullInt64
	if err := row.Scan(append([]any{&e.ID, &at, &actor, &e.Action, &e.SubjectType, &e.SubjectID, &e.Detail, &e.IP}, after...)...); err != nil {
		return nil, err
	}
	e.At = parseTime(at)
	if actor.Valid {
		e.ActorID = &actor.Int64
	}
	return &e, nil
}

const policyColumns = `id, code, title, kind, effective, sha256, bundle, published_at, published_by`

func scanPolicyVersion(row interface{ Scan(...any) error }) (*app.PolicyVersion, error) {
	var v app.PolicyVersion
	var body, published string
	var by sql.NullInt64
	if err := row.Scan(&v.ID, &v.Code, &v.Title, &v.Kind, &v.Effective, &v.SHA256, &body, &published, &by); err != nil {
		return nil, err
	}
	var b bundle
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return nil, fmt.Errorf("decode policy version %s: %w", v.Code, err)
	}
	v.Changes, v.PolicyText, v.Intent, v.Modules, v.Questions, v.Documents = b.Changes, b.PolicyText, b.Intent, b.Modules, b.Questions, b.Documents
	v.PublishedAt = parseTime(published)
	if by.Valid {
		v.PublishedBy = &by.Int64
	}
	return &v, nil
}

const rosterChangeColumns = `id, at, actor_id, source, employee_id, employee_number, changes`

func scanRosterChange(row interface{ Scan(...any) error }, after ...any) (*app.RosterChange, error) {
	var c app.RosterChange
	var at, changes string
	var actor sql.NullInt64
	if err := row.Scan(append([]any{&c.ID, &at, &actor, &c.Source, &c.EmployeeID, &c.EmployeeNumber, &changes}, after...)...); err != nil {
		return nil, err
	}
	c.At = parseTime(at)
	if actor.Valid {
		c.ActorID = &actor.Int64
	}
	var triples [][3]string
	if err := json.Unmarshal([]byte(changes), &triples); err != nil {
		return nil, fmt.Errorf("decode roster change %d: %w", c.ID, err)
	}
	for _, t := range triples {
		c.Changes = append(c.Changes, app.FieldChange{Field: t[0], Old: t[1], New: t[2]})
	}
	return &c, nil
}

// encodeChanges is how a roster change's fields are stored: a JSON array of
// [field, old, new] triples.
func encodeChanges(cs []app.FieldChange) (string, error) {
	triples := make([][3]string, len(cs))
	for i, c := range cs {
		triples[i] = [3]string{c.Field, c.Old, c.New}
	}
	b, err := json.Marshal(triples)
	return string(b), err
}

const addressChangeColumns = `id, request_id, action, employee_id, old_email, new_email, actor_id, at`

func scanAddressChange(row interface{ Scan(...any) error }, after ...any) (*app.AddressChange, error) {
	var c app.AddressChange
	var at string
	var req, actor sql.NullInt64
	if err := row.Scan(append([]any{&c.ID, &req, &c.Action, &c.EmployeeID, &c.OldEmail, &c.NewEmail, &actor, &at}, after...)...); err != nil {
		return nil, err
	}
	c.At = parseTime(at)
	if req.Valid {
		c.RequestID = &req.Int64
	}
	if actor.Valid {
		c.ActorID = &actor.Int64
	}
	return &c, nil
}

const cycleVersionColumns = `id, cycle_id, from_version_id, to_version_id, material, at, actor_id`

func scanCycleVersion(row interface{ Scan(...any) error }) (*app.CycleVersionChange, error) {
	var c app.CycleVersionChange
	var at string
	var material int64
	var actor sql.NullInt64
	if err := row.Scan(&c.ID, &c.CycleID, &c.FromVersionID, &c.ToVersionID, &material, &at, &actor); err != nil {
		return nil, err
	}
	c.Material = material != 0
	c.At = parseTime(at)
	if actor.Valid {
		c.ActorID = &actor.Int64
	}
	return &c, nil
}

// readLeaf reads one record and returns its leaf; ok is false when the record is missing.
func readLeaf(ctx context.Context, q querier, kind string, id int64) (leaf evidence.Leaf, problem string, ok bool, err error) {
	return readLeafOf(ctx, q, recordKinds, kind, id)
}

// recordKindsAt005 reads records as the schema stood when migration 005 built
// the log: quiz attempts had no shown column yet (011 adds it), and every
// attempt then showed every question, which '[]' says; acknowledgments had
// no paper columns (014 adds them), and none was a paper one.
func recordKindsAt005() map[string]recordKind {
	out := map[string]recordKind{}
	for k, rk := range recordKinds {
		out[k] = rk
	}
	rk := out[evidence.KindQuizAttempt]
	rk.columns = strings.TrimSuffix(quizColumns, ", shown") + ", '[]'"
	out[evidence.KindQuizAttempt] = rk
	rk = out[evidence.KindAcknowledgment]
	rk.columns = ackColumns + ", " + ackPaperColumnsAt005 + ", " + ackAgencyColumnsAt005 + ", " + ackIssuerColumnsAt005 // 014, 019 and 026 add them
	out[evidence.KindAcknowledgment] = rk
	return out
}

func readLeafOf(ctx context.Context, q querier, kinds map[string]recordKind, kind string, id int64) (leaf evidence.Leaf, problem string, ok bool, err error) {
	rk, known := kinds[kind]
	if !known {
		return evidence.Leaf{}, "", false, fmt.Errorf("unknown kind of record %q", kind)
	}
	_, leaf, problem, err = rk.leaf(q.QueryRowContext(ctx, `SELECT `+rk.columns+` FROM `+rk.table+` WHERE id = ?`, id)) // #nosec G202 -- table and columns come from recordKinds
	if errors.Is(err, sql.ErrNoRows) {
		return evidence.Leaf{}, "", false, nil
	}
	if err != nil {
		return evidence.Leaf{}, "", false, fmt.Errorf("read %s %d: %w", kind, id, err)
	}
	return leaf, problem, true, nil
}

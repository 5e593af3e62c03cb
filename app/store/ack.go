package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"portal/app"
	"portal/app/evidence"
)

// AckService implements app.AckService: reading progress, quiz attempts,
// consent records and the signed acknowledgments themselves.
type AckService struct{ db *DB }

// NewAckService returns the acknowledgment store.
func NewAckService(db *DB) *AckService { return &AckService{db: db} }

// MarkModuleRead records that the employee read a module in a cycle. Reading
// it again keeps the first time.
func (s *AckService) MarkModuleRead(ctx context.Context, employeeID, cycleID int64, slug string) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO module_progress (employee_id, cycle_id, slug, read_at)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, employeeID, cycleID, slug, formatTime(s.db.Now()))
	if err != nil {
		return fmt.Errorf("mark module read: %w", err)
	}
	if err := markStarted(ctx, tx, employeeID, cycleID); err != nil {
		return err
	}
	return tx.Commit()
}

// CreateQuizAttempt records an attempt and links it into the evidence chain.
func (s *AckService) CreateQuizAttempt(ctx context.Context, a *app.QuizAttempt) error {
	answers, err := json.Marshal(a.Answers)
	if err != nil {
		return err
	}
	wrong, err := json.Marshal(append([]string{}, a.Wrong...))
	if err != nil {
		return err
	}
	shown, err := json.Marshal(append([]app.ShownQuestion{}, a.Shown...))
	if err != nil {
		return err
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	a.CreatedAt = s.db.Now().UTC().Truncate(time.Microsecond) // as stored
	// Every attempt is evidence for good, so nobody may add them without end.
	var recent int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM quiz_attempts WHERE employee_id = ? AND created_at > ?`,
		a.EmployeeID, formatTime(a.CreatedAt.Add(-app.QuizAttemptWindow))).Scan(&recent); err != nil {
		return fmt.Errorf("count quiz attempts: %w", err)
	}
	if recent >= app.MaxQuizAttempts {
		return app.Errorf(app.ETOOMANY, "You have submitted the knowledge check %d times in the last hour. Read the guidance again, then try once more in an hour.", recent)
	}
	res, err := insert(ctx, tx, `INSERT INTO quiz_attempts (employee_id, cycle_id, policy_version_id, answers, wrong,
		score, total, pass_mark, passed, created_at, shown) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.EmployeeID, a.CycleID, a.PolicyVersionID, string(answers), string(wrong), a.Score, a.Total, a.PassMark,
		boolInt(a.Passed), formatTime(a.CreatedAt), string(shown))
	if err != nil {
		return fmt.Errorf("insert quiz attempt: %w", err)
	}
	if a.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if a.Wrong == nil {
		a.Wrong = []string{} // as stored and read back
	}
	if _, err := s.db.appendLeaf(ctx, tx, evidence.QuizAttemptLeaf(a)); err != nil {
		return err
	}
	if err := markStarted(ctx, tx, a.EmployeeID, a.CycleID); err != nil {
		return err
	}
	// The attempt is recorded: its draft is done with, so the next visit draws anew.
	// The draft of the cycle's kind: a check of another kind in progress stays.
	if _, err := tx.ExecContext(ctx, `DELETE FROM quiz_drafts WHERE employee_id = ? AND policy_version_id = ?
		AND kind = (SELECT c.kind FROM cycles c WHERE c.id = ?)`,
		a.EmployeeID, a.PolicyVersionID, a.CycleID); err != nil {
		return fmt.Errorf("delete quiz draft: %w", err)
	}
	return tx.Commit()
}

const quizColumns = `id, employee_id, cycle_id, policy_version_id, answers, wrong, score, total, pass_mark, passed, created_at, shown`

func scanQuiz(row interface{ Scan(...any) error }) (*app.QuizAttempt, error) {
	var a app.QuizAttempt
	var answers, wrong, created, shown string
	if err := row.Scan(&a.ID, &a.EmployeeID, &a.CycleID, &a.PolicyVersionID, &answers, &wrong, &a.Score, &a.Total,
		&a.PassMark, &a.Passed, &created, &shown); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(shown), &a.Shown); err != nil {
		return nil, fmt.Errorf("decode what attempt %d showed: %w", a.ID, err)
	}
	if len(a.Shown) == 0 {
		a.Shown = nil // an attempt from before the draw, as QuizAttemptLeaf expects
	}
	if err := json.Unmarshal([]byte(answers), &a.Answers); err != nil {
		return nil, fmt.Errorf("decode answers of attempt %d: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(wrong), &a.Wrong); err != nil {
		return nil, fmt.Errorf("decode attempt %d: %w", a.ID, err)
	}
	a.CreatedAt = parseTime(created)
	return &a, nil
}

// FindQuizAttempts returns the employee's attempts in a cycle, newest first.
func (s *AckService) FindQuizAttempts(ctx context.Context, employeeID, cycleID int64) ([]*app.QuizAttempt, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+quizColumns+` FROM quiz_attempts
		WHERE employee_id = ? AND cycle_id = ? ORDER BY id DESC`, employeeID, cycleID)
	if err != nil {
		return nil, fmt.Errorf("find quiz attempts: %w", err)
	}
	defer rows.Close()
	var out []*app.QuizAttempt
	for rows.Next() {
		a, err := scanQuiz(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// FindQuizAttempt returns one attempt.
func (s *AckService) FindQuizAttempt(ctx context.Context, id int64) (*app.QuizAttempt, error) {
	a, err := scanQuiz(s.db.read.QueryRowContext(ctx, `SELECT `+quizColumns+` FROM quiz_attempts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Quiz attempt not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find quiz attempt: %w", err)
	}
	return a, nil
}

// RecordConsent stores that the employee accepted the consent notice. If
// their latest consent in the cycle is to the same notice, it records
// nothing and fills c in from that one: a consent is evidence for good, and
// a double click must not add a second (the check is in the write
// transaction, so two requests at once cannot both pass it).
func (s *AckService) RecordConsent(ctx context.Context, c *app.ConsentRecord) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	last, err := scanConsent(tx.QueryRowContext(ctx, `SELECT `+consentColumns+` FROM consents
		WHERE employee_id = ? AND cycle_id = ? ORDER BY id DESC LIMIT 1`, c.EmployeeID, c.CycleID))
	switch {
	case err == nil && last.SHA256 == c.SHA256:
		*c = *last
		return nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("find consent: %w", err)
	}
	c.AcceptedAt = s.db.Now().UTC().Truncate(time.Microsecond) // as stored
	res, err := insert(ctx, tx, `INSERT INTO consents (employee_id, cycle_id, version, sha256, accepted_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, c.EmployeeID, c.CycleID, c.Version, c.SHA256, formatTime(c.AcceptedAt), c.IP, c.UserAgent)
	if err != nil {
		return fmt.Errorf("insert consent: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if _, err := s.db.appendLeaf(ctx, tx, evidence.ConsentLeaf(c)); err != nil {
		return err
	}
	return tx.Commit()
}

// CreateAcknowledgment stores a signed acknowledgment and its chain link in
// one transaction. If the employee already signed this cycle's version — a
// double click, a retried request — it changes nothing and returns the
// existing record with created=false.
func (s *AckService) CreateAcknowledgment(ctx context.Context, a *app.Acknowledgment) (*app.Acknowledgment, bool, error) {
	var id int64
	var created bool
	// Signatures arriving together share one transaction and one commit
	// (see groupCommitter); each runs in its own savepoint.
	err := s.db.group.do(ctx, func(tx *sql.Tx) error {
		var err error
		id, created, err = s.createAck(ctx, tx, a)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if created {
		s.db.lastSigned.Store(s.db.Now().UnixNano())
		// a holds the row as written (TestCreatedAcknowledgmentIsAsStored).
		stored := *a
		return &stored, true, nil
	}
	found, err := findAcks(ctx, s.db.read, `a.id = ?`, 1, 0, id)
	if err != nil || len(found) == 0 {
		return nil, false, fmt.Errorf("read acknowledgment %d: %w", id, err)
	}
	return found[0], false, nil
}

// createAck writes one acknowledgment, its log entry, its assignment and the
// queued copy of its certificate inside tx, and returns its id; created is
// false when the person had already signed this cycle's version. For a new
// one, a is filled in as stored.
func (s *AckService) createAck(ctx context.Context, tx *sql.Tx, a *app.Acknowledgment) (int64, bool, error) {
	// One query for what the row needs: an existing signature, the names
	// shown with it and, since one writer holds the lock, the next id, so
	// that the certificate number can be part of the row from the start.
	var existing sql.NullInt64
	var year sql.NullInt64
	var open bool
	var cycleVersion int64
	err := tx.QueryRowContext(ctx, `SELECT
		(SELECT id FROM acknowledgments WHERE employee_id = ? AND cycle_id = ? AND policy_version_id = ?),
		y.open, y.policy_version_id, y.year, y.name, p.code, p.title, e.employee_number, e.full_name, e.agency, e.department,
		(SELECT COALESCE(MAX(id), 0) + 1 FROM acknowledgments), k.title, k.policy_name,
		COALESCE((SELECT t.agency FROM terms_of_comment t WHERE t.id = ?), ''),
		COALESCE((SELECT t.version FROM terms_of_comment t WHERE t.id = ?), 0), (k.code = (SELECT code FROM acknowledgment_kinds WHERE assign = 'cycle' ORDER BY position LIMIT 1))
		FROM cycles y JOIN acknowledgment_kinds k ON k.code = y.kind, policy_versions p, employees e
		WHERE y.id = ? AND p.id = ? AND e.id = ?`,
		a.EmployeeID, a.CycleID, a.PolicyVersionID, a.TermsID, a.TermsID, a.CycleID, a.PolicyVersionID, a.EmployeeID).Scan(
		&existing, &open, &cycleVersion, &year, &a.CycleName, &a.PolicyCode, &a.PolicyTitle,
		&a.EmployeeNumber, &a.EmployeeName, &a.EmployeeAgency, &a.EmployeeDept, &a.ID, &a.KindTitle, &a.KindPolicyName,
		&a.TermsAgency, &a.TermsVersion, &a.KindAnnual)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("acknowledgment for a cycle, version or person that does not exist: %w", err)
	}
	if err != nil {
		return 0, false, fmt.Errorf("check existing acknowledgment: %w", err)
	}
	if existing.Valid {
		return existing.Int64, false, nil
	}
	// The page the person signed from showed the cycle as it was when they
	// opened it, and another node's copy of the current cycle may be up to
	// two seconds old: here, under the write lock, the cycle must still be
	// open and still ask for the version they read. A signature on text
	// the cycle no longer asks for, or in a cycle closed meanwhile, would
	// count a person done who has not signed what is asked.
	if !open {
		return 0, false, app.Errorf(app.ECONFLICT, "%s closed while you were signing, so nothing was signed. Your home page shows what is asked of you now.", a.CycleName)
	}
	if cycleVersion != a.PolicyVersionID {
		return 0, false, app.Errorf(app.ECONFLICT, "The policy text for %s changed while you were signing, so nothing was signed. Your home page shows the text to read and sign now.", a.CycleName)
	}
	a.Superseded = false
	a.CertificateNo = fmt.Sprintf("SMP-%d-%06d", year.Int64, a.ID)
	if a.VerifyCode == "" {
		if a.VerifyCode, err = app.NewVerifyCode(); err != nil {
			return 0, false, err
		}
	}
	a.SignedAt = s.db.Now().UTC().Truncate(time.Microsecond) // as stored (TimeLayout)
	// The row holds the signer as they are now on the roster: a snapshot
	// that later roster changes do not touch.
	if _, err := tx.ExecContext(ctx, `INSERT INTO acknowledgments (`+ackColumns+`, `+ackAgencyColumns+`, `+ackIssuerColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.EmployeeID, a.EmployeeNumber, a.EmployeeName, a.EmployeeAgency, a.EmployeeDept, a.CycleID, a.PolicyVersionID,
		a.PolicySHA256, a.TypedName, a.ConsentID, a.ConsentVersion, a.ConsentSHA256, a.IntentText, a.Comment,
		formatTime(a.SignedAt), a.IP, a.UserAgent, a.AuthMethod, a.SignInIdentity, a.QuizAttemptID, a.CertificateNo,
		a.VerifyCode, a.TermsID, app.EncodeAccounts(a.Accounts), a.SignInIssuer); err != nil {
		return 0, false, fmt.Errorf("insert acknowledgment: %w", err)
	}
	// a holds the row as stored: its canonical form is the log entry.
	if a.LogIndex, err = s.db.appendLeaf(ctx, tx, evidence.AcknowledgmentLeaf(a)); err != nil {
		return 0, false, err
	}
	signOn := func() (int64, error) {
		res, err := tx.ExecContext(ctx, `UPDATE assignments SET signed_at = ?, ack_id = ? WHERE cycle_id = ? AND employee_id = ?`,
			formatTime(a.SignedAt), a.ID, a.CycleID, a.EmployeeID)
		if err != nil {
			return 0, fmt.Errorf("record signature on assignment: %w", err)
		}
		return res.RowsAffected()
	}
	n, err := signOn()
	if err == nil && n == 0 { // no assignment yet (the roster changed a moment ago): make it, then sign it
		if err = s.db.syncAssignments(ctx, tx, "c.id = ?", "e.id = ?", a.EmployeeID, a.CycleID); err == nil {
			_, err = signOn()
		}
	}
	if err != nil {
		return 0, false, err
	}
	// The copy of the certificate is queued in the same transaction: it cannot
	// be lost between the signature and the mail.
	now := formatTime(a.SignedAt)
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (dedupe_key, kind, employee_id, cycle_id, about_id, to_addr, to_name,
		subject, text_body, html_body, next_attempt_at, created_at)
		SELECT 'certificate:' || ?, 'certificate', e.id, ?, ?, e.email, e.full_name, '', '', '', ?, ? FROM employees e WHERE e.id = ?
		ON CONFLICT (dedupe_key) DO NOTHING`, a.ID, a.CycleID, a.ID, now, now, a.EmployeeID); err != nil {
		return 0, false, fmt.Errorf("queue certificate copy: %w", err)
	}
	return a.ID, true, nil
}

const ackSelect = `SELECT a.id, a.employee_id, a.employee_number, a.full_name, a.agency, a.department, a.cycle_id,
	a.policy_version_id, a.policy_sha256, a.typed_name, a.consent_id, a.consent_version, a.consent_sha256, a.intent_text,
	a.comment, a.signed_at, a.ip, a.user_agent, a.auth_method, a.sign_in_identity, a.quiz_attempt_id, a.certificate_no,
	a.verify_code, a.paper_scan_id, a.paper_signed_on, a.paper_recorded_at, a.paper_recorded_by, a.paper_recorded_by_name,
	a.paper_scan_sha256, a.paper_scan_type, a.paper_note, a.terms_id, a.accounts, a.sign_in_issuer, COALESCE(l.idx, -1), p.code, p.title, y.name,
	EXISTS (SELECT 1 FROM cycle_versions v WHERE v.cycle_id = a.cycle_id AND v.material = 1 AND v.to_version_id > a.policy_version_id),
	k.title, k.policy_name, COALESCE(t.agency, ''), COALESCE(t.version, 0), (k.code = (SELECT code FROM acknowledgment_kinds WHERE assign = 'cycle' ORDER BY position LIMIT 1))
	FROM acknowledgments a
	JOIN policy_versions p ON p.id = a.policy_version_id
	JOIN cycles y ON y.id = a.cycle_id
	JOIN acknowledgment_kinds k ON k.code = y.kind
	LEFT JOIN terms_of_comment t ON t.id = a.terms_id
	LEFT JOIN log_entries l ON l.kind = 'acknowledgment' AND l.ref_id = a.id`

// findAcks returns acknowledgments matching where, newest first; limit -1 means all.
func findAcks(ctx context.Context, q querier, where string, limit, offset int, args ...any) ([]*app.Acknowledgment, error) {
	if limit < 0 {
		limit = noLimit
	}
	rows, err := q.QueryContext(ctx, ackSelect+` WHERE `+where+` ORDER BY a.signed_at DESC, a.id DESC LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("find acknowledgments: %w", err)
	}
	defer rows.Close()
	var out []*app.Acknowledgment
	for rows.Next() {
		a, err := scanAck(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanAck(rows *sql.Rows) (*app.Acknowledgment, error) {
	var idx int64
	var code, title, cycle string
	var superseded bool
	var kindTitle, kindPolicy, termsAgency string
	var termsVersion int
	var annual bool
	a, err := scanAckRecord(rows, &idx, &code, &title, &cycle, &superseded, &kindTitle, &kindPolicy, &termsAgency, &termsVersion, &annual)
	if err != nil {
		return nil, fmt.Errorf("scan acknowledgment: %w", err)
	}
	a.KindTitle, a.KindPolicyName, a.TermsAgency, a.TermsVersion, a.KindAnnual = kindTitle, kindPolicy, termsAgency, termsVersion, annual
	a.LogIndex, a.PolicyCode, a.PolicyTitle, a.CycleName, a.Superseded = idx, code, title, cycle, superseded
	return a, nil
}

// FindAcknowledgments returns acknowledgments matching f, newest first, and the total.
func (s *AckService) FindAcknowledgments(ctx context.Context, f app.AckFilter) ([]*app.Acknowledgment, int, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.ID != nil {
		where, args = append(where, "a.id = ?"), append(args, *f.ID)
	}
	if f.EmployeeID != nil {
		where, args = append(where, "a.employee_id = ?"), append(args, *f.EmployeeID)
	}
	if f.CycleID != nil {
		where, args = append(where, "a.cycle_id = ?"), append(args, *f.CycleID)
	}
	if f.VerifyCode != nil {
		where, args = append(where, "a.verify_code = ?"), append(args, *f.VerifyCode)
	}
	cond := strings.Join(where, " AND ")
	if f.Limit <= 0 { // everything from Offset on: no need to count separately
		acks, err := findAcks(ctx, s.db.read, cond, -1, f.Offset, args...)
		return acks, f.Offset + len(acks), err
	}
	var total int
	if err := s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM acknowledgments a WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count acknowledgments: %w", err)
	}
	acks, err := findAcks(ctx, s.db.read, cond, f.Limit, f.Offset, args...)
	return acks, total, err
}

// FindAcknowledgmentByCode returns the acknowledgment with a verification code.
func (s *AckService) FindAcknowledgmentByCode(ctx context.Context, code string) (*app.Acknowledgment, error) {
	acks, err := findAcks(ctx, s.db.read, `a.verify_code = ?`, 1, 0, code)
	if err != nil {
		return nil, err
	}
	if len(acks) == 0 {
		return nil, app.Errorf(app.ENOTFOUND, "No certificate has that code.")
	}
	return acks[0], nil
}

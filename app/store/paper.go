package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"portal/app"
	"portal/app/evidence"
)

// PaperService implements app.PaperService: paper acknowledgments recorded
// by HR and the scans of their forms.
type PaperService struct{ db *DB }

// NewPaperService returns the paper-acknowledgment store.
func NewPaperService(db *DB) *PaperService { return &PaperService{db: db} }

var _ app.PaperService = (*PaperService)(nil)

// RecordPaperAcknowledgment stores, in one transaction, the scan, the
// acknowledgment (a row of acknowledgments like any other, with its
// certificate number and verification code), its log entry, the signature
// on the assignment and an audit event. The checks that depend on the
// database (the cycle is open, the person is on the roster and has not
// signed) are made inside the transaction, so two HR users recording the
// same person at once cannot both succeed.
func (s *PaperService) RecordPaperAcknowledgment(ctx context.Context, r *app.PaperAckRequest, ctype string) (*app.Acknowledgment, error) {
	if _, ok := app.SniffScan(r.Scan); !ok || len(r.Scan) > app.MaxScanSize {
		return nil, app.Invalid("scan", "The file is not a PDF, PNG or JPEG scan of 10 MB or less.")
	}
	if r.RecordedBy == r.EmployeeID {
		// HR attests that someone else signed: nobody vouches for themselves.
		return nil, app.Errorf(app.ECONFLICT, "You cannot record your own paper acknowledgment: another HR user records it.")
	}
	signedOn, err := time.ParseInLocation(app.DateLayout, r.SignedOn, s.db.Location)
	if err != nil {
		return nil, app.Invalid("signed_on", "Enter the date the form was signed as YYYY-MM-DD.")
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	a := &app.Acknowledgment{EmployeeID: r.EmployeeID, CycleID: r.CycleID, AuthMethod: app.AuthPaper, IP: r.IP, UserAgent: r.UserAgent}
	var open, active bool
	var year int64
	var signedAt, certNo sql.NullString
	var recorder string
	err = tx.QueryRowContext(ctx, `SELECT y.open, y.year, y.name, y.policy_version_id, p.sha256, p.code, p.title,
		e.active, e.employee_number, e.full_name, e.agency, e.department,
		(SELECT full_name FROM employees WHERE id = ?),
		(SELECT signed_at FROM assignments WHERE cycle_id = y.id AND employee_id = e.id),
		(SELECT k.certificate_no FROM acknowledgments k WHERE k.employee_id = e.id AND k.cycle_id = y.id
			AND k.policy_version_id = y.policy_version_id),
		(SELECT COALESCE(MAX(id), 0) + 1 FROM acknowledgments), kd.title, kd.policy_name,
		(kd.code = (SELECT code FROM acknowledgment_kinds WHERE assign = 'cycle' ORDER BY position LIMIT 1))
		FROM cycles y JOIN policy_versions p ON p.id = y.policy_version_id JOIN acknowledgment_kinds kd ON kd.code = y.kind, employees e
		WHERE y.id = ? AND e.id = ?`, r.RecordedBy, r.CycleID, r.EmployeeID).Scan(
		&open, &year, &a.CycleName, &a.PolicyVersionID, &a.PolicySHA256, &a.PolicyCode, &a.PolicyTitle,
		&active, &a.EmployeeNumber, &a.EmployeeName, &a.EmployeeAgency, &a.EmployeeDept, &recorder, &signedAt, &certNo, &a.ID,
		&a.KindTitle, &a.KindPolicyName, &a.KindAnnual)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, app.Errorf(app.ENOTFOUND, "Person or cycle not found.")
	case err != nil:
		return nil, fmt.Errorf("read paper acknowledgment context: %w", err)
	case !open:
		return nil, app.Errorf(app.ECONFLICT, "The cycle %s is closed: a paper acknowledgment is recorded in the open cycle only.", a.CycleName)
	case !active:
		return nil, app.Errorf(app.ECONFLICT, "%s is deactivated on the roster and is not asked to sign.", a.EmployeeName)
	case certNo.Valid || signedAt.Valid:
		// One acknowledgment per person and cycle: a second one, on paper,
		// would make two records of one duty.
		when := ""
		if signedAt.Valid {
			when = " on " + app.Today(parseTime(signedAt.String), s.db.Location)
		}
		return nil, app.Errorf(app.ECONFLICT, "%s has already signed %s%s, so a paper acknowledgment cannot be added.", a.EmployeeName, a.CycleName, when)
	}

	now := s.db.Now().UTC().Truncate(time.Microsecond) // as stored
	sum := sha256.Sum256(r.Scan)
	p := &app.PaperRecord{SignedOn: r.SignedOn, RecordedAt: now, RecordedBy: r.RecordedBy, RecordedByName: recorder,
		ScanSHA256: hex.EncodeToString(sum[:]), ScanType: ctype, ScanSize: int64(len(r.Scan)), Note: r.Note}
	res, err := insert(ctx, tx, `INSERT INTO paper_scans (employee_id, content_type, size, sha256, data, uploaded_by, uploaded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.EmployeeID, p.ScanType, p.ScanSize, p.ScanSHA256, r.Scan, r.RecordedBy, formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("insert paper scan: %w", err)
	}
	if p.ScanID, err = res.LastInsertId(); err != nil {
		return nil, err
	}
	a.Paper = p
	// The form carries a date, not a time: the acknowledgment counts from
	// the start of that day in the portal's time zone.
	a.SignedAt = signedOn.UTC()
	a.CertificateNo = fmt.Sprintf("SMP-%d-%06d", year, a.ID)
	if a.VerifyCode, err = app.NewVerifyCode(); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO acknowledgments (`+ackColumns+`, `+ackPaperColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.EmployeeID, a.EmployeeNumber, a.EmployeeName, a.EmployeeAgency, a.EmployeeDept, a.CycleID, a.PolicyVersionID,
		a.PolicySHA256, a.TypedName, a.ConsentVersion, a.ConsentSHA256, a.IntentText, a.Comment,
		formatTime(a.SignedAt), a.IP, a.UserAgent, a.AuthMethod, a.SignInIdentity, a.CertificateNo, a.VerifyCode,
		p.ScanID, p.SignedOn, formatTime(p.RecordedAt), p.RecordedBy, p.RecordedByName, p.ScanSHA256, p.ScanType, p.Note); err != nil {
		return nil, fmt.Errorf("insert paper acknowledgment: %w", err)
	}
	if a.LogIndex, err = s.db.appendLeaf(ctx, tx, evidence.AcknowledgmentLeaf(a)); err != nil {
		return nil, err
	}
	if err := s.db.signPaper(ctx, tx, a); err != nil {
		return nil, err
	}
	// The person is told, in the same transaction, with their certificate:
	// a record made in their name by someone else never goes unseen by them.
	stamp := formatTime(now)
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (dedupe_key, kind, employee_id, cycle_id, about_id, to_addr, to_name,
		subject, text_body, html_body, next_attempt_at, created_at)
		SELECT 'certificate:' || ?, 'certificate', e.id, ?, ?, e.email, e.full_name, '', '', '', ?, ? FROM employees e WHERE e.id = ?
		ON CONFLICT (dedupe_key) DO NOTHING`, a.ID, a.CycleID, a.ID, stamp, stamp, a.EmployeeID); err != nil {
		return nil, fmt.Errorf("queue the notice of a paper acknowledgment: %w", err)
	}
	actor := r.RecordedBy
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: &actor, Action: "acknowledgment.paper_recorded",
		SubjectType: "employee", SubjectID: a.EmployeeID, IP: r.IP,
		Detail: fmt.Sprintf("paper form signed on %s recorded as %s; scan %s, %d bytes, SHA-256 %s", p.SignedOn, a.CertificateNo,
			p.ScanType, p.ScanSize, p.ScanSHA256)}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit paper acknowledgment: %w", err)
	}
	return a, nil
}

// signPaper marks the person's assignment signed by the paper
// acknowledgment, making the assignment first if the roster changed a
// moment ago and it is not there yet.
func (db *DB) signPaper(ctx context.Context, tx *sql.Tx, a *app.Acknowledgment) error {
	sign := func() (int64, error) {
		res, err := tx.ExecContext(ctx, `UPDATE assignments SET signed_at = ?, ack_id = ?, paper = 1 WHERE cycle_id = ? AND employee_id = ?`,
			formatTime(a.SignedAt), a.ID, a.CycleID, a.EmployeeID)
		if err != nil {
			return 0, fmt.Errorf("record paper signature on assignment: %w", err)
		}
		return res.RowsAffected()
	}
	n, err := sign()
	if err == nil && n == 0 {
		if err = db.syncAssignments(ctx, tx, "c.id = ?", "e.id = ?", a.EmployeeID, a.CycleID); err == nil {
			n, err = sign()
		}
	}
	if err == nil && n == 0 {
		err = fmt.Errorf("no assignment of employee %d in cycle %d to sign", a.EmployeeID, a.CycleID)
	}
	return err
}

// FindPaperScan returns the scan of a paper acknowledgment, checked
// against the SHA-256 its logged record names.
func (s *PaperService) FindPaperScan(ctx context.Context, ackID int64) (*app.PaperScan, error) {
	var sc app.PaperScan
	var want string
	err := s.db.read.QueryRowContext(ctx, `SELECT s.id, s.content_type, s.size, s.sha256, s.data, a.paper_scan_sha256
		FROM acknowledgments a JOIN paper_scans s ON s.id = a.paper_scan_id WHERE a.id = ?`, ackID).Scan(
		&sc.ID, &sc.ContentType, &sc.Size, &sc.SHA256, &sc.Data, &want)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Scan not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find paper scan of acknowledgment %d: %w", ackID, err)
	}
	if problem := scanProblem(&sc, want); problem != "" {
		return nil, fmt.Errorf("scan %d of acknowledgment %d: %s", sc.ID, ackID, problem)
	}
	return &sc, nil
}

// scanProblem says what is wrong with a stored scan whose acknowledgment
// names the SHA-256 want, or "".
func scanProblem(sc *app.PaperScan, want string) string {
	sum := sha256.Sum256(sc.Data)
	got := hex.EncodeToString(sum[:])
	switch {
	case got != want || sc.SHA256 != want:
		return "its bytes no longer match the SHA-256 recorded with the acknowledgment (the scan was changed)"
	case int64(len(sc.Data)) != sc.Size:
		return "its size is not the size recorded"
	}
	return ""
}

// checkPaperScans checks every stored scan against the acknowledgment that
// names it (whose logged record holds the scan's SHA-256): the bytes must
// hash to it, and a scan no acknowledgment names was added outside the
// portal.
func checkPaperScans(ctx context.Context, tx *sql.Tx) (*evidence.Problem, error) {
	rows, err := tx.QueryContext(ctx, `SELECT s.id, s.content_type, s.size, s.sha256, s.data, a.id, a.paper_scan_sha256, a.paper_scan_type
		FROM paper_scans s LEFT JOIN acknowledgments a ON a.paper_scan_id = s.id ORDER BY s.id`)
	if err != nil {
		return nil, fmt.Errorf("read paper scans: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sc app.PaperScan
		var ack sql.NullInt64
		var want, wantType sql.NullString
		if err := rows.Scan(&sc.ID, &sc.ContentType, &sc.Size, &sc.SHA256, &sc.Data, &ack, &want, &wantType); err != nil {
			return nil, fmt.Errorf("read paper scans: %w", err)
		}
		if !ack.Valid {
			return &evidence.Problem{Index: -1, Kind: evidence.KindAcknowledgment, RefID: 0,
				Reason: fmt.Sprintf("scan %d of a paper form belongs to no acknowledgment (it was added outside the portal)", sc.ID)}, nil
		}
		problem := scanProblem(&sc, want.String)
		if problem == "" && sc.ContentType != wantType.String {
			problem = "its type is not the type recorded with the acknowledgment"
		}
		if problem != "" {
			return &evidence.Problem{Index: -1, Kind: evidence.KindAcknowledgment, RefID: ack.Int64,
				Reason: fmt.Sprintf("the scan of the paper form of acknowledgment %d is not as recorded: %s", ack.Int64, problem)}, nil
		}
	}
	return nil, rows.Err()
}

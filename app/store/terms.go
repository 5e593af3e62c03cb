package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"portal/app"
)

// TermsService implements app.TermsService: each agency's Terms of Comment
// (immutable once published, migration 019), their delivery to posters and
// the posters' receipts (both evidence).
type TermsService struct{ db *DB }

// NewTermsService returns the Terms of Comment store.
func NewTermsService(db *DB) *TermsService { return &TermsService{db: db} }

var _ app.TermsService = (*TermsService)(nil)

const termsColumns = `t.id, t.agency, t.version, t.body, t.sha256, t.published_by, COALESCE(p.full_name, ''), t.published_at`

const termsFrom = ` FROM terms_of_comment t LEFT JOIN employees p ON p.id = t.published_by`

func scanTerms(row interface{ Scan(...any) error }) (*app.TermsOfComment, error) {
	var t app.TermsOfComment
	var by sql.NullInt64
	var at string
	if err := row.Scan(&t.ID, &t.Agency, &t.Version, &t.Body, &t.SHA256, &by, &t.PublisherName, &at); err != nil {
		return nil, err
	}
	if by.Valid {
		t.PublishedBy = &by.Int64
	}
	t.PublishedAt = parseTime(at)
	return &t, nil
}

// termsInForce is the agency's highest version, or nil when it has none.
func termsInForce(ctx context.Context, q querier, agency string) (*app.TermsOfComment, error) {
	t, err := scanTerms(q.QueryRowContext(ctx, `SELECT `+termsColumns+termsFrom+` WHERE t.agency = ? ORDER BY t.version DESC LIMIT 1`, agency))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read Terms of Comment in force: %w", err)
	}
	return t, nil
}

// PublishTerms publishes t.Body as t.Agency's next version and delivers it
// to the agency's posters: everyone whose authorization has not ended.
func (s *TermsService) PublishTerms(ctx context.Context, t *app.TermsOfComment, ip string) error {
	if err := app.ValidateTermsBody(t.Body); err != nil {
		return err
	}
	t.Body = app.NormalizeTerms(t.Body)
	t.SHA256 = app.TermsDigest(t.Body)
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	cur, err := termsInForce(ctx, tx, t.Agency)
	if err != nil {
		return err
	}
	t.Version = 1
	if cur != nil {
		if cur.SHA256 == t.SHA256 {
			return app.Invalid("body", "This text is the same as version %d, in force now; nothing was published.", cur.Version)
		}
		t.Version = cur.Version + 1
	}
	now := s.db.Now().UTC().Truncate(time.Microsecond)
	t.PublishedAt = now
	res, err := insert(ctx, tx, `INSERT INTO terms_of_comment (agency, version, body, sha256, published_by, published_at)
		VALUES (?, ?, ?, ?, ?, ?)`, t.Agency, t.Version, t.Body, t.SHA256, t.PublishedBy, formatTime(now))
	if isUniqueViolation(err) {
		return app.Errorf(app.ECONFLICT, "Someone published version %d a moment ago; look at it before publishing again.", t.Version)
	}
	if err != nil {
		return fmt.Errorf("publish Terms of Comment: %w", err)
	}
	if t.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: t.PublishedBy, Action: "terms.published",
		SubjectType: "terms", SubjectID: t.ID, IP: ip,
		Detail: fmt.Sprintf("%s: Terms of Comment version %d, sha256 %s", t.Agency, t.Version, t.SHA256)}); err != nil {
		return err
	}
	ids, err := posterIDs(ctx, tx, t.Agency, s.db.Today())
	if err != nil {
		return err
	}
	if err := s.db.deliverTerms(ctx, tx, t, ids, now); err != nil {
		return err
	}
	return tx.Commit()
}

// posterIDs lists the people of the agency whose authorization has not
// ended by today (those still to start included).
func posterIDs(ctx context.Context, tx *sql.Tx, agency, today string) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT pa.employee_id FROM poster_authorizations pa
		JOIN employees e ON e.id = pa.employee_id AND e.active = 1 AND e.agency = pa.agency
		WHERE pa.agency = ? AND `+activeAuthorization+` ORDER BY pa.employee_id`, agency, today)
	if err != nil {
		return nil, fmt.Errorf("find posters: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// deliverTerms gives version t to each person: a terms_deliveries row, an
// audit event and a mail with the text, once per version and person (a
// person already given it is skipped).
func (db *DB) deliverTerms(ctx context.Context, tx *sql.Tx, t *app.TermsOfComment, employeeIDs []int64, now time.Time) error {
	for _, id := range employeeIDs {
		res, err := tx.ExecContext(ctx, `INSERT INTO terms_deliveries (terms_id, employee_id, delivered_at) VALUES (?, ?, ?)
			ON CONFLICT (terms_id, employee_id) DO NOTHING`, t.ID, id, formatTime(now))
		if err != nil {
			return fmt.Errorf("deliver Terms of Comment: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			continue
		}
		var name, email string
		if err := tx.QueryRowContext(ctx, `SELECT full_name, email FROM employees WHERE id = ?`, id).Scan(&name, &email); err != nil {
			return fmt.Errorf("read poster: %w", err)
		}
		if err := db.appendAudit(ctx, tx, &app.AuditEvent{At: now, Action: "terms.delivered", SubjectType: "employee", SubjectID: id,
			Detail: fmt.Sprintf("%s: Terms of Comment version %d (terms %d) given to %s", t.Agency, t.Version, t.ID, email)}); err != nil {
			return err
		}
		text := fmt.Sprintf("Hello %s,\n\nYou are authorized to post for %s. Here are its Terms of Comment, version %d: the rules "+
			"for the public's comments on the agency's accounts. Keep them at hand when you moderate comments.\n\n"+
			"Please confirm in the portal that you have them:\n{portal}/my/terms/%d\n\n---\n\n%s\n---\nSHA-256 of this text: %s\n",
			name, t.Agency, t.Version, t.ID, t.Body, t.SHA256)
		if err := queueText(ctx, tx, fmt.Sprintf("terms:%d:%d", t.ID, id), app.MailTerms, id, email, name,
			fmt.Sprintf("%s Terms of Comment, version %d", t.Agency, t.Version), text, now); err != nil {
			return err
		}
	}
	return nil
}

// queueText queues a message the store writes in full (the composer sends
// it as it is, putting the portal's address in for {portal}), once per
// dedupe key.
func queueText(ctx context.Context, tx *sql.Tx, key, kind string, employeeID int64, to, name, subject, text string, now time.Time) error {
	at := formatTime(now)
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (dedupe_key, kind, employee_id, to_addr, to_name, subject, text_body,
		html_body, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
		key, kind, employeeID, to, name, subject, text, at, at); err != nil {
		return fmt.Errorf("queue %s message: %w", kind, err)
	}
	return nil
}

// FindTerms lists the agency's versions, newest first.
func (s *TermsService) FindTerms(ctx context.Context, agency string) ([]*app.TermsOfComment, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+termsColumns+termsFrom+` WHERE t.agency = ? ORDER BY t.version DESC`, agency)
	if err != nil {
		return nil, fmt.Errorf("find Terms of Comment: %w", err)
	}
	defer rows.Close()
	var out []*app.TermsOfComment
	for rows.Next() {
		t, err := scanTerms(rows)
		if err != nil {
			return nil, fmt.Errorf("scan Terms of Comment: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// FindTermsByID returns one version.
func (s *TermsService) FindTermsByID(ctx context.Context, id int64) (*app.TermsOfComment, error) {
	t, err := scanTerms(s.db.read.QueryRowContext(ctx, `SELECT `+termsColumns+termsFrom+` WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Terms of Comment not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find Terms of Comment: %w", err)
	}
	return t, nil
}

// TermsTasks lists the versions given to the person, newest first.
func (s *TermsService) TermsTasks(ctx context.Context, employeeID int64) ([]*app.TermsTask, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT t.id, t.agency, t.version, d.delivered_at, r.received_at
		FROM terms_deliveries d JOIN terms_of_comment t ON t.id = d.terms_id
		LEFT JOIN terms_receipts r ON r.terms_id = d.terms_id AND r.employee_id = d.employee_id
		WHERE d.employee_id = ? ORDER BY d.delivered_at DESC, t.id DESC`, employeeID)
	if err != nil {
		return nil, fmt.Errorf("find Terms of Comment given: %w", err)
	}
	defer rows.Close()
	var out []*app.TermsTask
	for rows.Next() {
		var k app.TermsTask
		var delivered string
		var received sql.NullString
		if err := rows.Scan(&k.TermsID, &k.Agency, &k.Version, &delivered, &received); err != nil {
			return nil, fmt.Errorf("scan Terms of Comment given: %w", err)
		}
		k.DeliveredAt = parseTime(delivered)
		if received.Valid {
			at := parseTime(received.String)
			k.ReceivedAt = &at
		}
		out = append(out, &k)
	}
	return out, rows.Err()
}

// ReceiveTerms records the person's receipt of a version given to them.
func (s *TermsService) ReceiveTerms(ctx context.Context, r *app.TermsReceipt) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var agency string
	var version int
	var received bool
	var sum string
	err = tx.QueryRowContext(ctx, `SELECT t.agency, t.version, t.sha256,
		EXISTS (SELECT 1 FROM terms_receipts r WHERE r.terms_id = d.terms_id AND r.employee_id = d.employee_id)
		FROM terms_deliveries d JOIN terms_of_comment t ON t.id = d.terms_id WHERE d.terms_id = ? AND d.employee_id = ?`,
		r.TermsID, r.EmployeeID).Scan(&agency, &version, &sum, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return app.Errorf(app.ENOTFOUND, "These Terms of Comment were not given to you.")
	}
	if err != nil {
		return fmt.Errorf("find delivery: %w", err)
	}
	if received {
		return app.Errorf(app.ECONFLICT, "You have already confirmed that you have version %d.", version)
	}
	r.ReceivedAt = s.db.Now().UTC().Truncate(time.Microsecond)
	ua := r.UserAgent
	if len(ua) > 500 {
		ua = strings.ToValidUTF8(ua[:500], "")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO terms_receipts (terms_id, employee_id, received_at, ip, user_agent) VALUES (?, ?, ?, ?, ?)`,
		r.TermsID, r.EmployeeID, formatTime(r.ReceivedAt), r.IP, ua); err != nil {
		return fmt.Errorf("record receipt: %w", err)
	}
	actor := r.EmployeeID
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: r.ReceivedAt, ActorID: &actor, Action: "terms.received",
		SubjectType: "employee", SubjectID: r.EmployeeID, IP: r.IP,
		// The text's digest makes the log entry say which words were received.
		Detail: fmt.Sprintf("%s: Terms of Comment version %d (terms %d, sha256 %s) received", agency, version, r.TermsID, sum)}); err != nil {
		return err
	}
	return tx.Commit()
}

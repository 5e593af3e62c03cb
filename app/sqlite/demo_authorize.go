package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"portal/app"
)

// until the authorizations land: the registry and authorizations work adds
// accounts, Terms of Comment and authorizations through their own services;
// until then the demo authorizes one poster with this. It adds what is
// missing only, so it is harmless once their demo data is there too.
func (s *KindService) DemoAuthorize(ctx context.Context, employeeNumber, platform, handle, url, purpose string) error {
	now := formatTime(s.db.Now().UTC())
	today := s.db.Today()
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var emp int64
	var agency string
	if err := tx.QueryRowContext(ctx, `SELECT id, agency FROM employees WHERE employee_number = ?`, employeeNumber).Scan(&emp, &agency); err != nil {
		return fmt.Errorf("demo poster: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO social_accounts (agency, platform, handle, url, purpose, terms_accepted_by,
		terms_accepted_on, archive_method, status, review_on, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'Demo data', ?, 'Platform export, monthly', 'active', date(?, '+1 year'), ?, ?)
		ON CONFLICT (platform, handle) DO NOTHING`, agency, platform, handle, url, purpose, today, today, now, now); err != nil {
		return fmt.Errorf("demo account: %w", err)
	}
	body := "Comments are welcome. We remove comments that are off topic, abusive or that share personal information."
	sum := sha256.Sum256([]byte(body))
	if _, err := tx.ExecContext(ctx, `INSERT INTO terms_of_comment (agency, version, body, sha256, published_at)
		SELECT ?, 1, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM terms_of_comment WHERE agency = ?)`,
		agency, body, hex.EncodeToString(sum[:]), now, agency); err != nil {
		return fmt.Errorf("demo Terms of Comment: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO poster_authorizations (employee_id, account_id, agency, scope, starts_on, terms_id, granted_at)
		SELECT ?, a.id, a.agency, 'Post and answer comments', ?, (SELECT MAX(id) FROM terms_of_comment WHERE agency = a.agency), ?
		FROM social_accounts a WHERE a.platform = ? AND a.handle = ?
			AND NOT EXISTS (SELECT 1 FROM poster_authorizations p WHERE p.employee_id = ? AND p.account_id = a.id)`,
		emp, today, now, platform, handle, emp); err != nil {
		return fmt.Errorf("demo authorization: %w", err)
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: s.db.Now().UTC(), Action: "demo.authorized", SubjectType: "employee",
		SubjectID: emp, Detail: platform + " " + handle}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return s.SyncAuthorizationKinds(ctx, emp)
}

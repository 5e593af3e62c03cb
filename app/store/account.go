package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"portal/app"
)

// AccountService implements app.AccountService.
type AccountService struct{ db *DB }

// NewAccountService returns the registry of agency accounts.
func NewAccountService(db *DB) *AccountService { return &AccountService{db: db} }

const accountSelect = `SELECT a.id, a.agency, a.platform, a.handle, a.url, a.purpose, a.terms_accepted_by, a.terms_accepted_on,
	a.archive_method, a.status, a.review_on, a.created_at, a.updated_at, COALESCE(e.full_name, ''), COALESCE(e.email, '')
	FROM social_accounts a LEFT JOIN agency_supervisors s ON s.agency = a.agency LEFT JOIN employees e ON e.id = s.employee_id`

func scanAccount(row interface{ Scan(...any) error }) (*app.SocialAccount, error) {
	var a app.SocialAccount
	var created, updated string
	if err := row.Scan(&a.ID, &a.Agency, &a.Platform, &a.Handle, &a.URL, &a.Purpose, &a.TermsAcceptedBy, &a.TermsAcceptedOn,
		&a.ArchiveMethod, &a.Status, &a.ReviewOn, &created, &updated, &a.SupervisorName, &a.SupervisorEmail); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = parseTime(created), parseTime(updated)
	return &a, nil
}

// FindAccounts lists the accounts f selects by agency, platform and handle.
func (s *AccountService) FindAccounts(ctx context.Context, f app.AccountFilter) ([]*app.SocialAccount, error) {
	conds, args := []string{"1 = 1"}, []any{}
	if !f.All {
		if len(f.Agencies) == 0 {
			return nil, nil
		}
		conds, args = append(conds, "a.agency IN ("+placeholders(len(f.Agencies))+")"), append(args, anySlice(f.Agencies)...)
	}
	if f.Agency != "" {
		conds, args = append(conds, "a.agency = ?"), append(args, f.Agency)
	}
	if f.Status != "" {
		conds, args = append(conds, "a.status = ?"), append(args, f.Status)
	}
	// #nosec G202 -- conds are constant SQL; every value is a bound parameter
	rows, err := s.db.read.QueryContext(ctx, accountSelect+` WHERE `+strings.Join(conds, " AND ")+
		` ORDER BY a.agency, a.platform, a.handle`, args...)
	if err != nil {
		return nil, fmt.Errorf("find accounts: %w", err)
	}
	defer rows.Close()
	var out []*app.SocialAccount
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// FindAccountByID returns one account, or ENOTFOUND.
func (s *AccountService) FindAccountByID(ctx context.Context, id int64) (*app.SocialAccount, error) {
	return findAccount(ctx, s.db.read, id)
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func findAccount(ctx context.Context, q queryRower, id int64) (*app.SocialAccount, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, accountSelect+` WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Account not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find account %d: %w", id, err)
	}
	return a, nil
}

// checkAccount validates a and refuses a second account with the same
// platform and handle (whatever their case), within tx.
func (s *AccountService) checkAccount(ctx context.Context, tx *sql.Tx, a *app.SocialAccount) error {
	if err := a.Validate(s.db.Today()); err != nil {
		return err
	}
	var taken bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM social_accounts
		WHERE lower(platform) = lower(?) AND lower(handle) = lower(?) AND id <> ?)`, a.Platform, a.Handle, a.ID).Scan(&taken); err != nil {
		return fmt.Errorf("check handle: %w", err)
	}
	if taken {
		return app.Invalid("handle", "The registry already has a %s account with the handle %s.", a.Platform, a.Handle)
	}
	return nil
}

// recordChange writes the change row and its audit event.
func (s *AccountService) recordChange(ctx context.Context, tx *sql.Tx, a *app.SocialAccount, diff [][3]string, actorID int64, created bool) error {
	action := "account.changed"
	if created {
		action = "account.created"
	}
	js, err := json.Marshal(diff)
	if err != nil {
		return err
	}
	now := s.db.Now().UTC()
	if _, err := tx.ExecContext(ctx, `INSERT INTO social_account_changes (account_id, actor_id, at, changes) VALUES (?, ?, ?, ?)`,
		a.ID, actorID, formatTime(now), string(js)); err != nil {
		return fmt.Errorf("insert account change: %w", err)
	}
	fields := make([]string, len(diff))
	for i, d := range diff {
		fields[i] = app.AccountFieldLabels[d[0]]
	}
	return s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: &actorID, Action: action, SubjectType: "social_account",
		SubjectID: a.ID, Detail: a.Agency + " " + a.Platform + " " + a.Handle + ": " + strings.Join(fields, ", ")})
}

// CreateAccount adds a to the registry, with its first change row (every
// field as new) and an audit event.
func (s *AccountService) CreateAccount(ctx context.Context, a *app.SocialAccount, actorID int64) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	a.ID = 0
	if err := s.checkAccount(ctx, tx, a); err != nil {
		return err
	}
	var known bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM employees WHERE agency = ? AND active = 1)`, a.Agency).Scan(&known); err != nil {
		return fmt.Errorf("find agency: %w", err)
	}
	if !known {
		return app.Invalid("agency", "Choose an agency from the list.")
	}
	now := formatTime(s.db.Now())
	res, err := insert(ctx, tx, `INSERT INTO social_accounts (agency, platform, handle, url, purpose, supervisor_id,
		terms_accepted_by, terms_accepted_on, archive_method, status, review_on, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, (SELECT employee_id FROM agency_supervisors WHERE agency = ?), ?, ?, ?, ?, ?, ?, ?)`,
		a.Agency, a.Platform, a.Handle, a.URL, a.Purpose, a.Agency, a.TermsAcceptedBy, a.TermsAcceptedOn, a.ArchiveMethod,
		a.Status, a.ReviewOn, now, now)
	if isUniqueViolation(err) {
		return app.Invalid("handle", "The registry already has a %s account with the handle %s.", a.Platform, a.Handle)
	}
	if err != nil {
		return fmt.Errorf("insert account: %w", err)
	}
	if a.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if err := s.recordChange(ctx, tx, a, app.AccountDiff(nil, a), actorID, true); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit account: %w", err)
	}
	return nil
}

// UpdateAccount saves a's fields but its agency, with a change row of what
// changed and an audit event; when nothing changed it records nothing.
func (s *AccountService) UpdateAccount(ctx context.Context, a *app.SocialAccount, actorID int64) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	old, err := findAccount(ctx, tx, a.ID)
	if err != nil {
		return err
	}
	a.Agency = old.Agency
	if err := s.checkAccount(ctx, tx, a); err != nil {
		return err
	}
	diff := app.AccountDiff(old, a)
	if len(diff) == 0 {
		return nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE social_accounts SET platform = ?, handle = ?, url = ?, purpose = ?,
		supervisor_id = (SELECT employee_id FROM agency_supervisors WHERE agency = ?), terms_accepted_by = ?, terms_accepted_on = ?,
		archive_method = ?, status = ?, review_on = ?, updated_at = ? WHERE id = ?`,
		a.Platform, a.Handle, a.URL, a.Purpose, a.Agency, a.TermsAcceptedBy, a.TermsAcceptedOn, a.ArchiveMethod, a.Status,
		a.ReviewOn, formatTime(s.db.Now()), a.ID)
	if isUniqueViolation(err) {
		return app.Invalid("handle", "The registry already has a %s account with the handle %s.", a.Platform, a.Handle)
	}
	if err != nil {
		return fmt.Errorf("update account: %w", err)
	}
	if err := s.recordChange(ctx, tx, a, diff, actorID, false); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit account: %w", err)
	}
	return nil
}

// AccountChanges is an account's history, oldest first.
func (s *AccountService) AccountChanges(ctx context.Context, id int64) ([]*app.AccountChange, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT c.id, c.account_id, c.actor_id, COALESCE(e.full_name, ''), c.at, c.changes
		FROM social_account_changes c LEFT JOIN employees e ON e.id = c.actor_id WHERE c.account_id = ? ORDER BY c.id`, id)
	if err != nil {
		return nil, fmt.Errorf("find account changes: %w", err)
	}
	defer rows.Close()
	var out []*app.AccountChange
	for rows.Next() {
		var ch app.AccountChange
		var actor sql.NullInt64
		var at, js string
		if err := rows.Scan(&ch.ID, &ch.AccountID, &actor, &ch.ActorName, &at, &js); err != nil {
			return nil, err
		}
		if actor.Valid {
			ch.ActorID = &actor.Int64
		}
		ch.At = parseTime(at)
		if err := json.Unmarshal([]byte(js), &ch.Changes); err != nil {
			return nil, fmt.Errorf("read account change %d: %w", ch.ID, err)
		}
		out = append(out, &ch)
	}
	return out, rows.Err()
}

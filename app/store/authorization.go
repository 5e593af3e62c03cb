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

// AuthorizationService implements app.AuthorizationService: poster
// authorizations (migration 019's poster_authorizations and
// authorization_ends, both evidence), each written with its audit event in
// the same transaction. It reads the account registry and the supervisors
// with its own SQL.
type AuthorizationService struct {
	db *DB
	// OnPostersChanged, when set, is called after a commit that authorizes
	// someone or ends one of their authorizations, with the person's id:
	// the agency-use acknowledgment's assignments follow who is a poster
	// (the wiring sets it to their sync). Its error is returned as an
	// app.CommittedError: what was committed stays committed, and the sync
	// can run again.
	OnPostersChanged func(ctx context.Context, employeeID int64) error
}

// NewAuthorizationService returns the poster authorizations store.
func NewAuthorizationService(db *DB) *AuthorizationService { return &AuthorizationService{db: db} }

var _ app.AuthorizationService = (*AuthorizationService)(nil)

// activeAuthorization is the condition that an authorization (alias pa)
// has not ended, early or on its date, by the day bound to the ?.
const activeAuthorization = `NOT EXISTS (SELECT 1 FROM authorization_ends x WHERE x.authorization_id = pa.id)
	AND (pa.ends_on = '' OR pa.ends_on >= ?)`

// Authorize records r: one authorization per account, in one transaction.
func (s *AuthorizationService) Authorize(ctx context.Context, r *app.AuthorizationRequest) ([]*app.Authorization, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	today := s.db.Today()
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var (
		empID         int64
		name, agency  string
		active        bool
		errs          []error
		accountsFound []*app.PosterAccount
	)
	err = tx.QueryRowContext(ctx, `SELECT id, full_name, agency, active FROM employees WHERE employee_number = ?`, r.EmployeeNumber).
		Scan(&empID, &name, &agency, &active)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		errs = append(errs, app.Invalid("employee", "No one on the roster has employee number %s.", r.EmployeeNumber))
	case err != nil:
		return nil, fmt.Errorf("find person: %w", err)
	case agency != r.Agency:
		errs = append(errs, app.Invalid("employee", "Employee %s is not on the roster of %s; you can authorize only your own agency's people.", r.EmployeeNumber, r.Agency))
	case !active:
		errs = append(errs, app.Invalid("employee", "%s (%s) is no longer on the active roster.", name, r.EmployeeNumber))
	}
	seen := map[int64]bool{}
	for _, id := range r.AccountIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		a, err := findPosterAccount(ctx, tx, id)
		switch {
		case app.ErrorCode(err) == app.ENOTFOUND || (err == nil && a.Agency != r.Agency):
			errs = append(errs, app.Invalid("accounts", "One of the accounts chosen is not an account of %s.", r.Agency))
			continue
		case err != nil:
			return nil, err
		case a.Status != "active":
			errs = append(errs, app.Invalid("accounts", "%s is %s; people can be authorized only on active accounts.", a.Name(), a.Status))
			continue
		}
		accountsFound = append(accountsFound, a)
	}
	if empID != 0 && len(errs) == 0 {
		for _, a := range accountsFound {
			var since string
			err := tx.QueryRowContext(ctx, `SELECT pa.starts_on FROM poster_authorizations pa
				WHERE pa.employee_id = ? AND pa.account_id = ? AND `+activeAuthorization+` LIMIT 1`, empID, a.ID, today).Scan(&since)
			if err == nil {
				errs = append(errs, app.Invalid("accounts", "%s is already authorized on %s (from %s); revoke that first to change it.", name, a.Name(), longDate(since)))
			} else if !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("read authorizations: %w", err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	terms, err := termsInForce(ctx, tx, r.Agency)
	if err != nil {
		return nil, err
	}
	now := s.db.Now().UTC().Truncate(time.Microsecond)
	actor := r.ActorID
	var out []*app.Authorization
	for _, a := range accountsFound {
		au := &app.Authorization{EmployeeID: empID, EmployeeNumber: r.EmployeeNumber, EmployeeName: name, AccountID: a.ID,
			Platform: a.Platform, Handle: a.Handle, Agency: r.Agency, Scope: r.Scope, StartsOn: r.StartsOn, EndsOn: r.EndsOn,
			GrantedBy: &actor, GrantedAt: now}
		var termsID any
		detail := fmt.Sprintf("%s: %s from %s", r.Agency, a.Name(), r.StartsOn)
		if r.EndsOn != "" {
			detail += " to " + r.EndsOn
		}
		detail += "; scope: " + r.Scope
		if terms != nil {
			au.TermsID, au.TermsVersion, termsID = &terms.ID, terms.Version, terms.ID
			detail += fmt.Sprintf("; Terms of Comment version %d", terms.Version)
		}
		res, err := insert(ctx, tx, `INSERT INTO poster_authorizations (employee_id, account_id, agency, scope, starts_on, ends_on,
			terms_id, granted_by, granted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			empID, a.ID, r.Agency, r.Scope, r.StartsOn, r.EndsOn, termsID, actor, formatTime(now))
		if err != nil {
			return nil, fmt.Errorf("insert authorization: %w", err)
		}
		if au.ID, err = res.LastInsertId(); err != nil {
			return nil, err
		}
		if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: &actor, Action: "poster.authorized",
			SubjectType: "employee", SubjectID: empID, IP: r.IP, Detail: detail}); err != nil {
			return nil, err
		}
		out = append(out, au)
	}
	if terms != nil {
		if err := s.db.deliverTerms(ctx, tx, terms, []int64{empID}, now); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit authorization: %w", err)
	}
	return out, s.postersChanged(ctx, empID)
}

func (s *AuthorizationService) postersChanged(ctx context.Context, ids ...int64) error {
	if s.OnPostersChanged == nil {
		return nil
	}
	for _, id := range ids {
		if err := s.OnPostersChanged(ctx, id); err != nil {
			return &app.CommittedError{Err: err}
		}
	}
	return nil
}

func findPosterAccount(ctx context.Context, q querier, id int64) (*app.PosterAccount, error) {
	var a app.PosterAccount
	err := q.QueryRowContext(ctx, `SELECT id, agency, platform, handle, status FROM social_accounts WHERE id = ?`, id).
		Scan(&a.ID, &a.Agency, &a.Platform, &a.Handle, &a.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Account not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find account: %w", err)
	}
	return &a, nil
}

// Revoke ends an authorization of r.Agency early.
func (s *AuthorizationService) Revoke(ctx context.Context, r *app.Revocation) error {
	if err := r.Validate(); err != nil {
		return err
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var (
		empID          int64
		agency, endsOn string
		platform, hdl  string
		ended          bool
	)
	err = tx.QueryRowContext(ctx, `SELECT pa.employee_id, pa.agency, pa.ends_on, a.platform, a.handle,
		EXISTS (SELECT 1 FROM authorization_ends x WHERE x.authorization_id = pa.id)
		FROM poster_authorizations pa JOIN social_accounts a ON a.id = pa.account_id WHERE pa.id = ?`, r.AuthorizationID).
		Scan(&empID, &agency, &endsOn, &platform, &hdl, &ended)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && agency != r.Agency) {
		return app.Errorf(app.ENOTFOUND, "Authorization not found.")
	}
	if err != nil {
		return fmt.Errorf("find authorization: %w", err)
	}
	if ended || (endsOn != "" && endsOn < s.db.Today()) {
		return app.Errorf(app.ECONFLICT, "This authorization has already ended, so nothing was changed.")
	}
	now := s.db.Now().UTC().Truncate(time.Microsecond)
	actor := r.ActorID
	if _, err := tx.ExecContext(ctx, `INSERT INTO authorization_ends (authorization_id, reason, note, actor_id, at) VALUES (?, ?, ?, ?, ?)`,
		r.AuthorizationID, app.EndRevoked, r.Note, actor, formatTime(now)); err != nil {
		return fmt.Errorf("end authorization: %w", err)
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: &actor, Action: "poster.revoked",
		SubjectType: "employee", SubjectID: empID, IP: r.IP,
		Detail: fmt.Sprintf("%s: %s %s, authorization %d; reason: %s", agency, platform, hdl, r.AuthorizationID, r.Note)}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit revocation: %w", err)
	}
	return s.postersChanged(ctx, empID)
}

// FindAuthorizations lists authorizations, newest first, with their early
// end and whether the person has the Terms of Comment in force.
func (s *AuthorizationService) FindAuthorizations(ctx context.Context, f app.AuthorizationFilter) ([]*app.Authorization, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.Agencies != nil {
		where, args = append(where, "pa.agency IN ("+placeholders(len(f.Agencies))+")"), append(args, anySlice(f.Agencies)...)
	}
	if f.EmployeeID != nil {
		where, args = append(where, "pa.employee_id = ?"), append(args, *f.EmployeeID)
	}
	if f.AccountID != nil {
		where, args = append(where, "pa.account_id = ?"), append(args, *f.AccountID)
	}
	rows, err := s.db.read.QueryContext(ctx, `SELECT pa.id, pa.employee_id, e.employee_number, e.full_name, e.email, pa.account_id,
		a.platform, a.handle, pa.agency, pa.scope, pa.starts_on, pa.ends_on, pa.terms_id, COALESCE(t.version, 0),
		pa.granted_by, COALESCE(g.full_name, ''), pa.granted_at,
		x.id, x.reason, x.note, x.actor_id, COALESCE(xa.full_name, ''), x.at,
		COALESCE(cur.version, 0), cur.id IS NOT NULL AND EXISTS (SELECT 1 FROM terms_receipts r WHERE r.terms_id = cur.id AND r.employee_id = pa.employee_id)
		FROM poster_authorizations pa
		JOIN employees e ON e.id = pa.employee_id
		JOIN social_accounts a ON a.id = pa.account_id
		LEFT JOIN terms_of_comment t ON t.id = pa.terms_id
		LEFT JOIN employees g ON g.id = pa.granted_by
		LEFT JOIN authorization_ends x ON x.authorization_id = pa.id
		LEFT JOIN employees xa ON xa.id = x.actor_id
		LEFT JOIN terms_of_comment cur ON cur.id = (SELECT c.id FROM terms_of_comment c WHERE c.agency = pa.agency ORDER BY c.version DESC LIMIT 1)
		WHERE `+strings.Join(where, " AND ")+` ORDER BY pa.granted_at DESC, pa.id DESC`, args...) // #nosec G202 -- constant SQL fragments; every value is a bound parameter
	if err != nil {
		return nil, fmt.Errorf("find authorizations: %w", err)
	}
	defer rows.Close()
	var out []*app.Authorization
	for rows.Next() {
		var au app.Authorization
		var terms, granter, endID, endActor sql.NullInt64
		var grantedAt string
		var endReason, endNote, endAt sql.NullString
		var endActorName string
		if err := rows.Scan(&au.ID, &au.EmployeeID, &au.EmployeeNumber, &au.EmployeeName, &au.EmployeeEmail, &au.AccountID,
			&au.Platform, &au.Handle, &au.Agency, &au.Scope, &au.StartsOn, &au.EndsOn, &terms, &au.TermsVersion,
			&granter, &au.GrantedByName, &grantedAt, &endID, &endReason, &endNote, &endActor, &endActorName, &endAt,
			&au.TermsInForce, &au.TermsReceived); err != nil {
			return nil, fmt.Errorf("scan authorization: %w", err)
		}
		if terms.Valid {
			au.TermsID = &terms.Int64
		}
		if granter.Valid {
			au.GrantedBy = &granter.Int64
		}
		au.GrantedAt = parseTime(grantedAt)
		if endID.Valid {
			au.Ended = &app.AuthorizationEnd{ID: endID.Int64, Reason: endReason.String, Note: endNote.String,
				ActorName: endActorName, At: parseTime(endAt.String)}
			if endActor.Valid {
				au.Ended.ActorID = &endActor.Int64
			}
		}
		out = append(out, &au)
	}
	return out, rows.Err()
}

// PosterAccounts lists the agency's accounts, active first.
func (s *AuthorizationService) PosterAccounts(ctx context.Context, agency string) ([]*app.PosterAccount, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT id, agency, platform, handle, status FROM social_accounts
		WHERE agency = ? ORDER BY status <> 'active', platform, handle`, agency)
	if err != nil {
		return nil, fmt.Errorf("find accounts: %w", err)
	}
	defer rows.Close()
	var out []*app.PosterAccount
	for rows.Next() {
		var a app.PosterAccount
		if err := rows.Scan(&a.ID, &a.Agency, &a.Platform, &a.Handle, &a.Status); err != nil {
			return nil, fmt.Errorf("scan account: %w", err)
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// FindPeople finds active people of the agency whose name or employee
// number contains query (ignoring case), by name.
func (s *AuthorizationService) FindPeople(ctx context.Context, agency, query string, limit int) ([]*app.PersonChoice, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, nil
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(query) + "%"
	rows, err := s.db.read.QueryContext(ctx, `SELECT employee_number, full_name, title FROM employees
		WHERE agency = ? AND active = 1 AND (full_name LIKE ? ESCAPE '\' OR employee_number LIKE ? ESCAPE '\' OR signature_name LIKE ? ESCAPE '\')
		ORDER BY full_name, employee_number LIMIT ?`, agency, like, like, like, limit)
	if err != nil {
		return nil, fmt.Errorf("find people: %w", err)
	}
	defer rows.Close()
	var out []*app.PersonChoice
	for rows.Next() {
		var p app.PersonChoice
		if err := rows.Scan(&p.EmployeeNumber, &p.FullName, &p.Title); err != nil {
			return nil, fmt.Errorf("scan person: %w", err)
		}
		out = append(out, &p)
	}
	return out, rows.Err()
}

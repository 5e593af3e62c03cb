package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"portal/app"
)

// APITokenService implements app.APITokenService. Tokens are looked up by
// the SHA-256 of what the caller sends (an index lookup, so no timing of
// a comparison tells an attacker anything); the token itself is never stored.
type APITokenService struct{ db *DB }

// NewAPITokenService returns the API token store.
func NewAPITokenService(db *DB) *APITokenService { return &APITokenService{db: db} }

// #nosec G101 -- a query's column list: no credential (only hashes are stored)
const apiTokenSelect = `SELECT t.id, t.name, t.scopes, t.created_at, t.created_by, COALESCE(c.full_name, ''),
	t.last_used_at, t.revoked_at, t.revoked_by, COALESCE(r.full_name, '')
	FROM api_tokens t LEFT JOIN employees c ON c.id = t.created_by LEFT JOIN employees r ON r.id = t.revoked_by`

func scanAPIToken(row interface{ Scan(...any) error }) (*app.APIToken, error) {
	var t app.APIToken
	var scopes, created string
	var by, revokedBy sql.NullInt64
	var used, revoked sql.NullString
	if err := row.Scan(&t.ID, &t.Name, &scopes, &created, &by, &t.CreatorName, &used, &revoked, &revokedBy, &t.RevokerName); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, app.Errorf(app.ENOTFOUND, "No API token has that id.")
		}
		return nil, fmt.Errorf("scan api token: %w", err)
	}
	t.Scopes = strings.Fields(scopes)
	t.CreatedAt = parseTime(created)
	if by.Valid {
		t.CreatedBy = &by.Int64
	}
	if used.Valid {
		u := parseTime(used.String)
		t.LastUsedAt = &u
	}
	if revoked.Valid {
		r := parseTime(revoked.String)
		t.RevokedAt = &r
	}
	if revokedBy.Valid {
		t.RevokedBy = &revokedBy.Int64
	}
	return &t, nil
}

// CreateAPIToken stores a new token's hash and its audit event together.
func (s *APITokenService) CreateAPIToken(ctx context.Context, name string, scopes []string, actor *int64) (*app.APIToken, string, error) {
	name, scopes, err := app.ValidateAPIToken(name, scopes)
	if err != nil {
		return nil, "", err
	}
	secret, err := app.NewAPITokenSecret()
	if err != nil {
		return nil, "", err
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return nil, "", err
	}
	defer tx.Rollback()
	now := s.db.Now().UTC()
	res, err := insert(ctx, tx, `INSERT INTO api_tokens (name, scopes, token_sha256, created_at, created_by) VALUES (?, ?, ?, ?, ?)`,
		name, strings.Join(scopes, " "), app.HashAPIToken(secret), formatTime(now), actor)
	if isUniqueViolation(err) {
		return nil, "", app.Invalid("name", "A token named %q is already in use. Choose another name, or revoke that token first.", name)
	}
	if err != nil {
		return nil, "", fmt.Errorf("insert api token: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, "", err
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: actor, Action: "api_token.created", SubjectType: "api_token",
		SubjectID: id, Detail: name + ": " + strings.Join(scopes, " ")}); err != nil {
		return nil, "", err
	}
	t, err := scanAPIToken(tx.QueryRowContext(ctx, apiTokenSelect+` WHERE t.id = ?`, id))
	if err != nil {
		return nil, "", err
	}
	if err := tx.Commit(); err != nil {
		return nil, "", fmt.Errorf("commit api token: %w", err)
	}
	return t, secret, nil
}

// APITokens lists every token, live ones first, newest first.
func (s *APITokenService) APITokens(ctx context.Context) ([]*app.APIToken, error) {
	rows, err := s.db.read.QueryContext(ctx, apiTokenSelect+` ORDER BY t.revoked_at IS NOT NULL, t.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	var out []*app.APIToken
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken revokes a token for good; the trigger of migration 024
// refuses to change a revoked one, so a revocation is never undone.
func (s *APITokenService) RevokeAPIToken(ctx context.Context, id int64, actor *int64) (*app.APIToken, error) {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	t, err := scanAPIToken(tx.QueryRowContext(ctx, apiTokenSelect+` WHERE t.id = ?`, id))
	if err != nil {
		return nil, err
	}
	if t.RevokedAt != nil {
		return nil, app.Errorf(app.ECONFLICT, "The token %q was already revoked.", t.Name)
	}
	now := s.db.Now().UTC()
	if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ?`, formatTime(now), actor, id); err != nil {
		return nil, fmt.Errorf("revoke api token: %w", err)
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: actor, Action: "api_token.revoked", SubjectType: "api_token",
		SubjectID: id, Detail: t.Name + ": " + strings.Join(t.Scopes, " ")}); err != nil {
		return nil, err
	}
	if t, err = scanAPIToken(tx.QueryRowContext(ctx, apiTokenSelect+` WHERE t.id = ?`, id)); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit revocation: %w", err)
	}
	return t, nil
}

var errBadToken = app.Errorf(app.EUNAUTHORIZED, "The API token is missing, unknown or revoked.")

// AuthenticateAPIToken finds the live token secret is.
func (s *APITokenService) AuthenticateAPIToken(ctx context.Context, secret string) (*app.APIToken, error) {
	// Anything not shaped like a token is refused without a query.
	if !strings.HasPrefix(secret, app.APITokenPrefix) || len(secret) != len(app.APITokenPrefix)+43 {
		return nil, errBadToken
	}
	t, err := scanAPIToken(s.db.read.QueryRowContext(ctx, apiTokenSelect+` WHERE t.token_sha256 = ?`, app.HashAPIToken(secret)))
	if app.ErrorCode(err) == app.ENOTFOUND {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	if t.RevokedAt != nil {
		return nil, errBadToken
	}
	return t, nil
}

// RecordAPICall appends the call's audit event and notes the token's last
// use: one transaction of a few rows, the cost of any audited action.
func (s *APITokenService) RecordAPICall(ctx context.Context, call app.APICall) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.db.Now().UTC()
	if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, formatTime(now), call.TokenID); err != nil {
		return fmt.Errorf("note api token use: %w", err)
	}
	route := call.Route
	if len(route) > 300 {
		route = route[:300]
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, Action: "api.called", SubjectType: "api_token", SubjectID: call.TokenID,
		Detail: call.Method + " " + route + " " + strconv.Itoa(call.Status), IP: call.IP}); err != nil {
		return err
	}
	return tx.Commit()
}

package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"portal/app"
)

// SessionService implements app.SessionService. Raw tokens and session ids
// exist only in the e-mail or cookie; the database keeps their SHA-256.
type SessionService struct {
	db *DB
	// IdleTimeout ends a session not used for this long.
	IdleTimeout time.Duration
	// MaxAge ends a session this long after sign-in, however active.
	MaxAge time.Duration
}

// NewSessionService returns the session store with a 30-minute idle time-out
// and a 12-hour absolute lifetime.
func NewSessionService(db *DB) *SessionService {
	return &SessionService{db: db, IdleTimeout: 30 * time.Minute, MaxAge: 12 * time.Hour}
}

func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

var errBadLink = app.Errorf(app.EUNAUTHORIZED, "This sign-in link has expired or has already been used. Ask for a new one.")

// CreateLoginToken stores a new single-use token and returns it.
func (s *SessionService) CreateLoginToken(ctx context.Context, employeeID int64, ttl time.Duration) (string, error) {
	token, err := randomToken()
	if err != nil {
		return "", err
	}
	now := s.db.Now().UTC()
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	// Keep the table small: expired tokens are of no use to anyone.
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_tokens WHERE expires_at < ?`, formatTime(now.Add(-24*time.Hour))); err != nil {
		return "", fmt.Errorf("prune tokens: %w", err)
	}
	// The token remembers the address it is sent to: the evidence of signing names it.
	if _, err := tx.ExecContext(ctx, `INSERT INTO login_tokens (token_hash, employee_id, created_at, expires_at, email)
		SELECT ?, id, ?, ?, email FROM employees WHERE id = ?`,
		hashToken(token), formatTime(now), formatTime(now.Add(ttl)), employeeID); err != nil {
		return "", fmt.Errorf("insert token: %w", err)
	}
	return token, tx.Commit()
}

// PeekLoginToken returns the active employee a usable token belongs to.
func (s *SessionService) PeekLoginToken(ctx context.Context, token string) (*app.Employee, error) {
	var id int64
	err := s.db.read.QueryRowContext(ctx, `SELECT employee_id FROM login_tokens WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`,
		hashToken(token), formatTime(s.db.Now())).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errBadLink
	}
	if err != nil {
		return nil, fmt.Errorf("peek token: %w", err)
	}
	return s.activeEmployee(ctx, s.db.read, id)
}

// ConsumeLoginToken marks the token used — exactly once — and returns its
// employee and the address the link was sent to.
func (s *SessionService) ConsumeLoginToken(ctx context.Context, token string) (*app.Employee, string, error) {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return nil, "", err
	}
	defer tx.Rollback()
	now := formatTime(s.db.Now())
	var id int64
	var sentTo string
	err = tx.QueryRowContext(ctx, `UPDATE login_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
		RETURNING employee_id, email`, now, hashToken(token), now).Scan(&id, &sentTo)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", errBadLink
	}
	if err != nil {
		return nil, "", fmt.Errorf("use token: %w", err)
	}
	e, err := s.activeEmployee(ctx, tx, id)
	if err != nil {
		return nil, "", err
	}
	return e, sentTo, tx.Commit()
}

func (s *SessionService) activeEmployee(ctx context.Context, q querier, id int64) (*app.Employee, error) {
	e, err := findEmployee(ctx, q, `e.id = ?`, id)
	if app.ErrorCode(err) == app.ENOTFOUND || (err == nil && !e.Active) {
		return nil, errBadLink
	}
	return e, err
}

// CreateSession starts a new session with a fresh id. Callers discard any
// session the browser had before, so an id known before sign-in is useless
// after. Each sign-in is an audit event in the evidence log, so a person may
// start only app.MaxSignIns in app.SignInWindow: past that nothing is
// recorded and the answer is ETOOMANY.
func (s *SessionService) CreateSession(ctx context.Context, employeeID int64, method, identity string) (*app.Session, error) {
	id, err := randomToken()
	if err != nil {
		return nil, err
	}
	now := s.db.Now().UTC()
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var recent int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE subject_id = ? AND at > ? AND action = 'session.signed_in'`,
		employeeID, formatTime(now.Add(-app.SignInWindow))).Scan(&recent); err != nil {
		return nil, fmt.Errorf("count sign-ins: %w", err)
	}
	if recent >= app.MaxSignIns {
		return nil, app.Errorf(app.ETOOMANY, "You have signed in %d times in the last %d minutes. Please wait a few minutes, then try again.",
			recent, int(app.SignInWindow.Minutes()))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?`,
		formatTime(now.Add(-s.IdleTimeout)), formatTime(now.Add(-s.MaxAge))); err != nil {
		return nil, fmt.Errorf("prune sessions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, employee_id, auth_method, identity, created_at, last_seen_at)
		VALUES (?, ?, ?, ?, ?, ?)`, hashToken(id), employeeID, method, identity, formatTime(now), formatTime(now)); err != nil {
		return nil, fmt.Errorf("insert session: %w", err)
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: &employeeID, Action: "session.signed_in",
		SubjectType: "employee", SubjectID: employeeID, Detail: method + " " + identity}); err != nil {
		return nil, err
	}
	return &app.Session{ID: id, EmployeeID: employeeID, AuthMethod: method, Identity: identity, CreatedAt: now, LastSeenAt: now}, tx.Commit()
}

// FindSession returns the live session for a raw id. A session past its idle
// or absolute time-out, or whose employee is no longer active, is not live.
func (s *SessionService) FindSession(ctx context.Context, id string) (*app.Session, error) {
	if id == "" {
		return nil, app.Errorf(app.EUNAUTHORIZED, "Please sign in.")
	}
	var sess app.Session
	var created, seen string
	// One query for the session and its employee: this runs on every request.
	row := s.db.read.QueryRowContext(ctx, `SELECT s.auth_method, s.identity, s.created_at, s.last_seen_at, `+employeeColumns+`
		FROM sessions s JOIN employees e ON e.id = s.employee_id WHERE s.id_hash = ? AND e.active = 1`, hashToken(id))
	var err error
	sess.Employee, err = scanEmployee(row, &sess.AuthMethod, &sess.Identity, &created, &seen)
	if sess.Employee != nil {
		sess.EmployeeID = sess.Employee.ID
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.EUNAUTHORIZED, "Your session has ended. Please sign in again.")
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	now := s.db.Now().UTC()
	sess.ID, sess.CreatedAt, sess.LastSeenAt = id, parseTime(created), parseTime(seen)
	if now.Sub(sess.LastSeenAt) > s.IdleTimeout || now.Sub(sess.CreatedAt) > s.MaxAge {
		return nil, app.Errorf(app.EUNAUTHORIZED, "Your session has ended. Please sign in again.")
	}
	// Touch at most once a minute so reading pages does not mean a write each time.
	if now.Sub(sess.LastSeenAt) > time.Minute {
		if _, err := s.db.execWrite(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, formatTime(now), hashToken(id)); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
		sess.LastSeenAt = now
	}
	return &sess, nil
}

// DeleteSession ends a session on the server.
func (s *SessionService) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.execWrite(ctx, `DELETE FROM sessions WHERE id_hash = ?`, hashToken(id)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

package store

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

// CreateLoginToken stores a new single-use token and returns it. It
// expires ttl later in steady time (clock.go), so that a clock set back does
// not lengthen its life; expired tokens are removed by SweepExpired.
func (s *SessionService) CreateLoginToken(ctx context.Context, employeeID int64, ttl time.Duration) (string, error) {
	token, err := randomToken()
	if err != nil {
		return "", err
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	wall, steady, err := s.db.steadyNow(ctx, tx)
	if err != nil {
		return "", err
	}
	// The token remembers the address it is sent to: the evidence of signing names it.
	if _, err := tx.ExecContext(ctx, `INSERT INTO login_tokens (token_hash, employee_id, created_at, expires_at, email)
		SELECT ?, id, ?, ?, email FROM employees WHERE id = ?`,
		hashToken(token), formatTime(wall), formatTime(steady.Add(ttl)), employeeID); err != nil {
		return "", fmt.Errorf("insert token: %w", err)
	}
	if err := saveMark(ctx, tx, steady); err != nil {
		return "", err
	}
	return token, tx.Commit()
}

// live reports whether a token or session made at created (by the clock)
// and expiring at expires (in steady time) is alive at this reading of the
// clock. Made after the clock's time means the clock has gone back since:
// it is refused too, whatever its expiry says.
func live(created, expires string, wall, steady time.Time) bool {
	return !parseTime(created).After(wall) && steady.Before(parseTime(expires))
}

// PeekLoginToken returns the active employee a usable token belongs to.
func (s *SessionService) PeekLoginToken(ctx context.Context, token string) (*app.Employee, error) {
	var id int64
	var created, expires, kept string
	err := s.db.read.QueryRowContext(ctx, `SELECT t.employee_id, t.created_at, t.expires_at, c.high_water
		FROM login_tokens t JOIN clock c ON c.id = 1 WHERE t.token_hash = ? AND t.used_at IS NULL`,
		hashToken(token)).Scan(&id, &created, &expires, &kept)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errBadLink
	}
	if err != nil {
		return nil, fmt.Errorf("peek token: %w", err)
	}
	if wall, steady := s.db.steadyAt(kept); !live(created, expires, wall, steady) {
		return nil, errBadLink
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
	wall, steady, err := s.db.steadyNow(ctx, tx)
	if err != nil {
		return nil, "", err
	}
	var id int64
	var sentTo string
	err = tx.QueryRowContext(ctx, `UPDATE login_tokens SET used_at = ?
		WHERE token_hash = ? AND used_at IS NULL AND created_at <= ? AND expires_at > ?
		RETURNING employee_id, email`, formatTime(wall), hashToken(token), formatTime(wall), formatTime(steady)).Scan(&id, &sentTo)
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
	if err := saveMark(ctx, tx, steady); err != nil {
		return nil, "", err
	}
	return e, sentTo, tx.Commit()
}

func (s *SessionService) activeEmployee(ctx context.Context, q querier, id int64) (*app.Employee, error) {
	e, err := findEmployee(ctx, q, `e.id = ?`, id)
	if app.ErrorCode(err) == app.ENOTFOUND || (err == nil && !e.Active) {
		return nil, errBadLink
	}
	return s.db.derivePoster(e), err
}

// CreateSession starts a new session with a fresh id. Callers discard any
// session the browser had before, so an id known before sign-in is useless
// after. Each sign-in is an audit event in the evidence log, so a person may
// start only app.MaxSignIns in app.SignInWindow: past that nothing is
// recorded and the answer is ETOOMANY. Expired sessions are not removed
// here but by SweepExpired, in the background.
func (s *SessionService) CreateSession(ctx context.Context, employeeID int64, method, identity string) (*app.Session, error) {
	return s.CreateIssuedSession(ctx, employeeID, method, identity, "")
}

// CreateIssuedSession is CreateSession with the issuer that vouched for
// identity (OpenID Connect), kept with the session and said in its audit event.
func (s *SessionService) CreateIssuedSession(ctx context.Context, employeeID int64, method, identity, issuer string) (*app.Session, error) {
	id, err := randomToken()
	if err != nil {
		return nil, err
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now, steady, err := s.db.steadyNow(ctx, tx)
	if err != nil {
		return nil, err
	}
	var recent int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE subject_id = ? AND at > ? AND action = 'session.signed_in'`,
		employeeID, formatTime(now.Add(-app.SignInWindow))).Scan(&recent); err != nil {
		return nil, fmt.Errorf("count sign-ins: %w", err)
	}
	if recent >= app.MaxSignIns {
		return nil, app.Errorf(app.ETOOMANY, "You have signed in %d times in the last %d minutes. Please wait a few minutes, then try again.",
			recent, int(app.SignInWindow.Minutes()))
	}
	ends := steady.Add(s.MaxAge)
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, employee_id, auth_method, identity, issuer, created_at, last_seen_at, expires_at, ends_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, hashToken(id), employeeID, method, identity, issuer, formatTime(now), formatTime(now),
		formatTime(earliest(steady.Add(s.IdleTimeout), ends)), formatTime(ends)); err != nil {
		return nil, fmt.Errorf("insert session: %w", err)
	}
	detail := method + " " + identity
	if issuer != "" {
		detail += " at " + issuer
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: &employeeID, Action: "session.signed_in",
		SubjectType: "employee", SubjectID: employeeID, Detail: detail}); err != nil {
		return nil, err
	}
	if err := saveMark(ctx, tx, steady); err != nil {
		return nil, err
	}
	return &app.Session{ID: id, EmployeeID: employeeID, AuthMethod: method, Identity: identity, Issuer: issuer, CreatedAt: now, LastSeenAt: now}, tx.Commit()
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

var errSessionEnded = app.Errorf(app.EUNAUTHORIZED, "Your session has ended. Please sign in again.")

// FindSession returns the live session for a raw id. A session past its idle
// or absolute time-out (in steady time), made after the clock's time (the
// clock went back), or whose employee is no longer active, is not live.
func (s *SessionService) FindSession(ctx context.Context, id string) (*app.Session, error) {
	if id == "" {
		return nil, app.Errorf(app.EUNAUTHORIZED, "Please sign in.")
	}
	var sess app.Session
	var created, seen, expires, ends, kept string
	// One query for the session, its employee and the clock's mark: this runs on every request.
	row := s.db.read.QueryRowContext(ctx, `SELECT s.auth_method, s.identity, s.issuer, s.created_at, s.last_seen_at, s.expires_at, s.ends_at,
		c.high_water, `+employeeColumns+`
		FROM sessions s JOIN employees e ON e.id = s.employee_id JOIN clock c ON c.id = 1
		WHERE s.id_hash = ? AND e.active = 1`, hashToken(id))
	var err error
	sess.Employee, err = scanEmployee(row, &sess.AuthMethod, &sess.Identity, &sess.Issuer, &created, &seen, &expires, &ends, &kept)
	s.db.derivePoster(sess.Employee)
	if sess.Employee != nil {
		sess.EmployeeID = sess.Employee.ID
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errSessionEnded
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	wall, steady := s.db.steadyAt(kept)
	if !live(created, expires, wall, steady) {
		return nil, errSessionEnded
	}
	sess.ID, sess.CreatedAt, sess.LastSeenAt = id, parseTime(created), parseTime(seen)
	// Move the idle time-out on only when it gains more than a minute, so
	// that reading pages does not mean a write each time.
	next := earliest(steady.Add(s.IdleTimeout), parseTime(ends))
	if next.Sub(parseTime(expires)) > time.Minute {
		if err := s.touch(ctx, id, wall, steady, next); err != nil {
			return nil, err
		}
		sess.LastSeenAt = wall
	}
	return &sess, nil
}

func (s *SessionService) touch(ctx context.Context, id string, wall, steady, expires time.Time) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?`,
		formatTime(wall), formatTime(expires), hashToken(id)); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	if err := saveMark(ctx, tx, steady); err != nil {
		return err
	}
	return tx.Commit()
}

// SweepExpired deletes at most batch expired sessions and at most batch
// expired sign-in links, and returns how many rows it deleted. Both
// tables are indexed by expiry, so a batch costs its own rows and not a
// scan; the background sweep calls it until a batch comes back short, one
// short transaction each so that web writes go in between. It also keeps
// the clock's mark.
func (s *SessionService) SweepExpired(ctx context.Context, batch int) (int, error) {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	_, steady, err := s.db.steadyNow(ctx, tx)
	if err != nil {
		return 0, err
	}
	// Past its expiry in steady time, a row can never be live again.
	deleted := 0
	for _, q := range []string{
		`DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE expires_at <= ? LIMIT ?)`,
		`DELETE FROM login_tokens WHERE token_hash IN (SELECT token_hash FROM login_tokens WHERE expires_at <= ? LIMIT ?)`,
	} {
		res, err := tx.ExecContext(ctx, q, formatTime(steady), batch)
		if err != nil {
			return 0, fmt.Errorf("sweep expired: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("sweep expired: %w", err)
		}
		deleted += int(n)
	}
	if err := s.db.foldNames(ctx, tx); err != nil {
		return 0, err
	}
	n, err := sweepRateHits(ctx, tx, s.db.Now(), batch)
	if err != nil {
		return 0, err
	}
	deleted += n
	if err := saveMark(ctx, tx, steady); err != nil {
		return 0, err
	}
	return deleted, tx.Commit()
}

// DeleteSession ends a session on the server.
func (s *SessionService) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.execWrite(ctx, `DELETE FROM sessions WHERE id_hash = ?`, hashToken(id)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"portal/app"
	"portal/app/evidence"
)

// PolicyService implements app.PolicyService. Published versions never
// change, so decoded versions are cached for the life of the process.
type PolicyService struct {
	db    *DB
	cache sync.Map // id → *app.PolicyVersion
}

// NewPolicyService returns the policy-version store.
func NewPolicyService(db *DB) *PolicyService { return &PolicyService{db: db} }

// bundle is the stored JSON form of a version's content.
type bundle struct {
	Changes    string         `json:"changes"`
	PolicyText string         `json:"policy_text"`
	Intent     string         `json:"intent"`
	Modules    []app.Module   `json:"modules"`
	Questions  []app.Question `json:"questions"`
	// Documents lists the official documents without their bytes (those
	// are in policy_documents); absent for versions without any.
	Documents []app.PolicyDocument `json:"documents,omitempty"`
}

// PublishVersion freezes v. Publishing the same code with the same hash again
// is a no-op that fills in v.ID; another hash for a known code is ECONFLICT.
func (s *PolicyService) PublishVersion(ctx context.Context, v *app.PolicyVersion) error {
	if v.SHA256 == "" || v.Code == "" {
		return app.Errorf(app.EINVALID, "A policy version needs a code and a hash.")
	}
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var id int64
	var sum string
	err = tx.QueryRowContext(ctx, `SELECT id, sha256 FROM policy_versions WHERE code = ?`, v.Code).Scan(&id, &sum)
	switch {
	case err == nil && sum == v.SHA256:
		v.ID = id
		return nil
	case err == nil:
		return app.Errorf(app.ECONFLICT, "Policy version %s is already published with different content; publish the change as a new version.", v.Code)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("find version %s: %w", v.Code, err)
	}
	body, err := json.Marshal(bundle{v.Changes, v.PolicyText, v.Intent, v.Modules, v.Questions, v.Documents})
	if err != nil {
		return fmt.Errorf("encode version %s: %w", v.Code, err)
	}
	now := s.db.Now().UTC().Truncate(time.Microsecond) // as stored
	res, err := insert(ctx, tx, `INSERT INTO policy_versions (code, title, kind, effective, sha256, bundle, published_at, published_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, v.Code, v.Title, v.Kind, v.Effective, v.SHA256, string(body), formatTime(now), v.PublishedBy)
	if err != nil {
		return fmt.Errorf("insert version %s: %w", v.Code, err)
	}
	if v.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	v.PublishedAt = now
	for _, d := range v.Documents {
		if d.Size != int64(len(d.Data)) {
			return app.Errorf(app.EINVALID, "Document %s of version %s has no content.", d.Name, v.Code)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO policy_documents (policy_version_id, name, content_type, size, sha256, data)
			VALUES (?, ?, ?, ?, ?, ?)`, v.ID, d.Name, d.ContentType, d.Size, d.SHA256, d.Data); err != nil {
			return fmt.Errorf("insert document %s of version %s: %w", d.Name, v.Code, err)
		}
	}
	if _, err := s.db.appendLeaf(ctx, tx, evidence.PolicyVersionLeaf(v)); err != nil {
		return err
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: v.PublishedBy, Action: "policy.published", SubjectType: "policy_version",
		SubjectID: v.ID, Detail: v.Code + " " + v.SHA256}); err != nil {
		return err
	}
	return tx.Commit()
}

// FindVersionByID returns a published version.
func (s *PolicyService) FindVersionByID(ctx context.Context, id int64) (*app.PolicyVersion, error) {
	if v, ok := s.cache.Load(id); ok {
		return v.(*app.PolicyVersion), nil
	}
	return s.find(ctx, `id = ?`, id)
}

// FindVersionByCode returns a published version by its code.
func (s *PolicyService) FindVersionByCode(ctx context.Context, code string) (*app.PolicyVersion, error) {
	return s.find(ctx, `code = ?`, code)
}

func (s *PolicyService) find(ctx context.Context, where string, arg any) (*app.PolicyVersion, error) {
	v, err := scanPolicyVersion(s.db.read.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM policy_versions WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Policy version not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find policy version: %w", err)
	}
	s.cache.Store(v.ID, v)
	return v, nil
}

// FindVersions lists every published version, newest first, without their content.
func (s *PolicyService) FindVersions(ctx context.Context) ([]*app.PolicyVersion, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT id, code, title, kind, effective, sha256, published_at
		FROM policy_versions ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list policy versions: %w", err)
	}
	defer rows.Close()
	var out []*app.PolicyVersion
	for rows.Next() {
		var v app.PolicyVersion
		var published string
		if err := rows.Scan(&v.ID, &v.Code, &v.Title, &v.Kind, &v.Effective, &v.SHA256, &published); err != nil {
			return nil, fmt.Errorf("scan policy version: %w", err)
		}
		v.PublishedAt = parseTime(published)
		out = append(out, &v)
	}
	return out, rows.Err()
}

// FindDocument returns an official document of a published version with its
// bytes. Bytes that no longer match the SHA-256 published with the version
// are an internal error, never served as the document.
func (s *PolicyService) FindDocument(ctx context.Context, versionID int64, name string) (*app.PolicyDocument, error) {
	v, err := s.FindVersionByID(ctx, versionID)
	if err != nil {
		return nil, err
	}
	want := v.Document(name)
	if want == nil {
		return nil, app.Errorf(app.ENOTFOUND, "Document not found.")
	}
	d := *want
	err = s.db.read.QueryRowContext(ctx, `SELECT data FROM policy_documents WHERE policy_version_id = ? AND name = ?`, versionID, name).Scan(&d.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("document %s of version %s is listed but not stored", name, v.Code)
	}
	if err != nil {
		return nil, fmt.Errorf("find document %s of version %s: %w", name, v.Code, err)
	}
	sum := sha256.Sum256(d.Data)
	if hex.EncodeToString(sum[:]) != d.SHA256 || int64(len(d.Data)) != d.Size {
		return nil, fmt.Errorf("document %s of version %s no longer matches its published SHA-256", name, v.Code)
	}
	return &d, nil
}

package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"portal/app"
	"portal/app/evidence"
)

// checkDocuments checks the official documents against the versions that
// list them. A version's hash covers each document's name, type, size and
// SHA-256 (kept in its bundle), not the bytes, which live in
// policy_documents; so the bytes are re-hashed here, and every stored
// document must be listed by its version and every listed one stored.
func checkDocuments(ctx context.Context, tx *sql.Tx) (*evidence.Problem, error) {
	listed := map[int64]map[string]app.PolicyDocument{}
	codes := map[int64]string{}
	rows, err := tx.QueryContext(ctx, `SELECT id, code, bundle FROM policy_versions ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read policy versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var code, body string
		if err := rows.Scan(&id, &code, &body); err != nil {
			return nil, fmt.Errorf("read policy versions: %w", err)
		}
		var b struct {
			Documents []app.PolicyDocument `json:"documents"`
		}
		if err := json.Unmarshal([]byte(body), &b); err != nil {
			return nil, fmt.Errorf("decode policy version %s: %w", code, err)
		}
		codes[id], listed[id] = code, map[string]app.PolicyDocument{}
		for _, d := range b.Documents {
			listed[id][d.Name] = d
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	problem := func(version int64, format string, args ...any) *evidence.Problem {
		return &evidence.Problem{Index: -1, Kind: evidence.KindPolicyVersion, RefID: version, Reason: fmt.Sprintf(format, args...)}
	}
	docs, err := tx.QueryContext(ctx, `SELECT policy_version_id, name, content_type, size, sha256, data FROM policy_documents ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read policy documents: %w", err)
	}
	defer docs.Close()
	seen := map[int64]map[string]bool{}
	for docs.Next() {
		var d app.PolicyDocument
		var version int64
		if err := docs.Scan(&version, &d.Name, &d.ContentType, &d.Size, &d.SHA256, &d.Data); err != nil {
			return nil, fmt.Errorf("read policy documents: %w", err)
		}
		want, ok := listed[version][d.Name]
		if !ok {
			return problem(version, "document %q of policy version %d is not listed with the version (it was added outside the portal)", d.Name, version), nil
		}
		sum := sha256.Sum256(d.Data)
		if hex.EncodeToString(sum[:]) != want.SHA256 || int64(len(d.Data)) != want.Size || d.ContentType != want.ContentType || d.SHA256 != want.SHA256 {
			return problem(version, "document %q of policy version %s no longer matches the SHA-256 published with the version (it was changed)", d.Name, codes[version]), nil
		}
		if seen[version] == nil {
			seen[version] = map[string]bool{}
		}
		seen[version][d.Name] = true
	}
	if err := docs.Err(); err != nil {
		return nil, err
	}
	for version, names := range listed {
		for name := range names {
			if !seen[version][name] {
				return problem(version, "document %q of policy version %s is listed with the version but missing", name, codes[version]), nil
			}
		}
	}
	return nil, nil
}

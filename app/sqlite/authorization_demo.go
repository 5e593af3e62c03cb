package sqlite

import (
	"context"
	"fmt"
)

// until the registry lands: the account registry (social_accounts) is
// another change's; until it is merged, the demo creates its accounts
// here. The lead removes this file, and its one caller in server/demo_authz.go,
// at merge.

// SeedDemoAccount adds an account to the registry for the demo, unless one
// with that platform and handle exists, and returns its id.
func SeedDemoAccount(ctx context.Context, db *DB, agency, platform, handle, url, status string) (int64, error) {
	now := formatTime(db.Now())
	if _, err := db.write.ExecContext(ctx, `INSERT INTO social_accounts (agency, platform, handle, url, purpose, terms_accepted_by,
		terms_accepted_on, archive_method, status, review_on, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'News and service updates for the public', 'The agency''s communications director', ?, 'Weekly export to the records system', ?, ?, ?, ?)
		ON CONFLICT (platform, handle) DO NOTHING`, agency, platform, handle, url, db.Today(), status, db.Today(), now, now); err != nil {
		return 0, fmt.Errorf("seed demo account: %w", err)
	}
	var id int64
	err := db.read.QueryRowContext(ctx, `SELECT id FROM social_accounts WHERE platform = ? AND handle = ?`, platform, handle).Scan(&id)
	return id, err
}

-- API tokens: bearer tokens an administrator creates for HR and learning
-- systems. Only the SHA-256 of each token is kept, so a copy of the
-- database does not give anyone a working token. A token is never deleted
-- (the audit log names it) and, once revoked, stays revoked; its name,
-- scopes and hash never change. Only last_used_at moves, and revoked_at
-- and revoked_by are set once.
CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL,
	scopes       TEXT NOT NULL, -- space-separated, in app.APIScopes order
	token_sha256 BLOB NOT NULL UNIQUE,
	created_at   TEXT NOT NULL,
	created_by   INTEGER REFERENCES employees(id), -- NULL: the command line
	last_used_at TEXT,
	revoked_at   TEXT,
	revoked_by   INTEGER REFERENCES employees(id)
);
-- Two live tokens never share a name: the audit log tells calls apart by it.
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens(name) WHERE revoked_at IS NULL;
CREATE TRIGGER api_tokens_kept BEFORE DELETE ON api_tokens
BEGIN SELECT RAISE(ABORT, 'API tokens are kept for the audit log'); END;
CREATE TRIGGER api_tokens_fixed BEFORE UPDATE OF id, name, scopes, token_sha256, created_at, created_by ON api_tokens
BEGIN SELECT RAISE(ABORT, 'an API token''s name, scopes and hash never change'); END;
CREATE TRIGGER api_tokens_stay_revoked BEFORE UPDATE OF revoked_at, revoked_by ON api_tokens
WHEN OLD.revoked_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a revoked API token stays revoked'); END;

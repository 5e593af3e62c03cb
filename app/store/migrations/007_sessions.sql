-- Sessions get an indexed expiry, so that a background sweep removes the
-- expired ones a batch at a time instead of every sign-in scanning the
-- whole table. expires_at is when the session ends unless used again (the
-- idle time-out, never past ends_at); ends_at is its absolute end. Both are
-- in the portal's steady time (app/store/clock.go), which is the clock's
-- time unless the clock has gone back. Sessions open at the upgrade keep
-- the defaults they were made with (30 minutes idle, 12 hours in all),
-- rounded down to the second.
ALTER TABLE sessions ADD COLUMN ends_at TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN expires_at TEXT NOT NULL DEFAULT '';
UPDATE sessions SET ends_at = coalesce(strftime('%Y-%m-%dT%H:%M:%S', created_at, '+12 hours') || '.000000Z', '');
UPDATE sessions SET expires_at = min(ends_at, coalesce(strftime('%Y-%m-%dT%H:%M:%S', last_seen_at, '+30 minutes') || '.000000Z', ''));
CREATE INDEX sessions_expires ON sessions(expires_at);
-- login_tokens(expires_at) has been indexed since 001 (login_tokens_expires).

-- The steady clock's high-water mark: the latest time the portal has seen,
-- kept so that a restart, or another process on this database, never
-- starts from an earlier one. Empty until first written.
CREATE TABLE clock (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	high_water TEXT NOT NULL
);
INSERT INTO clock (id, high_water) VALUES (1, '');

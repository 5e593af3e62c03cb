-- The evidence log: every evidence record is an entry of a Merkle tree
-- whose signed checkpoints leave the building; acknowledgments hold the
-- signer as at signing; roster, address and cycle-version changes become
-- evidence; no secret stays in the database. After this file, upgradeToLog
-- (app/store/upgrade.go) builds the log from the old chain, in the same
-- transaction.

-- Acknowledgments: the signer's identity as it was at signing, so that a
-- later roster change alters nothing a certificate says. Rows signed before
-- this upgrade get the roster as it is now (the best that can be known).
DROP TRIGGER acknowledgments_immutable_u;
ALTER TABLE acknowledgments ADD COLUMN employee_number TEXT NOT NULL DEFAULT '';
ALTER TABLE acknowledgments ADD COLUMN full_name TEXT NOT NULL DEFAULT '';
ALTER TABLE acknowledgments ADD COLUMN agency TEXT NOT NULL DEFAULT '';
ALTER TABLE acknowledgments ADD COLUMN department TEXT NOT NULL DEFAULT '';
ALTER TABLE acknowledgments ADD COLUMN sign_in_identity TEXT NOT NULL DEFAULT '';
UPDATE acknowledgments SET (employee_number, full_name, agency, department) = (
	SELECT e.employee_number, e.full_name, e.agency, e.department FROM employees e WHERE e.id = acknowledgments.employee_id);
CREATE TRIGGER acknowledgments_immutable_u BEFORE UPDATE ON acknowledgments
BEGIN SELECT RAISE(ABORT, 'signed acknowledgments are never updated'); END;

ALTER TABLE policy_versions ADD COLUMN published_by INTEGER REFERENCES employees(id);

-- Every change to a person's roster record, field by field: the roster is
-- the sum of these. changes is a JSON array of [field, old, new].
CREATE TABLE roster_changes (
	id              INTEGER PRIMARY KEY,
	at              TEXT NOT NULL,
	actor_id        INTEGER REFERENCES employees(id),
	source          TEXT NOT NULL,
	employee_id     INTEGER NOT NULL REFERENCES employees(id),
	employee_number TEXT NOT NULL,
	changes         TEXT NOT NULL
);
CREATE INDEX roster_changes_employee ON roster_changes(employee_id, id);
CREATE TRIGGER roster_changes_immutable_u BEFORE UPDATE ON roster_changes
BEGIN SELECT RAISE(ABORT, 'roster changes are evidence'); END;
CREATE TRIGGER roster_changes_immutable_d BEFORE DELETE ON roster_changes
BEGIN SELECT RAISE(ABORT, 'roster changes are evidence'); END;

-- An address change from a web upload waits for a second person: the
-- request, then one decision (approve or reject).
CREATE TABLE address_changes (
	id          INTEGER PRIMARY KEY,
	request_id  INTEGER REFERENCES address_changes(id),
	action      TEXT NOT NULL CHECK (action IN ('request', 'approve', 'reject')),
	employee_id INTEGER NOT NULL REFERENCES employees(id),
	old_email   TEXT NOT NULL,
	new_email   TEXT NOT NULL,
	actor_id    INTEGER REFERENCES employees(id),
	at          TEXT NOT NULL,
	CHECK ((action = 'request') = (request_id IS NULL))
);
CREATE INDEX address_changes_employee ON address_changes(employee_id, id);
CREATE UNIQUE INDEX address_changes_one_decision ON address_changes(request_id) WHERE request_id IS NOT NULL;
CREATE TRIGGER address_changes_immutable_u BEFORE UPDATE ON address_changes
BEGIN SELECT RAISE(ABORT, 'address changes are evidence'); END;
CREATE TRIGGER address_changes_immutable_d BEFORE DELETE ON address_changes
BEGIN SELECT RAISE(ABORT, 'address changes are evidence'); END;

-- An open cycle moving to a newer version. Whether an acknowledgment is
-- superseded is worked out from these rows alone.
CREATE TABLE cycle_versions (
	id              INTEGER PRIMARY KEY,
	cycle_id        INTEGER NOT NULL REFERENCES cycles(id),
	from_version_id INTEGER NOT NULL REFERENCES policy_versions(id),
	to_version_id   INTEGER NOT NULL REFERENCES policy_versions(id),
	material        INTEGER NOT NULL,
	at              TEXT NOT NULL,
	actor_id        INTEGER REFERENCES employees(id)
);
CREATE INDEX cycle_versions_cycle ON cycle_versions(cycle_id, material, to_version_id);
CREATE TRIGGER cycle_versions_immutable_u BEFORE UPDATE ON cycle_versions
BEGIN SELECT RAISE(ABORT, 'cycle version changes are evidence'); END;
CREATE TRIGGER cycle_versions_immutable_d BEFORE DELETE ON cycle_versions
BEGIN SELECT RAISE(ABORT, 'cycle version changes are evidence'); END;

-- The log: one row an entry (idx from 0), the tree's stored hashes by tlog
-- storage index, and every signed checkpoint.
CREATE TABLE log_entries (
	idx    INTEGER PRIMARY KEY,
	kind   TEXT NOT NULL,
	ref_id INTEGER NOT NULL,
	hash   BLOB NOT NULL,
	seal   BLOB NOT NULL,
	UNIQUE (kind, ref_id)
);
CREATE TABLE log_hashes (
	id   INTEGER PRIMARY KEY,
	hash BLOB NOT NULL
);
CREATE TABLE log_checkpoints (
	id        INTEGER PRIMARY KEY,
	size      INTEGER NOT NULL,
	root      BLOB NOT NULL,
	signed_at TEXT NOT NULL,
	note      BLOB NOT NULL
);
CREATE INDEX log_checkpoints_size ON log_checkpoints(size);
CREATE TRIGGER log_entries_immutable_u BEFORE UPDATE ON log_entries
BEGIN SELECT RAISE(ABORT, 'the evidence log is append-only'); END;
CREATE TRIGGER log_entries_immutable_d BEFORE DELETE ON log_entries
BEGIN SELECT RAISE(ABORT, 'the evidence log is append-only'); END;
CREATE TRIGGER log_hashes_immutable_u BEFORE UPDATE ON log_hashes
BEGIN SELECT RAISE(ABORT, 'the evidence log is append-only'); END;
CREATE TRIGGER log_hashes_immutable_d BEFORE DELETE ON log_hashes
BEGIN SELECT RAISE(ABORT, 'the evidence log is append-only'); END;
CREATE TRIGGER log_checkpoints_immutable_u BEFORE UPDATE ON log_checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are evidence'); END;
CREATE TRIGGER log_checkpoints_immutable_d BEFORE DELETE ON log_checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are evidence'); END;

-- How each session signed in: the address its link went to, or the SSO identity.
ALTER TABLE sessions ADD COLUMN identity TEXT NOT NULL DEFAULT '';
ALTER TABLE login_tokens ADD COLUMN email TEXT NOT NULL DEFAULT '';

-- A queued sign-in message carries its link encrypted with a key that is
-- not in the database; the link is never stored in clear.
ALTER TABLE outbox ADD COLUMN sealed BLOB;
UPDATE outbox SET status = 'skipped', last_error = 'sign-in link withdrawn at upgrade'
	WHERE kind = 'signin' AND status = 'queued';
UPDATE outbox SET text_body = '', html_body = '' WHERE kind = 'signin';

-- Addresses that receive each day's checkpoint, named by administrators.
CREATE TABLE witnesses (
	email    TEXT PRIMARY KEY COLLATE NOCASE,
	added_by INTEGER REFERENCES employees(id),
	added_at TEXT NOT NULL
) WITHOUT ROWID;

-- The CSRF key an earlier version kept here now comes from outside.
DELETE FROM settings WHERE key = 'secret';

CREATE INDEX quiz_attempts_recent ON quiz_attempts(employee_id, created_at);
CREATE INDEX audit_events_signins ON audit_events(subject_id, at) WHERE action = 'session.signed_in';

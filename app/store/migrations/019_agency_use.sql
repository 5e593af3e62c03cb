-- The agency-use side of the policy (the State's social media policy for
-- agencies): each agency's Social Media Supervisor, its accounts, the people
-- the supervisor authorizes to post on them, its Terms of Comment, and the
-- poster's own acknowledgment. Every step is an evidence row: the tables
-- marked "evidence" refuse UPDATE and DELETE, and each of their rows is
-- written in the same transaction as an audit event (which the evidence log
-- holds). Mutable tables (social_accounts, agency_supervisors) are the sum of
-- their evidence rows and are never the only record of anything.

-- What a person acknowledges is data, not code. A kind names the part of a
-- policy version it covers (the modules, and their questions, whose audience
-- is part: 'all' for the annual personal-use acknowledgment, 'posters' for
-- the agency-use one), how people come to owe it (assign: 'cycle', everyone
-- in a cycle HR opens; 'authorization', each person a supervisor authorizes
-- to post, due_days after their first authorization and then a year after
-- each signature), its own pass mark (NULL: the portal's PORTAL_PASS_MARK),
-- the policy it names on the certificate, and the intent sentence the signer
-- affirms ('' : the policy version's own sentence).
CREATE TABLE acknowledgment_kinds (
	code        TEXT PRIMARY KEY,
	title       TEXT NOT NULL,
	policy_name TEXT NOT NULL,
	part        TEXT NOT NULL CHECK (part IN ('all', 'posters')),
	assign      TEXT NOT NULL CHECK (assign IN ('cycle', 'authorization')),
	pass_mark   INTEGER CHECK (pass_mark BETWEEN 1 AND 100),
	due_days    INTEGER NOT NULL DEFAULT 30 CHECK (due_days BETWEEN 1 AND 365),
	intent      TEXT NOT NULL DEFAULT '',
	position    INTEGER NOT NULL UNIQUE
) WITHOUT ROWID;
INSERT INTO acknowledgment_kinds (code, title, policy_name, part, assign, pass_mark, due_days, intent, position) VALUES
	('personal-use', 'Annual acknowledgment: personal use of social media',
	 'Personal Use of Social Media', 'all', 'cycle', NULL, 30, '', 1),
	('agency-use', 'Authorized poster acknowledgment: posting for your agency',
	 'Social Media Policy (agency use)', 'posters', 'authorization', 80, 30,
	 'I have read and understand the State''s social media policy for agency use, the guidance for authorized posters in this portal and my agency''s Terms of Comment named above, and I will follow them whenever I post for my agency on the accounts named above.', 2);

-- Every cycle is of one kind; the acknowledgments of a cycle are of its kind.
-- At most one open cycle per kind and year.
-- (SQLite cannot add a REFERENCES column with a default, so a trigger checks.)
ALTER TABLE cycles ADD COLUMN kind TEXT NOT NULL DEFAULT 'personal-use';
CREATE TRIGGER cycles_kind_known BEFORE INSERT ON cycles
WHEN NOT EXISTS (SELECT 1 FROM acknowledgment_kinds WHERE code = NEW.kind)
BEGIN SELECT RAISE(ABORT, 'unknown acknowledgment kind'); END;
DROP INDEX cycles_one_open_per_year;
CREATE UNIQUE INDEX cycles_one_open_per_kind_year ON cycles(kind, year) WHERE open = 1;

-- Social Media Supervisors: an administrator designates one person per
-- agency, or ends a designation (evidence). agency_supervisors is the
-- current state, kept in the same transaction: at most one a agency.
CREATE TABLE supervisor_designations (
	id          INTEGER PRIMARY KEY,
	agency      TEXT NOT NULL,
	employee_id INTEGER NOT NULL REFERENCES employees(id),
	action      TEXT NOT NULL CHECK (action IN ('designate', 'end')),
	reason      TEXT NOT NULL DEFAULT '',
	actor_id    INTEGER REFERENCES employees(id), -- NULL: the portal itself (a roster change ended it)
	at          TEXT NOT NULL
);
CREATE INDEX supervisor_designations_agency ON supervisor_designations(agency, id);
CREATE TRIGGER supervisor_designations_immutable_u BEFORE UPDATE ON supervisor_designations
BEGIN SELECT RAISE(ABORT, 'supervisor designations are evidence'); END;
CREATE TRIGGER supervisor_designations_immutable_d BEFORE DELETE ON supervisor_designations
BEGIN SELECT RAISE(ABORT, 'supervisor designations are evidence'); END;

CREATE TABLE agency_supervisors (
	agency         TEXT PRIMARY KEY,
	employee_id    INTEGER NOT NULL REFERENCES employees(id),
	designation_id INTEGER NOT NULL REFERENCES supervisor_designations(id),
	since          TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX agency_supervisors_employee ON agency_supervisors(employee_id);

-- The registry of accounts held in an agency's name. status: active,
-- dormant or closed; review_on: when the supervisor next reviews it.
-- terms_accepted_by is who accepted the site's terms of use on the agency's
-- behalf (a name: that person may have left), terms_accepted_on when.
-- archive_method: how posts and comments are kept as public records.
-- Every change is a social_account_changes row (evidence): changes is a
-- JSON array of [field, old, new], as roster_changes.
CREATE TABLE social_accounts (
	id                INTEGER PRIMARY KEY,
	agency            TEXT NOT NULL,
	platform          TEXT NOT NULL,
	handle            TEXT NOT NULL,
	url               TEXT NOT NULL,
	purpose           TEXT NOT NULL,
	supervisor_id     INTEGER REFERENCES employees(id),
	terms_accepted_by TEXT NOT NULL,
	terms_accepted_on TEXT NOT NULL,
	archive_method    TEXT NOT NULL,
	status            TEXT NOT NULL CHECK (status IN ('active', 'dormant', 'closed')),
	review_on         TEXT NOT NULL,
	created_at        TEXT NOT NULL,
	updated_at        TEXT NOT NULL,
	UNIQUE (platform, handle)
);
CREATE INDEX social_accounts_agency ON social_accounts(agency, status, platform, handle);
CREATE INDEX social_accounts_review ON social_accounts(status, review_on);

CREATE TABLE social_account_changes (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES social_accounts(id),
	actor_id   INTEGER REFERENCES employees(id),
	at         TEXT NOT NULL,
	changes    TEXT NOT NULL
);
CREATE INDEX social_account_changes_account ON social_account_changes(account_id, id);
CREATE TRIGGER social_account_changes_immutable_u BEFORE UPDATE ON social_account_changes
BEGIN SELECT RAISE(ABORT, 'account changes are evidence'); END;
CREATE TRIGGER social_account_changes_immutable_d BEFORE DELETE ON social_account_changes
BEGIN SELECT RAISE(ABORT, 'account changes are evidence'); END;

-- Terms of Comment: each agency's, versioned, Markdown, immutable once
-- published (evidence). The version in force is the agency's highest.
CREATE TABLE terms_of_comment (
	id           INTEGER PRIMARY KEY,
	agency       TEXT NOT NULL,
	version      INTEGER NOT NULL CHECK (version >= 1),
	body         TEXT NOT NULL,
	sha256       TEXT NOT NULL,
	published_by INTEGER REFERENCES employees(id),
	published_at TEXT NOT NULL,
	UNIQUE (agency, version)
);
CREATE TRIGGER terms_of_comment_immutable_u BEFORE UPDATE ON terms_of_comment
BEGIN SELECT RAISE(ABORT, 'published Terms of Comment are immutable'); END;
CREATE TRIGGER terms_of_comment_immutable_d BEFORE DELETE ON terms_of_comment
BEGIN SELECT RAISE(ABORT, 'published Terms of Comment are immutable'); END;

-- A supervisor's authorization of a person to post on one account
-- (evidence): from starts_on, with a scope (what they may do there), until
-- ends_on ('' : until revoked). It names the Terms of Comment version in
-- force when it was given. An authorization_ends row ends it early: revoked
-- by a supervisor, or by the portal when the roster deactivates the person
-- or moves them to another agency (actor_id NULL).
CREATE TABLE poster_authorizations (
	id          INTEGER PRIMARY KEY,
	employee_id INTEGER NOT NULL REFERENCES employees(id),
	account_id  INTEGER NOT NULL REFERENCES social_accounts(id),
	agency      TEXT NOT NULL,
	scope       TEXT NOT NULL,
	starts_on   TEXT NOT NULL,
	ends_on     TEXT NOT NULL DEFAULT '',
	terms_id    INTEGER REFERENCES terms_of_comment(id),
	granted_by  INTEGER REFERENCES employees(id),
	granted_at  TEXT NOT NULL
);
CREATE INDEX poster_authorizations_employee ON poster_authorizations(employee_id, account_id);
CREATE INDEX poster_authorizations_account ON poster_authorizations(account_id, employee_id);
CREATE INDEX poster_authorizations_agency ON poster_authorizations(agency, ends_on);
CREATE TRIGGER poster_authorizations_immutable_u BEFORE UPDATE ON poster_authorizations
BEGIN SELECT RAISE(ABORT, 'authorizations are evidence'); END;
CREATE TRIGGER poster_authorizations_immutable_d BEFORE DELETE ON poster_authorizations
BEGIN SELECT RAISE(ABORT, 'authorizations are evidence'); END;

CREATE TABLE authorization_ends (
	id               INTEGER PRIMARY KEY,
	authorization_id INTEGER NOT NULL UNIQUE REFERENCES poster_authorizations(id),
	reason           TEXT NOT NULL CHECK (reason IN ('revoked', 'deactivated', 'transferred')),
	note             TEXT NOT NULL DEFAULT '',
	actor_id         INTEGER REFERENCES employees(id),
	at               TEXT NOT NULL
);
CREATE TRIGGER authorization_ends_immutable_u BEFORE UPDATE ON authorization_ends
BEGIN SELECT RAISE(ABORT, 'authorization ends are evidence'); END;
CREATE TRIGGER authorization_ends_immutable_d BEFORE DELETE ON authorization_ends
BEGIN SELECT RAISE(ABORT, 'authorization ends are evidence'); END;

-- A Terms of Comment version given to a poster (delivered: queued to them
-- by mail and shown on their home page), and their receipt of it, when
-- they confirm in the portal that they have it (evidence, one a version
-- and person).
CREATE TABLE terms_deliveries (
	id           INTEGER PRIMARY KEY,
	terms_id     INTEGER NOT NULL REFERENCES terms_of_comment(id),
	employee_id  INTEGER NOT NULL REFERENCES employees(id),
	delivered_at TEXT NOT NULL,
	UNIQUE (terms_id, employee_id)
);
CREATE TRIGGER terms_deliveries_immutable_u BEFORE UPDATE ON terms_deliveries
BEGIN SELECT RAISE(ABORT, 'Terms of Comment deliveries are evidence'); END;
CREATE TRIGGER terms_deliveries_immutable_d BEFORE DELETE ON terms_deliveries
BEGIN SELECT RAISE(ABORT, 'Terms of Comment deliveries are evidence'); END;

CREATE TABLE terms_receipts (
	id          INTEGER PRIMARY KEY,
	terms_id    INTEGER NOT NULL REFERENCES terms_of_comment(id),
	employee_id INTEGER NOT NULL REFERENCES employees(id),
	received_at TEXT NOT NULL,
	ip          TEXT NOT NULL,
	user_agent  TEXT NOT NULL,
	UNIQUE (terms_id, employee_id)
);
CREATE TRIGGER terms_receipts_immutable_u BEFORE UPDATE ON terms_receipts
BEGIN SELECT RAISE(ABORT, 'Terms of Comment receipts are evidence'); END;
CREATE TRIGGER terms_receipts_immutable_d BEFORE DELETE ON terms_receipts
BEGIN SELECT RAISE(ABORT, 'Terms of Comment receipts are evidence'); END;

-- The agency-use acknowledgment names, as at signing, the Terms of Comment
-- version and the accounts (a JSON array of "platform handle" strings) the
-- signer is authorized on. Empty for the annual one.
ALTER TABLE acknowledgments ADD COLUMN terms_id INTEGER REFERENCES terms_of_comment(id);
ALTER TABLE acknowledgments ADD COLUMN accounts TEXT NOT NULL DEFAULT '';

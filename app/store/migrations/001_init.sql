-- The portal's first schema. Evidence tables (acknowledgments, consents,
-- quiz_attempts, audit_events, chain, policy_versions) refuse UPDATE and DELETE.

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE employees (
	id              INTEGER PRIMARY KEY,
	employee_number TEXT NOT NULL UNIQUE,
	full_name       TEXT NOT NULL,
	email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
	agency          TEXT NOT NULL,
	department      TEXT NOT NULL,
	title           TEXT NOT NULL DEFAULT '',
	manager_id      INTEGER REFERENCES employees(id),
	hire_date       TEXT NOT NULL DEFAULT '',
	roles           TEXT NOT NULL DEFAULT '',
	bargaining_unit TEXT NOT NULL DEFAULT '',
	active          INTEGER NOT NULL DEFAULT 1,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL
);
CREATE INDEX employees_manager ON employees(manager_id);
CREATE INDEX employees_agency_department ON employees(agency, department);

CREATE TABLE policy_versions (
	id           INTEGER PRIMARY KEY,
	code         TEXT NOT NULL UNIQUE,
	title        TEXT NOT NULL,
	kind         TEXT NOT NULL CHECK (kind IN ('material', 'minor')),
	effective    TEXT NOT NULL,
	sha256       TEXT NOT NULL,
	bundle       TEXT NOT NULL,
	published_at TEXT NOT NULL
);
CREATE TRIGGER policy_versions_immutable_u BEFORE UPDATE ON policy_versions
BEGIN SELECT RAISE(ABORT, 'published policy versions are immutable'); END;
CREATE TRIGGER policy_versions_immutable_d BEFORE DELETE ON policy_versions
BEGIN SELECT RAISE(ABORT, 'published policy versions are immutable'); END;

CREATE TABLE cycles (
	id                INTEGER PRIMARY KEY,
	year              INTEGER NOT NULL,
	name              TEXT NOT NULL,
	policy_version_id INTEGER NOT NULL REFERENCES policy_versions(id),
	opens_on          TEXT NOT NULL,
	due_on            TEXT NOT NULL,
	new_hire_days     INTEGER NOT NULL DEFAULT 30,
	open              INTEGER NOT NULL DEFAULT 1,
	created_at        TEXT NOT NULL
);
CREATE UNIQUE INDEX cycles_one_open_per_year ON cycles(year) WHERE open = 1;

CREATE TABLE module_progress (
	employee_id INTEGER NOT NULL REFERENCES employees(id),
	cycle_id    INTEGER NOT NULL REFERENCES cycles(id),
	slug        TEXT NOT NULL,
	read_at     TEXT NOT NULL,
	PRIMARY KEY (employee_id, cycle_id, slug)
) WITHOUT ROWID;

CREATE TABLE quiz_attempts (
	id                INTEGER PRIMARY KEY,
	employee_id       INTEGER NOT NULL REFERENCES employees(id),
	cycle_id          INTEGER NOT NULL REFERENCES cycles(id),
	policy_version_id INTEGER NOT NULL REFERENCES policy_versions(id),
	answers           TEXT NOT NULL,
	wrong             TEXT NOT NULL,
	score             INTEGER NOT NULL,
	total             INTEGER NOT NULL,
	pass_mark         INTEGER NOT NULL,
	passed            INTEGER NOT NULL,
	created_at        TEXT NOT NULL
);
CREATE INDEX quiz_attempts_employee ON quiz_attempts(employee_id, cycle_id);
CREATE TRIGGER quiz_attempts_immutable_u BEFORE UPDATE ON quiz_attempts
BEGIN SELECT RAISE(ABORT, 'quiz attempts are evidence'); END;
CREATE TRIGGER quiz_attempts_immutable_d BEFORE DELETE ON quiz_attempts
BEGIN SELECT RAISE(ABORT, 'quiz attempts are evidence'); END;

CREATE TABLE consents (
	id          INTEGER PRIMARY KEY,
	employee_id INTEGER NOT NULL REFERENCES employees(id),
	cycle_id    INTEGER NOT NULL REFERENCES cycles(id),
	version     TEXT NOT NULL,
	sha256      TEXT NOT NULL,
	accepted_at TEXT NOT NULL,
	ip          TEXT NOT NULL,
	user_agent  TEXT NOT NULL
);
CREATE INDEX consents_employee ON consents(employee_id, cycle_id);
CREATE TRIGGER consents_immutable_u BEFORE UPDATE ON consents
BEGIN SELECT RAISE(ABORT, 'consent records are evidence'); END;
CREATE TRIGGER consents_immutable_d BEFORE DELETE ON consents
BEGIN SELECT RAISE(ABORT, 'consent records are evidence'); END;

CREATE TABLE acknowledgments (
	id                INTEGER PRIMARY KEY,
	employee_id       INTEGER NOT NULL REFERENCES employees(id),
	cycle_id          INTEGER NOT NULL REFERENCES cycles(id),
	policy_version_id INTEGER NOT NULL REFERENCES policy_versions(id),
	policy_sha256     TEXT NOT NULL,
	typed_name        TEXT NOT NULL,
	consent_id        INTEGER NOT NULL REFERENCES consents(id),
	consent_version   TEXT NOT NULL,
	consent_sha256    TEXT NOT NULL,
	intent_text       TEXT NOT NULL,
	comment           TEXT NOT NULL,
	signed_at         TEXT NOT NULL,
	ip                TEXT NOT NULL,
	user_agent        TEXT NOT NULL,
	auth_method       TEXT NOT NULL,
	quiz_attempt_id   INTEGER NOT NULL REFERENCES quiz_attempts(id),
	certificate_no    TEXT NOT NULL UNIQUE,
	verify_code       TEXT NOT NULL UNIQUE,
	UNIQUE (employee_id, cycle_id, policy_version_id)
);
CREATE INDEX acknowledgments_cycle ON acknowledgments(cycle_id, employee_id);
CREATE TRIGGER acknowledgments_immutable_u BEFORE UPDATE ON acknowledgments
BEGIN SELECT RAISE(ABORT, 'signed acknowledgments are never updated'); END;
CREATE TRIGGER acknowledgments_immutable_d BEFORE DELETE ON acknowledgments
BEGIN SELECT RAISE(ABORT, 'signed acknowledgments are never deleted'); END;

CREATE TABLE audit_events (
	id           INTEGER PRIMARY KEY,
	at           TEXT NOT NULL,
	actor_id     INTEGER REFERENCES employees(id),
	action       TEXT NOT NULL,
	subject_type TEXT NOT NULL,
	subject_id   INTEGER NOT NULL,
	detail       TEXT NOT NULL,
	ip           TEXT NOT NULL
);
CREATE INDEX audit_events_subject ON audit_events(subject_type, subject_id);
CREATE TRIGGER audit_events_immutable_u BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are evidence'); END;
CREATE TRIGGER audit_events_immutable_d BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are evidence'); END;

-- The evidence chain: each record's hash covers the previous hash and the
-- canonical form of the row it points at.
CREATE TABLE chain (
	seq       INTEGER PRIMARY KEY,
	kind      TEXT NOT NULL,
	ref_id    INTEGER NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL UNIQUE,
	UNIQUE (kind, ref_id)
);
CREATE TRIGGER chain_immutable_u BEFORE UPDATE ON chain
BEGIN SELECT RAISE(ABORT, 'the evidence chain is append-only'); END;
CREATE TRIGGER chain_immutable_d BEFORE DELETE ON chain
BEGIN SELECT RAISE(ABORT, 'the evidence chain is append-only'); END;

CREATE TABLE login_tokens (
	token_hash  TEXT PRIMARY KEY,
	employee_id INTEGER NOT NULL REFERENCES employees(id),
	created_at  TEXT NOT NULL,
	expires_at  TEXT NOT NULL,
	used_at     TEXT
);
CREATE INDEX login_tokens_expires ON login_tokens(expires_at);

CREATE TABLE sessions (
	id_hash      TEXT PRIMARY KEY,
	employee_id  INTEGER NOT NULL REFERENCES employees(id),
	auth_method  TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_employee ON sessions(employee_id);

CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY,
	dedupe_key      TEXT NOT NULL UNIQUE,
	to_addr         TEXT NOT NULL,
	to_name         TEXT NOT NULL,
	subject         TEXT NOT NULL,
	text_body       TEXT NOT NULL,
	html_body       TEXT NOT NULL,
	status          TEXT NOT NULL DEFAULT 'queued',
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at TEXT NOT NULL,
	locked_at       TEXT,
	sent_at         TEXT,
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

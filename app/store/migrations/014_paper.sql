-- Paper acknowledgments: HR records that a person signed the paper form the
-- consent notice offers, with a scan of the form.
--
-- The scans. Their bytes are kept here, in the database, rather than in
-- files: the scan, the acknowledgment that names its SHA-256 and the log
-- entry are then one transaction (a crash cannot leave a scan without its
-- record, nor a record whose scan was never written), `portal backup`
-- copies them with everything else, and they are as append-only as the
-- rest of the evidence. A scan is at most 10 MB and only people who did not
-- sign in the portal have one, so the database grows by little. The bytes
-- are checked against sha256 whenever they are served and by audit-verify
-- (app/store/paper.go), as official policy documents are (012).
-- Evidence: never updated or deleted.
CREATE TABLE paper_scans (
	id           INTEGER PRIMARY KEY,
	employee_id  INTEGER NOT NULL REFERENCES employees(id),
	content_type TEXT NOT NULL CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg')),
	size         INTEGER NOT NULL,
	sha256       TEXT NOT NULL,
	data         BLOB NOT NULL,
	uploaded_by  INTEGER NOT NULL REFERENCES employees(id),
	uploaded_at  TEXT NOT NULL
);
CREATE TRIGGER paper_scans_immutable_u BEFORE UPDATE ON paper_scans
BEGIN SELECT RAISE(ABORT, 'scans of paper forms are evidence'); END;
CREATE TRIGGER paper_scans_immutable_d BEFORE DELETE ON paper_scans
BEGIN SELECT RAISE(ABORT, 'scans of paper forms are evidence'); END;

-- A paper acknowledgment is a row of acknowledgments like any other, so
-- that certificates, verification, exports and history treat it as one;
-- it has no consent record and no knowledge-check attempt (the person did
-- neither in the portal), and says so with NULL. Those two columns were
-- NOT NULL, which SQLite cannot relax in place, so the table is rebuilt
-- (the documented way: a new table, the rows copied, the old one dropped,
-- the new one renamed) with the paper columns added:
--   paper_scan_id      the scan (paper_scans), NULL for a portal signature
--   paper_signed_on    the date on the form, YYYY-MM-DD
--   paper_recorded_at  when HR recorded it (signed_at is the start of
--                      paper_signed_on in the portal's time zone)
--   paper_recorded_by  the HR user, and their name as at recording
--   paper_scan_sha256  the scan's SHA-256, part of the logged record
--   paper_scan_type    its content type
--   paper_note         HR's note
-- Every row keeps its id and values, so every logged entry still hashes
-- the same. Nothing refers to acknowledgments by a foreign key (assignments.
-- ack_id is a plain column), and the implicit delete of DROP TABLE fires no
-- trigger.
CREATE TABLE acknowledgments_014 (
	id                     INTEGER PRIMARY KEY,
	employee_id            INTEGER NOT NULL REFERENCES employees(id),
	cycle_id               INTEGER NOT NULL REFERENCES cycles(id),
	policy_version_id      INTEGER NOT NULL REFERENCES policy_versions(id),
	policy_sha256          TEXT NOT NULL,
	typed_name             TEXT NOT NULL,
	consent_id             INTEGER REFERENCES consents(id),
	consent_version        TEXT NOT NULL,
	consent_sha256         TEXT NOT NULL,
	intent_text            TEXT NOT NULL,
	comment                TEXT NOT NULL,
	signed_at              TEXT NOT NULL,
	ip                     TEXT NOT NULL,
	user_agent             TEXT NOT NULL,
	auth_method            TEXT NOT NULL,
	quiz_attempt_id        INTEGER REFERENCES quiz_attempts(id),
	certificate_no         TEXT NOT NULL UNIQUE,
	verify_code            TEXT NOT NULL UNIQUE,
	employee_number        TEXT NOT NULL DEFAULT '',
	full_name              TEXT NOT NULL DEFAULT '',
	agency                 TEXT NOT NULL DEFAULT '',
	department             TEXT NOT NULL DEFAULT '',
	sign_in_identity       TEXT NOT NULL DEFAULT '',
	paper_scan_id          INTEGER UNIQUE REFERENCES paper_scans(id),
	paper_signed_on        TEXT NOT NULL DEFAULT '',
	paper_recorded_at      TEXT NOT NULL DEFAULT '',
	paper_recorded_by      INTEGER REFERENCES employees(id),
	paper_recorded_by_name TEXT NOT NULL DEFAULT '',
	paper_scan_sha256      TEXT NOT NULL DEFAULT '',
	paper_scan_type        TEXT NOT NULL DEFAULT '',
	paper_note             TEXT NOT NULL DEFAULT '',
	UNIQUE (employee_id, cycle_id, policy_version_id),
	-- A portal signature has its consent and attempt; a paper one has
	-- neither, and has its scan, date and recorder instead.
	CHECK (CASE WHEN paper_scan_id IS NULL
		THEN consent_id IS NOT NULL AND quiz_attempt_id IS NOT NULL AND auth_method <> 'paper'
		ELSE consent_id IS NULL AND quiz_attempt_id IS NULL AND auth_method = 'paper'
			AND paper_signed_on <> '' AND paper_recorded_at <> '' AND paper_recorded_by IS NOT NULL
			AND paper_scan_sha256 <> '' END)
);
INSERT INTO acknowledgments_014 (id, employee_id, cycle_id, policy_version_id, policy_sha256, typed_name, consent_id,
	consent_version, consent_sha256, intent_text, comment, signed_at, ip, user_agent, auth_method, quiz_attempt_id,
	certificate_no, verify_code, employee_number, full_name, agency, department, sign_in_identity)
SELECT id, employee_id, cycle_id, policy_version_id, policy_sha256, typed_name, consent_id,
	consent_version, consent_sha256, intent_text, comment, signed_at, ip, user_agent, auth_method, quiz_attempt_id,
	certificate_no, verify_code, employee_number, full_name, agency, department, sign_in_identity
FROM acknowledgments ORDER BY id;
DROP TABLE acknowledgments;
ALTER TABLE acknowledgments_014 RENAME TO acknowledgments;
CREATE INDEX acknowledgments_cycle ON acknowledgments(cycle_id, employee_id);
CREATE TRIGGER acknowledgments_immutable_u BEFORE UPDATE ON acknowledgments
BEGIN SELECT RAISE(ABORT, 'signed acknowledgments are never updated'); END;
CREATE TRIGGER acknowledgments_immutable_d BEFORE DELETE ON acknowledgments
BEGIN SELECT RAISE(ABORT, 'signed acknowledgments are never deleted'); END;

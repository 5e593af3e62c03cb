-- The knowledge check draws its questions and shuffles their options for
-- each attempt. What an attempt showed (question ids in order, each with its
-- option keys in the order displayed, as JSON [{"q":id,"o":[keys]}]) is kept
-- with the attempt as evidence. Attempts from before the draw showed every
-- question as stored; they keep '[]' and their logged entries stay as they
-- were, so they still verify.
ALTER TABLE quiz_attempts ADD COLUMN shown TEXT NOT NULL DEFAULT '[]';

-- The check a person is working through: one draft per employee and version,
-- with the draw and the answers saved so far. It is working state, not
-- evidence: it is replaced when a new attempt starts and deleted when the
-- attempt is recorded.
CREATE TABLE quiz_drafts (
	employee_id       INTEGER NOT NULL REFERENCES employees(id),
	policy_version_id INTEGER NOT NULL REFERENCES policy_versions(id),
	shown             TEXT NOT NULL,
	answers           TEXT NOT NULL DEFAULT '{}',
	created_at        TEXT NOT NULL,
	PRIMARY KEY (employee_id, policy_version_id)
) WITHOUT ROWID;

-- HR's per-question statistics read a version's attempts.
CREATE INDEX quiz_attempts_version ON quiz_attempts(policy_version_id);

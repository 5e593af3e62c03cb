-- A knowledge check in progress is on one part of a version (an
-- acknowledgment kind's part): a poster may have the annual check and the
-- agency-use one in progress at once. Drafts are working state, not
-- evidence; the ones there are checks of the part for everyone.
CREATE TABLE quiz_drafts_022 (
	employee_id       INTEGER NOT NULL REFERENCES employees(id),
	policy_version_id INTEGER NOT NULL REFERENCES policy_versions(id),
	part              TEXT NOT NULL DEFAULT 'all',
	shown             TEXT NOT NULL,
	answers           TEXT NOT NULL DEFAULT '{}',
	created_at        TEXT NOT NULL,
	PRIMARY KEY (employee_id, policy_version_id, part)
) WITHOUT ROWID;
INSERT INTO quiz_drafts_022 (employee_id, policy_version_id, part, shown, answers, created_at)
SELECT employee_id, policy_version_id, 'all', shown, answers, created_at FROM quiz_drafts;
DROP TABLE quiz_drafts;
ALTER TABLE quiz_drafts_022 RENAME TO quiz_drafts;


-- A knowledge check in progress belongs to one acknowledgment kind, not
-- only to a part of the version: two kinds may check the same part (the
-- annual acknowledgment and a records-preservation one both check the
-- part for everyone), and one person's checks of each must not share a
-- draw or answers, nor a signature of one end the other's check. The part
-- stays: it is what the draw was made from. Drafts are working state, not
-- evidence; an existing draft goes to the first kind of its part.
CREATE TABLE quiz_drafts_023 (
	employee_id       INTEGER NOT NULL REFERENCES employees(id),
	policy_version_id INTEGER NOT NULL REFERENCES policy_versions(id),
	kind              TEXT NOT NULL REFERENCES acknowledgment_kinds(code),
	part              TEXT NOT NULL,
	shown             TEXT NOT NULL,
	answers           TEXT NOT NULL DEFAULT '{}',
	created_at        TEXT NOT NULL,
	PRIMARY KEY (employee_id, policy_version_id, kind)
) WITHOUT ROWID;
INSERT INTO quiz_drafts_023 (employee_id, policy_version_id, kind, part, shown, answers, created_at)
SELECT d.employee_id, d.policy_version_id, k.code, d.part, d.shown, d.answers, d.created_at
FROM quiz_drafts d JOIN acknowledgment_kinds k ON k.code = (SELECT code FROM acknowledgment_kinds WHERE part = d.part ORDER BY position LIMIT 1);
DROP TABLE quiz_drafts;
ALTER TABLE quiz_drafts_023 RENAME TO quiz_drafts;

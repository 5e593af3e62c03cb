-- A roster upload's preview, person by person, worked out once when the
-- file is checked and kept with the upload until it is applied or dropped
-- (uploads are kept for a day): paging through 13,000 changes reads these
-- rows instead of planning the import again on every page.
ALTER TABLE roster_uploads ADD COLUMN summary TEXT;

CREATE TABLE roster_upload_changes (
	upload_id       INTEGER NOT NULL REFERENCES roster_uploads(id) ON DELETE CASCADE,
	seq             INTEGER NOT NULL,
	kind            TEXT NOT NULL CHECK (kind IN ('added', 'changed', 'reactivated', 'deactivated')),
	employee_number TEXT NOT NULL,
	full_name       TEXT NOT NULL,
	agency          TEXT NOT NULL,
	department      TEXT NOT NULL,
	-- the number and name, case folded and without accents, for the search
	search_key      TEXT NOT NULL,
	-- the fields that change, as [field, old, new] triples (JSON)
	changes         TEXT NOT NULL,
	new_email       TEXT NOT NULL DEFAULT '',
	old_email       TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (upload_id, seq)
) WITHOUT ROWID;
CREATE INDEX roster_upload_changes_kind ON roster_upload_changes(upload_id, kind, seq);

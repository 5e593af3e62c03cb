-- Checks of every evidence record run in the background (a million records
-- take seconds, too long for a page); the audit page shows the newest result
-- and when it ran. A row is queued (started_at NULL), running (finished_at
-- NULL), or done. These rows are a convenience, not evidence: the evidence
-- is the log, which `portal audit-verify` checks on its own.
CREATE TABLE evidence_checks (
	id           INTEGER PRIMARY KEY,
	requested_at TEXT NOT NULL,
	requested_by INTEGER REFERENCES employees(id),
	started_at   TEXT,
	finished_at  TEXT,
	entries      INTEGER NOT NULL DEFAULT 0,
	legacy       INTEGER NOT NULL DEFAULT 0,
	problem      TEXT NOT NULL DEFAULT '',
	failed       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX evidence_checks_pending ON evidence_checks(finished_at, id);

-- Name search without a scan: every word of a person's name, lowercased
-- (ASCII letters, as SQLite's lower() does), kept by triggers whatever
-- writes the roster. A search matches the people having a word that starts
-- with each word searched (e-mail addresses are searched through their own
-- index). Names are split into words at spaces and at the characters turned
-- into spaces below, by making the name a JSON array; a name JSON cannot
-- hold (a control character, which the roster refuses) stops its write.
-- The same split is in searchWords (app/store/dashboard.go). There is no
-- index by employee: a change of name deletes the old name's own words.
CREATE TABLE name_words (
	word        TEXT NOT NULL,
	employee_id INTEGER NOT NULL REFERENCES employees(id),
	PRIMARY KEY (word, employee_id)
) WITHOUT ROWID;

CREATE TRIGGER name_words_i AFTER INSERT ON employees BEGIN
	INSERT OR IGNORE INTO name_words (word, employee_id) SELECT value, NEW.id FROM json_each('["' || replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
		lower(NEW.full_name), '\', ' '), '"', ' '), '.', ' '), '-', ' '), '_', ' '), '''', ' '), ',', ' '), '+', ' '), '(', ' '), ')', ' '),
		' ', '","') || '"]') WHERE value <> '';
END;
CREATE TRIGGER name_words_u AFTER UPDATE OF full_name ON employees WHEN OLD.full_name IS NOT NEW.full_name BEGIN
	DELETE FROM name_words WHERE employee_id = OLD.id AND word IN (SELECT value FROM json_each('["' || replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
		lower(OLD.full_name), '\', ' '), '"', ' '), '.', ' '), '-', ' '), '_', ' '), '''', ' '), ',', ' '), '+', ' '), '(', ' '), ')', ' '),
		' ', '","') || '"]'));
	INSERT OR IGNORE INTO name_words (word, employee_id) SELECT value, NEW.id FROM json_each('["' || replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
		lower(NEW.full_name), '\', ' '), '"', ' '), '.', ' '), '-', ' '), '_', ' '), '''', ' '), ',', ' '), '+', ' '), '(', ' '), ')', ' '),
		' ', '","') || '"]') WHERE value <> '';
END;

INSERT OR IGNORE INTO name_words (word, employee_id) SELECT w.value, e.id FROM employees e, json_each('["' || replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
		lower(e.full_name), '\', ' '), '"', ' '), '.', ' '), '-', ' '), '_', ' '), '''', ' '), ',', ' '), '+', ' '), '(', ' '), ')', ' '),
		' ', '","') || '"]') w WHERE w.value <> '';

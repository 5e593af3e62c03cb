-- Name search that ignores accents as well as case. Migration 009 indexed
-- the words of names lowercased by SQLite's lower(), which knows ASCII
-- letters only: "cote" found nobody called Côté, and "levesque" found
-- Levesque but not Lévesque. The words are now folded as the portal folds
-- typed signature names (app.NameWords: case folded, accents and other
-- marks dropped, ß→ss, æ→ae, ø→o, ł→l …), and the index is rebuilt.
--
-- name_search holds each person's folded name, " zoe cote ", from which
-- the triggers split the words of name_words (a folded word holds no
-- space, quote, backslash or control character), and against which a
-- search of several words checks each candidate with instr(): no work but
-- SQLite's at search time.
--
-- SQLite cannot fold accents by itself, so the triggers call
-- portal_search_text(), a deterministic SQL function that the portal
-- registers on every connection it opens (app/store/search.go). What that
-- costs: a plain sqlite3 shell, which lacks the function, cannot insert an
-- employee or change anyone's full_name ("no such function:
-- portal_search_text"); everything else works there: reading, backups
-- (.backup, VACUUM INTO), .dump and its restore (a dump creates triggers
-- after the rows), and changes to other columns. That is acceptable: the
-- roster is evidence, changed through the portal (the roster import, the
-- HR pages), each change sealed in the evidence log, and an edit behind the
-- portal's back is what `portal audit-verify` reports as tampering; an
-- operator has no business writing names by hand. The alternative, the
-- words written by Go in each roster writer, would leave the index wrong
-- after any writer that forgot them (and after raw SQL such as the
-- benchmarks' seeding), where the triggers never forget.
CREATE TABLE name_search (
	employee_id INTEGER PRIMARY KEY REFERENCES employees(id),
	words       TEXT NOT NULL
);

DROP TRIGGER name_words_i;
DROP TRIGGER name_words_u;
DELETE FROM name_words;

CREATE TRIGGER name_words_i AFTER INSERT ON employees BEGIN
	INSERT OR REPLACE INTO name_search (employee_id, words) VALUES (NEW.id, portal_search_text(NEW.full_name));
	INSERT OR IGNORE INTO name_words (word, employee_id)
		SELECT j.value, NEW.id FROM name_search s, json_each('["' || replace(trim(s.words), ' ', '","') || '"]') j
		WHERE s.employee_id = NEW.id AND j.value <> '';
END;
-- The old name's own words go (a word both names share comes back).
CREATE TRIGGER name_words_u AFTER UPDATE OF full_name ON employees WHEN OLD.full_name IS NOT NEW.full_name BEGIN
	DELETE FROM name_words WHERE employee_id = OLD.id AND word IN (SELECT j.value FROM name_search s,
		json_each('["' || replace(trim(s.words), ' ', '","') || '"]') j WHERE s.employee_id = OLD.id);
	INSERT OR REPLACE INTO name_search (employee_id, words) VALUES (NEW.id, portal_search_text(NEW.full_name));
	INSERT OR IGNORE INTO name_words (word, employee_id)
		SELECT j.value, NEW.id FROM name_search s, json_each('["' || replace(trim(s.words), ' ', '","') || '"]') j
		WHERE s.employee_id = NEW.id AND j.value <> '';
END;

INSERT INTO name_search (employee_id, words) SELECT id, portal_search_text(full_name) FROM employees;
INSERT OR IGNORE INTO name_words (word, employee_id)
	SELECT j.value, s.employee_id FROM name_search s, json_each('["' || replace(trim(s.words), ' ', '","') || '"]') j
	WHERE j.value <> '';

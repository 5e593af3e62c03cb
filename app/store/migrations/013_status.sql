-- One status model (app/cycle.go): a person in a cycle is signed on paper,
-- signed, exempt, overdue, in progress or not started, decided in that
-- order. Assignments learn whether HR excused the person (exempt) and
-- whether the acknowledgment that satisfies the cycle is a paper one that HR
-- recorded (paper, set in the same UPDATE that sets signed_at and ack_id;
-- it counts only while signed_at is set). The counts the triggers keep
-- follow the same order, so that signed + paper + exempt + in progress +
-- not started + overdue is the total:
--   completion.signed   signed_at set, not paper
--   completion.paper    signed_at set, paper
--   completion.exempt   signed_at unset, exempt
--   completion.started  signed_at unset, not exempt, started
--   pending (n)         signed_at unset, not exempt, by due date
--   pending.started     of those, how many started: the overdue ones among
--                       them are overdue, not in progress
-- HR's extensions of a due date and exemptions are evidence rows, never
-- changed nor deleted.

ALTER TABLE assignments ADD COLUMN exempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assignments ADD COLUMN paper INTEGER NOT NULL DEFAULT 0;
ALTER TABLE completion ADD COLUMN exempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE completion ADD COLUMN paper INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pending ADD COLUMN started INTEGER NOT NULL DEFAULT 0;

DROP TRIGGER assignments_count_insert;
DROP TRIGGER assignments_count_delete;
DROP TRIGGER assignments_count_sign;
DROP TRIGGER assignments_count_update;

CREATE TRIGGER assignments_count_insert AFTER INSERT ON assignments WHEN NEW.active = 1
BEGIN
	INSERT INTO completion (cycle_id, agency, department, total, signed, paper, exempt, started)
	VALUES (NEW.cycle_id, NEW.agency, NEW.department, 1,
		NEW.signed_at IS NOT NULL AND NEW.paper = 0, NEW.signed_at IS NOT NULL AND NEW.paper <> 0,
		NEW.signed_at IS NULL AND NEW.exempt <> 0, NEW.signed_at IS NULL AND NEW.exempt = 0 AND NEW.started <> 0)
	ON CONFLICT (cycle_id, agency, department) DO UPDATE SET total = total + 1, signed = signed + excluded.signed,
		paper = paper + excluded.paper, exempt = exempt + excluded.exempt, started = started + excluded.started;
	INSERT INTO pending (cycle_id, agency, department, due_on, n, started)
	SELECT NEW.cycle_id, NEW.agency, NEW.department, NEW.due_on, 1, NEW.started <> 0
	WHERE NEW.signed_at IS NULL AND NEW.exempt = 0
	ON CONFLICT (cycle_id, agency, department, due_on) DO UPDATE SET n = n + 1, started = started + excluded.started;
END;

CREATE TRIGGER assignments_count_delete AFTER DELETE ON assignments WHEN OLD.active = 1
BEGIN
	UPDATE completion SET total = total - 1,
		signed = signed - (OLD.signed_at IS NOT NULL AND OLD.paper = 0),
		paper = paper - (OLD.signed_at IS NOT NULL AND OLD.paper <> 0),
		exempt = exempt - (OLD.signed_at IS NULL AND OLD.exempt <> 0),
		started = started - (OLD.signed_at IS NULL AND OLD.exempt = 0 AND OLD.started <> 0)
	WHERE cycle_id = OLD.cycle_id AND agency = OLD.agency AND department = OLD.department;
	UPDATE pending SET n = n - 1, started = started - (OLD.started <> 0)
	WHERE OLD.signed_at IS NULL AND OLD.exempt = 0 AND cycle_id = OLD.cycle_id
		AND agency = OLD.agency AND department = OLD.department AND due_on = OLD.due_on;
	DELETE FROM pending WHERE n <= 0 AND cycle_id = OLD.cycle_id AND agency = OLD.agency
		AND department = OLD.department AND due_on = OLD.due_on;
END;

-- Signing, the hot path: an active, unsigned, not exempt row becomes signed
-- (or signed on paper) and stays in its unit, due date and cycle. Three
-- statements touching one completion row and one pending row.
CREATE TRIGGER assignments_count_sign AFTER UPDATE ON assignments
WHEN OLD.active = 1 AND NEW.active = 1 AND OLD.signed_at IS NULL AND NEW.signed_at IS NOT NULL
	AND OLD.exempt = 0 AND NEW.exempt = 0
	AND NEW.cycle_id = OLD.cycle_id AND NEW.agency = OLD.agency AND NEW.department = OLD.department
	AND NEW.due_on = OLD.due_on AND NEW.started = OLD.started
BEGIN
	UPDATE completion SET signed = signed + (NEW.paper = 0), paper = paper + (NEW.paper <> 0),
		started = started - (OLD.started <> 0)
	WHERE cycle_id = OLD.cycle_id AND agency = OLD.agency AND department = OLD.department;
	UPDATE pending SET n = n - 1, started = started - (OLD.started <> 0) WHERE cycle_id = OLD.cycle_id
		AND agency = OLD.agency AND department = OLD.department AND due_on = OLD.due_on;
	DELETE FROM pending WHERE n <= 0 AND cycle_id = OLD.cycle_id AND agency = OLD.agency
		AND department = OLD.department AND due_on = OLD.due_on;
END;

CREATE TRIGGER assignments_count_update AFTER UPDATE ON assignments
WHEN NOT (OLD.active = 1 AND NEW.active = 1 AND OLD.signed_at IS NULL AND NEW.signed_at IS NOT NULL
	AND OLD.exempt = 0 AND NEW.exempt = 0
	AND NEW.cycle_id = OLD.cycle_id AND NEW.agency = OLD.agency AND NEW.department = OLD.department
	AND NEW.due_on = OLD.due_on AND NEW.started = OLD.started)
BEGIN
	-- take the old row out …
	UPDATE completion SET total = total - 1,
		signed = signed - (OLD.signed_at IS NOT NULL AND OLD.paper = 0),
		paper = paper - (OLD.signed_at IS NOT NULL AND OLD.paper <> 0),
		exempt = exempt - (OLD.signed_at IS NULL AND OLD.exempt <> 0),
		started = started - (OLD.signed_at IS NULL AND OLD.exempt = 0 AND OLD.started <> 0)
	WHERE OLD.active = 1 AND cycle_id = OLD.cycle_id AND agency = OLD.agency AND department = OLD.department;
	UPDATE pending SET n = n - 1, started = started - (OLD.started <> 0)
	WHERE OLD.active = 1 AND OLD.signed_at IS NULL AND OLD.exempt = 0 AND cycle_id = OLD.cycle_id
		AND agency = OLD.agency AND department = OLD.department AND due_on = OLD.due_on;
	DELETE FROM pending WHERE n <= 0 AND cycle_id = OLD.cycle_id AND agency = OLD.agency
		AND department = OLD.department AND due_on = OLD.due_on;
	-- … and put the new one in
	INSERT INTO completion (cycle_id, agency, department, total, signed, paper, exempt, started)
	SELECT NEW.cycle_id, NEW.agency, NEW.department, 1,
		NEW.signed_at IS NOT NULL AND NEW.paper = 0, NEW.signed_at IS NOT NULL AND NEW.paper <> 0,
		NEW.signed_at IS NULL AND NEW.exempt <> 0, NEW.signed_at IS NULL AND NEW.exempt = 0 AND NEW.started <> 0
	WHERE NEW.active = 1
	ON CONFLICT (cycle_id, agency, department) DO UPDATE SET total = total + 1, signed = signed + excluded.signed,
		paper = paper + excluded.paper, exempt = exempt + excluded.exempt, started = started + excluded.started;
	INSERT INTO pending (cycle_id, agency, department, due_on, n, started)
	SELECT NEW.cycle_id, NEW.agency, NEW.department, NEW.due_on, 1, NEW.started <> 0
	WHERE NEW.active = 1 AND NEW.signed_at IS NULL AND NEW.exempt = 0
	ON CONFLICT (cycle_id, agency, department, due_on) DO UPDATE SET n = n + 1, started = started + excluded.started;
END;

-- Recount from the rows: the new columns, and "started" now leaves out
-- exempt people (none yet, but the counts are rebuilt whole all the same).
DELETE FROM completion;
DELETE FROM pending;
INSERT INTO completion (cycle_id, agency, department, total, signed, paper, exempt, started)
SELECT cycle_id, agency, department, COUNT(*),
	SUM(signed_at IS NOT NULL AND paper = 0), SUM(signed_at IS NOT NULL AND paper <> 0),
	SUM(signed_at IS NULL AND exempt <> 0), SUM(signed_at IS NULL AND exempt = 0 AND started <> 0)
FROM assignments WHERE active = 1 GROUP BY cycle_id, agency, department;
INSERT INTO pending (cycle_id, agency, department, due_on, n, started)
SELECT cycle_id, agency, department, due_on, COUNT(*), SUM(started <> 0)
FROM assignments WHERE active = 1 AND signed_at IS NULL AND exempt = 0 GROUP BY cycle_id, agency, department, due_on;

-- A due date moved later for one person in one cycle, and why.
CREATE TABLE due_extensions (
	id          INTEGER PRIMARY KEY,
	cycle_id    INTEGER NOT NULL REFERENCES cycles(id),
	employee_id INTEGER NOT NULL REFERENCES employees(id),
	old_due_on  TEXT NOT NULL,
	new_due_on  TEXT NOT NULL,
	reason      TEXT NOT NULL,
	actor_id    INTEGER REFERENCES employees(id),
	created_at  TEXT NOT NULL
);
CREATE INDEX due_extensions_person ON due_extensions(employee_id, cycle_id);

-- A person excused from a cycle (action 'start', with the period it covers),
-- or that excuse ended (action 'end', from then on).
CREATE TABLE exemptions (
	id          INTEGER PRIMARY KEY,
	cycle_id    INTEGER NOT NULL REFERENCES cycles(id),
	employee_id INTEGER NOT NULL REFERENCES employees(id),
	action      TEXT NOT NULL CHECK (action IN ('start', 'end')),
	from_on     TEXT NOT NULL DEFAULT '',
	to_on       TEXT NOT NULL DEFAULT '', -- '' when open-ended
	reason      TEXT NOT NULL,
	actor_id    INTEGER REFERENCES employees(id),
	created_at  TEXT NOT NULL
);
CREATE INDEX exemptions_person ON exemptions(employee_id, cycle_id);

CREATE TRIGGER due_extensions_no_update BEFORE UPDATE ON due_extensions
BEGIN SELECT RAISE(ABORT, 'due date extensions are evidence and cannot be changed'); END;
CREATE TRIGGER due_extensions_no_delete BEFORE DELETE ON due_extensions
BEGIN SELECT RAISE(ABORT, 'due date extensions are evidence and cannot be deleted'); END;
CREATE TRIGGER exemptions_no_update BEFORE UPDATE ON exemptions
BEGIN SELECT RAISE(ABORT, 'exemptions are evidence and cannot be changed'); END;
CREATE TRIGGER exemptions_no_delete BEFORE DELETE ON exemptions
BEGIN SELECT RAISE(ABORT, 'exemptions are evidence and cannot be deleted'); END;

-- HR: who must sign in each cycle (assignments), completion counts kept in
-- step by triggers so the dashboard never scans the roster, HR scopes,
-- roster uploads awaiting confirmation.

CREATE TABLE assignments (
	cycle_id    INTEGER NOT NULL REFERENCES cycles(id),
	employee_id INTEGER NOT NULL REFERENCES employees(id),
	agency      TEXT NOT NULL,
	department  TEXT NOT NULL,
	due_on      TEXT NOT NULL,
	active      INTEGER NOT NULL DEFAULT 1,
	started     INTEGER NOT NULL DEFAULT 0,
	signed_at   TEXT,    -- when the acknowledgment that satisfies this cycle was signed
	ack_id      INTEGER, -- that acknowledgment; cleared when a material version needs a new one
	PRIMARY KEY (cycle_id, employee_id)
) WITHOUT ROWID;
CREATE INDEX assignments_open ON assignments(cycle_id, active, signed_at, due_on, employee_id);
CREATE INDEX assignments_unit ON assignments(cycle_id, agency, department, active, signed_at, due_on);
CREATE INDEX assignments_employee ON assignments(employee_id);

-- Totals per cycle, agency and department.
CREATE TABLE completion (
	cycle_id   INTEGER NOT NULL,
	agency     TEXT NOT NULL,
	department TEXT NOT NULL,
	total      INTEGER NOT NULL DEFAULT 0,
	signed     INTEGER NOT NULL DEFAULT 0,
	started    INTEGER NOT NULL DEFAULT 0, -- started but not signed
	PRIMARY KEY (cycle_id, agency, department)
) WITHOUT ROWID;

-- People still to sign, by due date, so "overdue today" is a small sum.
-- Rows that reach zero are deleted.
CREATE TABLE pending (
	cycle_id   INTEGER NOT NULL,
	agency     TEXT NOT NULL,
	department TEXT NOT NULL,
	due_on     TEXT NOT NULL,
	n          INTEGER NOT NULL,
	PRIMARY KEY (cycle_id, agency, department, due_on)
) WITHOUT ROWID;

CREATE TRIGGER assignments_count_insert AFTER INSERT ON assignments WHEN NEW.active = 1
BEGIN
	INSERT INTO completion (cycle_id, agency, department, total, signed, started)
	VALUES (NEW.cycle_id, NEW.agency, NEW.department, 1, NEW.signed_at IS NOT NULL, NEW.started AND NEW.signed_at IS NULL)
	ON CONFLICT (cycle_id, agency, department) DO UPDATE SET total = total + 1,
		signed = signed + excluded.signed, started = started + excluded.started;
	INSERT INTO pending (cycle_id, agency, department, due_on, n)
	SELECT NEW.cycle_id, NEW.agency, NEW.department, NEW.due_on, 1 WHERE NEW.signed_at IS NULL
	ON CONFLICT (cycle_id, agency, department, due_on) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER assignments_count_delete AFTER DELETE ON assignments WHEN OLD.active = 1
BEGIN
	UPDATE completion SET total = total - 1, signed = signed - (OLD.signed_at IS NOT NULL),
		started = started - (OLD.started AND OLD.signed_at IS NULL)
	WHERE cycle_id = OLD.cycle_id AND agency = OLD.agency AND department = OLD.department;
	UPDATE pending SET n = n - 1 WHERE OLD.signed_at IS NULL AND cycle_id = OLD.cycle_id
		AND agency = OLD.agency AND department = OLD.department AND due_on = OLD.due_on;
	DELETE FROM pending WHERE n <= 0 AND cycle_id = OLD.cycle_id AND agency = OLD.agency
		AND department = OLD.department AND due_on = OLD.due_on;
END;

CREATE TRIGGER assignments_count_update AFTER UPDATE ON assignments
BEGIN
	-- take the old row out …
	UPDATE completion SET total = total - 1, signed = signed - (OLD.signed_at IS NOT NULL),
		started = started - (OLD.started AND OLD.signed_at IS NULL)
	WHERE OLD.active = 1 AND cycle_id = OLD.cycle_id AND agency = OLD.agency AND department = OLD.department;
	UPDATE pending SET n = n - 1 WHERE OLD.active = 1 AND OLD.signed_at IS NULL AND cycle_id = OLD.cycle_id
		AND agency = OLD.agency AND department = OLD.department AND due_on = OLD.due_on;
	DELETE FROM pending WHERE n <= 0 AND cycle_id = OLD.cycle_id AND agency = OLD.agency
		AND department = OLD.department AND due_on = OLD.due_on;
	-- … and put the new one in
	INSERT INTO completion (cycle_id, agency, department, total, signed, started)
	SELECT NEW.cycle_id, NEW.agency, NEW.department, 1, NEW.signed_at IS NOT NULL, NEW.started AND NEW.signed_at IS NULL
	WHERE NEW.active = 1
	ON CONFLICT (cycle_id, agency, department) DO UPDATE SET total = total + 1,
		signed = signed + excluded.signed, started = started + excluded.started;
	INSERT INTO pending (cycle_id, agency, department, due_on, n)
	SELECT NEW.cycle_id, NEW.agency, NEW.department, NEW.due_on, 1 WHERE NEW.active = 1 AND NEW.signed_at IS NULL
	ON CONFLICT (cycle_id, agency, department, due_on) DO UPDATE SET n = n + 1;
END;

-- Backfill for databases made before this migration.
INSERT INTO assignments (cycle_id, employee_id, agency, department, due_on, active, started, signed_at, ack_id)
SELECT c.id, e.id, e.agency, e.department,
	CASE WHEN e.hire_date > c.opens_on AND date(e.hire_date, '+' || c.new_hire_days || ' days') > c.due_on
		THEN date(e.hire_date, '+' || c.new_hire_days || ' days') ELSE c.due_on END,
	e.active,
	EXISTS (SELECT 1 FROM module_progress m WHERE m.employee_id = e.id AND m.cycle_id = c.id),
	(SELECT a.signed_at FROM acknowledgments a WHERE a.employee_id = e.id AND a.cycle_id = c.id ORDER BY a.id DESC LIMIT 1),
	(SELECT a.id FROM acknowledgments a WHERE a.employee_id = e.id AND a.cycle_id = c.id ORDER BY a.id DESC LIMIT 1)
FROM cycles c CROSS JOIN employees e
WHERE c.open = 1 OR EXISTS (SELECT 1 FROM acknowledgments a WHERE a.employee_id = e.id AND a.cycle_id = c.id);

-- An HR user with rows here sees only those agencies; with none, all of them.
CREATE TABLE hr_scopes (
	employee_id INTEGER NOT NULL REFERENCES employees(id),
	agency      TEXT NOT NULL,
	PRIMARY KEY (employee_id, agency)
) WITHOUT ROWID;

-- A roster file between preview and apply.
CREATE TABLE roster_uploads (
	id                 INTEGER PRIMARY KEY,
	sha256             TEXT NOT NULL,
	filename           TEXT NOT NULL,
	content            BLOB NOT NULL,
	deactivate_missing INTEGER NOT NULL DEFAULT 0,
	uploaded_by        INTEGER NOT NULL REFERENCES employees(id),
	created_at         TEXT NOT NULL,
	applied_at         TEXT
);

CREATE INDEX employees_active_name ON employees(active, full_name);

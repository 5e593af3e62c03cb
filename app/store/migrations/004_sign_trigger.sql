-- Signing is by far the commonest change to an assignment: an active,
-- unsigned row becomes signed and stays in its unit, due date and cycle. A
-- trigger of its own moves just the two counters that change, where the
-- general one takes the old row out and puts the new one in (five
-- statements); the general one now skips exactly that case.

DROP TRIGGER assignments_count_update;

CREATE TRIGGER assignments_count_sign AFTER UPDATE ON assignments
WHEN OLD.active = 1 AND NEW.active = 1 AND OLD.signed_at IS NULL AND NEW.signed_at IS NOT NULL
	AND NEW.cycle_id = OLD.cycle_id AND NEW.agency = OLD.agency AND NEW.department = OLD.department
	AND NEW.due_on = OLD.due_on AND NEW.started = OLD.started
BEGIN
	UPDATE completion SET signed = signed + 1, started = started - (OLD.started <> 0)
	WHERE cycle_id = OLD.cycle_id AND agency = OLD.agency AND department = OLD.department;
	UPDATE pending SET n = n - 1 WHERE cycle_id = OLD.cycle_id AND agency = OLD.agency
		AND department = OLD.department AND due_on = OLD.due_on;
	DELETE FROM pending WHERE n <= 0 AND cycle_id = OLD.cycle_id AND agency = OLD.agency
		AND department = OLD.department AND due_on = OLD.due_on;
END;

CREATE TRIGGER assignments_count_update AFTER UPDATE ON assignments
WHEN NOT (OLD.active = 1 AND NEW.active = 1 AND OLD.signed_at IS NULL AND NEW.signed_at IS NOT NULL
	AND NEW.cycle_id = OLD.cycle_id AND NEW.agency = OLD.agency AND NEW.department = OLD.department
	AND NEW.due_on = OLD.due_on AND NEW.started = OLD.started)
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

-- The dashboard's counts, kept by triggers as on SQLite (migrations 004 and
-- 013 there): completion holds, per cycle, agency and department, how many
-- people are assigned and how many have signed, signed on paper, are exempt
-- or have started; pending holds the people still to sign per due date,
-- from which the overdue figures come without reading the assignments.
-- The same four cases as SQLite's four triggers: a row comes, a row goes,
-- a signature (the hot path: two statements on the counts), and any other
-- change (the old row taken out, the new one put in).

CREATE FUNCTION assignments_count_in(r assignments) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF r.active <> 1 THEN
		RETURN;
	END IF;
	INSERT INTO completion AS c (cycle_id, agency, department, total, signed, paper, exempt, started)
	VALUES (r.cycle_id, r.agency, r.department, 1,
		(r.signed_at IS NOT NULL AND r.paper = 0)::int, (r.signed_at IS NOT NULL AND r.paper <> 0)::int,
		(r.signed_at IS NULL AND r.exempt <> 0)::int, (r.signed_at IS NULL AND r.exempt = 0 AND r.started <> 0)::int)
	ON CONFLICT (cycle_id, agency, department) DO UPDATE SET total = c.total + 1, signed = c.signed + excluded.signed,
		paper = c.paper + excluded.paper, exempt = c.exempt + excluded.exempt, started = c.started + excluded.started;
	IF r.signed_at IS NULL AND r.exempt = 0 THEN
		INSERT INTO pending AS p (cycle_id, agency, department, due_on, n, started)
		VALUES (r.cycle_id, r.agency, r.department, r.due_on, 1, (r.started <> 0)::int)
		ON CONFLICT (cycle_id, agency, department, due_on) DO UPDATE SET n = p.n + 1, started = p.started + excluded.started;
	END IF;
END $$;

CREATE FUNCTION assignments_count_out(r assignments) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF r.active <> 1 THEN
		RETURN;
	END IF;
	UPDATE completion SET total = total - 1,
		signed = signed - (r.signed_at IS NOT NULL AND r.paper = 0)::int,
		paper = paper - (r.signed_at IS NOT NULL AND r.paper <> 0)::int,
		exempt = exempt - (r.signed_at IS NULL AND r.exempt <> 0)::int,
		started = started - (r.signed_at IS NULL AND r.exempt = 0 AND r.started <> 0)::int
	WHERE cycle_id = r.cycle_id AND agency = r.agency AND department = r.department;
	IF r.signed_at IS NULL AND r.exempt = 0 THEN
		UPDATE pending SET n = n - 1, started = started - (r.started <> 0)::int
		WHERE cycle_id = r.cycle_id AND agency = r.agency AND department = r.department AND due_on = r.due_on;
		DELETE FROM pending WHERE n <= 0 AND cycle_id = r.cycle_id AND agency = r.agency
			AND department = r.department AND due_on = r.due_on;
	END IF;
END $$;

CREATE FUNCTION assignments_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM assignments_count_in(NEW);
	RETURN NULL;
END $$;
CREATE TRIGGER assignments_count_insert AFTER INSERT ON assignments FOR EACH ROW WHEN (NEW.active = 1)
	EXECUTE FUNCTION assignments_count_insert();

CREATE FUNCTION assignments_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM assignments_count_out(OLD);
	RETURN NULL;
END $$;
CREATE TRIGGER assignments_count_delete AFTER DELETE ON assignments FOR EACH ROW WHEN (OLD.active = 1)
	EXECUTE FUNCTION assignments_count_delete();

-- A signature: one row of each count moves, nothing else.
CREATE FUNCTION assignments_count_sign() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE completion SET signed = signed + (NEW.paper = 0)::int, paper = paper + (NEW.paper <> 0)::int,
		started = started - (OLD.started <> 0)::int
	WHERE cycle_id = OLD.cycle_id AND agency = OLD.agency AND department = OLD.department;
	UPDATE pending SET n = n - 1, started = started - (OLD.started <> 0)::int WHERE cycle_id = OLD.cycle_id
		AND agency = OLD.agency AND department = OLD.department AND due_on = OLD.due_on;
	DELETE FROM pending WHERE n <= 0 AND cycle_id = OLD.cycle_id AND agency = OLD.agency
		AND department = OLD.department AND due_on = OLD.due_on;
	RETURN NULL;
END $$;
CREATE TRIGGER assignments_count_sign AFTER UPDATE ON assignments FOR EACH ROW
	WHEN (OLD.active = 1 AND NEW.active = 1 AND OLD.signed_at IS NULL AND NEW.signed_at IS NOT NULL
		AND OLD.exempt = 0 AND NEW.exempt = 0
		AND NEW.cycle_id = OLD.cycle_id AND NEW.agency = OLD.agency AND NEW.department = OLD.department
		AND NEW.due_on = OLD.due_on AND NEW.started = OLD.started)
	EXECUTE FUNCTION assignments_count_sign();

CREATE FUNCTION assignments_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM assignments_count_out(OLD);
	PERFORM assignments_count_in(NEW);
	RETURN NULL;
END $$;
CREATE TRIGGER assignments_count_update AFTER UPDATE ON assignments FOR EACH ROW
	WHEN (NOT (OLD.active = 1 AND NEW.active = 1 AND OLD.signed_at IS NULL AND NEW.signed_at IS NOT NULL
		AND OLD.exempt = 0 AND NEW.exempt = 0
		AND NEW.cycle_id = OLD.cycle_id AND NEW.agency = OLD.agency AND NEW.department = OLD.department
		AND NEW.due_on = OLD.due_on AND NEW.started = OLD.started))
	EXECUTE FUNCTION assignments_count_update();

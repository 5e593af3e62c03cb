-- The dashboard's counts, kept by triggers as on SQLite (migrations 004 and
-- 013 there): completion holds, per cycle, agency and department, how many
-- people are assigned and how many have signed, signed on paper, are exempt
-- or have started; pending holds the people still to sign per due date,
-- from which the overdue figures come without reading the assignments.
--
-- SQLite counts row by row. Here one trigger a statement does it with the
-- statement's rows (its transition tables): every row going out of the
-- counts (deleted, or as it was before an update) takes its share off,
-- every row coming in (inserted, or as it is after) adds its share, summed
-- per count row, so a statement moves each count row once. Row by row, a
-- statement assigning a million people would rewrite the same count rows a
-- million times in one transaction, each rewrite walking every earlier
-- version of the row. The counts are the same as SQLite's after every
-- statement (TestPostgresCountsAsSQLite).

-- assignments_count is the INSERT and DELETE triggers' function: the rows
-- come in are an INSERT's new rows, the rows gone out a DELETE's old rows,
-- its SQL made for each (the UPDATE's, with both, is below). A count row
-- with nothing left to sign is deleted from pending, as on SQLite;
-- completion keeps its rows.
CREATE FUNCTION assignments_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	moved text := CASE TG_OP
		WHEN 'INSERT' THEN 'SELECT 1 AS dir, n.* FROM come_in n'
		ELSE 'SELECT -1 AS dir, o.* FROM gone_out o' END;
	emptied_cycle bigint[];
	emptied_agency text[];
	emptied_department text[];
	emptied_due text[];
BEGIN
	EXECUTE format($q$
		WITH d AS (
			SELECT cycle_id, agency, department, SUM(dir) AS total,
				SUM(dir * (signed_at IS NOT NULL AND paper = 0)::int) AS signed,
				SUM(dir * (signed_at IS NOT NULL AND paper <> 0)::int) AS paper,
				SUM(dir * (signed_at IS NULL AND exempt <> 0)::int) AS exempt,
				SUM(dir * (signed_at IS NULL AND exempt = 0 AND started <> 0)::int) AS started
			FROM (%s) m WHERE active = 1 GROUP BY cycle_id, agency, department
		)
		INSERT INTO completion AS c (cycle_id, agency, department, total, signed, paper, exempt, started)
		SELECT * FROM d WHERE total <> 0 OR signed <> 0 OR paper <> 0 OR exempt <> 0 OR started <> 0
		ON CONFLICT (cycle_id, agency, department) DO UPDATE SET total = c.total + excluded.total,
			signed = c.signed + excluded.signed, paper = c.paper + excluded.paper,
			exempt = c.exempt + excluded.exempt, started = c.started + excluded.started$q$, moved);
	EXECUTE format($q$
		WITH d AS (
			SELECT cycle_id, agency, department, due_on, SUM(dir) AS n, SUM(dir * (started <> 0)::int) AS started
			FROM (%s) m WHERE active = 1 AND signed_at IS NULL AND exempt = 0
			GROUP BY cycle_id, agency, department, due_on
		), changed AS (
			INSERT INTO pending AS p (cycle_id, agency, department, due_on, n, started)
			SELECT * FROM d WHERE n <> 0 OR started <> 0
			ON CONFLICT (cycle_id, agency, department, due_on) DO UPDATE SET n = p.n + excluded.n,
				started = p.started + excluded.started
			RETURNING p.cycle_id, p.agency, p.department, p.due_on, p.n
		)
		SELECT array_agg(cycle_id), array_agg(agency), array_agg(department), array_agg(due_on)
		FROM changed WHERE n <= 0$q$, moved) INTO emptied_cycle, emptied_agency, emptied_department, emptied_due;
	-- A statement cannot change a row twice, so the rows the upsert left
	-- with nobody to sign are deleted by a second one.
	IF emptied_cycle IS NOT NULL THEN
		DELETE FROM pending p USING unnest(emptied_cycle, emptied_agency, emptied_department, emptied_due)
			AS z(cycle_id, agency, department, due_on)
		WHERE p.n <= 0 AND p.cycle_id = z.cycle_id AND p.agency = z.agency AND p.department = z.department
			AND p.due_on = z.due_on;
	END IF;
	RETURN NULL;
END $$;

CREATE FUNCTION assignments_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	emptied_cycle bigint[];
	emptied_agency text[];
	emptied_department text[];
	emptied_due text[];
BEGIN
	WITH d AS (
		SELECT cycle_id, agency, department, SUM(dir) AS total,
			SUM(dir * (signed_at IS NOT NULL AND paper = 0)::int) AS signed,
			SUM(dir * (signed_at IS NOT NULL AND paper <> 0)::int) AS paper,
			SUM(dir * (signed_at IS NULL AND exempt <> 0)::int) AS exempt,
			SUM(dir * (signed_at IS NULL AND exempt = 0 AND started <> 0)::int) AS started
		FROM (SELECT -1 AS dir, o.* FROM gone_out o UNION ALL SELECT 1, n.* FROM come_in n) m
		WHERE active = 1 GROUP BY cycle_id, agency, department
	)
	INSERT INTO completion AS c (cycle_id, agency, department, total, signed, paper, exempt, started)
	SELECT * FROM d WHERE total <> 0 OR signed <> 0 OR paper <> 0 OR exempt <> 0 OR started <> 0
	ON CONFLICT (cycle_id, agency, department) DO UPDATE SET total = c.total + excluded.total,
		signed = c.signed + excluded.signed, paper = c.paper + excluded.paper,
		exempt = c.exempt + excluded.exempt, started = c.started + excluded.started;
	WITH d AS (
		SELECT cycle_id, agency, department, due_on, SUM(dir) AS n, SUM(dir * (started <> 0)::int) AS started
		FROM (SELECT -1 AS dir, o.* FROM gone_out o UNION ALL SELECT 1, n.* FROM come_in n) m
		WHERE active = 1 AND signed_at IS NULL AND exempt = 0
		GROUP BY cycle_id, agency, department, due_on
	), changed AS (
		INSERT INTO pending AS p (cycle_id, agency, department, due_on, n, started)
		SELECT * FROM d WHERE n <> 0 OR started <> 0
		ON CONFLICT (cycle_id, agency, department, due_on) DO UPDATE SET n = p.n + excluded.n,
			started = p.started + excluded.started
		RETURNING p.cycle_id, p.agency, p.department, p.due_on, p.n
	)
	SELECT array_agg(cycle_id), array_agg(agency), array_agg(department), array_agg(due_on)
	INTO emptied_cycle, emptied_agency, emptied_department, emptied_due
	FROM changed WHERE n <= 0;
	-- A statement cannot change a row twice, so the rows the upsert left
	-- with nobody to sign are deleted by a second one.
	IF emptied_cycle IS NOT NULL THEN
		DELETE FROM pending p USING unnest(emptied_cycle, emptied_agency, emptied_department, emptied_due)
			AS z(cycle_id, agency, department, due_on)
		WHERE p.n <= 0 AND p.cycle_id = z.cycle_id AND p.agency = z.agency AND p.department = z.department
			AND p.due_on = z.due_on;
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER assignments_count_insert AFTER INSERT ON assignments REFERENCING NEW TABLE AS come_in
	FOR EACH STATEMENT EXECUTE FUNCTION assignments_count();
CREATE TRIGGER assignments_count_delete AFTER DELETE ON assignments REFERENCING OLD TABLE AS gone_out
	FOR EACH STATEMENT EXECUTE FUNCTION assignments_count();
CREATE TRIGGER assignments_count_update AFTER UPDATE ON assignments REFERENCING OLD TABLE AS gone_out NEW TABLE AS come_in
	FOR EACH STATEMENT EXECUTE FUNCTION assignments_count_update();

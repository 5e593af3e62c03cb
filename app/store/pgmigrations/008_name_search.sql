-- Name search (SQLite migration 015): name_search holds each person's
-- folded name and name_words its words, folded as the portal folds typed
-- names (app.SearchText: case folded, accents dropped, ß→ss …). SQLite's
-- triggers fold through a function the portal registers on its
-- connections; PostgreSQL cannot run the portal's Go, so here a trigger
-- only queues the person whose name is new or changed, and the portal
-- folds the queue in the same transaction as the write (store.foldNames,
-- called by every roster writer), and at start and with each background
-- sweep for any name written some other way. The queue's trigger never
-- forgets, as SQLite's never do.
CREATE TABLE name_search_pending (
	employee_id BIGINT PRIMARY KEY REFERENCES employees(id)
);

CREATE FUNCTION name_search_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO name_search_pending (employee_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
	RETURN NULL;
END $$;
CREATE TRIGGER name_words_i AFTER INSERT ON employees FOR EACH ROW EXECUTE FUNCTION name_search_queue();
CREATE TRIGGER name_words_u AFTER UPDATE OF full_name ON employees FOR EACH ROW
	WHEN (OLD.full_name IS DISTINCT FROM NEW.full_name) EXECUTE FUNCTION name_search_queue();

-- Folding a queued person replaces their words, found by person: SQLite's
-- trigger finds them by word instead, through the primary key.
CREATE INDEX name_words_employee ON name_words(employee_id);

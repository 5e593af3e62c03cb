-- Reminders a manager asks for from the team page are outbox rows of kind
-- 'reminder' whose about_id is the manager (the reminder pass leaves it
-- empty). The manager's daily cap counts them on every team page and every
-- request: this index keeps that a short range read whatever the outbox's
-- size (a reminder pass at 100,000 people adds rows by the hundred thousand).
CREATE INDEX outbox_manager_reminders ON outbox(about_id, created_at) WHERE kind = 'reminder' AND about_id IS NOT NULL;

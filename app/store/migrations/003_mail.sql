-- Reminders: what each outbox message is about, so it can be rendered when
-- sent and skipped if the person signed meanwhile; addresses that bounce.

ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'signin';
ALTER TABLE outbox ADD COLUMN employee_id INTEGER;
ALTER TABLE outbox ADD COLUMN cycle_id INTEGER;
ALTER TABLE outbox ADD COLUMN about_id INTEGER; -- the overdue employee (escalation) or the acknowledgment (certificate)
CREATE INDEX outbox_employee ON outbox(employee_id);

-- An address the mail server refused permanently (a 5xx answer).
CREATE TABLE unreachable (
	email  TEXT PRIMARY KEY COLLATE NOCASE,
	at     TEXT NOT NULL,
	reason TEXT NOT NULL
) WITHOUT ROWID;

-- The worker claims the earliest due first; this index gives that order
-- without sorting the whole queue on every claim.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at, id) WHERE locked_at IS NULL;

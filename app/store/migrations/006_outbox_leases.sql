-- Outbox claims become leases: who holds a claimed message (a random id per
-- worker process) and until when, on the wall clock. A live worker renews
-- its leases while it delivers; a dead one's expire and its messages go
-- back to the queue, without waiting for a server to start.
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
-- Claims made before leases existed have ended: their workers stopped for
-- the upgrade.
UPDATE outbox SET lease_until = locked_at WHERE locked_at IS NOT NULL;
-- Claimed messages are few (a batch per worker); these find the expired
-- leases and a worker's own without reading the queue.
CREATE INDEX outbox_lease_until ON outbox(lease_until) WHERE locked_at IS NOT NULL;
CREATE INDEX outbox_lease_owner ON outbox(lease_owner) WHERE locked_at IS NOT NULL;

-- Sign-in links have a lane of their own; this index finds the due ones
-- without walking past a backlog of reminders.
CREATE INDEX outbox_signin_due ON outbox(next_attempt_at, id)
	WHERE status = 'queued' AND locked_at IS NULL AND kind = 'signin';

-- The mail server refusing the portal itself (a 5xx before any recipient:
-- on connection, EHLO, STARTTLS, AUTH or MAIL FROM), while it lasts. One
-- row at most; `portal remind` runs in another process, so the web process
-- reads it here. It holds the server's answer, never credentials.
CREATE TABLE mail_fault (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	since   TEXT NOT NULL, -- the first refusal
	last_at TEXT NOT NULL, -- the latest
	stage   TEXT NOT NULL, -- connect, ehlo, starttls, auth or mail
	reply   TEXT NOT NULL  -- the server's answer
);

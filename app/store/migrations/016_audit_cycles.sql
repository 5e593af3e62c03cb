-- The audit log newest first, filtered by kind of event, by who did it or
-- by whom it is about, at a million events: each order and filter has an
-- index that ends in the event's time, so a page reads a page of entries.
-- The subject index gains the time and replaces the one without it.
CREATE INDEX audit_events_at ON audit_events(at);
CREATE INDEX audit_events_action_at ON audit_events(action, at);
CREATE INDEX audit_events_actor_at ON audit_events(actor_id, at);
CREATE INDEX audit_events_subject_at ON audit_events(subject_type, subject_id, at);
DROP INDEX audit_events_subject;

-- Rate limits kept in the database, so that every node of a deployment
-- counts against the same limit (sign-in requests per address, exports per
-- user, API calls per token). A row is one event: the limit's name, the
-- SHA-256 of its key (no address or e-mail is kept here), when it happened
-- and when it stops counting. Rows are swept once past `until`.
CREATE TABLE rate_hits (
	bucket TEXT COLLATE "C" NOT NULL,
	key    TEXT COLLATE "C" NOT NULL,
	at     TEXT COLLATE "C" NOT NULL,
	until  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX rate_hits_key ON rate_hits (bucket, key, at);
CREATE INDEX rate_hits_until ON rate_hits (until);

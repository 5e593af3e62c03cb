-- OpenID Connect sign-in: the issuer that vouched for a session's identity
-- (its subject, in identity), and the same on each acknowledgment signed in
-- such a session. Empty for every other sign-in method, so rows written
-- before this migration read exactly as they did.
ALTER TABLE sessions ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE acknowledgments ADD COLUMN sign_in_issuer TEXT NOT NULL DEFAULT '';

-- The official documents a policy version carries (PDF or plain text),
-- stored with the version when it is published. Their name, type, size and
-- SHA-256 are also in the version's bundle, so the version's hash can be
-- checked without reading the bytes; the bytes are checked against sha256
-- when read. Evidence: never updated or deleted.
CREATE TABLE policy_documents (
	id                INTEGER PRIMARY KEY,
	policy_version_id INTEGER NOT NULL REFERENCES policy_versions(id),
	name              TEXT NOT NULL,
	content_type      TEXT NOT NULL,
	size              INTEGER NOT NULL,
	sha256            TEXT NOT NULL,
	data              BLOB NOT NULL,
	UNIQUE (policy_version_id, name)
);
CREATE TRIGGER policy_documents_immutable_u BEFORE UPDATE ON policy_documents
BEGIN SELECT RAISE(ABORT, 'published policy documents are immutable'); END;
CREATE TRIGGER policy_documents_immutable_d BEFORE DELETE ON policy_documents
BEGIN SELECT RAISE(ABORT, 'published policy documents are immutable'); END;

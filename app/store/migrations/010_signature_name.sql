-- A Latin-letter form of a person's name (say "Wang Xiaoming" for 王小明)
-- that they may type to sign instead of the roster name, for someone whose
-- keyboard cannot write the roster name. Empty for most people.
ALTER TABLE employees ADD COLUMN signature_name TEXT NOT NULL DEFAULT '';

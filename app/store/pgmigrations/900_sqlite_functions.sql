-- Two of SQLite's functions that the services' SQL calls, for PostgreSQL,
-- so that the SQL is written once for both databases (dialect.go has the
-- few spellings that cannot be shared this way).

-- julianday(date) is the date's Julian day number: the difference of two
-- is a number of days (remind.go, days until a due date).
CREATE FUNCTION julianday(d TEXT) RETURNS DOUBLE PRECISION
	LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
	RETURN CAST(extract(julian FROM CAST(substr(d, 1, 10) AS date)) AS DOUBLE PRECISION);

-- instr(hay, needle) is the position of needle in hay, from 1, or 0.
CREATE FUNCTION instr(hay TEXT, needle TEXT) RETURNS INTEGER
	LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
	RETURN strpos(hay, needle);

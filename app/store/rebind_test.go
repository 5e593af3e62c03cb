package store

import (
	"database/sql/driver"
	"testing"
)

func TestRebind(t *testing.T) {
	named := []driver.NamedValue{{Ordinal: 1, Value: 1}, {Name: "today", Ordinal: 2, Value: "x"}, {Ordinal: 3, Value: 2}}
	for _, tc := range []struct {
		in   string
		args []driver.NamedValue
		want string
	}{
		{`SELECT ? , ?`, nil, `SELECT $1 , $2`},
		{`SELECT '?', "a?", ? -- what?` + "\n" + `, ?`, nil, `SELECT '?', "a?", $1 -- what?` + "\n" + `, $2`},
		{`SELECT 'it''s ?', ?`, nil, `SELECT 'it''s ?', $1`},
		{`SELECT x::text, ?`, nil, `SELECT x::text, $1`},
		{`SELECT ? WHERE d <= :today AND e >= :today AND f = ?`, named, `SELECT $1 WHERE d <= $2 AND e >= $2 AND f = $3`},
		{`SELECT :other, ?`, named, `SELECT :other, $1`},
		{`SELECT COUNT(*) FROM outbox INDEXED BY outbox_due WHERE a = ?`, nil, `SELECT COUNT(*) FROM outbox WHERE a = $1`},
	} {
		if got := rebind(tc.in, tc.args); got != tc.want {
			t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

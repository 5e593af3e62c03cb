package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/mattn/go-sqlite3"

	"portal/app"
)

// registerSearchFunctions adds the SQL function search needs to a
// connection of the portal's drivers (driver.go). SQLite's own lower()
// folds ASCII letters only, so "cote" could never find Zoë Côté;
// portal_search_text(name) folds a name as the portal folds typed signature
// names and returns app.SearchText: " zoe cote ". It is deterministic,
// which lets the name index's triggers call it (migration 015). It is
// called when a name is written, never by a search.
func registerSearchFunctions(c *sqlite3.SQLiteConn) error {
	if err := c.RegisterFunc("portal_search_text", app.SearchText, true); err != nil {
		return fmt.Errorf("register portal_search_text: %w", err)
	}
	return nil
}

// searchCond finds people by employee number (exactly), by the start of
// their e-mail address (any case: the column compares without case), or by
// their name, each through an index: one set of people, from which the
// list goes straight to their assignments, never a scan of the roster.
//
// For a name, the words searched are folded as names are (app.SearchWords:
// "LÉVESQUE" and "levesque" are the same word). The word searched that
// starts the fewest words of names (rare, counted up to a cap by
// rarestWord) picks the candidates through name_words; with several words,
// each candidate's folded name (name_search, one row a person) must also
// hold " " and every other word: a search for "person 4242" reads the few
// people with a word starting "4242", not everyone called "Person". Every
// text starting with s sorts from s up to s followed by U+10FFFF, the last
// code point, which no name or address holds (and which, unlike a byte
// 0xff, is valid UTF-8, as PostgreSQL requires of text).
//
// The rarest word is picked by a query of its own (rarestWord) and given
// to the search as a value: PostgreSQL's planner then sees how few people
// it brings and reads them through the indexes; with the word picked inside
// the same query it planned for thousands and hashed whole tables (46 ms
// for "Person 4242" at a million people). Each word's count walks the
// index in order (ORDER BY word), stopping at the cap, and each
// candidate's folded name is looked up by a subquery on its key.
func searchCond(a, q, rare string) (string, []any) {
	sets, args := "", []any{}
	if words := app.SearchWords(q); len(words) > 0 {
		in := `w.word >= ? AND w.word < ?`
		args = append(args, rare, rare+"\U0010FFFF")
		if len(words) == 1 {
			// The index holds the word: nothing left to check.
			sets = `SELECT w.employee_id FROM name_words w WHERE ` + in + " UNION "
		} else {
			holds := make([]string, len(words))
			for i, w := range words {
				holds[i] = "instr(s.words, ?) > 0"
				args = append(args, " "+w)
			}
			sets = `SELECT w.employee_id FROM name_words w WHERE ` + in + ` AND (SELECT ` + strings.Join(holds, " AND ") +
				` FROM name_search s WHERE s.employee_id = w.employee_id) UNION `
		}
	}
	sets += "SELECT id FROM employees WHERE email >= ? AND email < ? UNION SELECT id FROM employees WHERE employee_number = ?"
	args = append(args, q, q+"\U0010FFFF", q)
	return a + ".employee_id IN (" + sets + ")", args
}

// rarestWord picks, of the words of a search, the one that starts the
// fewest words of names (counted up to 1,000 each, walking the index in
// order), for searchCond: "" when the search holds no word of a name.
func rarestWord(ctx context.Context, read *sql.DB, q string) (string, error) {
	words := app.SearchWords(q)
	switch len(words) {
	case 0:
		return "", nil
	case 1:
		return words[0], nil
	}
	counts := make([]string, len(words))
	var args []any
	for i, w := range words {
		counts[i] = `SELECT ? AS word, (SELECT COUNT(*) FROM (SELECT 1 FROM name_words WHERE word >= ? AND word < ? ORDER BY word LIMIT 1000) n) AS c`
		args = append(args, w, w, w+"\U0010FFFF")
	}
	var rare string
	// #nosec G202 -- one constant subquery a word; every value is a bound parameter
	if err := read.QueryRowContext(ctx, `SELECT word FROM (`+strings.Join(counts, " UNION ALL ")+`) b ORDER BY c, word LIMIT 1`, args...).Scan(&rare); err != nil {
		return "", fmt.Errorf("search: %w", err)
	}
	return rare, nil
}

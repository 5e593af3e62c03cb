package store

import (
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
// starts the fewest words of names (counted up to a cap, in the query
// itself) picks the candidates through name_words; with several words,
// each candidate's folded name (name_search, one row a person) must also
// hold " " and every other word: a search for "person 4242" reads the few
// people with a word starting "4242", not everyone called "Person". Every
// text starting with s sorts from s up to s followed by U+10FFFF, the last
// code point, which no name or address holds (and which, unlike a byte
// 0xff, is valid UTF-8, as PostgreSQL requires of text).
//
// Three spellings keep PostgreSQL on the same path as SQLite: each word's
// count is given its bounds as values, not as columns of the outer query,
// so the planner sees how many entries a word starts and walks the index
// in order (ORDER BY word), stopping at the cap instead of collecting every
// entry first (a bitmap scan); and each candidate's folded name is looked
// up by a subquery on its key, so the candidates are never joined by
// hashing the whole name_search table.
func searchCond(a, q string) (string, []any) {
	sets, args := "", []any{}
	if words := app.SearchWords(q); len(words) > 0 {
		bounds := make([]string, len(words))
		var bargs []any
		for i, w := range words {
			bounds[i] = `SELECT ? AS lo, ? AS hi,
				(SELECT COUNT(*) FROM (SELECT 1 FROM name_words WHERE word >= ? AND word < ? ORDER BY word LIMIT 1000) n) AS c`
			bargs = append(bargs, w, w+"\U0010FFFF", w, w+"\U0010FFFF")
		}
		rarest := `(SELECT %s FROM (` + strings.Join(bounds, " UNION ALL ") + `) b ORDER BY c LIMIT 1)`
		in := `w.word >= ` + fmt.Sprintf(rarest, "lo") + ` AND w.word < ` + fmt.Sprintf(rarest, "hi")
		args = append(append(args, bargs...), bargs...)
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

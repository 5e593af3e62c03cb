package sqlite

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mattn/go-sqlite3"

	"portal/app"
)

// The SQL functions search needs, registered on every connection of the
// portal's drivers (driver.go). SQLite's own lower() folds ASCII letters
// only, so "cote" could never find Zoë Côté; these fold a name as the
// portal folds typed signature names (app.NameWords). Both are
// deterministic, which lets SQLite use them in triggers.
//
//   - portal_name_words(name) is a JSON array of the name's folded words,
//     for the name_words triggers (migration 015) through json_each.
//   - portal_name_holds(name, words) is 1 when every space-separated
//     folded word starts a word of the name: the check of each candidate
//     of a search of several words.
func registerSearchFunctions(c *sqlite3.SQLiteConn) error {
	if err := c.RegisterFunc("portal_name_words", nameWordsJSON, true); err != nil {
		return fmt.Errorf("register portal_name_words: %w", err)
	}
	if err := c.RegisterFunc("portal_name_holds", nameHolds, true); err != nil {
		return fmt.Errorf("register portal_name_holds: %w", err)
	}
	return nil
}

func nameWordsJSON(name string) (string, error) {
	words := app.NameWords(name)
	if len(words) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(words)
	return string(b), err
}

func nameHolds(name, words string) bool {
	text := app.SearchText(name) + " "
	for _, w := range strings.Fields(words) {
		if !strings.Contains(text, " "+w) {
			return false
		}
	}
	return true
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
// each candidate's name must also have a word starting with every other
// (portal_name_holds, one call a candidate): a search for "person 4242"
// reads the few people with a word starting "4242", not everyone called
// "Person". Every text starting with s sorts from s up to s followed by
// the byte 0xff, which no UTF-8 text holds.
func searchCond(a, q string) (string, []any) {
	sets, args := "", []any{}
	if words := app.SearchWords(q); len(words) > 0 {
		bounds := make([]string, len(words))
		var bargs []any
		for i, w := range words {
			bounds[i] = "SELECT ? AS lo, ? AS hi"
			bargs = append(bargs, w, w+"\xff")
		}
		rarest := `(SELECT %s FROM (` + strings.Join(bounds, " UNION ALL ") + `) ORDER BY
			(SELECT COUNT(*) FROM (SELECT 1 FROM name_words WHERE word >= lo AND word < hi LIMIT 1000)) LIMIT 1)`
		in := `w.word >= ` + fmt.Sprintf(rarest, "lo") + ` AND w.word < ` + fmt.Sprintf(rarest, "hi")
		args = append(append(args, bargs...), bargs...)
		if len(words) == 1 {
			// The index holds the word: nothing left to check.
			sets = `SELECT w.employee_id FROM name_words w WHERE ` + in + " UNION "
		} else {
			sets = `SELECT w.employee_id FROM name_words w JOIN employees x ON x.id = w.employee_id
				WHERE ` + in + ` AND portal_name_holds(x.full_name, ?) UNION `
			args = append(args, strings.Join(words, " "))
		}
	}
	sets += "SELECT id FROM employees WHERE email >= ? AND email < ? UNION SELECT id FROM employees WHERE employee_number = ?"
	args = append(args, q, q+"\xff", q)
	return a + ".employee_id IN (" + sets + ")", args
}

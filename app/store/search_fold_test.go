package store

import (
	"context"
	"slices"
	"strings"
	"testing"

	"portal/app"
)

// searchFixture is a roster imported into a database with an open cycle:
// the real writer, so the word index is what the triggers made.
func searchFixture(t *testing.T) (*fixture, *RosterService, func(t *testing.T, f app.PeopleFilter) []string) {
	t.Helper()
	f := newFixture(t)
	rs := NewRosterService(f.db)
	rows := []app.RosterRow{
		{EmployeeNumber: "1", FullName: "Zoë Côté", Email: "zoe@x.example"},
		{EmployeeNumber: "2", FullName: "François Lévesque", Email: "francois.levesque@x.example", ManagerNumber: "5"},
		{EmployeeNumber: "3", FullName: "Brian Levesque", Email: "BLevesque@x.example", ManagerNumber: "5"},
		{EmployeeNumber: "4", FullName: "Jürgen Straße", Email: "js@x.example", ManagerNumber: "2"},
		{EmployeeNumber: "5", FullName: "Łucja Østergård", Email: "lucja@x.example"},
		{EmployeeNumber: "6", FullName: "Mary O'Brien", Email: "mary@x.example"},
		{EmployeeNumber: "E-77", FullName: "Ærin Cotelli", Email: "aerin@x.example"},
	}
	for i := range rows {
		rows[i].Line, rows[i].Agency, rows[i].Department, rows[i].HireDate = i+2, "A", "D", "2020-01-01"
	}
	if _, err := rs.ImportRoster(context.Background(), rows, app.ImportOptions{Source: "test"}); err != nil {
		t.Fatal(err)
	}
	find := func(t *testing.T, pf app.PeopleFilter) []string {
		t.Helper()
		pf.CycleID, pf.Today = f.cycle.ID, "2026-02-01"
		people, total, err := NewDashboardService(f.db).People(context.Background(), pf)
		if err != nil {
			t.Fatal(err)
		}
		if total != len(people) {
			t.Fatalf("%q: count %d, rows %d", pf.Query, total, len(people))
		}
		var names []string
		for _, p := range people {
			names = append(names, p.FullName)
		}
		slices.Sort(names)
		return names
	}
	return f, rs, find
}

// TestSearchIgnoresCaseAndAccents checks issue 15's search defects: "cote"
// found nobody called Côté and "levesque" found Brian Levesque but not
// François Lévesque, because the word index held words lowercased by
// SQLite's ASCII-only lower().
func TestSearchIgnoresCaseAndAccents(t *testing.T) {
	_, _, find := searchFixture(t)
	for q, want := range map[string][]string{
		"cote":                  {"Zoë Côté", "Ærin Cotelli"}, // the start of a word
		"côté":                  {"Zoë Côté", "Ærin Cotelli"},
		"levesque":              {"Brian Levesque", "François Lévesque"},
		"LÉVESQUE":              {"Brian Levesque", "François Lévesque"},
		"Lévesque":              {"Brian Levesque", "François Lévesque"},
		"francois levesque":     {"François Lévesque"},
		"Cote Zoe":              {"Zoë Côté"}, // words in any order
		"ZOË":                   {"Zoë Côté"},
		"strasse":               {"Jürgen Straße"},
		"STRASSE jurgen":        {"Jürgen Straße"},
		"straße":                {"Jürgen Straße"},
		"lucja ostergard":       {"Łucja Østergård"},
		"aerin":                 {"Ærin Cotelli"},
		"obrien":                {"Mary O'Brien"},
		"O’Brien":               {"Mary O'Brien"},
		"FRANCOIS.LEVESQUE@X":   {"François Lévesque"}, // an e-mail's start in capitals
		"blevesque@x.example":   {"Brian Levesque"},    // stored in capitals, searched in small letters
		"E-77":                  {"Ærin Cotelli"},      // the employee number
		"e-77":                  nil,                   // employee numbers are exact
		"zoe cote levesque":     nil,                   // every word must start a word of the name
		"ote":                   nil,                   // the starts of words, not their middles
		"levesque  françois  x": nil,
	} {
		if got := find(t, app.PeopleFilter{Query: q}); !slices.Equal(got, want) {
			t.Errorf("search %q found %q, want %q", q, got, want)
		}
	}
}

// TestSearchFollowsRenames checks that a new name is found by its folded
// words and the old name's words are gone, from the index itself too.
func TestSearchFollowsRenames(t *testing.T) {
	f, rs, find := searchFixture(t)
	rows := []app.RosterRow{{Line: 2, EmployeeNumber: "2", FullName: "François Côté-Nguyễn", Email: "francois.levesque@x.example",
		Agency: "A", Department: "D", HireDate: "2020-01-01", ManagerNumber: "5"}}
	if _, err := rs.ImportRoster(context.Background(), rows, app.ImportOptions{Source: "test"}); err != nil {
		t.Fatal(err)
	}
	if got := find(t, app.PeopleFilter{Query: "levesque"}); !slices.Equal(got, []string{"Brian Levesque"}) {
		t.Errorf("after the rename, \"levesque\" found %q", got)
	}
	if got := find(t, app.PeopleFilter{Query: "nguyen cote"}); !slices.Equal(got, []string{"François Côté-Nguyễn"}) {
		t.Errorf("after the rename, \"nguyen cote\" found %q", got)
	}
	var words []string
	rowsQ, err := f.db.read.Query(`SELECT word FROM name_words WHERE employee_id = (SELECT id FROM employees WHERE employee_number = '2') ORDER BY word`)
	if err != nil {
		t.Fatal(err)
	}
	defer rowsQ.Close()
	for rowsQ.Next() {
		var w string
		if err := rowsQ.Scan(&w); err != nil {
			t.Fatal(err)
		}
		words = append(words, w)
	}
	if strings.Join(words, " ") != "cote francois nguyen" {
		t.Errorf("the renamed person's words: %q", words)
	}
	var text string
	if err := f.db.read.QueryRow(`SELECT words FROM name_search WHERE employee_id = (SELECT id FROM employees WHERE employee_number = '2')`).Scan(&text); err != nil || text != " francois cote nguyen " {
		t.Errorf("the renamed person's folded name: %q (%v)", text, err)
	}
}

// TestManagerSearchStaysInTheTree checks the manager's filter: the same
// folding, and only the people under the manager.
func TestManagerSearchStaysInTheTree(t *testing.T) {
	f, _, find := searchFixture(t)
	var manager int64
	if err := f.db.read.QueryRow(`SELECT id FROM employees WHERE employee_number = '5'`).Scan(&manager); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]string{
		"levesque": {"Brian Levesque", "François Lévesque"},
		"STRASSE":  {"Jürgen Straße"}, // under François, so under Łucja too
		"cote":     nil,               // Zoë is not in the tree
		"lucja":    nil,               // nor the manager herself
		"js@x":     {"Jürgen Straße"},
		"1":        nil,
	} {
		if got := find(t, app.PeopleFilter{Query: q, ManagerID: &manager}); !slices.Equal(got, want) {
			t.Errorf("manager's search %q found %q, want %q", q, got, want)
		}
	}
}

// TestMigration015RebuildsTheWords checks the migration's backfill: an index
// as migration 009 left it (ASCII-lowercased words, no name_search) is
// rebuilt folded.
func TestMigration015RebuildsTheWords(t *testing.T) {
	f, _, find := searchFixture(t)
	if _, err := f.db.write.Exec(`DROP TABLE name_search; DELETE FROM name_words`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.write.Exec(`INSERT INTO name_words (word, employee_id) SELECT lower(full_name), id FROM employees`); err != nil {
		t.Fatal(err)
	}
	if got := find(t, app.PeopleFilter{Query: "cote"}); got != nil {
		t.Fatalf("the old index found %q", got)
	}
	body, err := migrationFS.ReadFile("migrations/015_search_folding.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.write.Exec(string(body)); err != nil {
		t.Fatal(err)
	}
	if got := find(t, app.PeopleFilter{Query: "cote"}); !slices.Equal(got, []string{"Zoë Côté", "Ærin Cotelli"}) {
		t.Errorf("after the migration, \"cote\" found %q", got)
	}
	var stale int
	if err := f.db.read.QueryRow(`SELECT COUNT(*) FROM name_words WHERE word LIKE '% %' OR word <> lower(word) OR word GLOB '*[^ -~]*'`).Scan(&stale); err != nil || stale != 0 {
		t.Errorf("%d words left unfolded (%v)", stale, err)
	}
}

package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// listedNames returns the names in the first column of a people table.
func listedNames(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<th scope="row"[^>]*>(?:<a [^>]*>)?([^<]+)`).FindAllStringSubmatch(body, -1) {
		out = append(out, strings.TrimSpace(m[1]))
	}
	slices.Sort(out)
	return out
}

// TestSearchIgnoresAccentsInThePortal checks issue 15's search defect
// through HTTP: "cote" found nobody (Zoë Côté) and "levesque" found Brian
// Levesque but not François Lévesque, in HR's people list; the manager's
// team page searches the same way, within the manager's tree only.
func TestSearchIgnoresAccentsInThePortal(t *testing.T) {
	tp := startTestPortal(t)
	hr := hrClient(t, tp)
	t.Run("HR's people list", func(t *testing.T) {
		for q, want := range map[string][]string{
			"cote":         {"Zoë Côté"},
			"Cote Zoe":     {"Zoë Côté"},
			"levesque":     {"Brian Levesque", "François Lévesque"},
			"LÉVESQUE":     {"Brian Levesque", "François Lévesque"},
			"gross":        {"Jürgen Groß"},
			"lukasz wisn":  {"Łukasz Wiśniewski"},
			"obrien":       {"Siobhán O&#39;Brien"},
			"ZOE.COTE@":    {"Zoë Côté"}, // words of the name as much as the start of an address
			"2003":         {"Émile Bouchard"},
			"emile":        {"Émile Bouchard"},
			"Émile Zzz":    nil,
			"нет такого":   nil,
			"смирнова":     {"Дарья Смирнова"}, // other scripts fold their case too
			"СМИРНОВА ДАР": {"Дарья Смирнова"},
		} {
			r := hr.get("/hr/people?q=" + urlEscape(q))
			if r.Status != 200 {
				t.Fatalf("%q: status %d", q, r.Status)
			}
			if got := listedNames(r.Body); !slices.Equal(got, want) {
				t.Errorf("search %q listed %q, want %q", q, got, want)
			}
		}
		// An e-mail address's start, in capitals.
		email := strings.ToUpper(tp.employee(t, "1005").Email)
		if got := listedNames(hr.get("/hr/people?q=" + urlEscape(email[:len(email)-3])).Body); !slices.Equal(got, []string{"Zoë Côté"}) {
			t.Errorf("search by the start of %q listed %q", email, got)
		}
		// The CSV export uses the same search.
		if r := hr.get("/hr/export.csv?q=levesque"); !strings.Contains(r.Body, "François Lévesque") || !strings.Contains(r.Body, "Brian Levesque") {
			t.Errorf("the export of a search:\n%s", r.Body)
		}
	})
	t.Run("the manager's team page", func(t *testing.T) {
		mgr := newClient(t, tp.BaseURL)
		mgr.signIn(tp.signInLink(t, "1001")) // Margaret Thibodeau: 1003, 1004 and 1009 report to her, 1005–1008 through 1004
		for q, want := range map[string][]string{
			"levesque": {"François Lévesque"}, // Brian Levesque is in another tree
			"COTE":     {"Zoë Côté"},
			"nguyen":   {"Nguyễn Thị Lan"},
			"lukasz":   {"Łukasz Wiśniewski"},
			"gross":    nil, // another agency
			"1008":     {"Siobhán O&#39;Brien"},
		} {
			r := mgr.get("/team?q=" + urlEscape(q))
			if r.Status != 200 {
				t.Fatalf("%q: status %d", q, r.Status)
			}
			if got := listedNames(r.Body); !slices.Equal(got, want) {
				t.Errorf("team search %q listed %q, want %q", q, got, want)
			}
		}
		mustContain(t, mgr.get("/team?q=cote&page=1").Body, `value="cote"`, "1 person")
		r := mgr.get("/team?q=" + strings.Repeat("a", 201))
		wantFieldError(t, r, "q", "The search must be 200 characters or fewer.")
		if strings.Contains(r.Body, "Zoë Côté") {
			t.Error("a refused search still listed the team")
		}
	})
}

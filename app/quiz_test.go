package app

import (
	"errors"
	"slices"
	"testing"
)

// drawVersion has a module with five questions, one with one, one with none
// and a posters-only module with three.
func drawVersion() *PolicyVersion {
	opts := []Option{{"a", "A"}, {"b", "B"}, {"c", "C"}, {"d", "D"}}
	v := &PolicyVersion{ID: 9, Modules: []Module{
		{Slug: "big", Title: "Big", Audience: AudienceAll},
		{Slug: "one", Title: "One", Audience: AudienceAll},
		{Slug: "none", Title: "None", Audience: AudienceAll},
		{Slug: "post", Title: "Posting", Audience: AudiencePosters},
	}}
	add := func(module string, ids ...string) {
		for _, id := range ids {
			v.Questions = append(v.Questions, Question{ID: id, Module: module, Options: opts, Answer: "a"})
		}
	}
	add("big", "b1", "b2", "b3", "b4", "b5")
	add("one", "o1")
	add("post", "p1", "p2", "p3")
	return v
}

func moduleOf(v *PolicyVersion, id string) string { return v.Question(id).Module }

func TestDrawQuiz(t *testing.T) {
	v := drawVersion()
	employee, poster := AudienceAll, AudiencePosters // the two parts
	t.Run("up to two a module from every module of the part, in reading order", func(t *testing.T) {
		for range 200 {
			shown, err := DrawQuiz(v, employee, CryptoIntn)
			if err != nil {
				t.Fatal(err)
			}
			var mods []string
			for _, s := range shown {
				mods = append(mods, moduleOf(v, s.ID))
			}
			if !slices.Equal(mods, []string{"big", "big", "one"}) {
				t.Fatalf("modules drawn %v", mods)
			}
			if shown[0].ID == shown[1].ID {
				t.Fatalf("a question drawn twice: %v", shown)
			}
			if err := CheckDraw(v, employee, shown); err != nil {
				t.Fatal(err)
			}
			if CheckDraw(v, poster, shown) == nil {
				t.Fatal("a draw of the part for everyone passes as one of the posters' part")
			}
			shown, _ = DrawQuiz(v, poster, CryptoIntn)
			if len(shown) != 2 || moduleOf(v, shown[0].ID) != "post" || moduleOf(v, shown[1].ID) != "post" {
				t.Fatalf("posters' part draw %v", shown)
			}
			if CheckDraw(v, employee, shown) == nil {
				t.Fatal("a draw of the posters' part passes for the part for everyone")
			}
		}
	})
	t.Run("every question and every option order turns up", func(t *testing.T) {
		seenQ, seenFirst := map[string]int{}, map[string]int{}
		for range 2000 {
			shown, _ := DrawQuiz(v, employee, CryptoIntn)
			for _, s := range shown {
				seenQ[s.ID]++
				seenFirst[s.Options[0]]++
				if len(s.Options) != 4 {
					t.Fatalf("options shown %v", s.Options)
				}
			}
		}
		for _, id := range []string{"b1", "b2", "b3", "b4", "b5", "o1"} {
			if seenQ[id] == 0 {
				t.Errorf("%s never drawn: %v", id, seenQ)
			}
		}
		for _, k := range []string{"a", "b", "c", "d"} {
			// Each key leads about a quarter of 6,000 times; far from 0 or all.
			if seenFirst[k] < 1000 || seenFirst[k] > 2000 {
				t.Errorf("option %s shown first %d times in 6000: %v", k, seenFirst[k], seenFirst)
			}
		}
	})
	t.Run("a version with no questions for the person is refused", func(t *testing.T) {
		empty := &PolicyVersion{Modules: []Module{{Slug: "none", Audience: AudienceAll}}}
		if _, err := DrawQuiz(empty, employee, CryptoIntn); ErrorCode(err) != EINVALID {
			t.Fatalf("err %v", err)
		}
	})
}

func TestGradeDraw(t *testing.T) {
	v := drawVersion()
	poster := &Employee{ID: 2, Roles: []Role{RolePoster}}
	part := AudienceAll
	shown := []ShownQuestion{{"b2", []string{"c", "a", "d", "b"}}, {"b4", []string{"a", "b", "c", "d"}},
		{"o1", []string{"d", "c", "b", "a"}}}
	right := map[string]string{"b2": "a", "b4": "a", "o1": "a"}
	with := func(changes ...string) map[string]string {
		m := map[string]string{}
		for k, val := range right {
			m[k] = val
		}
		for i := 0; i < len(changes); i += 2 {
			if changes[i+1] == "" {
				delete(m, changes[i])
			} else {
				m[changes[i]] = changes[i+1]
			}
		}
		return m
	}
	t.Run("all right passes and keeps what was shown", func(t *testing.T) {
		a, err := GradeDraw(v, part, poster, shown, right, 80)
		if err != nil || !a.Passed || a.Score != 3 || a.Total != 3 || !slices.EqualFunc(a.Shown, shown, func(x, y ShownQuestion) bool {
			return x.ID == y.ID && slices.Equal(x.Options, y.Options)
		}) {
			t.Fatalf("%+v %v", a, err)
		}
	})
	t.Run("the posters' part is graded on its own questions with its own pass mark", func(t *testing.T) {
		ps := []ShownQuestion{{"p1", []string{"b", "a", "c", "d"}}, {"p3", []string{"a", "d", "c", "b"}}}
		a, err := GradeDraw(v, AudiencePosters, poster, ps, map[string]string{"p1": "b", "p3": "a"}, 80)
		if err != nil || a.Passed || a.Percent() != 50 || !slices.Equal(a.Wrong, []string{"p1"}) {
			t.Fatalf("%+v %v", a, err)
		}
		if a, err := GradeDraw(v, AudiencePosters, poster, ps, map[string]string{"p1": "b", "p3": "a"}, 50); err != nil || !a.Passed {
			t.Fatalf("%+v %v", a, err)
		}
		if a, err := GradeDraw(v, AudienceAll, poster, ps, map[string]string{"p1": "a", "p3": "a"}, 80); ErrorCode(err) != EINVALID || a != nil {
			t.Fatalf("a posters' draw graded for the part for everyone: %+v %v", a, err)
		}
	})
	t.Run("gaps are named, one error a question, and nothing is graded", func(t *testing.T) {
		a, err := GradeDraw(v, part, poster, shown, with("b4", "", "o1", ""), 80)
		var fields []string
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var ae *Error
			if errors.As(e, &ae) {
				fields = append(fields, ae.Field+" "+ae.Message)
			}
		}
		if a != nil || !slices.Equal(fields, []string{"q-b4 Answer question 2.", "q-o1 Answer question 3."}) {
			t.Fatalf("%+v %q", a, fields)
		}
	})
	t.Run("a stale or forged form is refused", func(t *testing.T) {
		for name, answers := range map[string]map[string]string{
			"a question not drawn":        with("b1", "a"),
			"an option key not offered":   with("b2", "z"),
			"a question of no version":    with("nope", "a"),
			"a question of another draw ": with("b3", "a"),
			"a question of another part":  with("p1", "a"),
		} {
			if a, err := GradeDraw(v, part, poster, shown, answers, 80); ErrorCode(err) != EINVALID || a != nil {
				t.Errorf("%s: %+v %v", name, a, err)
			}
		}
		for name, bad := range map[string][]ShownQuestion{
			"a question twice":        append(slices.Clone(shown), shown[0]),
			"a question of no module": {{"zz", []string{"a"}}},
			"an option dropped":       {{"b2", []string{"a", "b", "c"}}, shown[2]},
			"an option invented":      {{"b2", []string{"a", "b", "c", "e"}}, shown[2]},
			"a module left out":       shown[:2],
			"another part's question": append(slices.Clone(shown), ShownQuestion{"p1", []string{"a", "b", "c", "d"}}),
			"another version's draw":  {{"q1", []string{"a", "b", "c"}}},
			"no questions":            nil,
		} {
			if a, err := GradeDraw(v, part, poster, bad, right, 80); ErrorCode(err) != EINVALID || a != nil {
				t.Errorf("%s: %+v %v", name, a, err)
			}
		}
	})
	t.Run("the sections to read again are the wrong answers' modules, once each, in reading order", func(t *testing.T) {
		a, _ := GradeDraw(v, part, poster, shown, with("o1", "b", "b4", "c", "b2", "d"), 80)
		var titles []string
		for _, m := range v.SectionsToReread(a) {
			titles = append(titles, m.Title)
		}
		if !slices.Equal(titles, []string{"Big", "One"}) {
			t.Fatalf("%v", titles)
		}
	})
}

func TestDrawID(t *testing.T) {
	a := []ShownQuestion{{"q1", []string{"a", "b"}}, {"q2", []string{"b", "a"}}}
	b := []ShownQuestion{{"q1", []string{"b", "a"}}, {"q2", []string{"b", "a"}}}
	if DrawID(a) == DrawID(b) || DrawID(a) != DrawID(slices.Clone(a)) {
		t.Fatal("the draw id does not tell draws apart")
	}
}

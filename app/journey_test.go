package app

import "testing"

func testVersion() *PolicyVersion {
	opts := []Option{{"a", "A"}, {"b", "B"}, {"c", "C"}}
	v := &PolicyVersion{ID: 7, Modules: []Module{{Slug: "m1", Audience: AudienceAll}, {Slug: "m2", Audience: AudiencePosters}}}
	for i, id := range []string{"q1", "q2", "q3", "q4", "q5"} {
		v.Questions = append(v.Questions, Question{ID: id, Module: "m1", Options: opts, Answer: "abcab"[i : i+1]})
	}
	v.Questions = append(v.Questions, Question{ID: "p1", Module: "m2", Options: opts, Answer: "a"})
	return v
}

func TestGradeDrawOfTheWholePool(t *testing.T) {
	v := testVersion()
	e := &Employee{ID: 3}
	right := map[string]string{"q1": "a", "q2": "b", "q3": "c", "q4": "a", "q5": "b"}
	t.Run("all right passes", func(t *testing.T) {
		a, err := gradeAll(v, e, right, 80)
		if err != nil || !a.Passed || a.Score != 5 || a.Total != 5 || len(a.Wrong) != 0 {
			t.Fatalf("%+v %v", a, err)
		}
	})
	t.Run("80 percent passes, below fails, wrong ones named", func(t *testing.T) {
		one := copyMap(right)
		one["q2"] = "a"
		a, _ := gradeAll(v, e, one, 80)
		if !a.Passed || a.Percent() != 80 || len(a.Wrong) != 1 || a.Wrong[0] != "q2" {
			t.Fatalf("%+v", a)
		}
		one["q3"] = "a"
		if a, _ := gradeAll(v, e, one, 80); a.Passed || len(a.Wrong) != 2 {
			t.Fatalf("%+v", a)
		}
	})
	t.Run("the posters' questions are their own part, not the annual check's", func(t *testing.T) {
		poster := &Employee{ID: 4, Roles: []Role{RolePoster}}
		// A poster's annual check is the part for everyone, as anyone's.
		if a, err := gradeAll(v, poster, right, 80); err != nil || a.Total != 5 || !a.Passed {
			t.Fatalf("%+v %v", a, err)
		}
		with := copyMap(right)
		with["p1"] = "a"
		if _, err := gradeAll(v, poster, with, 80); ErrorCode(err) != EINVALID {
			t.Fatal("a posters' question answered in the annual check was not refused")
		}
		if a, err := GradeDraw(v, AudiencePosters, poster, fullDraw(v, AudiencePosters), map[string]string{"p1": "a"}, 80); err != nil || a.Total != 1 || !a.Passed {
			t.Fatalf("the posters' part: %+v %v", a, err)
		}
	})
	for name, mutate := range map[string]func(map[string]string){
		"answer not among the options": func(m map[string]string) { m["q1"] = "z" },
		"unknown question":             func(m map[string]string) { m["q9"] = "a" },
		"unanswered question":          func(m map[string]string) { delete(m, "q4") },
		"empty answer":                 func(m map[string]string) { m["q4"] = "" },
	} {
		t.Run(name+" is refused", func(t *testing.T) {
			m := copyMap(right)
			mutate(m)
			if _, err := gradeAll(v, e, m, 80); ErrorCode(err) != EINVALID {
				t.Fatalf("err %v", err)
			}
		})
	}
}

func copyMap(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestSignRequestValidate(t *testing.T) {
	e := &Employee{FullName: "Zoë Côté"}
	good := SignRequest{TypedName: "zoë côté", Intent: true}
	if err := good.Validate(e); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]SignRequest{
		"empty name":       {TypedName: " ", Intent: true},
		"other name":       {TypedName: "Zoe Cate", Intent: true},
		"no intent":        {TypedName: "Zoë Côté"},
		"comment too long": {TypedName: "Zoë Côté", Intent: true, Comment: string(make([]rune, MaxCommentLength+1))},
		"invalid UTF-8":    {TypedName: "Zoë Côté", Intent: true, Comment: "\xff"},
	} {
		if ErrorCode(r.Validate(e)) != EINVALID {
			t.Errorf("%s: not refused", name)
		}
	}
}

func TestProgressStatus(t *testing.T) {
	p := &Progress{DueOn: "2026-03-31", ModulesTotal: 3}
	if s := p.Status("2026-03-01"); s != StatusNotStarted || p.NextStep() != "guidance" {
		t.Fatal(s)
	}
	p.ModulesRead = 3
	if s := p.Status("2026-03-01"); s != StatusInProgress || p.NextStep() != "quiz" {
		t.Fatal(s)
	}
	if s := p.Status("2026-04-01"); s != StatusOverdue {
		t.Fatal(s)
	}
	p.Passed = &QuizAttempt{}
	if p.NextStep() != "sign" {
		t.Fatal(p.NextStep())
	}
	p.Ack = &Acknowledgment{}
	if s := p.Status("2026-04-01"); s != StatusSigned || p.NextStep() != "done" {
		t.Fatal(s)
	}
}

// fullDraw shows every question of a part, in stored order with options
// as stored: the knowledge check before drawing was introduced.
func fullDraw(v *PolicyVersion, part string) []ShownQuestion {
	var out []ShownQuestion
	for _, q := range v.QuestionsFor(part) {
		s := ShownQuestion{ID: q.ID}
		for _, o := range q.Options {
			s.Options = append(s.Options, o.Key)
		}
		out = append(out, s)
	}
	return out
}

// gradeAll grades answers to every question of the annual check (the part
// for everyone), shown as stored: the whole pool as one draw.
func gradeAll(v *PolicyVersion, e *Employee, answers map[string]string, passMark int) (*QuizAttempt, error) {
	return GradeDraw(v, AudienceAll, e, fullDraw(v, AudienceAll), answers, passMark)
}

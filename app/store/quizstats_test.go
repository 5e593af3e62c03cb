package store

import (
	"context"
	"reflect"
	"testing"

	"portal/app"
	"portal/app/content"
)

func TestQuestionStats(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	opts := []app.Option{{Key: "a", Text: "A"}, {Key: "b", Text: "B"}}
	v := &app.PolicyVersion{Code: "2.0", Title: "Policy", Kind: app.KindMaterial, Effective: "2026-01-01", Intent: "I agree.",
		Modules: []app.Module{{Slug: "m", Title: "M", Audience: app.AudienceAll, Body: "x"}},
		Questions: []app.Question{{ID: "clear", Module: "m", Options: opts, Answer: "a"},
			{ID: "unclear", Module: "m", Options: opts, Answer: "a"}, {ID: "never", Module: "m", Options: opts, Answer: "a"}}}
	v.SHA256 = content.VersionSHA256(v)
	if err := NewPolicyService(f.db).PublishVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	attempt := func(answers map[string]string, wrong []string, shown ...string) {
		t.Helper()
		a := &app.QuizAttempt{EmployeeID: f.emp.ID, CycleID: f.cycle.ID, PolicyVersionID: v.ID, Answers: answers, Wrong: wrong,
			Total: len(answers), PassMark: 80}
		for _, id := range shown {
			a.Shown = append(a.Shown, app.ShownQuestion{ID: id, Options: []string{"b", "a"}})
		}
		if err := f.acks.CreateQuizAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// Two drawn attempts, and one from before the draw that showed what it answered.
	attempt(map[string]string{"clear": "a", "unclear": "b"}, []string{"unclear"}, "clear", "unclear")
	attempt(map[string]string{"unclear": "b", "clear": "b"}, []string{"unclear", "clear"}, "unclear", "clear")
	attempt(map[string]string{"clear": "a", "unclear": "a"}, nil)
	// An attempt of another version is not counted.
	attempt2 := &app.QuizAttempt{EmployeeID: f.emp.ID, CycleID: f.cycle.ID, PolicyVersionID: f.version.ID,
		Answers: map[string]string{"q": "b"}, Wrong: []string{"q"}, Total: 1, PassMark: 80, Shown: []app.ShownQuestion{{ID: "q", Options: []string{"a", "b"}}}}
	if err := f.acks.CreateQuizAttempt(ctx, attempt2); err != nil {
		t.Fatal(err)
	}
	got, err := f.acks.QuestionStats(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []app.QuestionStat{{QuestionID: "unclear", Shown: 3, Wrong: 2}, {QuestionID: "clear", Shown: 3, Wrong: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stats %+v, want %+v", got, want)
	}
	if got[0].PercentWrong() != 66 || got[1].PercentWrong() != 33 {
		t.Fatalf("percent wrong %d %d", got[0].PercentWrong(), got[1].PercentWrong())
	}
}

package sqlite

import (
	"context"
	"reflect"
	"testing"

	"portal/app"
	"portal/app/evidence"
)

func TestQuizDrafts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.acks.FindQuizDraft(ctx, f.emp.ID, f.version.ID, app.AudienceAll); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("no draft yet: %v", err)
	}
	first := &app.QuizDraft{EmployeeID: f.emp.ID, PolicyVersionID: f.version.ID, Shown: []app.ShownQuestion{{ID: "q", Options: []string{"b", "a"}}}}
	if err := f.acks.StartQuizDraft(ctx, first); err != nil {
		t.Fatal(err)
	}
	t.Run("answers are saved, merged and read back as saved", func(t *testing.T) {
		if err := f.acks.SaveQuizAnswers(ctx, first, map[string]string{"q": "b"}); err != nil {
			t.Fatal(err)
		}
		got, err := f.acks.FindQuizDraft(ctx, f.emp.ID, f.version.ID, app.AudienceAll)
		if err != nil || !reflect.DeepEqual(got.Shown, first.Shown) || got.Answers["q"] != "b" {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("a page of a replaced draw saves nothing", func(t *testing.T) {
		second := &app.QuizDraft{EmployeeID: f.emp.ID, PolicyVersionID: f.version.ID, Shown: []app.ShownQuestion{{ID: "q", Options: []string{"a", "b"}}}}
		if err := f.acks.StartQuizDraft(ctx, second); err != nil {
			t.Fatal(err)
		}
		if err := f.acks.SaveQuizAnswers(ctx, first, map[string]string{"q": "a"}); app.ErrorCode(err) != app.EINVALID {
			t.Fatalf("saved into a replaced draw: %v", err)
		}
		got, err := f.acks.FindQuizDraft(ctx, f.emp.ID, f.version.ID, app.AudienceAll)
		if err != nil || !reflect.DeepEqual(got.Shown, second.Shown) || len(got.Answers) != 0 {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("a recorded attempt keeps what was shown, ends the draft and verifies; a changed shown is found", func(t *testing.T) {
		a := &app.QuizAttempt{EmployeeID: f.emp.ID, CycleID: f.cycle.ID, PolicyVersionID: f.version.ID,
			Answers: map[string]string{"q": "a"}, Score: 1, Total: 1, PassMark: 80, Passed: true,
			Shown: []app.ShownQuestion{{ID: "q", Options: []string{"a", "b"}}}}
		if err := f.acks.CreateQuizAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
		back, err := f.acks.FindQuizAttempt(ctx, a.ID)
		if err != nil || !reflect.DeepEqual(back.Shown, a.Shown) {
			t.Fatalf("%+v %v", back, err)
		}
		if _, err := f.acks.FindQuizDraft(ctx, f.emp.ID, f.version.ID, app.AudienceAll); app.ErrorCode(err) != app.ENOTFOUND {
			t.Fatalf("the draft outlived its attempt: %v", err)
		}
		if rep, err := f.db.VerifyLog(ctx, evidence.VerifyOptions{Key: f.db.key}); err != nil || rep.Problem != nil {
			t.Fatalf("%+v %v", rep, err)
		}
		for _, q := range []string{`DROP TRIGGER quiz_attempts_immutable_u`, `UPDATE quiz_attempts SET shown = '[{"q":"q","o":["b","a"]}]'`} {
			if _, err := f.db.write.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		if rep, err := f.db.VerifyLog(ctx, evidence.VerifyOptions{Key: f.db.key}); err != nil || rep.Problem == nil {
			t.Fatalf("a changed option order went unnoticed: %+v %v", rep, err)
		}
	})
}

package store

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
	if _, err := f.acks.FindQuizDraft(ctx, f.emp.ID, f.version.ID, "personal-use"); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("no draft yet: %v", err)
	}
	first := &app.QuizDraft{EmployeeID: f.emp.ID, PolicyVersionID: f.version.ID, Kind: "personal-use", Shown: []app.ShownQuestion{{ID: "q", Options: []string{"b", "a"}}}}
	if err := f.acks.StartQuizDraft(ctx, first); err != nil {
		t.Fatal(err)
	}
	t.Run("answers are saved, merged and read back as saved", func(t *testing.T) {
		if err := f.acks.SaveQuizAnswers(ctx, first, map[string]string{"q": "b"}); err != nil {
			t.Fatal(err)
		}
		got, err := f.acks.FindQuizDraft(ctx, f.emp.ID, f.version.ID, "personal-use")
		if err != nil || !reflect.DeepEqual(got.Shown, first.Shown) || got.Answers["q"] != "b" {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("a page of a replaced draw saves nothing", func(t *testing.T) {
		second := &app.QuizDraft{EmployeeID: f.emp.ID, PolicyVersionID: f.version.ID, Kind: "personal-use", Shown: []app.ShownQuestion{{ID: "q", Options: []string{"a", "b"}}}}
		if err := f.acks.StartQuizDraft(ctx, second); err != nil {
			t.Fatal(err)
		}
		if err := f.acks.SaveQuizAnswers(ctx, first, map[string]string{"q": "a"}); app.ErrorCode(err) != app.EINVALID {
			t.Fatalf("saved into a replaced draw: %v", err)
		}
		got, err := f.acks.FindQuizDraft(ctx, f.emp.ID, f.version.ID, "personal-use")
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
		if _, err := f.acks.FindQuizDraft(ctx, f.emp.ID, f.version.ID, "personal-use"); app.ErrorCode(err) != app.ENOTFOUND {
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

// TestQuizDraftsOfTwoKindsOfOnePart: two kinds that check the same part of
// a version (the annual one and a records-preservation one, both the part
// for everyone) keep a check in progress each: starting or answering one
// leaves the other's draw and answers, and an attempt recorded in one's
// cycle ends only its own draft.
func TestQuizDraftsOfTwoKindsOfOnePart(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.db.execWrite(ctx, `INSERT INTO acknowledgment_kinds (code, title, policy_name, part, assign, pass_mark, due_days, intent, position)
		VALUES ('records-preservation', 'Records preservation acknowledgment', 'Records Preservation Policy', 'all', 'cycle', 80, 30, '', 3)`); err != nil {
		t.Fatal(err)
	}
	annual := &app.QuizDraft{EmployeeID: f.emp.ID, PolicyVersionID: f.version.ID, Kind: "personal-use", Shown: []app.ShownQuestion{{ID: "q", Options: []string{"b", "a"}}}}
	records := &app.QuizDraft{EmployeeID: f.emp.ID, PolicyVersionID: f.version.ID, Kind: "records-preservation", Shown: []app.ShownQuestion{{ID: "q", Options: []string{"a", "b"}}}}
	for _, d := range []*app.QuizDraft{annual, records} {
		if err := f.acks.StartQuizDraft(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.acks.SaveQuizAnswers(ctx, annual, map[string]string{"q": "b"}); err != nil {
		t.Fatal(err)
	}
	if err := f.acks.SaveQuizAnswers(ctx, records, map[string]string{"q": "a"}); err != nil {
		t.Fatalf("the records check was replaced by the annual one: %v", err)
	}
	for _, d := range []*app.QuizDraft{annual, records} {
		got, err := f.acks.FindQuizDraft(ctx, f.emp.ID, f.version.ID, d.Kind)
		if err != nil || !reflect.DeepEqual(got.Shown, d.Shown) || got.Answers["q"] != d.Answers["q"] || got.Part != app.AudienceAll {
			t.Fatalf("%s: %+v %v", d.Kind, got, err)
		}
	}
	// An attempt in the annual cycle ends the annual check only.
	a := &app.QuizAttempt{EmployeeID: f.emp.ID, CycleID: f.cycle.ID, PolicyVersionID: f.version.ID,
		Answers: map[string]string{"q": "b"}, Score: 0, Total: 1, PassMark: 80, Shown: annual.Shown}
	if err := f.acks.CreateQuizAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := f.acks.FindQuizDraft(ctx, f.emp.ID, f.version.ID, "personal-use"); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("the annual draft outlived its attempt: %v", err)
	}
	if got, err := f.acks.FindQuizDraft(ctx, f.emp.ID, f.version.ID, "records-preservation"); err != nil || got.Answers["q"] != "a" {
		t.Fatalf("the records check ended with the annual attempt: %+v %v", got, err)
	}
	if err := f.acks.StartQuizDraft(ctx, &app.QuizDraft{EmployeeID: f.emp.ID, PolicyVersionID: f.version.ID}); app.ErrorCode(err) != app.EINVALID {
		t.Fatalf("a draft of no kind: %v", err)
	}
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"portal/app"
)

// FindQuizDraft returns the employee's check in progress of the kind on the
// version, or ENOTFOUND when none is started.
func (s *AckService) FindQuizDraft(ctx context.Context, employeeID, versionID int64, kind string) (*app.QuizDraft, error) {
	var part, shown, answers string
	err := s.db.read.QueryRowContext(ctx, `SELECT part, shown, answers FROM quiz_drafts WHERE employee_id = ? AND policy_version_id = ? AND kind = ?`,
		employeeID, versionID, kind).Scan(&part, &shown, &answers)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "No knowledge check is in progress.")
	}
	if err != nil {
		return nil, fmt.Errorf("find quiz draft: %w", err)
	}
	d := &app.QuizDraft{EmployeeID: employeeID, PolicyVersionID: versionID, Kind: kind, Part: part}
	if err := json.Unmarshal([]byte(shown), &d.Shown); err != nil {
		return nil, fmt.Errorf("decode quiz draft: %w", err)
	}
	if err := json.Unmarshal([]byte(answers), &d.Answers); err != nil {
		return nil, fmt.Errorf("decode quiz draft answers: %w", err)
	}
	if d.Answers == nil {
		d.Answers = map[string]string{}
	}
	return d, nil
}

// StartQuizDraft stores a new draw for the employee, version and kind,
// replacing any check of the kind in progress and its answers: a new
// attempt starts.
func (s *AckService) StartQuizDraft(ctx context.Context, d *app.QuizDraft) error {
	shown, err := json.Marshal(d.Shown)
	if err != nil {
		return err
	}
	d.Answers = map[string]string{}
	if d.Kind == "" {
		return app.Errorf(app.EINVALID, "A knowledge check belongs to an acknowledgment kind.")
	}
	_, err = s.db.execWrite(ctx, `INSERT INTO quiz_drafts (employee_id, policy_version_id, kind, part, shown, answers, created_at)
		VALUES (?, ?, ?, ?, ?, '{}', ?) ON CONFLICT (employee_id, policy_version_id, kind)
		DO UPDATE SET part = excluded.part, shown = excluded.shown, answers = '{}', created_at = excluded.created_at`,
		d.EmployeeID, d.PolicyVersionID, d.Kind, draftPart(d), string(shown), formatTime(s.db.Now().UTC()))
	if err != nil {
		return fmt.Errorf("start quiz draft: %w", err)
	}
	return nil
}

// SaveQuizAnswers merges answers into the check in progress, but only into
// the draw the caller read (shown): if a new attempt replaced it meanwhile,
// it returns EINVALID and changes nothing. An empty answer clears one.
func (s *AckService) SaveQuizAnswers(ctx context.Context, d *app.QuizDraft, answers map[string]string) error {
	shown, err := json.Marshal(d.Shown)
	if err != nil {
		return err
	}
	merged := map[string]string{}
	for k, v := range d.Answers {
		merged[k] = v
	}
	for k, v := range answers {
		if v == "" {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	body, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	// The WHERE on shown makes the save apply only to the draw the page came from.
	res, err := s.db.execWrite(ctx, `UPDATE quiz_drafts SET answers = ? WHERE employee_id = ? AND policy_version_id = ? AND kind = ? AND shown = ?`,
		string(body), d.EmployeeID, d.PolicyVersionID, d.Kind, string(shown))
	if err != nil {
		return fmt.Errorf("save quiz answers: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return app.Errorf(app.EINVALID, "Your knowledge check was started again in another window. Answer the questions on this page again.")
	}
	d.Answers = merged
	return nil
}

// draftPart is the part a draft checks: the part for everyone unless set.
func draftPart(d *app.QuizDraft) string {
	if d.Part == "" {
		return app.AudienceAll
	}
	return d.Part
}

package store

import (
	"context"
	"fmt"

	"portal/app"
)

// QuestionStats counts, for each question of the version, how many attempts
// showed it and how many answered it wrongly, in one query, the least clear
// questions (the highest share wrong) first. An attempt from before the draw
// showed every question it has an answer for.
func (s *AckService) QuestionStats(ctx context.Context, versionID int64) ([]app.QuestionStat, error) {
	query := `WITH seen(qid, wrong) AS (
			SELECT json_extract(j.value, '$.q'), a.wrong FROM quiz_attempts a, json_each(a.shown) j
			WHERE a.policy_version_id = ?1
			UNION ALL
			SELECT j.key, a.wrong FROM quiz_attempts a, json_each(a.answers) j
			WHERE a.policy_version_id = ?1 AND a.shown = '[]'
		)
		SELECT qid, COUNT(*) AS n_shown,
			SUM(EXISTS (SELECT 1 FROM json_each(seen.wrong) w WHERE w.value = seen.qid)) AS n_wrong
		FROM seen GROUP BY qid
		ORDER BY CAST(n_wrong AS REAL) / n_shown DESC, n_shown DESC, qid`
	if s.db.pg {
		// The same with PostgreSQL's JSON functions (the columns hold JSON
		// text): an array holds an element when it contains it.
		query = `WITH seen(qid, wrong) AS (
			SELECT j.value->>'q', a.wrong FROM quiz_attempts a, jsonb_array_elements(CAST(a.shown AS jsonb)) j
			WHERE a.policy_version_id = $1
			UNION ALL
			SELECT j.key, a.wrong FROM quiz_attempts a, jsonb_each(CAST(a.answers AS jsonb)) j
			WHERE a.policy_version_id = $1 AND a.shown = '[]'
		)
		SELECT qid, COUNT(*) AS n_shown,
			COUNT(*) FILTER (WHERE CAST(seen.wrong AS jsonb) @> to_jsonb(seen.qid)) AS n_wrong
		FROM seen GROUP BY qid
		ORDER BY CAST(COUNT(*) FILTER (WHERE CAST(seen.wrong AS jsonb) @> to_jsonb(seen.qid)) AS REAL) / COUNT(*) DESC, n_shown DESC, qid`
	}
	rows, err := s.db.read.QueryContext(ctx, query, versionID)
	if err != nil {
		return nil, fmt.Errorf("question statistics: %w", err)
	}
	defer rows.Close()
	var out []app.QuestionStat
	for rows.Next() {
		var st app.QuestionStat
		if err := rows.Scan(&st.QuestionID, &st.Shown, &st.Wrong); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"portal/app"
)

// foldNames brings the name search up to date on PostgreSQL for the people
// its trigger queued (pgmigrations/008_name_search.sql): their folded name
// (name_search) and its words (name_words), folded by the same Go as
// SQLite's triggers call (app.SearchText), in the caller's transaction. On
// SQLite it does nothing: the triggers did it as the rows were written.
func (db *DB) foldNames(ctx context.Context, tx *sql.Tx) error {
	if !db.pg {
		return nil
	}
	type queued struct {
		id   int64
		text string
	}
	for {
		rows, err := tx.QueryContext(ctx, `SELECT p.employee_id, e.full_name FROM name_search_pending p
			JOIN employees e ON e.id = p.employee_id ORDER BY p.employee_id LIMIT ?`, foldBatch)
		if err != nil {
			return fmt.Errorf("fold names: %w", err)
		}
		var batch []queued
		for rows.Next() {
			var q queued
			var name string
			if err := rows.Scan(&q.id, &name); err != nil {
				_ = rows.Close() // the scan's error is the one to report
				return fmt.Errorf("fold names: %w", err)
			}
			q.text = app.SearchText(name)
			batch = append(batch, q)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("fold names: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		ids := make([]any, len(batch))
		search := make([]any, 0, 2*len(batch))
		var words []any
		for i, q := range batch {
			ids[i] = q.id
			search = append(search, q.id, q.text)
			for _, w := range strings.Fields(q.text) {
				words = append(words, w, q.id)
			}
		}
		in := placeholders(len(ids))
		// #nosec G202 -- "?" lists; every value is a bound parameter
		if _, err := tx.ExecContext(ctx, `DELETE FROM name_words WHERE employee_id IN (`+in+`)`, ids...); err != nil {
			return fmt.Errorf("fold names: %w", err)
		}
		// #nosec G202 -- "?" lists; every value is a bound parameter
		if _, err := tx.ExecContext(ctx, `INSERT INTO name_search (employee_id, words) VALUES `+values(len(batch), 2)+`
			ON CONFLICT (employee_id) DO UPDATE SET words = excluded.words`, search...); err != nil {
			return fmt.Errorf("fold names: %w", err)
		}
		if len(words) > 0 {
			// #nosec G202 -- "?" lists; every value is a bound parameter
			if _, err := tx.ExecContext(ctx, `INSERT INTO name_words (word, employee_id) VALUES `+values(len(words)/2, 2)+`
				ON CONFLICT DO NOTHING`, words...); err != nil {
				return fmt.Errorf("fold names: %w", err)
			}
		}
		// #nosec G202 -- "?" lists; every value is a bound parameter
		if _, err := tx.ExecContext(ctx, `DELETE FROM name_search_pending WHERE employee_id IN (`+in+`)`, ids...); err != nil {
			return fmt.Errorf("fold names: %w", err)
		}
	}
}

// foldBatch is how many people's names foldNames writes at a time: a few
// thousand bound values a statement, far below PostgreSQL's 65,535.
const foldBatch = 1000

// values is "(?, ?), (?, ?), …": rows rows of n placeholders.
func values(rows, n int) string {
	row := "(" + placeholders(n) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}

// FoldPendingNames folds, in a transaction of its own, the names written
// behind the portal's back since the last fold (on PostgreSQL; nothing to
// do on SQLite). The portal runs it at start and with each background sweep.
func (db *DB) FoldPendingNames(ctx context.Context) error {
	if !db.pg {
		return nil
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := db.foldNames(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

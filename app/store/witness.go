package store

import (
	"context"
	"fmt"
	"strings"

	"portal/app"
)

// WitnessService implements app.WitnessService: the addresses that get each
// day's checkpoint of the evidence log. Every change is an audit event.
type WitnessService struct{ db *DB }

// NewWitnessService returns the store of witness addresses.
func NewWitnessService(db *DB) *WitnessService { return &WitnessService{db: db} }

var _ app.WitnessService = (*WitnessService)(nil)

// Witnesses lists the witness addresses.
func (s *WitnessService) Witnesses(ctx context.Context) ([]string, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT email FROM witnesses ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("list witnesses: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SetWitness adds (or removes) a witness address.
func (s *WitnessService) SetWitness(ctx context.Context, email string, add bool, actorID int64) error {
	tx, err := s.db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.db.Now().UTC()
	action := "log.witness_added"
	if add {
		res, err := tx.ExecContext(ctx, `INSERT INTO witnesses (email, added_by, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			email, actorID, formatTime(now))
		if err != nil {
			return fmt.Errorf("add witness: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return app.Errorf(app.ECONFLICT, "%s is a witness already.", email)
		}
	} else {
		action = "log.witness_removed"
		res, err := tx.ExecContext(ctx, `DELETE FROM witnesses WHERE email = ?`, email)
		if err != nil {
			return fmt.Errorf("remove witness: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return app.Errorf(app.ENOTFOUND, "%s is not a witness.", email)
		}
	}
	if err := s.db.appendAudit(ctx, tx, &app.AuditEvent{At: now, ActorID: &actorID, Action: action, SubjectType: "witness",
		Detail: strings.ToLower(email)}); err != nil {
		return err
	}
	return tx.Commit()
}

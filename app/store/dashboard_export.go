package store

import (
	"context"
	"fmt"

	"portal/app"
)

// The HR exports of people and certificates: the matching ids first, then
// the rows a batch at a time (see exportBatch).

// EachPerson streams every matching person to fn, in agency, department and name order.
func (s *DashboardService) EachPerson(ctx context.Context, f app.PeopleFilter, fn func(*app.PersonStatus) error) error {
	rare, err := rarestWord(ctx, s.db.read, f.Query)
	if err != nil {
		return err
	}
	where, args := peopleWhere(f, rare)
	const order = ` ORDER BY a.agency, a.department, e.full_name, e.id`
	ids, err := s.exportIDs(ctx, `SELECT a.employee_id FROM assignments a JOIN employees e ON e.id = a.employee_id WHERE `+where+order, args)
	if err != nil {
		return fmt.Errorf("export people: %w", err)
	}
	return eachBatch(ids, func(batch []any) error {
		// The filter again: whoever no longer matches since the ids were read is left out.
		people, err := s.peopleIn(ctx, peopleSelect+` WHERE `+where+` AND a.employee_id IN (`+placeholders(len(batch))+`)`+order,
			append(append([]any{}, args...), batch...), f.Today)
		if err != nil {
			return err
		}
		for _, p := range people {
			if err := fn(p); err != nil {
				return err
			}
		}
		return nil
	})
}

// exportBatch is how many rows an export reads with one query. Exports read
// the ordered ids first, then the rows a batch at a time, and call fn only
// once a batch's rows are closed: fn may be writing to a slow client, and a
// read connection held meanwhile would be one of the pool's four, taken
// from every page for as long as the client cares to wait.
const exportBatch = 500

// exportIDs runs a query of ids and returns them all (80 KB for 10,000).
func (s *DashboardService) exportIDs(ctx context.Context, query string, args []any) ([]any, error) {
	rows, err := s.db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// eachBatch calls fn with ids a batch at a time, in order.
func eachBatch(ids []any, fn func(batch []any) error) error {
	for len(ids) > 0 {
		n := min(exportBatch, len(ids))
		if err := fn(ids[:n]); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// peopleIn reads the people a query selects, closing its rows before returning.
func (s *DashboardService) peopleIn(ctx context.Context, query string, args []any, today string) ([]*app.PersonStatus, error) {
	rows, err := s.db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("export people: %w", err)
	}
	defer rows.Close()
	var out []*app.PersonStatus
	for rows.Next() {
		p, err := scanPerson(rows, today)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// EachCertificate streams the satisfying acknowledgment of every matching
// signed person, reading them a batch at a time (see exportBatch).
func (s *DashboardService) EachCertificate(ctx context.Context, f app.PeopleFilter, fn func(*app.Acknowledgment) error) error {
	f.Status = statusDone
	rare, err := rarestWord(ctx, s.db.read, f.Query)
	if err != nil {
		return err
	}
	where, args := peopleWhereAs(f, "s", rare) // "a" is the acknowledgment here
	const joins = ` JOIN employees e ON e.id = a.employee_id JOIN assignments s ON s.ack_id = a.id WHERE `
	const order = ` ORDER BY s.agency, s.department, e.full_name, e.id`
	ids, err := s.exportIDs(ctx, `SELECT a.id FROM acknowledgments a`+joins+where+order, args)
	if err != nil {
		return fmt.Errorf("export certificates: %w", err)
	}
	return eachBatch(ids, func(batch []any) error {
		// The filter again: whoever no longer matches since the ids were read is left out.
		acks, err := s.acksIn(ctx, ackSelect+joins+where+` AND a.id IN (`+placeholders(len(batch))+`)`+order,
			append(append([]any{}, args...), batch...))
		if err != nil {
			return err
		}
		for _, a := range acks {
			if err := fn(a); err != nil {
				return err
			}
		}
		return nil
	})
}

// acksIn reads the acknowledgments a query selects, closing its rows before returning.
func (s *DashboardService) acksIn(ctx context.Context, query string, args []any) ([]*app.Acknowledgment, error) {
	rows, err := s.db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("export certificates: %w", err)
	}
	defer rows.Close()
	var out []*app.Acknowledgment
	for rows.Next() {
		a, err := scanAck(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

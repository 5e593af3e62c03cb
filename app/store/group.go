package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// groupJob is one unit of work for the group committer.
type groupJob struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// groupCommitter writes concurrent requests in one transaction: each runs in
// its own savepoint, so one that fails is rolled back alone, and a single
// COMMIT — a single sync to disk — covers them all. Nobody is answered before
// that commit, so nothing acknowledged is lost if the process then dies.
type groupCommitter struct {
	db   *DB
	jobs chan *groupJob
	stop chan struct{}
	done chan struct{}
	max  int // most jobs in one transaction
	once sync.Once
}

func newGroupCommitter(db *DB) *groupCommitter {
	g := &groupCommitter{db: db, jobs: make(chan *groupJob, 1024), stop: make(chan struct{}),
		done: make(chan struct{}), max: 256}
	go g.run()
	return g
}

// do runs fn inside a group transaction and returns once it is committed.
// fn may run twice, the first run rolled back (see commit): it must do
// nothing outside tx that a second run would repeat.
func (g *groupCommitter) do(ctx context.Context, fn func(tx *sql.Tx) error) error {
	j := &groupJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case <-g.stop:
		return fmt.Errorf("database is closing")
	default:
	}
	select {
	case g.jobs <- j:
	case <-g.stop:
		return fmt.Errorf("database is closing")
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the job is answered even if ctx ends, so a commit is never
	// reported as a failure. A job still queued when the committer stops was
	// never run: the database is closing.
	select {
	case err := <-j.done:
		return err
	case <-g.done:
		select {
		case err := <-j.done:
			return err
		default:
			return fmt.Errorf("database is closing")
		}
	}
}

func (g *groupCommitter) run() {
	defer close(g.done)
	for {
		var first *groupJob
		select {
		case first = <-g.jobs:
		case <-g.stop:
			return
		}
		// Whatever queued while the last batch committed joins this one.
		batch := []*groupJob{first}
	fill:
		for len(batch) < g.max {
			select {
			case j := <-g.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		g.commit(batch)
	}
}

// commit runs a batch in one transaction and answers every job. Jobs nearly
// always succeed, so it first runs them one after another with no savepoint
// (two statements a job saved); if one fails, that transaction is rolled
// back and the batch runs again with a savepoint each, so that the failure
// is undone alone.
func (g *groupCommitter) commit(batch []*groupJob) {
	errs, ok := g.runBatch(batch, false)
	if !ok {
		errs, _ = g.runBatch(batch, true)
	}
	g.answer(batch, errs)
}

// runBatch runs the batch in one transaction and commits it. Without
// savepoints it gives up at the first failing job, rolling everything back
// (ok false), unless that job is alone: then its error is the answer.
func (g *groupCommitter) runBatch(batch []*groupJob, savepoints bool) (errs []error, ok bool) {
	errs = make([]error, len(batch))
	// The wait for another process's writer is bounded by writeWaitLimit;
	// each job's own context is checked below.
	tx, err := g.db.beginWrite(context.Background())
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs, true
	}
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if !savepoints {
			if err := j.fn(tx); err != nil {
				_ = tx.Rollback() // the error to report is the job's
				if len(batch) == 1 {
					errs[i] = err
					return errs, true
				}
				return nil, false
			}
			continue
		}
		if _, err := tx.Exec(`SAVEPOINT job`); err != nil {
			errs[i] = fmt.Errorf("savepoint: %w", err)
			continue
		}
		if err := j.fn(tx); err != nil {
			errs[i] = err
			if _, rerr := tx.Exec(`ROLLBACK TO job`); rerr != nil {
				errs[i] = fmt.Errorf("%w (and rollback: %v)", err, rerr)
			}
		}
		if _, err := tx.Exec(`RELEASE job`); err != nil && errs[i] == nil {
			errs[i] = fmt.Errorf("release savepoint: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("commit: %w", err)
			}
		}
	}
	return errs, true
}

func (g *groupCommitter) answer(batch []*groupJob, errs []error) {
	for i, j := range batch {
		j.done <- errs[i]
	}
}

// close stops the committer after the batch in hand; closing twice is harmless.
func (g *groupCommitter) close() {
	g.once.Do(func() { close(g.stop) })
	<-g.done
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/app"
)

func TestGroupCommitIsolatesFailures(t *testing.T) {
	f := newFixture(t)
	if _, err := f.db.write.Exec(`CREATE TABLE g (n INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 200)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.db.group.do(context.Background(), func(tx *sql.Tx) error {
				if _, err := tx.Exec(`INSERT INTO g (n) VALUES (?)`, i); err != nil {
					return err
				}
				if i%3 == 0 {
					return errors.New("refused") // after writing: the savepoint must undo it
				}
				return nil
			})
		}()
	}
	wg.Wait()
	var rows, refused int
	if err := f.db.read.QueryRow(`SELECT COUNT(*) FROM g`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if (i%3 == 0) != (err != nil) {
			t.Fatalf("job %d: err %v", i, err)
		}
		if err != nil {
			refused++
		}
	}
	if rows != len(errs)-refused {
		t.Fatalf("%d rows for %d successful jobs", rows, len(errs)-refused)
	}
}

func TestConcurrentSignaturesKeepTheChain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	es := NewEmployeeService(f.db)
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		e := &app.Employee{EmployeeNumber: fmt.Sprint("C", i), FullName: fmt.Sprint("Person ", i),
			Email: fmt.Sprintf("c%d@x.example", i), Agency: "A", Department: "D", Active: true}
		if err := es.CreateEmployee(ctx, e); err != nil {
			t.Fatal(err)
		}
		g := &fixture{db: f.db, emp: e, version: f.version, cycle: f.cycle, acks: f.acks}
		for k := 0; k < 2; k++ { // each signs twice at once: still one acknowledgment
			wg.Add(1)
			go func() { defer wg.Done(); g.sign(t) }()
		}
	}
	wg.Wait()
	var n int
	if err := f.db.read.QueryRow(`SELECT COUNT(*) FROM acknowledgments`).Scan(&n); err != nil || n != 40 {
		t.Fatalf("%d acknowledgments, want 40 (%v)", n, err)
	}
	if _, brk, err := NewAuditService(f.db).VerifyChain(ctx); err != nil || brk != nil {
		t.Fatalf("chain: %+v %v", brk, err)
	}
}

// Writers racing the database's close are all answered, committed or told
// that it is closing; none waits for ever.
func TestGroupCommitAnswersEveryoneAtClose(t *testing.T) {
	for round := 0; round < 20; round++ {
		db, err := Open(filepath.Join(t.TempDir(), "close.db"), testOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.Exec(`CREATE TABLE g (n INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		answered := make(chan error, 64)
		for i := 0; i < 64; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answered <- db.group.do(context.Background(), func(tx *sql.Tx) error {
					_, err := tx.Exec(`INSERT INTO g (n) VALUES (?)`, i)
					return err
				})
			}()
		}
		_ = db.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: a writer was never answered after close", round)
		}
		close(answered)
		for err := range answered {
			if err != nil && !strings.Contains(err.Error(), "closing") && !strings.Contains(err.Error(), "closed") {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

// A job alone in its batch that fails after writing leaves nothing, and its
// own error is the answer.
func TestGroupCommitLoneFailure(t *testing.T) {
	f := newFixture(t)
	if _, err := f.db.write.Exec(`CREATE TABLE g (n INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	err := f.db.group.do(context.Background(), func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO g (n) VALUES (1)`); err != nil {
			return err
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("err %v, want the job's own", err)
	}
	var n int
	if err := f.db.read.QueryRow(`SELECT COUNT(*) FROM g`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows left (%v)", n, err)
	}
	if err := f.db.group.do(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO g (n) VALUES (2)`)
		return err
	}); err != nil {
		t.Fatalf("the next job: %v", err)
	}
}

package store

import (
	"path/filepath"
	"testing"
	"time"

	"portal/app/pgtest"
	"portal/app/storetest"
)

// TestStoreContract runs the store contract (app/storetest) against a fresh
// SQLite file per test.
func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *storetest.Store {
		return contractStore(t, filepath.Join(t.TempDir(), "contract.db"))
	})
}

// TestStoreContractPostgres runs the same contract against a fresh
// PostgreSQL database per test.
func TestStoreContractPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *storetest.Store {
		return contractStore(t, pgtest.Database(t))
	})
}

func contractStore(t *testing.T, dsn string) *storetest.Store {
	db, err := Open(dsn, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &storetest.Store{
		Employees: NewEmployeeService(db), Policies: NewPolicyService(db), Cycles: NewCycleService(db),
		Acks: NewAckService(db), SignIn: NewSessionService(db), Sessions: NewSessionService(db), Reminders: NewReminderService(db), Outbox: NewOutbox(db),
		RateLimiter: func(bucket string, limit int, window time.Duration) storetest.Limiter {
			return NewRateLimiter(db, bucket, limit, window)
		},
		SetClock: func(now func() time.Time, loc *time.Location) { db.Now, db.Location = now, loc },
	}
}

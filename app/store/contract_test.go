package store

import (
	"path/filepath"
	"testing"
	"time"

	"portal/app/storetest"
)

// TestStoreContract runs the store contract (app/storetest) against a fresh
// SQLite file per test.
func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *storetest.Store {
		db, err := Open(filepath.Join(t.TempDir(), "contract.db"), testOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return &storetest.Store{
			Employees: NewEmployeeService(db), Policies: NewPolicyService(db), Cycles: NewCycleService(db),
			Acks: NewAckService(db), SignIn: NewSessionService(db), Sessions: NewSessionService(db), Reminders: NewReminderService(db), Outbox: NewOutbox(db),
			SetClock: func(now func() time.Time, loc *time.Location) { db.Now, db.Location = now, loc },
		}
	})
}

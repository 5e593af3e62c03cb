package storetest

// The contract's tests of signing: acknowledgments, versions, progress
// and consent.

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/app"
)

// A signature is taken only for the cycle as the signer read it: open, and
// asking for the version they read. Another node's copy of the current
// cycle may be two seconds old, so the store checks under its write lock.
// A retry of a signature made before the change still finds it.
func testSignatureNeedsTheCycleAsRead(t *testing.T, s *Store) {
	ctx := context.Background()
	f := newFixture(t, s)
	if _, created := f.sign(t); !created {
		t.Fatal("the first signature was not created")
	}
	other := &app.Employee{EmployeeNumber: "2", FullName: "Lê Văn", Email: "le@x.example", Agency: "A", Department: "D", Active: true}
	if err := s.Employees.CreateEmployee(ctx, other); err != nil {
		t.Fatal(err)
	}
	v2 := Version("2.0", "y")
	if err := s.Policies.PublishVersion(ctx, v2); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		_, n, err := s.Acks.FindAcknowledgments(ctx, app.AckFilter{CycleID: &f.cycle.ID})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	refused := func(what string, version *app.PolicyVersion, words string) {
		t.Helper()
		_, _, err := f.signAs(other, version)
		if app.ErrorCode(err) != app.ECONFLICT || !strings.Contains(app.ErrorMessage(err), words) {
			t.Fatalf("%s: %v, want a conflict saying %q", what, err, words)
		}
		if n := count(); n != 1 {
			t.Fatalf("%s: %d acknowledgments in the cycle, want still 1", what, n)
		}
	}
	refused("a version the cycle does not ask for", v2, "changed while you were signing")
	if err := s.Cycles.SetCycleVersion(ctx, f.cycle.ID, v2.ID, nil); err != nil {
		t.Fatal(err)
	}
	refused("the version read before the cycle moved to a new one", f.version, "changed while you were signing")
	if ack, created := f.sign(t); ack == nil || created {
		t.Fatalf("a retry of the signature made before the change: %+v, created %v; want the one made", ack, created)
	}
	if err := s.Cycles.CloseCycle(ctx, f.cycle.ID, nil); err != nil {
		t.Fatal(err)
	}
	refused("the version asked for, in a cycle closed meanwhile", v2, "closed while you were signing")
}

// Eight racing signatures make one acknowledgment, one code, one number.
func testAcknowledgmentIsCreatedOnce(t *testing.T, s *Store) {
	f := newFixture(t, s)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, codes := 0, map[string]bool{}
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			ack, c := f.sign(t)
			if ack == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			codes[ack.VerifyCode] = true
			if c {
				created++
			}
		})
	}
	wg.Wait()
	if created != 1 || len(codes) != 1 {
		t.Fatalf("created %d acknowledgments with %d codes; want 1 and 1", created, len(codes))
	}
	acks, total, err := f.Acks.FindAcknowledgments(context.Background(), app.AckFilter{EmployeeID: &f.emp.ID})
	if err != nil || total != 1 || acks[0].LogIndex < 0 || acks[0].CertificateNo != "SMP-2026-000001" {
		t.Fatalf("%d acknowledgments, %+v, %v", total, acks, err)
	}
	byCode, err := f.Acks.FindAcknowledgmentByCode(context.Background(), acks[0].VerifyCode)
	if err != nil || byCode.ID != acks[0].ID || byCode.TypedName != "Zoë Côté" {
		t.Fatalf("by code: %+v %v", byCode, err)
	}
}

// The same content may be published again; other content under the same code may not.
func testPublishVersionIsImmutable(t *testing.T, s *Store) {
	f := newFixture(t, s)
	same := *f.version
	same.ID = 0
	if err := s.Policies.PublishVersion(context.Background(), &same); err != nil || same.ID != f.version.ID {
		t.Fatalf("republishing the same content: %v (id %d)", err, same.ID)
	}
	changed := *f.version
	changed.SHA256 = strings.Repeat("ef", 32)
	if err := s.Policies.PublishVersion(context.Background(), &changed); app.ErrorCode(err) != app.ECONFLICT {
		t.Fatalf("changed content under the same code: %v", err)
	}
}

// Progress, read in one go, shows each step as it is written.
func testProgressFollowsEachStep(t *testing.T, s *Store) {
	f := newFixture(t, s)
	ctx := context.Background()
	empty, err := f.Acks.Progress(ctx, f.cycle.ID, f.emp.ID, f.version.ID)
	if err != nil || empty.Attempts != 0 || empty.Passed != nil || empty.Consent != nil || len(empty.Read) != 0 ||
		empty.Assignment.SignedAt != nil || empty.Assignment.DueOn != "2026-03-01" {
		t.Fatalf("before anything: %+v %v", empty, err)
	}
	before := time.Now().Add(-time.Second)
	if err := f.Acks.MarkModuleRead(ctx, f.emp.ID, f.cycle.ID, "m"); err != nil {
		t.Fatal(err)
	}
	p, err := f.Acks.Progress(ctx, f.cycle.ID, f.emp.ID, f.version.ID)
	if err != nil || len(p.Read) != 1 || p.Read["m"].Before(before) || p.Read["m"].After(time.Now().Add(time.Second)) {
		t.Fatalf("after reading: %+v %v", p, err)
	}
	failed := &app.QuizAttempt{EmployeeID: f.emp.ID, CycleID: f.cycle.ID, PolicyVersionID: f.version.ID,
		Answers: map[string]string{"q": "b"}, Score: 0, Total: 1, PassMark: 80}
	if err := f.Acks.CreateQuizAttempt(ctx, failed); err != nil {
		t.Fatal(err)
	}
	if p, err = f.Acks.Progress(ctx, f.cycle.ID, f.emp.ID, f.version.ID); err != nil || p.Attempts != 1 || p.Passed != nil {
		t.Fatalf("after a failed attempt: %+v %v", p, err)
	}
	ack, _ := f.sign(t)
	p, err = f.Acks.Progress(ctx, f.cycle.ID, f.emp.ID, f.version.ID)
	if err != nil {
		t.Fatal(err)
	}
	attempts, err := f.Acks.FindQuizAttempts(ctx, f.emp.ID, f.cycle.ID)
	if err != nil || len(attempts) != 2 {
		t.Fatalf("attempts: %d %v", len(attempts), err)
	}
	if p.Attempts != 2 || p.Passed == nil || p.Passed.ID != ack.QuizAttemptID || p.Passed.Percent() != 100 ||
		p.Consent == nil || p.Consent.ID != ack.ConsentID || p.Consent.SHA256 != "c" ||
		p.Assignment.AckID == nil || *p.Assignment.AckID != ack.ID || p.Assignment.SignedAt == nil {
		t.Fatalf("after signing: %+v", p)
	}
	asg, err := f.Acks.FindAssignment(ctx, f.cycle.ID, f.emp.ID)
	if err != nil || asg.AckID == nil || *asg.AckID != ack.ID || asg.DueOn != p.Assignment.DueOn {
		t.Fatalf("assignment %+v %v", asg, err)
	}
	if other, err := f.Acks.Progress(ctx, f.cycle.ID, f.emp.ID, f.version.ID+1); err != nil || other.Passed != nil {
		t.Fatalf("a passing attempt of another version counted: %+v %v", other, err)
	}
	if _, err := f.Acks.Progress(ctx, f.cycle.ID, 999, f.version.ID); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("no assignment: %v", err)
	}
}

// Eight racing consents to the same notice (a double click) record one; a
// new notice is a new consent.
func testConsentIsRecordedOnce(t *testing.T, s *Store) {
	f := newFixture(t, s)
	ctx := context.Background()
	ids := make([]int64, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			c := &app.ConsentRecord{EmployeeID: f.emp.ID, CycleID: f.cycle.ID, Version: "1", SHA256: "c", IP: "127.0.0.1", UserAgent: "double click"}
			if err := f.Acks.RecordConsent(ctx, c); err != nil {
				t.Error(err)
			}
			ids[i] = c.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id == 0 || id != ids[0] {
			t.Fatalf("consent ids %v: not all the one recorded", ids)
		}
	}
	next := &app.ConsentRecord{EmployeeID: f.emp.ID, CycleID: f.cycle.ID, Version: "2", SHA256: "d"}
	if err := f.Acks.RecordConsent(ctx, next); err != nil || next.ID == ids[0] || next.ID == 0 {
		t.Fatalf("a new notice: id %d, %v", next.ID, err)
	}
	p, err := f.Acks.Progress(ctx, f.cycle.ID, f.emp.ID, f.version.ID)
	if err != nil || p.Consent == nil || p.Consent.ID != next.ID {
		t.Fatalf("the latest consent: %+v %v", p, err)
	}
}

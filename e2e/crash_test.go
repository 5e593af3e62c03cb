package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"portal/app"
	"portal/app/pgtest"
	"portal/app/store"
	"portal/handlers"
	"portal/server"
)

// TestSignaturesSurviveSIGKILL starts the real portal binary, has many people
// sign at once, kills the process with SIGKILL in the middle, restarts it and
// checks that every acknowledgment whose success response reached a client
// is there, that nobody has two, and that the evidence log verifies.
// PORTAL_CRASH_ROUNDS (default 2) and PORTAL_CRASH_SIGNERS (default 150)
// make it longer.
func TestSignaturesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server process")
	}
	rounds, signers := envNumber("PORTAL_CRASH_ROUNDS", 2), envNumber("PORTAL_CRASH_SIGNERS", 150)
	bin := portalBinary(t)
	modes := []string{"NORMAL", "FULL"}
	if onPostgres() {
		modes = modes[:1] // PORTAL_SYNCHRONOUS is SQLite's: PostgreSQL commits durably as its server is set
	}
	for _, mode := range modes {
		t.Run("synchronous="+mode, func(t *testing.T) {
			dbPath := newTestDatabase(t, "crash.db")
			ids := prepareSigners(t, dbPath, signers*rounds)
			acknowledged := map[int64]string{} // employee id → certificate code the client was sent to
			for round := 0; round < rounds; round++ {
				batch := ids[round*signers : (round+1)*signers]
				srv := startPortalProcess(t, bin, dbPath, mode)
				clients := make([]*client, len(batch))
				for i, id := range batch {
					clients[i] = newClient(t, srv.base)
					clients[i].signIn(srv.link(t, id))
					clients[i].get("/sign")
				}
				var mu sync.Mutex
				var wg sync.WaitGroup
				work := make(chan int)
				for w := 0; w < 16; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range work {
							r, err := clients[i].tryPost("/sign", form("_csrf", clients[i].csrf, "typed_name", signerName(batch[i]), "intent", "yes"))
							if err == nil && r.Status == 303 && strings.HasPrefix(r.Location, "/certificates/") {
								mu.Lock()
								acknowledged[batch[i]] = signedCode(r.Location)
								mu.Unlock()
							}
						}
					}()
				}
				go func() {
					// Kill once about a third of the round has been answered.
					for {
						mu.Lock()
						n := len(acknowledged)
						mu.Unlock()
						if n >= round*signers+signers/3 {
							_ = srv.cmd.Process.Signal(syscall.SIGKILL)
							return
						}
						time.Sleep(time.Millisecond)
					}
				}()
				for i := range batch {
					work <- i
				}
				close(work)
				wg.Wait()
				_ = srv.cmd.Wait()
			}
			if len(acknowledged) >= signers*rounds {
				t.Fatal("every signature was answered: the kill came too late to test anything")
			}
			checkAfterCrash(t, dbPath, acknowledged)
		})
	}
}

func envNumber(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// signerName is the roster name prepareSigners gave the employee with this id
// (ids start at 1 in a new database, numbers at K0).
func signerName(id int64) string { return fmt.Sprintf("Crash Signer K%d", id-1) }

// testDatabase is where a test's portal processes keep their data: an
// SQLite file, or with PORTAL_TEST_DB=postgres a database of the throwaway
// PostgreSQL server; keyDir holds the evidence log's key file.
type testDatabase struct {
	dsn, keyDir string
}

func newTestDatabase(t *testing.T, file string) testDatabase {
	dir := t.TempDir()
	if onPostgres() {
		return testDatabase{dsn: pgtest.Database(t), keyDir: dir}
	}
	return testDatabase{dsn: filepath.Join(dir, file), keyDir: dir}
}

func (d testDatabase) logKey() string { return filepath.Join(d.keyDir, "log.key") }

// prepareSigners adds n employees who have read, passed and consented.
func prepareSigners(t testing.TB, d testDatabase, n int) []int64 {
	t.Helper()
	cfg := &server.Config{DB: d.dsn, BaseURL: "http://127.0.0.1", TimeZone: time.UTC, PassMark: 80, Synchronous: "NORMAL",
		PolicyVersion: "2026.2", SMTPTLS: "none", SMTPConns: 1, Schedule: app.DefaultSchedule,
		LogKeyFile: testLogKey(t, d.keyDir), Secret: testSecret}
	k := mustKeys(t, cfg)
	db, err := server.OpenDB(cfg, k)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	p, err := server.Wire(ctx, cfg, db, k, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h := p.Handler
	today := time.Now().UTC()
	cycle := &app.Cycle{Name: "Crash test", PolicyVersionID: p.Version.ID, OpensOn: today.AddDate(0, 0, -1).Format(app.DateLayout),
		DueOn: today.AddDate(0, 0, 30).Format(app.DateLayout), NewHireDays: 30, Open: true}
	if err := h.Cycles.CreateCycle(ctx, cycle); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, n)
	for i := range ids {
		e := &app.Employee{EmployeeNumber: fmt.Sprint("K", i), FullName: fmt.Sprint("Crash Signer K", i),
			Email: fmt.Sprintf("k%d@crash.invalid", i), Agency: "A", Department: "D", Active: true}
		if err := h.Employees.CreateEmployee(ctx, e); err != nil {
			t.Fatal(err)
		}
		ids[i] = e.ID
	}
	makeReady(t, h, p.Version, cycle.ID, ids...)
	return ids
}

// makeReady makes the people ids ready to sign version v in the cycle:
// every module read, the knowledge check passed, the consent given.
func makeReady(t testing.TB, h *handlers.Handler, v *app.PolicyVersion, cycleID int64, ids ...int64) {
	t.Helper()
	ctx := context.Background()
	for _, id := range ids {
		e, err := h.Employees.FindEmployeeByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range v.ModulesFor(app.AudienceAll) {
			if err := h.Acks.MarkModuleRead(ctx, id, cycleID, m.Slug); err != nil {
				t.Fatal(err)
			}
		}
		a, err := passedAttempt(v, e)
		if err != nil {
			t.Fatal(err)
		}
		a.CycleID = cycleID
		if err := h.Acks.CreateQuizAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := h.Acks.RecordConsent(ctx, &app.ConsentRecord{EmployeeID: id, CycleID: cycleID, Version: h.Consent.Version,
			SHA256: h.Consent.SHA256}); err != nil {
			t.Fatal(err)
		}
	}
}

type portalProcess struct {
	cmd  *exec.Cmd
	base string
	db   string
}

// startPortalProcess starts `portal serve` on d; env entries are added
// last (a later value of a name wins).
func startPortalProcess(t testing.TB, bin string, d testDatabase, mode string, env ...string) *portalProcess {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "PORTAL_HOST=127.0.0.1", "PORTAL_DB="+d.dsn,
		"PORTAL_SYNCHRONOUS="+mode, "PORTAL_REMIND_INTERVAL=0", "PORTAL_LOG_FORMAT=text", "PORTAL_MAIL=log",
		"PORTAL_LOG_KEY="+d.logKey(), "PORTAL_SECRET="+testSecret)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	p := &portalProcess{cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), db: d.dsn}
	c := newClient(t, p.base)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if r, err := c.tryGet("/healthz"); err == nil && r.Status == 200 {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatal("the portal process did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// link makes a sign-in link straight in the database the process serves.
func (p *portalProcess) link(t testing.TB, employeeID int64) string {
	t.Helper()
	db, err := server.OpenDB(&server.Config{DB: p.db, Synchronous: "NORMAL"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	token, err := store.NewSessionService(db).CreateLoginToken(context.Background(), employeeID, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return p.base + "/signin/link/" + token
}

func checkAfterCrash(t *testing.T, d testDatabase, acknowledged map[int64]string) {
	t.Helper()
	dbPath := d.dsn
	t.Setenv("PORTAL_DB", dbPath)
	t.Setenv("PORTAL_LOG_KEY", d.logKey())
	var out strings.Builder
	if err := server.Run(context.Background(), []string{"audit-verify"}, &out, io.Discard); err != nil {
		t.Fatalf("the evidence log after SIGKILL: %v", err)
	}
	if !strings.Contains(out.String(), "seal checked") {
		t.Fatalf("audit-verify did not check the seals: %s", out.String())
	}
	tp := &testPortal{Portal: &server.Portal{DB: mustOpen(t, dbPath)}}
	defer tp.DB.Close()
	if n := tp.count(t, `SELECT COUNT(*) FROM (SELECT employee_id FROM acknowledgments GROUP BY employee_id, cycle_id HAVING COUNT(*) > 1) x`); n != 0 {
		t.Fatalf("%d people have two acknowledgments", n)
	}
	lost := 0
	for id, code := range acknowledged {
		if tp.count(t, `SELECT COUNT(*) FROM acknowledgments WHERE employee_id = ? AND verify_code = ?`, id, code) != 1 {
			lost++
		}
	}
	if lost > 0 || len(acknowledged) == 0 {
		t.Fatalf("%d of %d acknowledged signatures lost", lost, len(acknowledged))
	}
	t.Logf("%d acknowledged signatures all present after SIGKILL; evidence log verified", len(acknowledged))
}

func mustOpen(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := server.OpenDB(&server.Config{DB: path, Synchronous: "NORMAL"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

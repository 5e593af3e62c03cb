package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portal/app"
	"portal/server"
)

// The store under pressure: a large import by another process while people
// sign, the WAL after a burst, and a full disk.

// readySigners adds n people to the portal's open cycle who have read the
// guidance, passed the check and consented, each signed in through their
// link on a client that holds the sign page's CSRF token.
func readySigners(t *testing.T, tp *testPortal, n int) ([]*client, []*app.Employee) {
	t.Helper()
	ctx := context.Background()
	h := tp.Handler
	cycle := tp.cycleID(t)
	clients := make([]*client, n)
	people := make([]*app.Employee, n)
	for i := range n {
		e := &app.Employee{EmployeeNumber: fmt.Sprint("S", i), FullName: fmt.Sprint("Load Signer ", i),
			Email: fmt.Sprintf("s%d@load.invalid", i), Agency: "A", Department: "D", Active: true}
		if err := h.Employees.CreateEmployee(ctx, e); err != nil {
			t.Fatal(err)
		}
		for _, m := range tp.Version.ModulesFor(app.AudienceAll) {
			if err := h.Acks.MarkModuleRead(ctx, e.ID, cycle, m.Slug); err != nil {
				t.Fatal(err)
			}
		}
		a, err := passedAttempt(tp.Version, e)
		if err != nil {
			t.Fatal(err)
		}
		a.CycleID = cycle
		if err := h.Acks.CreateQuizAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := h.Acks.RecordConsent(ctx, &app.ConsentRecord{EmployeeID: e.ID, CycleID: cycle, Version: h.Consent.Version,
			SHA256: h.Consent.SHA256}); err != nil {
			t.Fatal(err)
		}
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLinkFor(t, e))
		if r := c.get("/sign"); r.Status != 200 {
			t.Fatalf("sign page for %s: %d", e.EmployeeNumber, r.Status)
		}
		clients[i], people[i] = c, e
	}
	return clients, people
}

// bigRoster is n new people with a manager tree 8 wide, as a roster file.
func bigRoster(n int) string {
	var sb strings.Builder
	sb.WriteString("employee_number,full_name,email,agency,department,title,manager_employee_number,hire_date,roles\n")
	for i := 1; i <= n; i++ {
		mgr := ""
		if i > 1 {
			mgr = fmt.Sprintf("N%d", 1+(i-1)/8)
		}
		fmt.Fprintf(&sb, "N%d,Imported Person %d,imported%d@load.invalid,Agency %d,Department %d,Analyst,%s,2019-05-01,\n", i, i, i, i%20, i%10, mgr)
	}
	return sb.String()
}

// A 100,000-row `portal import-roster`, a process of its own, writes while
// people sign through the web: no signature fails for the lock (before,
// the import held it for its whole write and signatures past the 5 s busy
// timeout got "Internal error"). The longest wait of a web write during
// the import is logged, not asserted (the machine is shared).
func TestWebWritesWaitForALargeImport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the portal and imports 100,000 people")
	}
	bin := portalBinary(t)
	tp := startTestPortal(t)
	clients, people := readySigners(t, tp, 200)
	const rows = 100_000
	file := filepath.Join(t.TempDir(), "big.csv")
	if err := writeFile(file, bigRoster(rows)); err != nil {
		t.Fatal(err)
	}
	before := tp.count(t, `SELECT COUNT(*) FROM employees`)

	imp := exec.Command(bin, "import-roster", file)
	imp.Env = append(os.Environ(), "PORTAL_DB="+tp.DB.Path, "PORTAL_LOG_KEY="+tp.Config.LogKeyFile, "PORTAL_SECRET="+testSecret)
	var out strings.Builder
	imp.Stdout, imp.Stderr = &out, &out
	started := time.Now()
	if err := imp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = imp.Process.Kill(); _, _ = imp.Process.Wait() })
	importDone := make(chan error, 1)
	go func() { importDone <- imp.Wait() }()

	// The write phase begins when the first batch is visible.
	var writing atomic.Int64 // Unix nanoseconds of the first batch seen
	stop := make(chan struct{})
	go func() {
		for writing.Load() == 0 {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if tp.count(t, `SELECT COUNT(*) FROM employees`) > before {
				writing.Store(time.Now().UnixNano())
			}
		}
	}()

	// Web writes until the import ends: each signer signs once, and then
	// the signed mark guidance as read (a write transaction each time).
	type result struct {
		what       string
		status     int
		err        error
		start, end time.Time
	}
	var mu sync.Mutex
	var results []result
	next := atomic.Int64{}
	var wg sync.WaitGroup
	slug := tp.Version.Modules[0].Slug
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(40 * time.Millisecond): // a steady trickle, not a flood
				}
				i := int(next.Add(1) - 1)
				r := result{start: time.Now()}
				var resp response
				if i < len(clients) {
					r.what = "sign"
					resp, r.err = clients[i].tryPost("/sign", form("_csrf", clients[i].csrf, "typed_name", people[i].FullName, "intent", "yes"))
				} else {
					c := clients[i%len(clients)]
					r.what = "guidance read"
					resp, r.err = c.tryPost("/guidance/"+slug+"/read", form("_csrf", c.csrf))
				}
				r.end, r.status = time.Now(), resp.Status
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		}()
	}
	var importErr error
	select {
	case importErr = <-importDone:
	case <-time.After(10 * time.Minute):
		importErr = fmt.Errorf("the import did not finish in 10 minutes")
	}
	ended := time.Now()
	close(stop)
	wg.Wait()
	if importErr != nil {
		t.Fatalf("import-roster: %v\n%s", importErr, out.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("%d added", rows)) {
		t.Fatalf("import-roster said: %s", out.String())
	}
	first := time.Unix(0, writing.Load())
	if writing.Load() == 0 {
		t.Fatal("no batch of the import was seen before it ended")
	}

	var during []time.Duration
	signed, failed := 0, 0
	for _, r := range results {
		ok := r.err == nil && r.status == 303
		if !ok {
			failed++
			t.Errorf("%s at +%s: status %d, %v", r.what, r.start.Sub(started).Round(time.Millisecond), r.status, r.err)
		}
		if r.what == "sign" && ok {
			signed++
		}
		if r.end.After(first) && r.start.Before(ended) {
			during = append(during, r.end.Sub(r.start))
		}
	}
	if len(during) == 0 {
		t.Fatal("no web write overlapped the import's write phase: the test proved nothing")
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM acknowledgments a JOIN employees e ON e.id = a.employee_id WHERE e.employee_number LIKE 'S%'`); n != signed {
		t.Fatalf("%d signatures answered, %d stored", signed, n)
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM employees`); n != before+rows {
		t.Fatalf("%d employees after the import, want %d", n, before+rows)
	}
	slices.Sort(during)
	t.Logf("import of %d rows: %s in all, writing for %s; %d web writes during it (%d signatures in all), %d failed; "+
		"longest %s, median %s, 99th percentile %s",
		rows, ended.Sub(started).Round(time.Millisecond), ended.Sub(first).Round(time.Millisecond), len(during), signed, failed,
		during[len(during)-1].Round(time.Millisecond), during[len(during)/2].Round(time.Millisecond),
		during[len(during)*99/100].Round(time.Millisecond))

	tp.commandEnv(t)
	var verify strings.Builder
	if err := server.Run(context.Background(), []string{"audit-verify"}, &verify, &verify); err != nil {
		t.Fatalf("the evidence log after the import: %v\n%s", err, verify.String())
	}
}

// fileSize is a file's size, or 0 when it does not exist.
func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// waitUpTo polls cond until it holds; the deadline is only a fail-safe.
func waitUpTo(t *testing.T, what string, deadline time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("gave up waiting after %s for %s", deadline, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// walLimit is the portal's journal_size_limit (app/store/checkpoint.go).
const walLimit = 8 << 20

// After a burst of writes (a 30,000-row import by the command line while
// the portal serves) and an idle moment, the WAL is back under its limit,
// and then emptied. Before, it stayed at its largest for good.
func TestTheWALShrinksWhenThePortalIsIdle(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 30,000 people")
	}
	tp := startTestPortal(t)
	tp.commandEnv(t)
	wal := tp.DB.Path + "-wal"
	file := filepath.Join(t.TempDir(), "burst.csv")
	if err := writeFile(file, bigRoster(30_000)); err != nil {
		t.Fatal(err)
	}
	var peak atomic.Int64
	done := make(chan struct{})
	go func() {
		for {
			peak.Store(max(peak.Load(), fileSize(t, wal)))
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	var out strings.Builder
	err := server.Run(context.Background(), []string{"import-roster", file}, &out, &out)
	close(done)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	after := fileSize(t, wal)
	waitUpTo(t, "the WAL to come under its limit", time.Minute, func() bool { return fileSize(t, wal) <= walLimit })
	waitUpTo(t, "the WAL to be emptied when idle", time.Minute, func() bool { return fileSize(t, wal) == 0 })
	t.Logf("WAL: %d bytes at most during the burst, %d when it ended, 0 after an idle moment (limit %d); database %d bytes",
		max(peak.Load(), after), after, walLimit, fileSize(t, tp.DB.Path))
}

// fill writes zeros to path until the disk is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !strings.Contains(err.Error(), "no space left") {
				t.Fatal(err)
			}
			break
		}
	}
	for _, size := range []int{4096, 512, 1} { // the last scraps
		for {
			if _, err := f.Write(chunk[:size]); err != nil {
				break
			}
		}
	}
}

// On a full disk a signature is refused with 503 and "try again in a
// moment" (and a Retry-After), nothing of it is stored, and once there is
// room again the same signature goes through, with no restart.
func TestAFullDiskAnswers503AndRecovers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a full disk: needs root to mount a tmpfs")
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Room for the demo's start-up (its WAL peaks near 10 MB before the
	// first checkpoint); the filler below takes whatever is left.
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("a full disk: needs root to mount a tmpfs (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	// Registered before the portal's own cleanup, so it runs after the portal stops.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	tp := startTestPortal(t, func(c *server.Config) { c.DB = filepath.Join(dir, "portal.db") })
	clients, people := readySigners(t, tp, 1)
	c, e := clients[0], people[0]
	wal := tp.DB.Path + "-wal"
	// Once idle the WAL is emptied, so the next commit needs new space.
	waitUpTo(t, "the WAL to be emptied when idle", time.Minute, func() bool { return fileSize(t, wal) == 0 })
	filler := filepath.Join(dir, "filler")
	fill(t, filler)
	sign := func() response {
		r, err := c.tryPost("/sign", form("_csrf", c.csrf, "typed_name", e.FullName, "intent", "yes"))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := sign()
	if r.Status != 503 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("sign on a full disk: status %d, Retry-After %q\n%.500s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	mustContain(t, r.Body, "The portal cannot save right now. Please try again in a moment.")
	if strings.Contains(r.Body, "full") || strings.Contains(r.Body, "Internal error") {
		t.Fatalf("the page shows internal detail:\n%s", r.Body)
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM acknowledgments WHERE employee_id = ?`, e.ID); n != 0 {
		t.Fatalf("%d acknowledgments stored from a failed signature", n)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if r := sign(); r.Status != 303 || !strings.HasPrefix(r.Location, "/certificates/") {
		t.Fatalf("sign once there is room again: status %d %q\n%.500s", r.Status, r.Location, r.Body)
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM acknowledgments WHERE employee_id = ?`, e.ID); n != 1 {
		t.Fatalf("%d acknowledgments after the retry", n)
	}
	if !strings.Contains(tp.Logs.String(), "cannot save") {
		t.Error("the full disk was not logged for the operator")
	}
}

package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"portal/app"
	"portal/app/content"
	"portal/app/pgtest"
	"portal/server"
)

// TestTwoNodesOnOnePostgreSQL runs two portal processes on one PostgreSQL
// database, as two nodes behind a load balancer with no sticky sessions:
//
//   - a session made on one node works on the other;
//   - one person pressing Sign on both nodes at the same instant gets one
//     acknowledgment and one certificate, and both answers name it;
//   - a signing storm across both nodes, with one node killed (SIGKILL) in
//     the middle, loses no signature either node answered, and the people
//     the dead node never answered sign on the other;
//   - two reminder passes run at once from two processes queue each
//     message once, and the nodes' mail workers and the passes deliver each
//     once;
//   - the evidence log verifies afterwards.
//
// It runs on PostgreSQL whatever PORTAL_TEST_DB says: several nodes are
// what PostgreSQL is for.
func TestTwoNodesOnOnePostgreSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs two portal processes")
	}
	bin := portalBinary(t)
	ms := startMailServer(t)
	d := testDatabase{dsn: pgtest.Database(t), keyDir: t.TempDir()}
	const (
		double  = 20  // people who press Sign on both nodes at once
		storm   = 150 // people who sign in the storm
		waiting = 30  // people who do not sign: the reminder passes' work
	)
	ids := prepareSigners(t, d, double+storm+waiting)
	smtp := []string{"PORTAL_MAIL=", "PORTAL_SMTP_HOST=127.0.0.1", "PORTAL_SMTP_PORT=" + strconv.Itoa(ms.port()), "PORTAL_SMTP_TLS=none"}
	nodeA := startPortalProcess(t, bin, d, "NORMAL", smtp...)
	nodeB := startPortalProcess(t, bin, d, "NORMAL", smtp...)
	nodes := []*portalProcess{nodeA, nodeB}

	// Everyone signs in on one node and reads the signing page on the other.
	clients := make([]*client, double+storm)
	for i := range clients {
		home, other := nodes[i%2], nodes[(i+1)%2]
		c := newClient(t, home.base)
		c.signIn(home.link(t, ids[i]))
		c.base = other.base
		if r := c.get("/sign"); r.Status != 200 || !strings.Contains(r.Body, "typed_name") {
			t.Fatalf("signer %d: the session made on one node is not taken by the other: status %d", i, r.Status)
		}
		clients[i] = c
	}
	signOn := func(i int, node *portalProcess) (string, error) {
		c := *clients[i] // the same cookies and CSRF token, sent to node
		c.base = node.base
		r, err := c.tryPost("/sign", form("_csrf", c.csrf, "typed_name", signerName(ids[i]), "intent", "yes"))
		if err != nil {
			return "", err
		}
		if r.Status != 303 || !strings.HasPrefix(r.Location, "/certificates/") {
			return "", fmt.Errorf("status %d, location %q", r.Status, r.Location)
		}
		return signedCode(r.Location), nil
	}

	acknowledged := map[int64]string{}
	t.Run("one person pressing Sign on both nodes at once signs once", func(t *testing.T) {
		for i := 0; i < double; i++ {
			start := make(chan struct{})
			codes := make([]string, 2)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for n, node := range nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					codes[n], errs[n] = signOn(i, node)
				}()
			}
			close(start)
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("signer %d: %v / %v", i, errs[0], errs[1])
			}
			if codes[0] != codes[1] {
				t.Fatalf("signer %d: the two nodes answered two certificates, %s and %s", i, codes[0], codes[1])
			}
			acknowledged[ids[i]] = codes[0]
		}
	})

	t.Run("a storm across both nodes loses nothing when one is killed", func(t *testing.T) {
		var mu sync.Mutex
		unanswered := map[int]bool{}
		killed := make(chan struct{})
		work := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					code, err := signOn(i, nodes[i%2])
					mu.Lock()
					if err == nil {
						acknowledged[ids[i]] = code
					} else {
						unanswered[i] = true
					}
					mu.Unlock()
				}
			}()
		}
		go func() {
			defer close(killed)
			for {
				mu.Lock()
				n := len(acknowledged)
				mu.Unlock()
				if n >= double+storm/3 {
					_ = nodeA.cmd.Process.Signal(syscall.SIGKILL)
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
		for i := double; i < double+storm; i++ {
			work <- i
		}
		close(work)
		wg.Wait()
		<-killed
		_ = nodeA.cmd.Wait()
		if len(unanswered) == 0 {
			t.Fatal("node A answered everyone: the kill came too late to test anything")
		}
		// Those node A never answered sign on node B; some may have signed
		// before A died, unanswered: B then answers their certificate.
		for i := range unanswered {
			code, err := signOn(i, nodeB)
			if err != nil {
				t.Fatalf("signer %d on the surviving node: %v", i, err)
			}
			acknowledged[ids[i]] = code
		}
		t.Logf("%d signatures, %d of them retried on node B after node A was killed", len(acknowledged), len(unanswered))
	})

	t.Run("two reminder passes at once queue and deliver each message once", func(t *testing.T) {
		tp := &testPortal{Portal: &server.Portal{DB: mustOpen(t, d.dsn)}}
		defer tp.DB.Close()
		tpEnv := append([]string{"PORTAL_DB=" + d.dsn, "PORTAL_LOG_KEY=" + d.logKey()}, smtp...)
		tp.Config = &server.Config{LogKeyFile: d.logKey()}
		passes := make([]*process, 2)
		for n := range passes {
			passes[n] = startCommand(t, bin, []string{"remind"}, tpEnv...)
		}
		queued := 0
		invitations := regexp.MustCompile(`queued (\d+) invitations`)
		for _, p := range passes {
			<-p.exited
			if p.err != nil {
				t.Fatalf("portal remind: %v\n%s", p.err, p.out.String())
			}
			m := invitations.FindStringSubmatch(p.out.String())
			if m == nil {
				t.Fatalf("portal remind said: %s", p.out.String())
			}
			n, _ := strconv.Atoi(m[1])
			queued += n
		}
		if queued != waiting {
			t.Fatalf("the two passes queued %d invitations between them; %d people are waiting", queued, waiting)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM (SELECT to_addr FROM outbox GROUP BY to_addr, subject HAVING COUNT(*) > 1) x`); n != 0 {
			t.Fatalf("%d people were queued the same message twice", n)
		}
		eventually(t, "every message sent", func() bool { return tp.queued(t) == 0 })
		checkDeliveredOnce(t, tp, ms)
	})

	t.Run("what one node changes, the other knows", func(t *testing.T) {
		nodeC := startPortalProcess(t, bin, d, "NORMAL", smtp...)
		b, c := nodeB, nodeC
		waiter := func(k int) int64 { return ids[double+storm+k] } // people the storm left unsigned

		// A sign-in link used on one node is used on all.
		link := c.link(t, waiter(0))
		first := newClient(t, c.base)
		first.signIn(link)
		again := newClient(t, b.base)
		if r := again.get(strings.Replace(link, c.base, b.base, 1)); r.Status != 401 {
			t.Fatalf("a link used on node C, opened on node B: status %d, want 401", r.Status)
		}

		// Signing out on one node ends the session on all.
		session := first.cookie("portal_session")
		first.base = b.base
		if r := first.post("/signout", nil); r.Status != 303 {
			t.Fatalf("sign out on node B: status %d", r.Status)
		}
		stale := newClient(t, c.base)
		u, _ := url.Parse(c.base)
		stale.http.Jar.SetCookies(u, []*http.Cookie{{Name: "portal_session", Value: session}})
		if r := stale.get("/sign"); r.Status != 303 || !strings.HasPrefix(r.Location, "/signin") {
			t.Fatalf("the session signed out on node B, on node C: status %d location %q", r.Status, r.Location)
		}

		// The sign-in rate limit counts requests to both nodes together:
		// 30 requests for links from one address in 15 minutes, not 30 a node.
		for i := 0; i < 31; i++ {
			node := []*portalProcess{b, c}[i%2]
			asker := newClient(t, node.base)
			asker.get("/signin")
			r := asker.post("/signin", form("email", fmt.Sprintf("nobody%d@elsewhere.invalid", i)))
			if want := map[bool]int{true: 303, false: 429}[i < 30]; r.Status != want {
				t.Fatalf("request %d for a link, on node %s: status %d, want %d", i+1, []string{"B", "C"}[i%2], r.Status, want)
			}
		}

		// A new policy version for the cycle, set through another process
		// while node C shows the old one: a signature on the old text is
		// not taken, whatever node C had cached, and node C stops asking
		// for the old text within its cache's two seconds.
		// Changes come from a third portal in the test, as from HR's node.
		hrCfg := &server.Config{DB: d.dsn, BaseURL: "http://127.0.0.1", TimeZone: time.UTC, PassMark: 80, Synchronous: "NORMAL",
			PolicyVersion: "2026.2", SMTPTLS: "none", SMTPConns: 1, Schedule: app.DefaultSchedule,
			LogKeyFile: d.logKey(), Secret: testSecret}
		k := mustKeys(t, hrCfg)
		db, err := server.OpenDB(hrCfg, k)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		hr, err := server.Wire(context.Background(), hrCfg, db, k, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		signer := newClient(t, c.base)
		signer.signIn(c.link(t, waiter(1)))
		old := signer.get("/sign")
		if !strings.Contains(old.Body, "typed_name") {
			t.Fatalf("node C does not offer the signature: status %d", old.Status)
		}
		v, err := content.LoadVersion(os.DirFS(docsFixtureDir), ".")
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := hr.Handler.Policies.PublishVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
		cycle, err := hr.Handler.Cycles.CurrentCycle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		changed := time.Now()
		if err := hr.Handler.Cycles.SetCycleVersion(ctx, cycle.ID, v.ID, nil); err != nil {
			t.Fatal(err)
		}
		tp := &testPortal{Portal: &server.Portal{DB: db}}
		signs := func(k int) int {
			return tp.count(t, `SELECT COUNT(*) FROM acknowledgments WHERE employee_id = ?`, waiter(k))
		}
		r := signer.post("/sign", form("_csrf", signer.csrf, "typed_name", signerName(waiter(1)), "intent", "yes"))
		if r.Status == 303 && strings.HasPrefix(r.Location, "/certificates/") || signs(1) != 0 {
			t.Fatalf("a signature on the old version after the change: status %d location %q", r.Status, r.Location)
		}
		t.Logf("the press on node C after the change: status %d", r.Status)
		oldCode := tp.text(t, `SELECT code FROM policy_versions WHERE id = ?`, cycle.PolicyVersionID)
		if !strings.Contains(old.Body, "version "+oldCode) {
			t.Fatalf("the signing page before the change does not name version %s", oldCode)
		}
		eventually(t, "node C no longer asking for the old version", func() bool {
			return !strings.Contains(signer.get("/sign").Body, "version "+oldCode)
		})
		t.Logf("node C stopped asking for the old version %s after the change", time.Since(changed).Round(time.Millisecond))

		// The cycle closed through another process: node C takes no
		// signature in it, and shows it closed within two seconds.
		makeReady(t, hr.Handler, v, cycle.ID, waiter(2))
		closer := newClient(t, c.base)
		closer.signIn(c.link(t, waiter(2)))
		if !strings.Contains(closer.get("/sign").Body, "typed_name") {
			t.Fatal("node C does not offer the signature before the cycle closes")
		}
		if err := hr.Handler.Cycles.CloseCycle(ctx, cycle.ID, nil); err != nil {
			t.Fatal(err)
		}
		closed := time.Now()
		r = closer.post("/sign", form("_csrf", closer.csrf, "typed_name", signerName(waiter(2)), "intent", "yes"))
		if r.Status == 303 && strings.HasPrefix(r.Location, "/certificates/") || signs(2) != 0 {
			t.Fatalf("a signature in the cycle closed a moment before: status %d location %q", r.Status, r.Location)
		}
		t.Logf("the press on node C after the close: status %d", r.Status)
		eventually(t, "node C showing the cycle closed", func() bool { return !strings.Contains(closer.get("/sign").Body, "typed_name") })
		t.Logf("node C stopped offering the signature %s after the close", time.Since(closed).Round(time.Millisecond))
	})

	checkAfterCrash(t, d, acknowledged)
	if got := len(acknowledged); got != double+storm {
		t.Fatalf("%d people signed; %d pressed Sign", got, double+storm)
	}
}

package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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

	checkAfterCrash(t, d, acknowledged)
	if got := len(acknowledged); got != double+storm {
		t.Fatalf("%d people signed; %d pressed Sign", got, double+storm)
	}
}

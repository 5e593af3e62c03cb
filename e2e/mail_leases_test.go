package e2e

import (
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"portal/app"
	"portal/server"
)

// Outbox claims are leases: a `portal remind` killed mid-delivery hands its
// messages to the running server once its lease ends; a server starting
// while a live `remind` delivers leaves its messages alone; sign-in links
// have a lane of their own that a hanging mail server cannot block.

// process is the real binary running one command against a test portal's
// database, sending its mail to ms.
type process struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	err    error // once exited
}

func startProcess(t *testing.T, bin string, tp *testPortal, ms *mailServer, args []string, env ...string) *process {
	t.Helper()
	return startCommand(t, bin, args, append([]string{"PORTAL_DB=" + tp.DB.Path, "PORTAL_LOG_KEY=" + tp.Config.LogKeyFile,
		"PORTAL_TIMEZONE=" + tp.Config.TimeZone.String(),
		"PORTAL_SMTP_HOST=127.0.0.1", "PORTAL_SMTP_PORT=" + strconv.Itoa(ms.port()), "PORTAL_SMTP_TLS=none"}, env...)...)
}

// startCommand runs the real binary with args and env (PORTAL_DB and the
// rest) added to the test's own environment.
func startCommand(t *testing.T, bin string, args []string, env ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "PORTAL_SECRET="+testSecret, "PORTAL_LOG_FORMAT=text", "PORTAL_REMIND_INTERVAL=0")
	cmd.Env = append(cmd.Env, env...)
	p := &process{cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("portal %s output:\n%s", strings.Join(args, " "), p.out.String())
		}
	})
	return p
}

func (p *process) done() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// owner is the LIKE pattern of the process's lease owner (host/pid/random).
func (p *process) owner() string { return fmt.Sprintf("%%/%d/%%", p.cmd.Process.Pid) }

// waitUntil waits for cond, failing after a generous fail-safe.
func waitUntil(t *testing.T, what string, failSafe time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(failSafe)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s", what, failSafe)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// idIn is `id IN (?, ?, …)` for ids, and its arguments.
func idIn(ids map[int64]string) (string, []any) {
	var args []any
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		args = append(args, id)
	}
	return "id IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ") + ")", args
}

// checkDeliveredOnce checks that every message the outbox records as sent
// reached the mail servers once: no message went twice.
func checkDeliveredOnce(t *testing.T, tp *testPortal, servers ...*mailServer) {
	t.Helper()
	for addr, n := range tp.sentPerAddress(t) {
		got := 0
		for _, ms := range servers {
			got += ms.count(addr)
		}
		if got != n {
			t.Errorf("%s: %d messages sent, %d received", addr, n, got)
		}
	}
}

// seededDatabase starts a demo portal, lets it send the demo's mail and
// stops it: its database, with a cycle whose reminders are due, stays.
func seededDatabase(t *testing.T, ms *mailServer) *testPortal {
	t.Helper()
	tp := startTestPortal(t, withSMTP(ms))
	eventually(t, "the demo's mail", func() bool { return tp.queued(t) == 0 })
	tp.Stop()
	return tp
}

func TestKilledRemindsMessagesGoOutWithoutARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a portal process")
	}
	bin := portalBinary(t)
	good, stuck := startMailServer(t), startMailServer(t)
	tp := seededDatabase(t, good)
	// `portal remind` from cron, with a short lease, sends through a server
	// that holds every DATA so that the kill lands mid-delivery. The server
	// starts once the remind holds its messages (so its worker, polling every
	// five seconds as in production, cannot take the whole pass first), and
	// runs on while the remind is killed: no restart after the kill.
	stuck.holdData()
	remind := startProcess(t, bin, tp, stuck, []string{"remind"}, "PORTAL_MAIL_LEASE=2s")
	waitUntil(t, "message held mid-delivery", time.Minute, func() bool { return stuck.heldNow() > 0 || remind.done() })
	if remind.done() {
		t.Fatalf("remind ended before delivering anything: %v", remind.err)
	}
	srv := startProcess(t, bin, tp, good, []string{"serve"}, "PORT="+strconv.Itoa(freePort(t)), "PORTAL_HOST=127.0.0.1")
	waitUntil(t, "server start", time.Minute, func() bool {
		return strings.Contains(srv.out.String(), "portal listening") || srv.done()
	})
	if srv.done() {
		t.Fatalf("the server stopped: %v", srv.err)
	}
	if err := remind.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-remind.exited
	claimed := tp.outboxClaims(t, remind.owner())
	if len(claimed) == 0 {
		t.Fatal("the killed remind held no message")
	}
	stuck.release(false) // its connections are gone; nothing it held was accepted
	start := time.Now()
	waitUntil(t, "delivery of the killed remind's messages by the running server", 2*time.Minute, func() bool {
		in, ids := idIn(claimed)
		return tp.count(t, `SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND `+in, ids...) == len(claimed)
	})
	t.Logf("%d messages claimed by the killed remind were delivered by the running server %s after the kill (lease 2 s, poll 5 s)",
		len(claimed), time.Since(start).Round(time.Millisecond))
	if srv.done() {
		t.Fatalf("the server stopped: %v", srv.err)
	}
	checkDeliveredOnce(t, tp, good, stuck)
}

func TestServerStartLeavesALiveRemindsMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a portal process")
	}
	bin := portalBinary(t)
	good, slow := startMailServer(t), startMailServer(t)
	tp := seededDatabase(t, good)
	slow.holdData()
	remind := startProcess(t, bin, tp, slow, []string{"remind"}, "PORTAL_MAIL_LEASE=2s")
	waitUntil(t, "message held mid-delivery", time.Minute, func() bool { return slow.heldNow() > 0 || remind.done() })
	if remind.done() {
		t.Fatalf("remind ended before delivering anything: %v", remind.err)
	}
	owner := remind.owner()
	claimed := tp.outboxClaims(t, owner)
	if len(claimed) == 0 {
		t.Fatal("remind holds no message")
	}
	// Past the end its leases had when claimed, and renewed since: without
	// the heartbeat they would have ended.
	first := tp.text(t, `SELECT MAX(lease_until) FROM outbox WHERE lease_owner LIKE ?`, owner)
	waitUntil(t, "renewed leases", time.Minute, func() bool {
		return time.Now().UTC().Format("2006-01-02T15:04:05.000000Z") > first &&
			tp.count(t, `SELECT COUNT(*) FROM outbox WHERE lease_owner LIKE ? AND lease_until <= ?`, owner, first) == 0
	})
	// A server starts on the same database while remind is still delivering.
	tp2 := startTestPortal(t, withSMTP(good), func(c *server.Config) { c.DB, c.LogKeyFile = tp.DB.Path, tp.Config.LogKeyFile })
	waitUntil(t, "the new server's first rounds", time.Minute, func() bool {
		return tp2.Worker.Rounds(app.LaneOther) >= 2 && tp2.Worker.Rounds(app.LaneSignIn) >= 2
	})
	in, ids := idIn(claimed)
	if n := tp.count(t, `SELECT COUNT(*) FROM outbox WHERE status = 'queued' AND lease_owner LIKE ? AND `+in,
		append([]any{owner}, ids...)...); n != len(claimed) {
		t.Errorf("the starting server took %d of the %d messages a live remind holds", len(claimed)-n, len(claimed))
	}
	slow.release(true)
	waitUntil(t, "remind to finish", time.Minute, remind.done)
	if remind.err != nil {
		t.Fatalf("remind: %v", remind.err)
	}
	eventually(t, "the rest of the queue", func() bool { return tp2.queued(t) == 0 })
	checkDeliveredOnce(t, tp, good, slow)
}

func TestSignInLinkPassesAHangingServer(t *testing.T) {
	ms := startMailServer(t)
	tp := startTestPortal(t, withSMTP(ms))
	eventually(t, "the demo's mail", func() bool { return tp.queued(t) == 0 })
	// The mail server takes each reminder's data and never answers.
	ms.mu.Lock()
	ms.hang = func(raw string) bool { return !strings.Contains(raw, "Subject: Your sign-in link") }
	ms.mu.Unlock()
	if inv, _, _, _ := tp.pass(t); inv == 0 {
		t.Fatal("no invitations")
	}
	waitUntil(t, "both reminder connections hanging", time.Minute, func() bool { return ms.hungNow() >= 2 })
	zoe := tp.employee(t, "1005")
	c := newClient(t, tp.BaseURL)
	c.get("/signin")
	start := time.Now()
	if r := c.post("/signin", form("email", zoe.Email)); r.Status != 303 {
		t.Fatalf("sign-in request: %d", r.Status)
	}
	signInLink := func() bool {
		for _, m := range ms.messagesTo(zoe.Email) {
			if strings.Contains(m, "Subject: Your sign-in link") {
				return true
			}
		}
		return false
	}
	waitUntil(t, "sign-in link while the reminders hang", 2*time.Minute, signInLink)
	took := time.Since(start)
	if tp.count(t, `SELECT COUNT(*) FROM outbox WHERE status = 'queued' AND kind <> 'signin'`) == 0 {
		t.Fatal("the reminders went out meanwhile: the lane was not held up, so this proves nothing")
	}
	t.Logf("with every reminder hanging at the mail server (%d connections stuck), a sign-in link was delivered %s after it was asked for",
		ms.hungNow(), took.Round(time.Millisecond))
}

// freePort returns a port nothing listens on now.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestMailLeaseAndTimeoutSettings(t *testing.T) {
	for _, name := range []string{"PORTAL_MAIL_LEASE", "PORTAL_SMTP_TIMEOUT"} {
		for _, bad := range []string{"soon", "0s", "500ms", "11m", "-5s"} {
			t.Setenv(name, bad)
			if _, err := server.LoadConfig(true); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%s: %v", name, bad, err)
			}
		}
		t.Setenv(name, "")
	}
	t.Setenv("PORTAL_MAIL_LEASE", "2s")
	t.Setenv("PORTAL_SMTP_TIMEOUT", "1m")
	cfg, err := server.LoadConfig(true)
	if err != nil || cfg.MailLease != 2*time.Second || cfg.SMTPTimeout != time.Minute {
		t.Fatalf("%+v %v", cfg, err)
	}
}

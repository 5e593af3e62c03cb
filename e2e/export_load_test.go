package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"portal/app"
	"portal/handlers"
	"portal/server"
)

// failSafe bounds every wait in these tests. It is no measure of speed: a
// wait that passes it means the portal stopped answering.
const failSafe = 2 * time.Minute

// exportPortal is a portal with a hundred more signed people, all in the
// team of the demo manager (1004), so that a certificate ZIP, whether HR's
// or the manager's, is about 5 MB: more than every buffer between the
// portal and a client that reads nothing, so such an export stays blocked
// while it lasts.
func exportPortal(t *testing.T, options ...func(*server.Config)) (tp *testPortal, hr, manager *client) {
	t.Helper()
	tp = startTestPortal(t, options...)
	// The test's exports are many; the per-user limit is not what it tests.
	tp.Handler.ExportLimit = handlers.NewRateLimiter(1<<30, time.Minute)
	boss := tp.employee(t, "1004").ID
	clients := readyToSign(t, tp, 100, func(e *app.Employee) {
		e.ManagerID = &boss
		e.EmployeeNumber = "9" + e.EmployeeNumber[1:] // digits, as the ZIP checks expect
	})
	for i, c := range clients {
		if r := c.postRaw("/sign", form("_csrf", c.csrf, "typed_name", fmt.Sprintf("Bénédicte Ørsted %d", i), "intent", "yes")); r.Status != 303 {
			t.Fatalf("sign: %d", r.Status)
		}
	}
	hr = hrClient(t, tp)
	manager = newClient(t, tp.BaseURL)
	manager.signIn(tp.signInLink(t, "1004"))
	return tp, hr, manager
}

// cookieHeader is the Cookie header of c's session, for a raw request.
func cookieHeader(c *client) string {
	u, _ := url.Parse(c.base)
	var parts []string
	for _, ck := range c.http.Jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// slowReader sends GET path with c's session on a connection whose receive
// buffer is 2 KB, and reads nothing: a client that keeps an export open.
func slowReader(t *testing.T, tp *testPortal, c *client, path string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, raw syscall.RawConn) error {
		var serr error
		err := raw.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
		if err != nil {
			return err
		}
		return serr
	}}
	u, _ := url.Parse(tp.BaseURL)
	conn, err := d.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\n\r\n", path, u.Host, cookieHeader(c)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// exportStatus sends GET path with c's session and returns the status
// line's code, reading nothing more: a 200 only says the export started.
func exportStatus(t *testing.T, tp *testPortal, c *client, path string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failSafe)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", tp.BaseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", cookieHeader(c))
	resp, err := (&http.Transport{DisableKeepAlives: true}).RoundTrip(req)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// within is c.get with the fail-safe: a page that never comes fails the test.
func within(t *testing.T, c *client, path string) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failSafe)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", c.url(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.tryDo(req)
	if err != nil {
		t.Fatalf("%s while exports are held: %v", path, err)
	}
	return r
}

// waitFor waits until cond holds, polling; the fail-safe ends a wait that
// will never end.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(failSafe); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("still waiting for %s", what)
		}
	}
}

func (tp *testPortal) exportsRecorded(t *testing.T) int {
	return tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'certificates.exported'`)
}

// healthzTimes returns the median and the longest of n /healthz requests.
func healthzTimes(t *testing.T, c *client, n int) (median, longest time.Duration) {
	t.Helper()
	took := make([]time.Duration, n)
	for i := range took {
		start := time.Now()
		if r := within(t, c, "/healthz"); r.Status != 200 {
			t.Fatalf("/healthz: %d", r.Status)
		}
		took[i] = time.Since(start)
	}
	slices.Sort(took)
	return took[n/2], took[n-1]
}

// TestSlowExportReadersDoNotStopThePortal holds four certificate exports
// open, as many as the read pool has connections, with clients that read
// nothing (three HR downloads and a manager's), and checks that everyone
// else is still served, that a fifth export of any kind is refused with
// the busy page, and that a client going away frees its place.
func TestSlowExportReadersDoNotStopThePortal(t *testing.T) {
	tp, hr, manager := exportPortal(t, func(c *server.Config) {
		c.ExportsAtOnce = 4
		c.ExportWriteTimeout = time.Hour // the readers are cut when the test closes them
	})
	other := newClient(t, tp.BaseURL)
	beforeMedian, beforeMax := healthzTimes(t, other, 50)

	var readers []net.Conn
	for i, path := range []string{"/hr/certificates.zip", "/hr/certificates.zip", "/hr/certificates.zip", "/team/certificates.zip"} {
		who := hr
		if strings.HasPrefix(path, "/team") {
			who = manager
		}
		readers = append(readers, slowReader(t, tp, who, path))
		waitFor(t, fmt.Sprintf("export %d to start", i+1), func() bool { return tp.exportsRecorded(t) == i+1 })
	}

	t.Run("others are served", func(t *testing.T) {
		median, longest := healthzTimes(t, other, 50)
		t.Logf("/healthz over 50 requests: median %s, longest %s without slow readers; median %s, longest %s with four holding exports",
			beforeMedian, beforeMax, median, longest)
		if r := within(t, hr, "/hr"); r.Status != 200 {
			t.Fatalf("/hr: %d", r.Status)
		}
		if r := within(t, hr, "/hr/people?status=signed"); r.Status != 200 || !strings.Contains(r.Body, "Bénédicte Ørsted") {
			t.Fatalf("/hr/people: %d", r.Status)
		}
		if r := within(t, manager, "/team"); r.Status != 200 {
			t.Fatalf("/team: %d", r.Status)
		}
		// Served while the four still run, not once one of them was cut.
		if logs := tp.Logs.String(); strings.Contains(logs, "mid-stream") || strings.Contains(logs, "export cut") {
			t.Fatalf("an export ended before the others were served:\n%s", logs)
		}
	})
	t.Run("a fifth export of any kind is refused as busy", func(t *testing.T) {
		for _, path := range []string{"/hr/certificates.zip", "/hr/export.csv", "/hr/export.xlsx", "/team/certificates.zip"} {
			c := hr
			if strings.HasPrefix(path, "/team") {
				c = manager
			}
			r := within(t, c, path)
			if r.Status != 429 || r.Header.Get("Retry-After") != "60" {
				t.Fatalf("%s: %d, Retry-After %q", path, r.Status, r.Header.Get("Retry-After"))
			}
			mustContain(t, r.Body, "The portal is busy preparing other exports; please try again in a minute.")
		}
		if n := tp.exportsRecorded(t); n != 4 {
			t.Fatalf("%d certificate exports recorded; the refused ones must not be", n)
		}
	})
	t.Run("a client that goes away frees its place", func(t *testing.T) {
		readers[0].Close()
		waitFor(t, "the export to be cut", func() bool {
			return strings.Contains(tp.Logs.String(), "export cut: the client went away or stopped reading")
		})
		r := within(t, hr, "/hr/export.csv")
		if r.Status != 200 || !strings.Contains(r.Body, "Bénédicte Ørsted 99") {
			t.Fatalf("CSV after a place was freed: %d", r.Status)
		}
	})
}

// readToEnd reads what the portal sent on a slow reader's connection, up to
// the end the portal gave it.
func readToEnd(t *testing.T, conn net.Conn) []byte {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(failSafe)); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the portal never ended the connection")
	}
	return b
}

// checkCut checks that a response was cut off: it began as a 200 but has
// no final chunk, so no client takes it for a whole file.
func checkCut(t *testing.T, got []byte) {
	t.Helper()
	if !bytes.HasPrefix(got, []byte("HTTP/1.1 200")) {
		t.Fatalf("response began %q", got[:min(len(got), 40)])
	}
	if bytes.HasSuffix(got, []byte("\r\n0\r\n\r\n")) {
		t.Fatal("the cut export ended as if complete")
	}
}

// TestExportsOfSlowReadersAreCut checks the two deadlines: a client that
// stops reading is cut after the write timeout, and one that takes too long
// in all after the time limit; either way the export's place is freed and
// the response never looks complete.
func TestExportsOfSlowReadersAreCut(t *testing.T) {
	t.Run("write timeout", func(t *testing.T) {
		tp, hr, _ := exportPortal(t, func(c *server.Config) {
			c.ExportsAtOnce, c.ExportWriteTimeout, c.ExportTimeLimit = 1, 200*time.Millisecond, time.Hour
		})
		conn := slowReader(t, tp, hr, "/hr/certificates.zip")
		waitFor(t, "the export to be cut", func() bool {
			return strings.Contains(tp.Logs.String(), "export cut: the client went away or stopped reading for longer than the write timeout")
		})
		checkCut(t, readToEnd(t, conn))
		if s := exportStatus(t, tp, hr, "/hr/certificates.zip"); s != 200 {
			t.Fatalf("next export: %d", s)
		}
	})
	t.Run("time limit", func(t *testing.T) {
		tp, hr, _ := exportPortal(t, func(c *server.Config) {
			c.ExportsAtOnce, c.ExportWriteTimeout, c.ExportTimeLimit = 1, time.Hour, time.Second
		})
		conn := slowReader(t, tp, hr, "/hr/certificates.zip")
		waitFor(t, "the export to be cut", func() bool {
			return strings.Contains(tp.Logs.String(), "export cut: it ran past its time limit")
		})
		checkCut(t, readToEnd(t, conn))
		if s := exportStatus(t, tp, hr, "/hr/certificates.zip"); s != 200 {
			t.Fatalf("next export: %d", s)
		}
	})
}

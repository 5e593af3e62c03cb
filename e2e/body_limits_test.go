package e2e

// Issue 13, point 2: request bodies. Every route takes at most 64 KB; the two
// upload routes take up to 32 MB, and only from an HR user or an
// administrator; a body announced larger than that is refused with 413
// before it is read, a chunked one once it passes the limit; uploads are
// streamed to temporary files removed after the request; forms have at
// most 10,000 fields. The attacks are sent over raw connections, as an
// attacker would, and the portal's memory is watched while they run.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawSend opens a connection to the portal and writes s on it.
func rawSend(t *testing.T, tp *testPortal, s string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(tp.BaseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, s); err != nil {
		t.Fatal(err)
	}
	return conn
}

// rawResponse reads one response from conn. The deadline is only a
// fail-safe: a server that waits for the rest of the body answers, at the
// latest, with a 408 once its read timeout (30 s) is over.
func rawResponse(t *testing.T, br *bufio.Reader, conn net.Conn) (int, string, http.Header) {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(2 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("response body: %v", err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// heapWatch records the largest heap in use from its start until Stop.
type heapWatch struct {
	base, peak uint64
	stop, done chan struct{}
}

func watchHeap() *heapWatch {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	w := &heapWatch{base: m.HeapInuse, peak: m.HeapInuse, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			w.peak = max(w.peak, m.HeapInuse)
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// Stop returns how far the heap grew above where it was at the start.
func (w *heapWatch) Stop() uint64 {
	close(w.stop)
	<-w.done
	return w.peak - w.base
}

const mb = 1 << 20

func TestRequestBodies(t *testing.T) {
	tp := startTestPortal(t)

	t.Run("100 connections announcing 32 MB and sending two bytes get a 413 at once, and cost the server little", func(t *testing.T) {
		const n = 100
		w := watchHeap()
		start := time.Now()
		conns := make([]net.Conn, n)
		for i := range conns {
			path, ctype := "/signin", "application/x-www-form-urlencoded"
			if i%4 == 0 { // a quarter at an upload route, anonymously
				path, ctype = "/hr/roster", "multipart/form-data; boundary=x"
			}
			conns[i] = rawSend(t, tp, "POST "+path+" HTTP/1.1\r\nHost: portal\r\nContent-Type: "+ctype+
				"\r\nContent-Length: 33554000\r\n\r\nab")
		}
		var wg sync.WaitGroup
		statuses := make([]int, n)
		bodies := make([]string, n)
		for i, conn := range conns {
			wg.Go(func() { statuses[i], bodies[i], _ = rawResponse(t, bufio.NewReader(conn), conn) })
		}
		wg.Wait()
		took := time.Since(start)
		growth := w.Stop()
		t.Logf("figure: %d connections announcing 33554000 bytes, 2 sent: all answered in %v; heap in use grew by at most %.1f MB",
			n, took.Round(time.Millisecond), float64(growth)/mb)
		for i := range conns {
			if statuses[i] != 413 || !strings.Contains(bodies[i], "too large") && !strings.Contains(bodies[i], "larger than") {
				t.Errorf("connection %d: status %d, want 413 and a page that says why", i, statuses[i])
			}
		}
		if growth > 100*mb {
			t.Fatalf("the heap grew by %.0f MB", float64(growth)/mb)
		}
	})

	t.Run("a 32 MB form of 3 million fields is refused cheaply", func(t *testing.T) {
		var body bytes.Buffer
		for i := 0; i < 3_000_000; i++ {
			body.WriteString("aaaaaa=bb&")
		}
		body.WriteString("z=" + strings.Repeat("z", 32*mb-body.Len()-2))
		w := watchHeap()
		start := time.Now()
		conn := rawSend(t, tp, fmt.Sprintf("POST /signin HTTP/1.1\r\nHost: portal\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
			"Content-Length: %d\r\n\r\n", body.Len()))
		go func() { _, _ = conn.Write(body.Bytes()) }() // fails once the server has answered and closed
		if err := conn.SetReadDeadline(time.Now().Add(2 * time.Minute)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		took := time.Since(start)
		growth := w.Stop()
		answer := "a reset connection"
		if err == nil {
			resp.Body.Close()
			answer = resp.Status
		}
		t.Logf("figure: one %d-byte form of 3,000,001 fields: answered by %s in %v; heap in use grew by at most %.1f MB",
			body.Len(), answer, took.Round(time.Millisecond), float64(growth)/mb)
		switch {
		case err == nil:
			if resp.StatusCode != 413 {
				t.Errorf("status %d, want 413", resp.StatusCode)
			}
		case !strings.Contains(err.Error(), "reset"):
			// Closing on a body still arriving may reset the connection
			// before the 413 is read; anything else is a failure.
			t.Fatalf("no response: %v", err)
		}
		if growth > 100*mb {
			t.Fatalf("the heap grew by %.0f MB", float64(growth)/mb)
		}
		if r := newClient(t, tp.BaseURL).get("/healthz"); r.Status != 200 {
			t.Fatalf("healthz afterwards: %d", r.Status)
		}
	})

	t.Run("a chunked body is cut off at 64 KB, and one that fits is read", func(t *testing.T) {
		// A chunk announced as 1 MB, of which one byte more than 64 KB is
		// sent: the answer comes without the rest.
		conn := rawSend(t, tp, "POST /signin HTTP/1.1\r\nHost: portal\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
			"Transfer-Encoding: chunked\r\n\r\n100000\r\n"+strings.Repeat("a", 64<<10+1))
		if status, body, _ := rawResponse(t, bufio.NewReader(conn), conn); status != 413 || !strings.Contains(body, "too large") {
			t.Fatalf("status %d", status)
		}
		c := newClient(t, tp.BaseURL)
		c.get("/signin")
		req, err := http.NewRequest("POST", tp.BaseURL+"/signin", io.MultiReader(strings.NewReader(
			form("_csrf", c.csrf, "email", "chunked@elsewhere.example").Encode())))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if req.ContentLength != 0 {
			t.Fatal("the request would not be chunked")
		}
		if r := c.do(req); r.Status != 303 {
			t.Fatalf("a small chunked form: status %d", r.Status)
		}
	})

	t.Run("a form of more than 10,000 fields is refused and changes nothing", func(t *testing.T) {
		c := newClient(t, tp.BaseURL)
		c.signIn(tp.signInLink(t, "1005"))
		readAll(t, tp, c, "1005")
		passQuiz(t, tp, c, "1005")
		c.get("/sign")
		e := tp.employee(t, "1005")
		f := strings.Repeat("a&", 10_000) + form("consent", "yes", "_csrf", c.csrf).Encode()
		r := c.do(mustPost(t, tp.BaseURL+"/sign/consent", "application/x-www-form-urlencoded", f))
		if r.Status != 413 || !strings.Contains(r.Body, "too many fields") {
			t.Fatalf("status %d", r.Status)
		}
		if n := tp.count(t, `SELECT COUNT(*) FROM consents WHERE employee_id = ?`, e.ID); n != 0 {
			t.Fatalf("%d consents recorded", n)
		}
		// Control: the same form without the extra fields goes through.
		if r := c.post("/sign/consent", form("consent", "yes")); r.Status != 303 {
			t.Fatalf("the form itself: status %d", r.Status)
		}
	})

	t.Run("a compressed body is refused", func(t *testing.T) {
		req := mustPost(t, tp.BaseURL+"/signin", "application/x-www-form-urlencoded", "\x1f\x8b")
		req.Header.Set("Content-Encoding", "gzip")
		if r := newClient(t, tp.BaseURL).do(req); r.Status != 415 {
			t.Fatalf("status %d", r.Status)
		}
	})

	t.Run("a body on any route is read to its end, so what follows on the connection is the next request", func(t *testing.T) {
		smuggled := strings.Repeat("x", 9000) + "GET /smuggled HTTP/1.1\r\nHost: portal\r\n\r\n" + strings.Repeat("y", 9000)
		conn := rawSend(t, tp, fmt.Sprintf("GET /healthz HTTP/1.1\r\nHost: portal\r\nContent-Length: %d\r\n\r\n%s", len(smuggled), smuggled)+
			"GET /verify HTTP/1.1\r\nHost: portal\r\n\r\n")
		br := bufio.NewReader(conn)
		if status, body, _ := rawResponse(t, br, conn); status != 200 || !strings.Contains(body, `"ok"`) {
			t.Fatalf("first response: %d %q", status, body)
		}
		if status, body, _ := rawResponse(t, br, conn); status != 200 || !strings.Contains(body, "Verify") {
			t.Fatalf("second response: %d", status)
		}
		if strings.Contains(tp.Logs.String(), "/smuggled") {
			t.Fatal("the body was read as a request")
		}
	})
}

func mustPost(t *testing.T, url, ctype, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	return req
}

func TestUploadBodies(t *testing.T) {
	tp := startTestPortal(t)
	hr := hrClient(t, tp)
	hr.get("/hr/roster")
	header := func(c *client, length int) string {
		return fmt.Sprintf("POST /hr/roster HTTP/1.1\r\nHost: portal\r\nContent-Type: multipart/form-data; boundary=b\r\n"+
			"Cookie: portal_session=%s; portal_csrf=%s\r\nContent-Length: %d\r\n\r\n", c.cookie("portal_session"), c.cookie("portal_csrf"), length)
	}

	t.Run("an HR user's 25 MB roster gets the page that says the file is too large", func(t *testing.T) {
		r := hr.upload("/hr/roster", "file", "roster.csv", bytes.Repeat([]byte("a"), 25*mb), nil)
		if r.Status != 413 || !strings.Contains(r.Body, "The file is larger than 20 MB") {
			t.Fatalf("status %d", r.Status)
		}
	})

	t.Run("an HR user's upload announced above 32 MB is refused before it is sent", func(t *testing.T) {
		conn := rawSend(t, tp, header(hr, 40*mb)+"--b")
		if status, body, _ := rawResponse(t, bufio.NewReader(conn), conn); status != 413 || !strings.Contains(body, "The file is larger than 20 MB") {
			t.Fatalf("status %d", status)
		}
	})

	t.Run("anyone else's upload is held to 64 KB like every other form", func(t *testing.T) {
		employee := newClient(t, tp.BaseURL)
		employee.signIn(tp.signInLink(t, "1006"))
		conn := rawSend(t, tp, header(employee, 1*mb)+"--b")
		if status, body, _ := rawResponse(t, bufio.NewReader(conn), conn); status != 413 || !strings.Contains(body, "too large") {
			t.Fatalf("status %d", status)
		}
	})

	t.Run("an upload is streamed to a temporary file, removed after the request", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("TMPDIR", dir) // where mime/multipart puts its files
		temps := func() []string {
			m, err := filepath.Glob(filepath.Join(dir, "multipart-*"))
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		row := []byte("not,a,roster\r\n")
		half := bytes.Repeat(row, mb/len(row))
		// The form, in two halves: the second is sent once the first has
		// reached a temporary file.
		var first, second bytes.Buffer
		mw := multipart.NewWriter(&first)
		if err := mw.WriteField("_csrf", hr.csrf); err != nil {
			t.Fatal(err)
		}
		fw, err := mw.CreateFormFile("file", "roster.csv")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(half)
		second.Write(half)
		second.WriteString("\r\n--" + mw.Boundary() + "--\r\n")
		pr, pw := io.Pipe()
		req, err := http.NewRequest("POST", tp.BaseURL+"/hr/roster", pr)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.ContentLength = int64(first.Len() + second.Len())
		type result struct {
			r   response
			err error
		}
		done := make(chan result, 1)
		go func() {
			r, err := hr.tryDo(req)
			done <- result{r, err}
		}()
		if _, err := pw.Write(first.Bytes()); err != nil {
			t.Fatal(err)
		}
		eventually(t, "a temporary file while the upload arrives", func() bool { return len(temps()) > 0 })
		if _, err := pw.Write(second.Bytes()); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		res := <-done
		if res.err != nil || res.r.Status != 422 || !strings.Contains(res.r.Body, "The file has problems") {
			t.Fatalf("status %d, %v", res.r.Status, res.err)
		}
		eventually(t, "the temporary file removed", func() bool { return len(temps()) == 0 })
	})

	t.Run("an HR user's roster larger than 64 KB is taken", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Employee Number,Full Name,E-mail,Agency,Department,Title,Manager_Employee_Number,Hire Date,Roles\r\n")
		for i := 0; i < 2000; i++ {
			fmt.Fprintf(&b, "B%06d,Bulk Person %d,bulk%d@agency.example,%s,%s,Clerk,,,\r\n", i, i, i, dol, bes)
		}
		if b.Len() <= 64<<10 {
			t.Fatalf("the roster is only %d bytes", b.Len())
		}
		r := hr.upload("/hr/roster", "file", "big.csv", []byte(b.String()), nil)
		if r.Status != 200 || !strings.Contains(r.Body, "The file is valid") {
			t.Fatalf("status %d", r.Status)
		}
	})
}

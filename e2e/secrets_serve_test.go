package e2e

// The portal run as a process, `portal serve` or `portal demo`, for the
// secrets tests; and a sign-in link mailed to the log never shows in it.

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"portal/server"
)

// secFreePort returns a port nothing listens on.
func secFreePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// secRunServer runs `portal serve` or `portal demo` until the test stops
// it, and returns once /healthz answers.
func secRunServer(t *testing.T, command string, stdout, stderr *syncBuffer) (base string, stop func()) {
	t.Helper()
	port := secFreePort(t)
	t.Setenv("PORT", port)
	t.Setenv("PORTAL_HOST", "127.0.0.1")
	base = "http://127.0.0.1:" + port
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, []string{command}, stdout, stderr) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s returned %v", command, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not stop", command)
		}
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("%s stopped: %v\n%s", command, err, stderr.String())
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up: %v\n%s", command, err, stderr.String())
		}
	}
}

// secClearEnv unsets what the developer's shell may have set.
func secClearEnv(t *testing.T) {
	for _, k := range []string{"PORTAL_SECRET", "PORTAL_SECRET_FILE", "PORTAL_LOG_KEY", "PORTAL_MAIL", "PORTAL_SMTP_HOST",
		"PORTAL_BASE_URL", "PORTAL_CHECKPOINT_DIR", "PORTAL_SSO_HEADER"} {
		t.Setenv(k, "")
	}
}

// TestServeWithMailLogNeverLogsALink: with no SMTP server and PORTAL_MAIL=log,
// a sign-in message is "sent" to the log, which names that it went and
// never what it says.
func TestServeWithMailLogNeverLogsALink(t *testing.T) {
	secClearEnv(t)
	dir := t.TempDir()
	t.Setenv("PORTAL_DB", dir+"/serve.db")
	t.Setenv("PORTAL_LOG_KEY", testLogKey(t, dir))
	t.Setenv("PORTAL_SECRET", testSecret)
	t.Setenv("PORTAL_MAIL", "log")
	roster := dir + "/roster.csv"
	if err := writeFile(roster, "Employee Number,Full Name,E-mail,Agency,Department,Title,Manager_Employee_Number,Hire Date,Roles\r\n"+
		"7001,Renée Dufour,renee.dufour@agency.example,Department of Labor,Bureau of Employment Services,Counselor,,2020-01-06,\r\n"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := server.Run(context.Background(), []string{"import-roster", roster}, &out, &out); err != nil {
		t.Fatalf("import-roster: %v\n%s", err, out.String())
	}
	stdout, logs := &syncBuffer{}, &syncBuffer{}
	base, stop := secRunServer(t, "serve", stdout, logs)
	secAskForLink(t, base, "renee.dufour@agency.example")
	eventually(t, "the sign-in message handed to the log", func() bool {
		return strings.Contains(logs.String(), `"kind":"signin"`)
	})
	if r := newClient(t, base).get("/dev/mailbox"); r.Status != 404 {
		t.Errorf("serve has a development mailbox: status %d", r.Status)
	}
	stop()
	text := logs.String() + stdout.String()
	if !strings.Contains(text, "mail not sent") || !strings.Contains(text, "renee.dufour@agency.example") {
		t.Fatalf("the log does not say the message went:\n%s", text)
	}
	for _, leak := range []string{"/signin/link/", "Use this link to sign in", "nobody can sign in without the link", "Hello Renée"} {
		if strings.Contains(text, leak) {
			t.Errorf("the log holds %q", leak)
		}
	}
	if dump := secDump(t, dir+"/serve.db"); strings.Contains(dump, "/signin/link/") || !strings.Contains(dump, "Renée Dufour") {
		t.Error("the database holds a sign-in link (or the dump read nothing)")
	}
}

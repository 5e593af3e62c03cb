package e2e

import (
	"strings"
	"testing"
	"time"

	"portal/server"
)

// TestDemoTerminal: `go run . demo` prints short human lines, never a line
// per message (the messages are at /dev/mailbox), and its sign-in links
// (employee, manager, HR, supervisor) with the portal's address last, once start-up is done.
func TestDemoTerminal(t *testing.T) {
	secClearEnv(t)
	t.Setenv("PORTAL_LOG_FORMAT", "")
	t.Setenv("PORTAL_DB", t.TempDir()+"/portal.db")
	stdout, logs := &syncBuffer{}, &syncBuffer{}
	base, stop := secRunServer(t, "demo", stdout, logs)
	// Wait until the worker has delivered the demo's certificates and
	// invitations to the development mailbox.
	c := newClient(t, base)
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(c.get("/dev/mailbox").Body, "Your certificate"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no certificate mail reached the mailbox\n%s", logs.String())
		}
	}
	stop()

	out := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	if last := out[len(out)-1]; last != "Portal running at "+base+" (Ctrl-C to stop)" {
		t.Errorf("the last line is %q, want the portal's address:\n%s", last, stdout.String())
	}
	links := 0
	for _, l := range out[len(out)-5 : len(out)-1] {
		if strings.Contains(l, base+"/signin/link/") {
			links++
		}
	}
	if links != 4 {
		t.Errorf("the four sign-in links do not come just before the address:\n%s", stdout.String())
	}
	if l := out[len(out)-2]; !strings.HasPrefix(l, "  supervisor Łukasz Wiśniewski") {
		t.Errorf("the last link is not the supervisor's (1009): %q", l)
	}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.HasPrefix(l, "{") || strings.Contains(l, "mail not sent") || len(l) > 200 {
			t.Errorf("a log line that is not short and human: %q", l)
		}
	}
	if !strings.Contains(logs.String(), "portal listening addr=127.0.0.1:") {
		t.Errorf("no human start-up line:\n%s", logs.String())
	}
}

// TestLogFormatIsChecked: an unknown PORTAL_LOG_FORMAT stops the start with
// a message that names the choices, instead of logging in a format nobody
// asked for.
func TestLogFormatIsChecked(t *testing.T) {
	secClearEnv(t)
	t.Setenv("PORTAL_LOG_FORMAT", "xml")
	_, err := server.LoadConfig(true)
	if err == nil || !strings.Contains(err.Error(), "PORTAL_LOG_FORMAT") || !strings.Contains(err.Error(), "json, text or human") {
		t.Fatalf("PORTAL_LOG_FORMAT=xml: %v", err)
	}
	for _, f := range []string{"json", "text", "human"} {
		t.Setenv("PORTAL_LOG_FORMAT", f)
		if c, err := server.LoadConfig(false); err != nil || c.LogFormat != f {
			t.Errorf("PORTAL_LOG_FORMAT=%s: %v", f, err)
		}
	}
}

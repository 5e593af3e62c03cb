package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/server"
)

func TestSSOHeader(t *testing.T) {
	trusted := func(prefix string) func(*server.Config) {
		return func(c *server.Config) {
			c.SSOHeader = "X-Remote-Email"
			c.SSOProxies = []netip.Prefix{netip.MustParsePrefix(prefix)}
		}
	}
	get := func(t *testing.T, tp *testPortal, email string) response {
		c := newClient(t, tp.BaseURL)
		req, err := http.NewRequest("GET", tp.BaseURL+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Remote-Email", email)
		return c.do(req)
	}
	t.Run("a trusted proxy's header signs the user in", func(t *testing.T) {
		tp := startTestPortal(t, trusted("127.0.0.0/8"))
		e := tp.employee(t, "1006")
		r := get(t, tp, strings.ToUpper(e.Email))
		mustContain(t, r.Body, e.FullName, "Sign out")
		if n := tp.count(t, `SELECT COUNT(*) FROM sessions WHERE employee_id = ? AND auth_method = 'sso-header'`, e.ID); n != 1 {
			t.Fatalf("%d SSO sessions", n)
		}
	})
	t.Run("the header from anywhere else is ignored", func(t *testing.T) {
		tp := startTestPortal(t, trusted("10.9.9.9/32"))
		r := get(t, tp, tp.employee(t, "1006").Email)
		mustContain(t, r.Body, "Send me a sign-in link")
	})
	t.Run("an address not on the roster is not signed in", func(t *testing.T) {
		tp := startTestPortal(t, trusted("127.0.0.0/8"))
		mustContain(t, get(t, tp, "stranger@elsewhere.example").Body, "Send me a sign-in link")
	})
	t.Run("without configuration the header means nothing", func(t *testing.T) {
		tp := startTestPortal(t)
		mustContain(t, get(t, tp, tp.employee(t, "1006").Email).Body, "Send me a sign-in link")
	})
}

func TestHeadersAndHealth(t *testing.T) {
	tp := startTestPortal(t)
	c := newClient(t, tp.BaseURL)
	r := c.get("/healthz")
	if r.Status != 200 || !strings.Contains(r.Body, `"ok"`) {
		t.Fatalf("healthz: %d %s", r.Status, r.Body)
	}
	r = c.get("/signin")
	for name, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
		"X-Frame-Options":         "DENY",
	} {
		if got := r.Header.Get(name); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows unsafe-inline: %s", csp)
	}
	if r.Header.Get("X-Request-ID") == "" {
		t.Error("no request id")
	}
	if !strings.Contains(tp.Logs.String(), `"request_id":"`+r.Header.Get("X-Request-ID")+`"`) {
		t.Error("the request id is not in the structured log")
	}
	if r := c.get("/static/css/site.css"); r.Status != 200 || !strings.Contains(r.Header.Get("Cache-Control"), "max-age") {
		t.Errorf("static: %d %q", r.Status, r.Header.Get("Cache-Control"))
	}
	if r := c.get("/no/such/page"); r.Status != 404 || !strings.Contains(r.Body, "Page not found") {
		t.Errorf("404 page: %d", r.Status)
	}
	if r := c.get("/dev/mailbox"); r.Status != 200 {
		t.Errorf("demo mailbox: %d", r.Status)
	}
}

func TestDevMailboxOnlyInDemo(t *testing.T) {
	for name, opt := range map[string]func(*server.Config){
		"serve":          func(c *server.Config) { c.Demo = false },
		"demo with SMTP": func(c *server.Config) { c.SMTPHost = "127.0.0.1"; c.SMTPPort = 1 },
	} {
		t.Run(name, func(t *testing.T) {
			tp := startTestPortal(t, opt)
			if r := newClient(t, tp.BaseURL).get("/dev/mailbox"); r.Status != 404 {
				t.Fatalf("status %d", r.Status)
			}
		})
	}
}

func TestServeStartsAndShutsDownGracefully(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	t.Setenv("PORT", strconv.Itoa(port))
	t.Setenv("PORTAL_HOST", "127.0.0.1")
	dir := t.TempDir()
	t.Setenv("PORTAL_DB", dir+"/serve.db")
	t.Setenv("PORTAL_LOG_KEY", testLogKey(t, dir))
	t.Setenv("PORTAL_SECRET", testSecret)
	t.Setenv("PORTAL_MAIL", "log")
	t.Setenv("PORTAL_CHECKPOINT_DIR", dir)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, logs bytes.Buffer
	go func() { done <- server.Run(ctx, []string{"serve"}, &out, &logs) }()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
	if files, _ := filepath.Glob(dir + "/checkpoint-*"); len(files) == 0 {
		t.Fatal("no checkpoint was copied to PORTAL_CHECKPOINT_DIR")
	}
}

// TestServeRefusesToStartWithoutItsKeys: the evidence log's key and the
// portal's secret live outside the database, and mail is never dropped
// silently; serve says what is missing and how to make it, and starts
// nothing.
func TestServeRefusesToStartWithoutItsKeys(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PORT", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	ln.Close()
	t.Setenv("PORTAL_HOST", "127.0.0.1")
	t.Setenv("PORTAL_DB", dir+"/serve.db")
	t.Setenv("PORTAL_MAIL", "log")
	t.Setenv("PORTAL_SECRET", testSecret)
	key := testLogKey(t, dir)
	for _, c := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"no log key", map[string]string{"PORTAL_LOG_KEY": ""}, []string{"PORTAL_LOG_KEY is not set", "portal log-keygen"}},
		{"a log key that is not one", map[string]string{"PORTAL_LOG_KEY": dir + "/serve.db-missing"}, []string{"PORTAL_LOG_KEY"}},
		{"no secret", map[string]string{"PORTAL_LOG_KEY": key, "PORTAL_SECRET": ""}, []string{"PORTAL_SECRET", "secret-keygen"}},
		{"no SMTP server and no PORTAL_MAIL=log", map[string]string{"PORTAL_LOG_KEY": key, "PORTAL_MAIL": ""},
			[]string{"PORTAL_SMTP_HOST is not set", "PORTAL_MAIL=log"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := server.Run(ctx, []string{"serve"}, &out, &out)
			if err == nil {
				t.Fatal("serve started")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if _, err := os.Stat(dir + "/serve.db"); err == nil {
				t.Error("serve created a database before refusing")
			}
		})
	}
	t.Run("a key other users can read", func(t *testing.T) {
		t.Setenv("PORTAL_LOG_KEY", key)
		if err := os.Chmod(key, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(key, 0o600)
		err := server.Run(context.Background(), []string{"serve"}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestCommandLine(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{nil, {"nope"}, {"backup"}, {"serve", "extra"}} {
		if _, ok := server.Run(context.Background(), args, &out, &out).(server.UsageError); !ok {
			t.Errorf("%q: not a usage error", args)
		}
	}
	t.Setenv("PORT", "not-a-port")
	if err := server.Run(context.Background(), []string{"serve"}, &out, &out); err == nil || !strings.Contains(err.Error(), "PORT") {
		t.Errorf("bad PORT: %v", err)
	}
	t.Setenv("PORT", "3000")
	t.Setenv("PORTAL_SSO_HEADER", "X-Remote-Email")
	if err := server.Run(context.Background(), []string{"serve"}, &out, &out); err == nil || !strings.Contains(err.Error(), "PORTAL_SSO_PROXIES") {
		t.Errorf("SSO header without proxies: %v", err)
	}
}

func TestBackupCommand(t *testing.T) {
	tp := startTestPortal(t)
	tp.commandEnv(t)
	copyPath := t.TempDir() + "/copy.db"
	var out bytes.Buffer
	if err := server.Run(context.Background(), []string{"backup", copyPath}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if onPostgres() {
		copyPath = restorePgDump(t, copyPath) // pg_dump's file, restored to be checked
	}
	t.Setenv("PORTAL_DB", copyPath)
	out.Reset()
	if err := server.Run(context.Background(), []string{"audit-verify"}, &out, &out); err != nil {
		t.Fatalf("the backup does not verify: %v", err)
	}
	if err := server.Run(context.Background(), []string{"backup", copyPath}, &out, &out); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
}

func TestBehindTLS(t *testing.T) {
	tp := startTestPortal(t, func(c *server.Config) { c.BaseURL = "https://portal.agency.example" })
	r := newClient(t, tp.BaseURL).get("/signin")
	if hsts := r.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS: %q", hsts)
	}
	for _, sc := range r.Header.Values("Set-Cookie") {
		if !strings.Contains(sc, "; secure") && !strings.Contains(sc, "; Secure") {
			t.Errorf("cookie without Secure: %q", sc)
		}
	}
	plain := startTestPortal(t)
	if h := newClient(t, plain.BaseURL).get("/signin").Header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("HSTS over plain HTTP: %q", h)
	}
}

func TestDownloadsAreNotCached(t *testing.T) {
	tp := startTestPortal(t)
	c := hrClient(t, tp)
	for _, path := range []string{"/hr/export.csv", "/hr/export.xlsx", "/hr/certificates.zip", "/hr/people", "/"} {
		if r := c.get(path); r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, r.Header.Get("Cache-Control"))
		}
	}
}

func TestExportsRefuseCrossSiteRequests(t *testing.T) {
	tp := startTestPortal(t)
	c := hrClient(t, tp)
	for _, path := range []string{"/hr/export.csv", "/hr/export.xlsx", "/hr/certificates.zip"} {
		req, err := http.NewRequest("GET", tp.BaseURL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if r := c.do(req); r.Status != 403 {
			t.Errorf("%s from another site: %d", path, r.Status)
		}
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM audit_events WHERE action LIKE '%exported'`); n != 0 {
		t.Fatalf("%d exports recorded", n)
	}
	req, _ := http.NewRequest("GET", tp.BaseURL+"/hr/export.csv", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if r := c.do(req); r.Status != 200 {
		t.Fatalf("same-origin export: %d", r.Status)
	}
}

func TestBackupUnderLoad(t *testing.T) {
	tp := startTestPortal(t)
	clients := readyToSign(t, tp, 120)
	tp.commandEnv(t)
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c := clients[i]
				if r, err := c.tryPost("/sign", form("_csrf", c.csrf, "typed_name", fmt.Sprintf("Bénédicte Ørsted %d", i), "intent", "yes")); err != nil || r.Status != 303 {
					t.Errorf("sign %d: %v %d", i, err, r.Status)
				}
			}
		}()
	}
	go func() {
		for i := range clients {
			work <- i
		}
		close(work)
	}()
	// Back up three times while the signatures go in.
	var copies []string
	for i := 0; i < 3; i++ {
		p := filepath.Join(t.TempDir(), fmt.Sprint("copy", i, ".db"))
		var out bytes.Buffer
		if err := server.Run(context.Background(), []string{"backup", p}, &out, &out); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, p)
		time.Sleep(30 * time.Millisecond)
	}
	wg.Wait()
	live := tp.count(t, `SELECT COUNT(*) FROM acknowledgments`)
	for _, p := range copies {
		if onPostgres() {
			p = restorePgDump(t, p)
		}
		t.Setenv("PORTAL_DB", p)
		var out bytes.Buffer
		if err := server.Run(context.Background(), []string{"audit-verify"}, &out, &out); err != nil {
			t.Fatalf("restored copy %s: %v", filepath.Base(p), err)
		}
		restored := &testPortal{Portal: &server.Portal{DB: mustOpen(t, p)}}
		n := restored.count(t, `SELECT COUNT(*) FROM acknowledgments`)
		restored.DB.Close()
		if n > live {
			t.Fatalf("copy has %d acknowledgments, the live database %d", n, live)
		}
		t.Logf("%s: %d of %d acknowledgments, chain verifies", filepath.Base(p), n, live)
	}
}

package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/app"
	"portal/handlers"
	"portal/server"
)

// benchBareCommit measures the raw limit of the sign path: one single-row
// INSERT committed on one connection, with the same pragmas as the portal.
func benchBareCommit(b *testing.B) { benchBareCommitSync(b, "NORMAL") }

func benchBareCommitSync(b *testing.B, sync string) {
	path := filepath.Join(b.TempDir(), "bare.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=1&_txlock=immediate&_synchronous="+sync)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, at TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO t (name, at) VALUES (?, ?)`, "Zoë Côté", time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// readyToSign creates n employees who have read the guidance, passed the
// knowledge check and consented, each with a signed-in client on the sign page;
// opts adjust each employee before it is created.
func readyToSign(b testing.TB, tp *testPortal, n int, opts ...func(*app.Employee)) []*client {
	ctx := context.Background()
	h := tp.Handler
	cycle, err := h.Cycles.CurrentCycle(ctx)
	if err != nil {
		b.Fatal(err)
	}
	clients := make([]*client, n)
	for i := range clients {
		e := &app.Employee{EmployeeNumber: fmt.Sprintf("B%07d", i), FullName: fmt.Sprintf("Bénédicte Ørsted %d", i),
			Email: fmt.Sprintf("bench%d@bench.invalid", i), Agency: "Bench", Department: "Bench", Active: true}
		for _, o := range opts {
			o(e)
		}
		if err := h.Employees.CreateEmployee(ctx, e); err != nil {
			b.Fatal(err)
		}
		makeReady(b, h, tp.Version, cycle.ID, e.ID)
		c := newClient(b, tp.BaseURL)
		c.signIn(tp.signInLinkFor(b, e))
		c.get("/sign")
		clients[i] = c
	}
	return clients
}

// BenchmarkSign drives POST /sign end to end — HTTP over loopback, the
// Fiber app, the checks, the acknowledgment and its chain link in one
// transaction — after a bare single-row commit in the same run, and reports
// the sign rate as a ratio of the bare rate. (testing.Benchmark cannot be
// called inside a benchmark, so the two are sub-benchmarks and the second
// reads the first's final result.)
func BenchmarkSign(b *testing.B) {
	var bareRate float64
	b.Run("bare-sqlite-commit", func(b *testing.B) {
		benchBareCommit(b)
		bareRate = float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(bareRate, "commits/s")
	})
	b.Run("sign-post", func(b *testing.B) {
		tp := startTestPortal(b)
		clients := readyToSign(b, tp, b.N)
		forms := make([]url.Values, b.N)
		for i, c := range clients {
			forms[i] = form("_csrf", c.csrf, "typed_name", fmt.Sprintf("Bénédicte Ørsted %d", i), "intent", "yes")
		}
		b.ResetTimer()
		for i, c := range clients {
			if r := c.postRaw("/sign", forms[i]); r.Status != 303 {
				b.Fatalf("sign: status %d", r.Status)
			}
		}
		b.StopTimer()
		signRate := float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(signRate, "signs/s")
		if bareRate > 0 {
			b.ReportMetric(signRate/bareRate, "ratio_vs_bare")
		}
	})
}

// BenchmarkCertificateZip1000 downloads the ZIP of 1,000 signed
// certificates end to end: HTTP over loopback, the query, 1,000 PDFs
// rendered, hashed and stored in the streamed ZIP.
func BenchmarkCertificateZip1000(b *testing.B) {
	tp := startTestPortal(b)
	tp.Handler.ExportLimit = handlers.NewRateLimiter(1<<30, time.Minute)
	clients := readyToSign(b, tp, 1000)
	for i, c := range clients {
		if r := c.postRaw("/sign", form("_csrf", c.csrf, "typed_name", fmt.Sprintf("Bénédicte Ørsted %d", i), "intent", "yes")); r.Status != 303 {
			b.Fatalf("sign: %d", r.Status)
		}
	}
	hr := newClient(b, tp.BaseURL)
	hr.signIn(tp.signInLink(b, "1002"))
	b.ResetTimer()
	var size int
	for i := 0; i < b.N; i++ {
		r := hr.get("/hr/certificates.zip?agency=Bench")
		if r.Status != 200 {
			b.Fatalf("status %d", r.Status)
		}
		size = len(r.Body)
	}
	b.StopTimer()
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/zip")
	b.ReportMetric(float64(size)/(1<<20), "MB/zip")
}

// BenchmarkSignConcurrent has 32 people signing at once, end to end over
// HTTP, against a bare single-row commit loop with the same synchronous
// setting in the same run. Group commit lets one commit carry many
// signatures, so the sign rate can pass the bare commit rate.
func BenchmarkSignConcurrent(b *testing.B) {
	for _, mode := range []string{"NORMAL", "FULL"} {
		var bareRate float64
		b.Run(mode+"/bare-sqlite-commit", func(b *testing.B) {
			benchBareCommitSync(b, mode)
			bareRate = float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(bareRate, "commits/s")
		})
		b.Run(mode+"/sign-post-32-clients", func(b *testing.B) {
			tp := startTestPortal(b, func(c *server.Config) { c.Synchronous = mode })
			clients := readyToSign(b, tp, b.N)
			rate := signStorm(b, clients, func(i int) string { return fmt.Sprintf("Bénédicte Ørsted %d", i) })
			if bareRate > 0 {
				b.ReportMetric(rate/bareRate, "ratio_vs_bare")
			}
		})
	}
}

// signStorm has 32 clients post their signatures at once, each client
// once, times the storm (b's timer is reset first) and reports and returns
// the signatures a second. name gives client i's typed name.
func signStorm(b *testing.B, clients []*client, name func(i int) string) float64 {
	work := make(chan int)
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c := clients[i]
				r := c.postRaw("/sign", form("_csrf", c.csrf, "typed_name", name(i), "intent", "yes"))
				if r.Status != 303 {
					b.Errorf("sign: status %d", r.Status)
				}
			}
		}()
	}
	for i := range clients {
		work <- i
	}
	close(work)
	wg.Wait()
	b.StopTimer()
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "signs/s")
	return rate
}

// BenchmarkPages serves an employee's guidance page (session lookup,
// progress queries, Markdown, the template) to parallel clients over
// loopback, after a bare Fiber handler answering "hello" the same way in the
// same run, and reports the ratio of their rates.
func BenchmarkPages(b *testing.B) {
	var bareRate float64
	b.Run("bare-fiber-handler", func(b *testing.B) {
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Get("/", func(c *fiber.Ctx) error { return c.SendString("hello") })
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go func() { _ = app.Listener(ln) }()
		defer func() { _ = app.ShutdownWithTimeout(time.Second) }() // clients keep idle connections open
		url := "http://" + ln.Addr().String() + "/"
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			c := newClient(b, url)
			for pb.Next() {
				if r := c.get(url); r.Status != 200 {
					b.Errorf("status %d", r.Status)
				}
			}
		})
		b.StopTimer()
		bareRate = float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(bareRate, "req/s")
	})
	b.Run("guidance-page", func(b *testing.B) {
		tp := startTestPortal(b)
		slug := tp.Version.Modules[0].Slug
		links := make(chan string, 64)
		go func() {
			for i := 0; i < 64; i++ {
				links <- tp.signInLink(b, "1006")
			}
		}()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			c := newClient(b, tp.BaseURL)
			c.signIn(<-links)
			for pb.Next() {
				if r := c.get("/guidance/" + slug); r.Status != 200 {
					b.Errorf("status %d", r.Status)
				}
			}
		})
		b.StopTimer()
		rate := float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "req/s")
		if bareRate > 0 {
			b.ReportMetric(rate/bareRate, "ratio_vs_bare")
		}
	})
}

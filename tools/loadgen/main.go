// Command loadgen drives the whole employee journey — sign in, read the
// guidance, pass the knowledge check, consent, review, sign, open the
// certificate and its PDF — for N people at once against a portal running on
// this machine, and prints throughput and latency percentiles per step.
//
// It creates its people straight in the portal's database (new employee
// numbers LG-<run>-<n>, in agency "Load test") and gives each a sign-in
// token there, so the server must use the same database: -db is the
// server's PORTAL_DB, an SQLite file or a postgres:// address.
//
//	go run . demo &                                   # or serve
//	go run ./tools/loadgen -db data/portal.db -base http://127.0.0.1:3000 -users 200 -concurrency 16 -duration 60s
//
// -base may list several nodes of one deployment, separated by commas: the
// journeys are shared out among them in turn.
//
// It is bounded: at most -users journeys and -duration of time, and it only
// talks to the -base addresses, which must be on the loopback network.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"portal/app"
	"portal/app/content"
	"portal/app/evidence"
	"portal/app/store"
	"portal/data"
)

func main() {
	dbPath := flag.String("db", "data/portal.db", "the database the server uses (its PORTAL_DB: a file, or a postgres:// address)")
	base := flag.String("base", "http://127.0.0.1:3000", "the portal's address (loopback only); several nodes' separated by commas")
	users := flag.Int("users", 100, "journeys to run")
	conc := flag.Int("concurrency", 16, "journeys at once")
	duration := flag.Duration("duration", time.Minute, "stop starting journeys after this long")
	version := flag.String("version", "2026.1", "the shipped policy version the cycle uses")
	key := flag.String("key", "", "the evidence log key the server uses (default: $PORTAL_LOG_KEY, else log.key beside -db, as the demo makes it)")
	flag.Parse()
	if *key == "" {
		*key = os.Getenv("PORTAL_LOG_KEY")
	}
	if *key == "" && store.IsPostgres(*dbPath) {
		fmt.Fprintln(os.Stderr, "loadgen: with a PostgreSQL -db, pass the server's evidence log key with -key (or PORTAL_LOG_KEY)")
		os.Exit(2)
	}
	if *key == "" {
		*key = filepath.Join(filepath.Dir(*dbPath), "log.key")
	}
	if err := run(*dbPath, *key, *base, *users, *conc, *duration, *version); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(dbPath, keyPath, baseList string, users, conc int, duration time.Duration, version string) error {
	bases := strings.Split(baseList, ",")
	for _, base := range bases {
		u, err := url.Parse(base)
		if err != nil {
			return err
		}
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return errors.New("-base must be loopback addresses: this tool only loads a portal on this machine")
		}
	}
	if users < 1 || users > 100_000 || conc < 1 || conc > 1000 {
		return errors.New("-users must be 1–100000 and -concurrency 1–1000")
	}
	v, err := content.LoadVersion(data.FS, "policies/"+version)
	if err != nil {
		return err
	}
	key, err := evidence.LoadKeyFile(keyPath)
	if err != nil {
		return fmt.Errorf("%w (adding people writes evidence: pass the server's -key)", err)
	}
	people, err := makePeople(dbPath, key, users)
	if err != nil {
		return err
	}
	rec := &recorder{lat: map[string][]time.Duration{}}
	deadline := time.Now().Add(duration)
	type job struct {
		base string
		p    person
	}
	work := make(chan job)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if err := journey(j.base, j.p, v, rec); err != nil {
					rec.fail(err)
				} else {
					rec.complete()
				}
			}
		}()
	}
	for i, p := range people {
		if time.Now().After(deadline) {
			break
		}
		work <- job{bases[i%len(bases)], p}
	}
	close(work)
	wg.Wait()
	rec.print(os.Stdout, time.Since(start))
	if rec.failures > 0 {
		return fmt.Errorf("%d of %d journeys failed; the first: %w", rec.failures, rec.failures+rec.completed, rec.first)
	}
	return nil
}

type person struct {
	token, name string
	e           *app.Employee
}

// makePeople adds n employees who can sign in the open cycle.
func makePeople(dbPath string, key *evidence.Key, n int) ([]person, error) {
	db, err := store.Open(dbPath, store.Options{LogKey: key})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := store.NewCycleService(db).CurrentCycle(ctx); err != nil {
		return nil, fmt.Errorf("no open cycle in %s: open one (the demo has one): %w", dbPath, err)
	}
	es, ss := store.NewEmployeeService(db), store.NewSessionService(db)
	run := time.Now().Format("150405")
	out := make([]person, n)
	for i := range out {
		e := &app.Employee{EmployeeNumber: fmt.Sprintf("LG-%s-%d", run, i), FullName: fmt.Sprintf("Load Tester %s %d", run, i),
			Email: fmt.Sprintf("lg-%s-%d@load.invalid", run, i), Agency: "Load test", Department: "Load test", Active: true}
		if err := es.CreateEmployee(ctx, e); err != nil {
			return nil, err
		}
		token, err := ss.CreateLoginToken(ctx, e.ID, time.Hour)
		if err != nil {
			return nil, err
		}
		out[i] = person{token: token, name: e.FullName, e: e}
	}
	return out, nil
}

var (
	csrfRE     = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	drawRE     = regexp.MustCompile(`name="draw" value="([^"]+)"`)
	questionRE = regexp.MustCompile(`<fieldset class="question" id="q-([^"]+)"`)
)

// journey runs one person's whole journey, timing each step.
func journey(base string, p person, v *app.PolicyVersion, rec *recorder) error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var token string
	step := func(name, method, path string, form url.Values, want int) (string, error) {
		var body io.Reader
		if form != nil {
			form.Set("_csrf", token)
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, base+path, body)
		if err != nil {
			return "", err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		t0 := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close() // the read error, if any, is the one reported
		if err != nil {
			return "", err
		}
		if resp.StatusCode != want {
			return "", fmt.Errorf("%s: status %d, want %d", name, resp.StatusCode, want)
		}
		rec.add(name, time.Since(t0)) // a step's time counts only when it did what it should
		if m := csrfRE.FindSubmatch(b); m != nil {
			token = string(m[1])
		}
		if loc := resp.Header.Get("Location"); loc != "" {
			return loc, nil
		}
		return string(b), nil
	}
	link := "/signin/link/" + p.token
	if _, err := step("sign-in page", "GET", link, nil, 200); err != nil {
		return err
	}
	if _, err := step("sign in", "POST", link, url.Values{}, 303); err != nil {
		return err
	}
	if _, err := step("home", "GET", "/", nil, 200); err != nil {
		return err
	}
	for _, m := range v.ModulesFor(app.AudienceAll) {
		if _, err := step("guidance page", "GET", "/guidance/"+m.Slug, nil, 200); err != nil {
			return err
		}
		if _, err := step("mark read", "POST", "/guidance/"+m.Slug+"/read", url.Values{}, 303); err != nil {
			return err
		}
	}
	if _, err := step("quiz page", "GET", "/quiz", nil, 200); err != nil {
		return err
	}
	// The check is paged: each section page shows the questions drawn for
	// this person, and Continue saves them, up to the check page.
	loc, err := step("quiz start", "POST", "/quiz/start", url.Values{}, 303)
	if err != nil {
		return err
	}
	for strings.HasPrefix(loc, "/quiz/section/") {
		body, err := step("quiz section", "GET", loc, nil, 200)
		if err != nil {
			return err
		}
		f := url.Values{"go": {"next"}}
		if m := drawRE.FindStringSubmatch(body); m != nil {
			f.Set("draw", m[1])
		}
		for _, m := range questionRE.FindAllStringSubmatch(body, -1) {
			if q := v.Question(html.UnescapeString(m[1])); q != nil {
				f.Set("q."+q.ID, q.Answer)
			}
		}
		if loc, err = step("quiz continue", "POST", loc, f, 303); err != nil {
			return err
		}
	}
	check, err := step("quiz check", "GET", "/quiz/check", nil, 200)
	if err != nil {
		return err
	}
	submit := url.Values{}
	if m := drawRE.FindStringSubmatch(check); m != nil {
		submit.Set("draw", m[1])
	}
	result, err := step("quiz submit", "POST", "/quiz", submit, 303)
	if err != nil {
		return err
	}
	if _, err := step("quiz result", "GET", result, nil, 200); err != nil {
		return err
	}
	if _, err := step("consent page", "GET", "/sign", nil, 200); err != nil {
		return err
	}
	if _, err := step("consent", "POST", "/sign/consent", url.Values{"consent": {"yes"}}, 303); err != nil {
		return err
	}
	if _, err := step("sign page", "GET", "/sign", nil, 200); err != nil {
		return err
	}
	f := url.Values{"typed_name": {p.name}, "intent": {"yes"}}
	if _, err := step("review", "POST", "/sign/review", f, 200); err != nil {
		return err
	}
	cert, err := step("sign", "POST", "/sign", url.Values{"typed_name": {p.name}, "intent": {"yes"}}, 303)
	if err != nil {
		return err
	}
	if _, err := step("certificate page", "GET", cert, nil, 200); err != nil {
		return err
	}
	_, err = step("certificate PDF", "GET", cert+"/pdf", nil, 200)
	return err
}

// recorder keeps every step's latencies.
type recorder struct {
	mu        sync.Mutex
	lat       map[string][]time.Duration
	order     []string
	failures  int
	completed int // journeys that reached their certificate PDF
	first     error
}

func (r *recorder) complete() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.completed++
}

func (r *recorder) add(step string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.lat[step]; !ok {
		r.order = append(r.order, step)
	}
	r.lat[step] = append(r.lat[step], d)
}

func (r *recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures++
	if r.first == nil {
		r.first = err
		slog.Error("journey failed", "err", err)
	}
}

func (r *recorder) print(w io.Writer, elapsed time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	journeys := r.completed
	fmt.Fprintf(w, "%d journeys in %s: %.1f journeys/s, %d failed\n", journeys, elapsed.Round(time.Millisecond),
		float64(journeys)/elapsed.Seconds(), r.failures)
	fmt.Fprintf(w, "%-18s %8s %9s %9s %9s %9s\n", "step", "count", "p50", "p90", "p99", "max")
	total := 0
	for _, s := range r.order {
		l := slices.Clone(r.lat[s])
		slices.Sort(l)
		total += len(l)
		q := func(p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
		fmt.Fprintf(w, "%-18s %8d %9s %9s %9s %9s\n", s, len(l), q(0.5).Round(10*time.Microsecond),
			q(0.9).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), l[len(l)-1].Round(10*time.Microsecond))
	}
	fmt.Fprintf(w, "%d requests: %.0f requests/s\n", total, float64(total)/elapsed.Seconds())
}

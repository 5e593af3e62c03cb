package e2e

// Metrics: what the portal counts moves by exactly what happened — a
// sign-in, two knowledge-check attempts, a signature, a reminder pass
// whose mail cannot be delivered, a message refused for good — and the
// figures read when scraped say what the database holds.

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"portal/app"
)

func TestMetricsCountWhatHappens(t *testing.T) {
	ms := startMailServer(t)
	tp := startTestPortal(t, withSMTP(ms), withMetricsToken)
	zoe, jose := tp.employee(t, "1005"), tp.employee(t, "1006")
	const kind = "personal-use" // the annual acknowledgment's kind
	// The demo data's mail goes out first, so that nothing else moves the counters.
	eventually(t, "the demo's mail", func() bool { return tp.queued(t) == 0 })
	before, _ := scrape(t, tp)

	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, "1005"))
	readAll(t, tp, c, "1005")
	// One attempt with every answer wrong, then one with every answer right.
	c.get("/quiz")
	wrong := url.Values{}
	for k, v := range tp.answers(zoe) {
		if id, ok := strings.CutPrefix(k, "q."); ok {
			for _, o := range tp.Version.Question(id).Options {
				if o.Key != v {
					v = o.Key
					break
				}
			}
		}
		wrong.Set(k, v)
	}
	if r := c.post("/quiz", wrong); r.Status != 303 || !strings.Contains(c.get(r.Location).Body, "Not passed yet") {
		t.Fatalf("the failed attempt: status %d", r.Status)
	}
	passQuiz(t, tp, c, "1005")
	consent(t, c)
	c.get("/sign")
	if r := c.post("/sign", form("typed_name", zoe.FullName, "intent", "yes")); r.Status != 303 {
		t.Fatalf("sign: status %d", r.Status)
	}
	// A second submission (a double click) finds the signature made: not another.
	if r := c.post("/sign", form("typed_name", zoe.FullName, "intent", "yes")); r.Status != 303 {
		t.Fatalf("sign again: status %d", r.Status)
	}
	eventually(t, "the certificate copy", func() bool { return tp.queued(t) == 0 })
	after, _ := scrape(t, tp)

	for key, want := range map[string]float64{
		`portal_signins_total{method="email-link"}`:                                            1,
		`portal_quiz_attempts_total{kind="` + kind + `",result="failed"}`:                      1,
		`portal_quiz_attempts_total{kind="` + kind + `",result="passed"}`:                      1,
		`portal_signatures_total{kind="` + kind + `",method="email-link"}`:                     1,
		`portal_mail_sent_total{kind="certificate"}`:                                           1,
		`portal_http_requests_total{method="GET",route="/signin/link/:token",status="2xx"}`:    1,
		`portal_http_requests_total{method="POST",route="/signin/link/:token",status="3xx"}`:   1,
		`portal_http_requests_total{method="POST",route="/quiz",status="3xx"}`:                 2,
		`portal_http_requests_total{method="POST",route="/sign",status="3xx"}`:                 2,
		`portal_http_request_duration_seconds_count{method="POST",route="/sign",status="3xx"}`: 2,
		`portal_http_requests_total{method="GET",route="/metrics",status="2xx"}`:               1, // the first scrape
	} {
		if got := after.delta(before, key); got != want {
			t.Errorf("%s moved by %v, want %v", key, got, want)
		}
	}

	t.Run("a reminder pass while the mail server is down", func(t *testing.T) {
		before, _ := scrape(t, tp)
		start := tp.DB.Now()
		ms.stop()
		sum, err := tp.RemindPass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if sum.Invitations == 0 {
			t.Fatal("the pass queued no invitations")
		}
		tp.failedOnce(t)
		after, _ := scrape(t, tp)
		if got := after.delta(before, "portal_reminder_pass_duration_seconds_count"); got != 1 {
			t.Errorf("reminder passes timed: %v, want 1", got)
		}
		if got := after.delta(before, "portal_reminder_pass_failures_total"); got != 0 {
			t.Errorf("reminder pass failures: %v, want 0", got)
		}
		for typ, n := range map[string]int{"invitation": sum.Invitations, "reminder": sum.Reminders, "escalation": sum.Escalations,
			"digest": sum.Digests, "account_review": sum.AccountReviews, "authorization_ending": sum.AuthorizationsEnding} {
			if got := after.delta(before, `portal_reminder_messages_queued_total{type="`+typ+`"}`); got != float64(n) {
				t.Errorf("%s queued: %v, want %d", typ, got, n)
			}
		}
		// Every message failed once, for a passing reason: counted by its kind.
		failed := tp.failedOnceByKind(t)
		total := 0
		for k, n := range failed {
			total += n
			if got := after.delta(before, `portal_mail_delivery_failures_total{failure="temporary",kind="`+k+`"}`); got != float64(n) {
				t.Errorf("temporary failures of %s: %v, want %d", k, got, n)
			}
		}
		if total < sum.Total() {
			t.Errorf("%d messages failed, the pass queued %d", total, sum.Total())
		}
		if got := after["portal_outbox_queued_messages"]; got != float64(tp.queued(t)) || got != float64(total) {
			t.Errorf("queued messages: %v, want %d (the database says %d)", got, total, tp.queued(t))
		}
		age := after["portal_outbox_oldest_queued_age_seconds"]
		if limit := tp.DB.Now().Sub(start).Seconds(); age <= 0 || age > limit {
			t.Errorf("oldest queued age: %v s, want above 0 and at most %v s (since the pass)", age, limit)
		}

		// The server is back: each message goes out once, the queue empties.
		ms.start()
		tp.Clock.Advance(2 * time.Minute)
		tp.Worker.Kick()
		eventually(t, "delivery after the outage", func() bool { return tp.queued(t) == 0 })
		sent, _ := scrape(t, tp)
		for k, n := range failed {
			if got := sent.delta(after, `portal_mail_sent_total{kind="`+k+`"}`); got != float64(n) {
				t.Errorf("%s sent: %v, want %d", k, got, n)
			}
		}
		if sent["portal_outbox_queued_messages"] != 0 || sent["portal_outbox_oldest_queued_age_seconds"] != 0 {
			t.Errorf("empty outbox: queued %v, oldest %v s", sent["portal_outbox_queued_messages"], sent["portal_outbox_oldest_queued_age_seconds"])
		}
	})

	t.Run("a message refused for good", func(t *testing.T) {
		before, _ := scrape(t, tp)
		ms.mu.Lock()
		ms.permFail[strings.ToLower(jose.Email)] = true
		ms.mu.Unlock()
		link := newClient(t, tp.BaseURL)
		link.get("/signin")
		link.post("/signin", form("email", jose.Email))
		eventually(t, "the bounce", func() bool {
			return tp.count(t, `SELECT COUNT(*) FROM unreachable WHERE email = ?`, jose.Email) == 1
		})
		after, _ := scrape(t, tp)
		key := `portal_mail_delivery_failures_total{failure="permanent",kind="` + app.MailSignIn + `"}`
		if got := after.delta(before, key); got != 1 {
			t.Errorf("%s moved by %v, want 1", key, got)
		}
	})

	t.Run("a paper acknowledgment HR records", func(t *testing.T) {
		before, _ := scrape(t, tp)
		hr := newClient(t, tp.BaseURL)
		hr.signIn(tp.signInLink(t, "1002"))
		lan := tp.employee(t, "1007")
		hr.get("/hr/people/" + itoa(lan.ID) + "/paper")
		// A refused form records nothing and counts nothing; the good one counts once.
		if r := postPaper(hr, lan.ID, "", "form.pdf", paperScanPDF); r.Status != 422 {
			t.Fatalf("no date: status %d", r.Status)
		}
		if r := postPaper(hr, lan.ID, tp.DB.Today(), "form.pdf", paperScanPDF); r.Status != 303 {
			t.Fatalf("paper acknowledgment: status %d", r.Status)
		}
		after, _ := scrape(t, tp)
		key := `portal_signatures_total{kind="` + kind + `",method="` + app.AuthPaper + `"}`
		if got := after.delta(before, key); got != 1 {
			t.Errorf("%s moved by %v, want 1", key, got)
		}
	})

	t.Run("the figures read when scraped", func(t *testing.T) {
		// Nothing is being written now; the log's size is the database's.
		s, _ := scrape(t, tp)
		entries := tp.count(t, `SELECT COUNT(*) FROM log_entries`)
		if got := s["portal_evidence_log_entries"]; got != float64(entries) || entries == 0 {
			t.Errorf("log entries: %v, the database has %d", got, entries)
		}
		if got := s["portal_evidence_checkpoint_entries"]; got <= 0 || got > float64(entries) {
			t.Errorf("entries of the latest checkpoint: %v (the log has %d)", got, entries)
		}
		if !s.has("portal_evidence_checkpoint_age_seconds") || s["portal_evidence_checkpoint_age_seconds"] < 0 {
			t.Errorf("checkpoint age: %v", s["portal_evidence_checkpoint_age_seconds"])
		}
		writers := 1.0 // SQLite's one writer; PostgreSQL's write pool has a few, taking turns on the lock
		if onPostgres() {
			writers = 4
		}
		if s[`portal_db_connections_max{pool="write"}`] != writers || s[`portal_db_connections_max{pool="read"}`] < 1 {
			t.Errorf("pools: write %v read %v connections at most", s[`portal_db_connections_max{pool="write"}`], s[`portal_db_connections_max{pool="read"}`])
		}
		for _, key := range []string{`portal_db_wait_count_total{pool="write"}`, `portal_db_wait_count_total{pool="read"}`,
			`portal_db_wait_duration_seconds_total{pool="write"}`, `portal_db_connections_in_use{pool="read"}`,
			`portal_db_connections_idle{pool="read"}`, "go_goroutines", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
			if !s.has(key) {
				t.Errorf("%s is not shown", key)
			}
		}
	})

	t.Run("the sample dashboard queries only what the portal shows", func(t *testing.T) {
		_, families := scrape(t, tp)
		for _, name := range dashboardMetrics(t) {
			if families[name] == nil {
				t.Errorf("docs/grafana-dashboard.json queries %s, which the portal does not show", name)
			}
		}
	})
}

// failedOnceByKind counts the queued messages that failed once, by kind.
func (tp *testPortal) failedOnceByKind(t *testing.T) map[string]int {
	t.Helper()
	db := readFile(t, tp.DB.Path)
	defer db.Close()
	rows, err := db.Query(`SELECT kind, COUNT(*) FROM outbox WHERE status = 'queued' AND attempts = 1 GROUP BY kind`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var kind string
		var n int
		if err := rows.Scan(&kind, &n); err != nil {
			t.Fatal(err)
		}
		out[kind] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

package e2e

// Metrics: who may read them (the token, the listener of its own), labels
// that stay few whatever is requested, and the sample Grafana dashboard.

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"portal/handlers"
	"portal/server"
)

func TestMetricsToken(t *testing.T) {
	t.Run("unset: /metrics does not exist, whoever asks", func(t *testing.T) {
		tp := startTestPortal(t)
		for _, auth := range []string{"", "Bearer " + testMetricsToken, "Bearer ", "Bearer x"} {
			if r := metricsGet(t, tp.BaseURL+"/metrics", auth); r.Status != 404 || strings.Contains(r.Body, "portal_") {
				t.Errorf("Authorization %q: status %d, want 404", auth, r.Status)
			}
		}
		admin := newClient(t, tp.BaseURL)
		admin.signIn(tp.signInLink(t, "1003"))
		if r := admin.get("/metrics"); r.Status != 404 {
			t.Errorf("signed in as an administrator: status %d, want 404", r.Status)
		}
	})

	t.Run("set: the token and nothing else", func(t *testing.T) {
		tp := startTestPortal(t, withMetricsToken)
		for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer x", "Bearer " + testMetricsToken + "x",
			"Bearer " + testMetricsToken[:len(testMetricsToken)-1], "Basic " + testMetricsToken, testMetricsToken} {
			r := metricsGet(t, tp.BaseURL+"/metrics", auth)
			if r.Status != 401 || strings.Contains(r.Body, "portal_") {
				t.Errorf("Authorization %q: status %d, want 401 and no metrics", auth, r.Status)
			}
			if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("Authorization %q: WWW-Authenticate %q, want Bearer", auth, got)
			}
		}
		// No session opens it: not an administrator's, not HR's.
		for _, number := range []string{"1003", "1002"} {
			c := newClient(t, tp.BaseURL)
			c.signIn(tp.signInLink(t, number))
			if r := c.get("/metrics"); r.Status != 401 || strings.Contains(r.Body, "portal_") {
				t.Errorf("signed in as %s without the token: status %d, want 401", number, r.Status)
			}
		}
		for _, auth := range []string{"Bearer " + testMetricsToken, "bearer " + testMetricsToken} {
			r := metricsGet(t, tp.BaseURL+"/metrics", auth)
			if r.Status != 200 || !strings.Contains(r.Body, "portal_http_requests_total") {
				t.Fatalf("Authorization %q: status %d, want 200 with the metrics", auth, r.Status)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("content type %q", ct)
			}
			parseMetrics(t, r.Body) // Prometheus's own parser takes it
		}
	})

	t.Run("bad settings are refused with the variable named", func(t *testing.T) {
		for _, c := range []struct{ name, token, addr, want string }{
			{"a short token", "short", "", "PORTAL_METRICS_TOKEN must be at least"},
			{"a token with a space", "a token with spaces that is long enough", "", "PORTAL_METRICS_TOKEN must not contain spaces"},
			{"an address without a port", "", "127.0.0.1", "PORTAL_METRICS_ADDR must be an address and port"},
			{"a port out of range", "", "127.0.0.1:70000", "PORTAL_METRICS_ADDR must be an address and port"},
			{"every interface, unnamed", "", ":9464", "PORTAL_METRICS_ADDR must name the address"},
		} {
			t.Run(c.name, func(t *testing.T) {
				t.Setenv("PORTAL_METRICS_TOKEN", c.token)
				t.Setenv("PORTAL_METRICS_ADDR", c.addr)
				_, err := server.LoadConfig(true)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want %q", err, c.want)
				}
			})
		}
		t.Setenv("PORTAL_METRICS_TOKEN", testMetricsToken)
		t.Setenv("PORTAL_METRICS_ADDR", "127.0.0.1:9464")
		cfg, err := server.LoadConfig(true)
		if err != nil || cfg.MetricsToken != testMetricsToken || cfg.MetricsAddr != "127.0.0.1:9464" {
			t.Fatalf("good settings: %v %+v", err, cfg)
		}
	})
}

func TestMetricsListener(t *testing.T) {
	tp := startTestPortal(t, func(c *server.Config) { c.MetricsAddr = "127.0.0.1:0" })
	addr := tp.MetricsAddr()
	if addr == "" {
		t.Fatal("no metrics listener")
	}
	r := metricsGet(t, "http://"+addr+"/metrics", "")
	if r.Status != 200 || !strings.Contains(r.Body, "portal_outbox_queued_messages") {
		t.Fatalf("the listener's /metrics: status %d", r.Status)
	}
	parseMetrics(t, r.Body)
	// It serves the metrics and nothing of the portal.
	for _, path := range []string{"/", "/hr", "/signin", "/healthz", "/metrics/x"} {
		if r := metricsGet(t, "http://"+addr+path, ""); r.Status != 404 {
			t.Errorf("the listener's %s: status %d, want 404", path, r.Status)
		}
	}
	// The web application's /metrics stays off: no token is set.
	if r := metricsGet(t, tp.BaseURL+"/metrics", ""); r.Status != 404 {
		t.Errorf("the web /metrics without a token set: status %d, want 404", r.Status)
	}
}

// TestMetricsLabelsAreBounded: whatever is requested, a label is one of a
// few values the code knows — a route pattern, never the path with its
// certificate code, id or sign-in token; never an address or a name.
func TestMetricsLabelsAreBounded(t *testing.T) {
	tp := startTestPortal(t, withMetricsToken)
	hr := newClient(t, tp.BaseURL)
	link := tp.signInLink(t, "1002")
	hr.signIn(link)
	token := link[strings.LastIndex(link, "/")+1:]
	person := itoa(tp.employee(t, "1005").ID)
	raw := []string{"/certificates/ABCDE-FGHIJ", "/no/such/page/123", "/hr/people/" + person, "/hr/people/" + person + "/paper",
		"/verify/ZZZZZ-QQQQQ", "/static/css/site.css", "/static/no-such-file.css", "/CERTIFICATES/ABCDE-FGHIJ/PDF", "/%2e%2e/etc/passwd"}
	for _, p := range raw {
		hr.get(p)
	}
	hr.postRaw("/sign", form("typed_name", "Dmitri")) // refused by the CSRF check, before its route runs
	newClient(t, tp.BaseURL).get("/signin/link/" + token)
	_, families := scrape(t, tp)

	patterns := map[string]bool{"unmatched": true, "/static/*": true}
	for _, r := range handlers.Routes() {
		patterns[r.Path] = true
	}
	signInMethod := regexp.MustCompile(`^[a-z-]{1,40}$`).MatchString // email-link, sso-header, paper …
	allowed := map[string]func(string) bool{
		"route": func(v string) bool { return patterns[v] },
		"method": func(v string) bool {
			return slices.Contains([]string{"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"}, v)
		},
		"status":  regexp.MustCompile(`^[1-5]xx$`).MatchString,
		"kind":    regexp.MustCompile(`^[a-z_-]{1,40}$`).MatchString,
		"result":  func(v string) bool { return v == "passed" || v == "failed" },
		"failure": func(v string) bool { return v == "temporary" || v == "permanent" || v == "config" },
		"type":    regexp.MustCompile(`^[a-z_]{1,40}$`).MatchString,
		"pool":    func(v string) bool { return v == "write" || v == "read" },
	}
	seen := map[string]bool{}
	for name, f := range families {
		if !strings.HasPrefix(name, "portal_") {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				ok, known := allowed[l.GetName()]
				if l.GetName() == "method" && (name == "portal_signins_total" || name == "portal_signatures_total") {
					ok = signInMethod
				}
				if !known {
					t.Errorf("%s has a label %s the test does not know: say what values it takes", name, l.GetName())
					continue
				}
				if !ok(l.GetValue()) || strings.Contains(l.GetValue(), "@") {
					t.Errorf("%s{%s=%q}: not one of the few values the label takes", name, l.GetName(), l.GetValue())
				}
				if name == "portal_http_requests_total" && l.GetName() == "route" {
					seen[l.GetValue()] = true
				}
			}
		}
	}
	for _, want := range []string{"/certificates/:code", "/hr/people/:id", "/hr/people/:id/paper", "/verify/:code", "unmatched",
		"/static/*", "/sign", "/signin/link/:token", "/certificates/:code/pdf"} {
		if !seen[want] {
			t.Errorf("no requests counted under %s (counted: %v)", want, seen)
		}
	}
	body := metricsGet(t, tp.BaseURL+"/metrics", "Bearer "+testMetricsToken).Body
	for _, leak := range []string{"ABCDE", "FGHIJ", "no/such", "ZZZZZ", token, "/hr/people/" + person, "passwd", "@"} {
		if strings.Contains(body, leak) {
			t.Errorf("the metrics show %q", leak)
		}
	}
}

// TestGrafanaDashboard: the sample dashboard is valid JSON with a
// Prometheus data source variable, every panel queries it, and every
// metric family of the portal has a panel. (That every name it queries is
// shown is checked against a live portal in TestMetricsCountWhatHappens.)
func TestGrafanaDashboard(t *testing.T) {
	d := readDashboard(t)
	var ds bool
	for _, v := range d.Templating.List {
		ds = ds || v.Type == "datasource" && v.Query == "prometheus" && v.Name == "datasource"
	}
	if !ds {
		t.Error("no Prometheus data source variable named datasource")
	}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: data source %q, %d queries", p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, q := range p.Targets {
			if q.Datasource.UID != "${datasource}" || strings.TrimSpace(q.Expr) == "" {
				t.Errorf("panel %q: a query without the data source variable or an expression", p.Title)
			}
		}
	}
	queried := map[string]bool{}
	for _, n := range dashboardMetrics(t) {
		queried[n] = true
	}
	tp := startTestPortal(t, withMetricsToken)
	_, families := scrape(t, tp)
	for name := range families {
		if strings.HasPrefix(name, "portal_") && !queried[name] {
			t.Errorf("%s has no panel in docs/grafana-dashboard.json", name)
		}
	}
	for _, name := range []string{"portal_signatures_total", "portal_quiz_attempts_total", "portal_mail_delivery_failures_total",
		"portal_signins_total", "portal_mail_sent_total", "portal_reminder_messages_queued_total"} {
		if !queried[name] { // shown once the event has happened: not in a fresh portal's scrape
			t.Errorf("%s has no panel in docs/grafana-dashboard.json", name)
		}
	}
}

// grafanaDashboard is what the tests read of a dashboard.
type grafanaDashboard struct {
	Templating struct {
		List []struct {
			Name, Type string
			Query      any
		}
	}
	Panels []struct {
		Type, Title string
		Datasource  struct{ UID string }
		Targets     []struct {
			Expr       string
			Datasource struct{ UID string }
		}
	}
}

func readDashboard(t *testing.T) *grafanaDashboard {
	t.Helper()
	b, err := os.ReadFile("../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("docs/grafana-dashboard.json is not valid JSON: %v", err)
	}
	if len(d.Panels) == 0 {
		t.Fatal("the dashboard has no panels")
	}
	return &d
}

var dashboardMetricRE = regexp.MustCompile(`\b(?:portal|go|process)_[a-z0-9_]+`)

// dashboardMetrics lists the metric families the dashboard's panels query
// (a histogram's _bucket, _count and _sum are its family).
func dashboardMetrics(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	for _, p := range readDashboard(t).Panels {
		for _, q := range p.Targets {
			for _, n := range dashboardMetricRE.FindAllString(q.Expr, -1) {
				for _, suffix := range []string{"_bucket", "_count"} {
					if strings.HasPrefix(n, "portal_") && strings.HasSuffix(n, "_seconds"+suffix) {
						n = strings.TrimSuffix(n, suffix)
					}
				}
				if !seen[n] {
					seen[n] = true
					out = append(out, n)
				}
			}
		}
	}
	return out
}

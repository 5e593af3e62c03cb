package e2e

// Helpers of the metrics tests: the token, a scrape over HTTP and the text
// exposition parsed into one value per series.

import (
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"portal/server"
)

// testMetricsToken is the metrics token of the test portals that have one.
const testMetricsToken = "metrics-token-for-the-tests-7d1f0c9a4b2e"

// withMetricsToken turns /metrics on, behind testMetricsToken.
func withMetricsToken(c *server.Config) { c.MetricsToken = testMetricsToken }

// metricsGet requests a metrics address with an Authorization header ("": none).
func metricsGet(t *testing.T, url, authorization string) response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := testTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: res.StatusCode, Body: string(b), Header: res.Header}
}

// metricSeries is a scrape: every series (name{label="value",…}, labels in
// order) with its value; a histogram or summary gives name_count and name_sum.
type metricSeries map[string]float64

// scrape reads the portal's /metrics with the token.
func scrape(t *testing.T, tp *testPortal) (metricSeries, map[string]*dto.MetricFamily) {
	t.Helper()
	res := metricsGet(t, tp.BaseURL+"/metrics", "Bearer "+testMetricsToken)
	if res.Status != 200 {
		t.Fatalf("/metrics: status %d: %s", res.Status, res.Body)
	}
	return parseMetrics(t, res.Body)
}

// parseMetrics parses the text exposition with Prometheus's own parser.
func parseMetrics(t *testing.T, body string) (metricSeries, map[string]*dto.MetricFamily) {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	out := metricSeries{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			labels := seriesLabels(m)
			switch {
			case m.GetHistogram() != nil:
				out[name+"_count"+labels] = float64(m.GetHistogram().GetSampleCount())
				out[name+"_sum"+labels] = m.GetHistogram().GetSampleSum()
			case m.GetSummary() != nil:
				out[name+"_count"+labels] = float64(m.GetSummary().GetSampleCount())
				out[name+"_sum"+labels] = m.GetSummary().GetSampleSum()
			case m.GetCounter() != nil:
				out[name+labels] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[name+labels] = m.GetGauge().GetValue()
			default:
				out[name+labels] = m.GetUntyped().GetValue()
			}
		}
	}
	return out, families
}

// seriesLabels is {a="x",b="y"} with the labels sorted by name ("" for none).
func seriesLabels(m *dto.Metric) string {
	if len(m.GetLabel()) == 0 {
		return ""
	}
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// delta is how much a series moved from before to s (absent counts as 0).
func (s metricSeries) delta(before metricSeries, key string) float64 { return s[key] - before[key] }

// has reports whether the series is shown.
func (s metricSeries) has(key string) bool {
	_, ok := s[key]
	return ok
}

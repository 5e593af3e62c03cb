package e2e

import (
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"
)

// Agencies and departments of the demo roster (server.DemoRoster).
const (
	dafs = "Department of Administrative and Financial Services"
	dhhs = "Department of Health and Human Services"
	mdot = "Department of Transportation"
	dol  = "Department of Labor"
	oit  = "Office of Information Technology"
	bhr  = "Bureau of Human Resources"
	ofi  = "Office for Family Independence"
	cdc  = "Maine Center for Disease Control"
	bmo  = "Bureau of Maintenance and Operations"
	bpl  = "Bureau of Planning"
	bes  = "Bureau of Employment Services"
)

func mustURL(t testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func cookiesOf(name, value string) []*http.Cookie {
	return []*http.Cookie{{Name: name, Value: value, Path: "/"}}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o600) }

func urlEscape(s string) string { return url.QueryEscape(s) }

func mustAtoi(t testing.TB, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

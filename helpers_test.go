package main

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"portal/app"
)

func appAckFilterEmployee(id int64) app.AckFilter { return app.AckFilter{EmployeeID: &id} }

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

package handlers

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// TestClientIP walks X-Forwarded-For lists as a proxy chain builds them.
// The whole portal is tested through a real proxy address in e2e; these are
// the lists a test client cannot easily send from 127.0.0.1.
func TestClientIP(t *testing.T) {
	h := &Handler{Config: Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}}}
	app := fiber.New()
	for _, tc := range []struct {
		name, peer string
		xff        []string // header lines, in order
		want       string
	}{
		{"an untrusted peer's header is ignored", "192.0.2.1", []string{"203.0.113.7"}, "192.0.2.1"},
		{"a trusted proxy without the header is the client", "127.0.0.1", nil, "127.0.0.1"},
		{"the forged left part is passed over", "127.0.0.1", []string{"6.6.6.6, 203.0.113.7"}, "203.0.113.7"},
		{"a chain of trusted proxies is walked", "127.0.0.1", []string{"6.6.6.6, 203.0.113.7, 10.1.2.3,10.4.5.6"}, "203.0.113.7"},
		{"several header lines are one list", "10.0.0.9", []string{"6.6.6.6", "203.0.113.7"}, "203.0.113.7"},
		{"an unparsable entry stops at the last good one", "127.0.0.1", []string{"203.0.113.7, not-an-ip, 10.1.2.3"}, "10.1.2.3"},
		{"an address with a port is not an address", "127.0.0.1", []string{"203.0.113.7:4711"}, "127.0.0.1"},
		{"an empty entry stops the walk", "127.0.0.1", []string{"203.0.113.7, "}, "127.0.0.1"},
		{"IPv4 in IPv6 is IPv4", "127.0.0.1", []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{"IPv6 clients and proxies", "2001:db8::1", []string{"2001:db9::5, 2001:db8:ffff::1"}, "2001:db9::5"},
		{"only proxies: the left-most", "127.0.0.1", []string{"10.0.0.1, 10.0.0.2"}, "10.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req fasthttp.Request
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			var fctx fasthttp.RequestCtx
			fctx.Init(&req, &net.TCPAddr{IP: net.ParseIP(tc.peer), Port: 50000}, nil)
			c := app.AcquireCtx(&fctx)
			defer app.ReleaseCtx(c)
			if got := h.clientIP(c); got != tc.want {
				t.Fatalf("clientIP = %q, want %q", got, tc.want)
			}
		})
	}
}

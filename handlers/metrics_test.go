package handlers

import (
	"strings"
	"testing"
)

// TestRouteIndexMatchesTheTable: a request a middleware refused before its
// route ran is counted under the pattern Fiber would have matched: each
// route's own, its parameters filled in, in any letter case, with or
// without a trailing slash; a path of no route is not matched.
func TestRouteIndexMatchesTheTable(t *testing.T) {
	ri := newRouteIndex(Routes())
	for _, r := range Routes() {
		segs := strings.Split(r.Path, "/")
		for i, s := range segs {
			if strings.HasPrefix(s, ":") {
				segs[i] = "zz9"
			}
		}
		path := strings.Join(segs, "/")
		for _, p := range []string{path, strings.ToUpper(path), path + "/"} {
			if got, ok := ri.match(r.Method, p); !ok || got != r.Path {
				t.Errorf("%s %s: matched %q (%v), want %s", r.Method, p, got, ok, r.Path)
			}
		}
	}
	for _, p := range []string{"/no/such/page/123", "/certificates", "/certificates/a/b/c/d", "/hr/people//paper"} {
		if got, ok := ri.match("GET", p); ok {
			t.Errorf("GET %s matched %s", p, got)
		}
	}
	if got, ok := ri.match("DELETE", "/sign"); ok {
		t.Errorf("DELETE /sign matched %s", got)
	}
}

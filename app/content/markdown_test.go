package content_test

import (
	"strings"
	"sync"
	"testing"

	"portal/app/content"
)

func TestMarkdown(t *testing.T) {
	cases := []struct {
		name, src    string
		want, absent []string
	}{
		{"raw script block is not rendered", "<script>alert(1)</script>\n\nHello", []string{"<p>Hello</p>"}, []string{"<script"}},
		{"inline raw HTML is not rendered", "a <script>alert(1)</script> <img src=x onerror=alert(1)> b", nil, []string{"<script", "<img", "onerror"}},
		{"javascript links lose their target", "[click](javascript:alert(1))", nil, []string{"javascript:"}},
		{"external links stay plain links", "[Maine](https://www.maine.gov/)", []string{`<a href="https://www.maine.gov/">Maine</a>`}, []string{"target="}},
		{"bare URLs are linked", "See https://www.maine.gov/ now", []string{`<a href="https://www.maine.gov/">`}, nil},
		{"text is escaped", "Tom & Jerry < 3", []string{"Tom &amp; Jerry &lt; 3"}, nil},
		{"tables render", "| a | b |\n|---|---|\n| 1 | 2 |", []string{"<table>", "<td>1</td>"}, nil},
		{"fenced code renders", "```\nline\n```", []string{"<pre><code>line\n</code></pre>"}, nil},
	}
	r := content.NewRenderer()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, render := range []func(string) (string, error){
				func(s string) (string, error) { h, err := content.Markdown(s); return string(h), err },
				func(s string) (string, error) { h, err := r.Markdown(s); return string(h), err },
			} {
				got, err := render(tc.src)
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range tc.want {
					if !strings.Contains(got, w) {
						t.Errorf("%q lacks %q", got, w)
					}
				}
				for _, a := range tc.absent {
					if strings.Contains(got, a) {
						t.Errorf("%q contains %q", got, a)
					}
				}
			}
		})
	}
}

// TestRendererConcurrent is meant for go test -race.
func TestRendererConcurrent(t *testing.T) {
	r := content.NewRenderer()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if h, err := r.Markdown("## Hi\n\n*there* www.maine.gov"); err != nil || !strings.Contains(string(h), "<em>there</em>") {
					t.Errorf("got %q, %v", h, err)
				}
			}
		})
	}
	wg.Wait()
}

package handlers

import (
	"mime"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSafeNext checks that a post-sign-in destination is always a path on
// this site: never another host, however a browser reads it.
func FuzzSafeNext(f *testing.F) {
	for _, seed := range []string{
		"/", "/hr/people?q=Zo%C3%AB", "/certificates/7K2QD-M9XRA",
		"//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example/",
		"/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example",
		"/%2F/evil.example", "/%5Cevil.example", "javascript:alert(1)", " /x",
		"/" + strings.Repeat("a", 499), "/" + strings.Repeat("a", 500), "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got == "" {
			return
		}
		if got != next {
			t.Fatalf("safeNext(%q) = %q: a destination is kept or dropped, never rewritten", next, got)
		}
		if len(got) > 500 {
			t.Fatalf("safeNext kept a %d-byte destination", len(got))
		}
		// Browsers drop tabs and line breaks from a URL before reading it
		// (WHATWG URL), so "/\t/evil.example" is "//evil.example" to them.
		seen := strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, got)
		if !strings.HasPrefix(seen, "/") || strings.HasPrefix(seen, "//") || strings.HasPrefix(seen, "/\\") {
			t.Fatalf("safeNext(%q) kept %q, which a browser reads as another host", next, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("safeNext(%q) kept the control character %U", next, r)
			}
		}
	})
}

// FuzzFormulaSafe checks that no exported cell can begin a spreadsheet formula
// and that the neutralised cell still ends with the original text.
func FuzzFormulaSafe(f *testing.F) {
	for _, seed := range []string{
		"", "Zoë Côté", "=HYPERLINK(\"http://x\")", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1",
		"'=already", " =1", "＝1", "1005", "2026-03-31",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := FormulaSafe(s)
		if got != "" && strings.ContainsRune("=+-@\t\r", rune(got[0])) {
			t.Fatalf("FormulaSafe(%q) = %q still begins a formula", s, got)
		}
		if !strings.HasSuffix(got, s) || len(got) > len(s)+1 {
			t.Fatalf("FormulaSafe(%q) = %q does not keep the text", s, got)
		}
		if got != s && got != "'"+s {
			t.Fatalf("FormulaSafe(%q) = %q: only an apostrophe may be added", s, got)
		}
	})
}

// FuzzContentDisposition checks that a download name, whatever an employee's
// name holds, makes one well-formed header with the exact name in UTF-8.
func FuzzContentDisposition(f *testing.F) {
	for _, seed := range []string{
		"certificates-François Lévesque.zip", "SMP-2026-000042 Zoë Côté.pdf", "王小明.pdf",
		"completion-2026-2026-03-31.csv", "noext", ".hidden", "a.b.c", "",
		"x\r\nSet-Cookie: a=b.pdf", "SMP-1 \"><img src=x onerror=alert(1)>.pdf",
		"a.\"b\r\n", "x.p\"df", "SMP-1 Evil Bcc: victim@x.example.pdf", "100%.pdf", "a'b;c=d.zip",
		"\xff\xfe.pdf", "a.\xffz",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		h := ContentDisposition(name)
		if strings.ContainsAny(h, "\r\n\x00") {
			t.Fatalf("ContentDisposition(%q) = %q holds a line break", name, h)
		}
		if !strings.Contains(h, "filename*=UTF-8''") {
			t.Fatalf("ContentDisposition(%q) = %q has no UTF-8 name", name, h)
		}
		const open = `attachment; filename="`
		if !strings.HasPrefix(h, open) {
			t.Fatalf("ContentDisposition(%q) = %q", name, h)
		}
		quoted, rest, ok := strings.Cut(h[len(open):], `"`)
		if !ok || !strings.HasPrefix(rest, "; filename*=UTF-8''") {
			t.Fatalf("ContentDisposition(%q) = %q: a quote inside the quoted name", name, h)
		}
		for i := 0; i < len(quoted); i++ {
			if c := quoted[i]; c < 0x20 || c >= 0x7f || c == '\\' {
				t.Fatalf("ContentDisposition(%q): fallback name %q is not plain ASCII", name, quoted)
			}
		}
		ext := rest[len("; filename*=UTF-8''"):]
		for i := 0; i < len(ext); i++ {
			if c := ext[i]; !(c == '%' || isAttrChar(c)) {
				t.Fatalf("ContentDisposition(%q): %q in the UTF-8 name is not allowed by RFC 8187", name, c)
			}
		}
		_, params, err := mime.ParseMediaType(h)
		if err != nil {
			t.Fatalf("ContentDisposition(%q) = %q does not parse: %v", name, h, err)
		}
		if utf8.ValidString(name) && params["filename"] != name {
			t.Fatalf("ContentDisposition(%q) = %q reads back as %q", name, h, params["filename"])
		}
	})
}

// isAttrChar reports whether c may stand unencoded in an RFC 8187 value.
func isAttrChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

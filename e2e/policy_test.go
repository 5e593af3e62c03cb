package e2e

// The policy text: /policy for the person, the public /policy/:code, their
// PDFs, and the official documents a version may carry.

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"portal/app"
	"portal/app/content"
)

// docsFixture is a version carrying official documents: the shipped text
// under another code, with a PDF and a text file in documents/.
const (
	docsFixtureDir  = "../app/content/testdata/2026.1-documents"
	docsFixtureCode = "2026.1-docs"
)

// policyHeadings are the level-2 headings of v's policy text, in order:
// the tests look for them rather than for any one version's wording.
func policyHeadings(v *app.PolicyVersion) []string {
	var out []string
	for _, line := range strings.Split(v.PolicyText, "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			out = append(out, strings.TrimSpace(h))
		}
	}
	return out
}

// publishDocsFixture publishes docsFixture in tp, as HR's upload would.
func publishDocsFixture(t testing.TB, tp *testPortal) *app.PolicyVersion {
	t.Helper()
	v, err := content.LoadVersion(os.DirFS(docsFixtureDir), ".")
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.Handler.Policies.PublishVersion(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPolicyPages: the employee's /policy shows the version of their cycle
// (not merely the newest one) and, once no cycle is open, the newest; any
// published version is public at /policy/:code; an unknown code is a 404
// page; the PDFs hold the policy's headings.
func TestPolicyPages(t *testing.T) {
	tp := startTestPortal(t)
	newer := publishDocsFixture(t, tp) // published after the demo cycle opened with tp.Version
	code, heads := tp.Version.Code, policyHeadings(tp.Version)
	if len(heads) < 3 {
		t.Fatalf("the demo version's policy has %d headings", len(heads))
	}
	zoe := newClient(t, tp.BaseURL)
	zoe.signIn(tp.signInLink(t, "1005"))

	t.Run("the employee's policy is their cycle's version", func(t *testing.T) {
		r := zoe.get("/policy")
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		mustContain(t, r.Body, "<h1 id=\"policy-h\">"+htmlEscaped(tp.Version.Title)+"</h1>", "<dd>"+code+"</dd>",
			tp.Version.SHA256, "<h2>"+htmlEscaped(heads[0])+"</h2>", "<h2>"+htmlEscaped(heads[len(heads)-1])+"</h2>", "<strong>",
			`href="/policy.pdf"`, `href="/policy/`+code+`"`)
		if strings.Contains(r.Body, newer.SHA256) || strings.Contains(r.Body, docsFixtureCode) {
			t.Error("/policy shows the newest version, not the one of the employee's cycle")
		}
	})

	t.Run("the PDF holds the policy's headings", func(t *testing.T) {
		r := zoe.get("/policy.pdf")
		if r.Status != 200 || r.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("status %d, type %q", r.Status, r.Header.Get("Content-Type"))
		}
		if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="personal-use-of-social-media-`+strings.ReplaceAll(code, ".", "-")+`.pdf"`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		text := strings.Join(strings.Fields(popplerTool(t, []byte(r.Body), "pdftotext", "-enc", "UTF-8")), " ")
		for _, want := range append([]string{tp.Version.Title, "Version " + code, "SHA-256 " + tp.Version.SHA256, "Page 1 of"}, heads...) {
			if !strings.Contains(text, want) {
				t.Errorf("the PDF text lacks %q", want)
			}
		}
	})

	t.Run("any published version is public", func(t *testing.T) {
		anon := newClient(t, tp.BaseURL)
		r := anon.get("/policy/" + code)
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		mustContain(t, r.Body, "Published policy text", tp.Version.SHA256, htmlEscaped(heads[0]), `href="/policy/`+code+`/pdf"`)
		if strings.Contains(r.Body, "Sign out") {
			t.Error("the anonymous visitor looks signed in")
		}
		pdf := anon.get("/policy/" + code + "/pdf")
		if pdf.Status != 200 || pdf.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf.Body, "%PDF-") {
			t.Fatalf("PDF: status %d, type %q", pdf.Status, pdf.Header.Get("Content-Type"))
		}
		// /policy itself is the signed-in person's: anonymous goes to sign in.
		if r := anon.get("/policy"); r.Status == 200 {
			t.Errorf("anonymous /policy: status %d", r.Status)
		}
	})

	t.Run("unknown codes are a clean 404", func(t *testing.T) {
		anon := newClient(t, tp.BaseURL)
		for _, path := range []string{"/policy/unknown", "/policy/unknown/pdf", "/policy/1999.9", "/policy/..%2F" + code,
			"/policy/" + code + "/documents/official-policy.pdf", "/policy/unknown/documents/official-policy.pdf",
			"/policy/" + docsFixtureCode + "/documents/..%2Fpolicy.md", "/policy/" + docsFixtureCode + "/documents/missing.pdf"} {
			r := anon.get(path)
			if r.Status != 404 {
				t.Errorf("%s: status %d, want 404", path, r.Status)
				continue
			}
			if !strings.Contains(r.Body, "<title>") || strings.Contains(r.Body, "sql") || strings.Contains(r.Body, "%PDF") {
				t.Errorf("%s: not a clean error page:\n%s", path, r.Body)
			}
		}
		mustContain(t, anon.get("/policy/unknown").Body, "There is no published policy version with that code.")
	})

	t.Run("official documents are listed and downloaded", func(t *testing.T) {
		anon := newClient(t, tp.BaseURL)
		r := anon.get("/policy/" + docsFixtureCode)
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		for _, d := range newer.Documents {
			mustContain(t, r.Body, "Official document: <a href=\"/policy/"+docsFixtureCode+"/documents/"+d.Name+"\">"+d.Name+"</a>", d.SHA256)
			got := anon.get("/policy/" + docsFixtureCode + "/documents/" + d.Name)
			raw, err := os.ReadFile(docsFixtureDir + "/documents/" + d.Name)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != 200 || got.Body != string(raw) {
				t.Errorf("%s: status %d, %d bytes, want %d", d.Name, got.Status, len(got.Body), len(raw))
			}
			h := got.Header
			if h.Get("Content-Type") != d.ContentType || h.Get("X-Content-Type-Options") != "nosniff" ||
				!strings.HasPrefix(h.Get("Content-Disposition"), `attachment; filename="`+d.Name+`"`) {
				t.Errorf("%s: type %q, nosniff %q, disposition %q", d.Name, h.Get("Content-Type"), h.Get("X-Content-Type-Options"), h.Get("Content-Disposition"))
			}
		}
		mustContain(t, r.Body, "(PDF, ", "(text, ")
	})

	t.Run("with no cycle open, the newest version", func(t *testing.T) {
		hr := newClient(t, tp.BaseURL)
		hr.signIn(tp.signInLink(t, "1002"))
		hr.get("/hr/cycles")
		if r := hr.post("/hr/cycles/"+itoa(tp.cycleID(t))+"/close", nil); r.Status != 303 {
			t.Fatalf("close the cycle: status %d", r.Status)
		}
		r := zoe.get("/policy")
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		mustContain(t, r.Body, newer.SHA256, "<dd>"+docsFixtureCode+"</dd>", "Official document")
	})
}

// TestPolicyLinks: the guidance, a section, the knowledge check and the
// sign page link to the policy; the sign page names the version next to
// the intent, whose recorded text is unchanged.
func TestPolicyLinks(t *testing.T) {
	tp := startTestPortal(t)
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, "1005"))
	e := tp.employee(t, "1005")
	code := tp.Version.Code
	mustContain(t, c.get("/guidance").Body, `<a href="/policy">Read the full policy, version `+code+`</a>`, `href="/policy.pdf"`)
	mustContain(t, c.get("/guidance/"+tp.Version.ModulesFor(app.AudienceAll)[0].Slug).Body, `<a href="/policy">The full policy</a>`)
	readAll(t, tp, c, "1005")
	mustContain(t, c.get("/quiz").Body, `<a href="/policy">`+htmlEscaped(tp.Version.Title)+` policy, version `+code+`</a>`)
	passQuiz(t, tp, c, "1005")
	consent(t, c)
	r := c.get("/sign")
	mustContain(t, r.Body, `Policy version `+code+` — <a href="/policy/`+code+`">read the full policy</a>`, htmlEscaped(tp.Version.Intent))
	if r := c.post("/sign", form("typed_name", e.FullName, "intent", "yes")); r.Status != 303 {
		t.Fatalf("sign: status %d", r.Status)
	}
	if intent := tp.text(t, `SELECT intent_text FROM acknowledgments WHERE employee_id = ?`, e.ID); intent != tp.Version.Intent {
		t.Errorf("recorded intent %q, want the version's %q", intent, tp.Version.Intent)
	}
}

// TestVersionUploadWithDocuments: HR uploads a version whose bundle holds
// official documents; the version page lists them. Each bad document is
// refused with its message and publishes nothing.
func TestVersionUploadWithDocuments(t *testing.T) {
	tp := startTestPortal(t)
	hr := newClient(t, tp.BaseURL)
	hr.signIn(tp.signInLink(t, "1002"))
	pdf := []byte("%PDF-1.4\n% a stand-in\n%%EOF\n")
	bundle := func(docs map[string][]byte) []byte {
		files := map[string][]byte{}
		for k, v := range docs {
			files["bundle/documents/"+k] = v // zipDir puts the version in a folder "bundle"
		}
		return zipWithFiles(t, docsFixtureDir, files)
	}
	for _, tc := range []struct {
		name string
		docs map[string][]byte
		want string
	}{
		{"too big", map[string][]byte{"big.pdf": append(append([]byte(nil), pdf...), make([]byte, content.MaxDocumentSize)...)}, "the limit is 4 MiB per document"},
		{"forbidden type", map[string][]byte{"page.html": []byte("<script>alert(1)</script>")}, "only PDF (.pdf) and plain text (.txt)"},
		{"disguised type", map[string][]byte{"page.pdf": []byte("<script>alert(1)</script>")}, "named .pdf but is not a PDF"},
		{"path leaving the folder", map[string][]byte{"../../evil.pdf": pdf}, "to leave its folder"},
		{"nested folder", map[string][]byte{"old/x.pdf": pdf}, "a folder inside documents/"},
		{"duplicate name", map[string][]byte{"X.pdf": pdf, "x.pdf": pdf}, "the same name as X.pdf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tp.count(t, `SELECT COUNT(*) FROM policy_versions`)
			docsBefore := tp.count(t, `SELECT COUNT(*) FROM policy_documents`)
			hr.get("/hr/versions")
			r := hr.upload("/hr/versions", "bundle", "v.zip", bundle(tc.docs), nil)
			if r.Status != 422 {
				t.Fatalf("status %d, want 422", r.Status)
			}
			mustContain(t, r.Body, htmlEscaped(tc.want))
			if n := tp.count(t, `SELECT COUNT(*) FROM policy_versions`); n != before {
				t.Errorf("%d versions after the refusal, %d before", n, before)
			}
			if n := tp.count(t, `SELECT COUNT(*) FROM policy_documents`); n != docsBefore {
				t.Errorf("%d documents after the refusal, %d before", n, docsBefore)
			}
		})
	}
	t.Run("accepted", func(t *testing.T) {
		hr.get("/hr/versions")
		r := hr.upload("/hr/versions", "bundle", "v.zip", zipDir(t, docsFixtureDir), nil)
		if r.Status != 303 {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
		page := hr.get(r.Location)
		mustContain(t, page.Body, "Official documents", `href="/policy/`+docsFixtureCode+`/documents/official-policy.pdf"`, "official-policy.pdf</a> (PDF, ",
			"adoption-notice.txt</a> (text, ", `href="/policy/`+docsFixtureCode+`"`)
		if n := tp.count(t, `SELECT COUNT(*) FROM policy_documents`); n != 2 {
			t.Errorf("%d documents stored, want 2", n)
		}
	})
}

// zipWithFiles zips dir and adds files (path → content) to it.
func zipWithFiles(t *testing.T, dir string, files map[string][]byte) []byte {
	t.Helper()
	base := zipDir(t, dir)
	zr, err := zip.NewReader(bytes.NewReader(base), int64(len(base)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if strings.Contains(f.Name, "documents/") {
			continue
		}
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPolicyPageInBrowser: /policy passes axe-core on a desktop and at a
// phone's 390 px without scrolling sideways, as does a version page with
// official documents, for the anonymous visitor.
func TestPolicyPageInBrowser(t *testing.T) {
	b := newBrowser(t, true)
	tp := startTestPortal(t)
	docs := publishDocsFixture(t, tp)
	b.open(t, tp.signInLink(t, "1005"))
	b.confirmSignIn(t, "Zoë Côté")
	shows := map[string]*app.PolicyVersion{"/policy": tp.Version, "/policy/" + docsFixtureCode: docs}
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			b.do(t, "resize", chromedp.EmulateViewport(size.w, size.h))
			for _, path := range []string{"/policy", "/policy/" + docsFixtureCode} {
				if st := b.open(t, tp.BaseURL+path); st != 200 {
					b.fatalf(t, "%s: status %d", path, st)
				}
				b.wantText(t, path, shows[path].Title, policyHeadings(shows[path])[0], shows[path].SHA256)
				if over := evalJS[int](t, b, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
					t.Errorf("%s at %dpx: the page scrolls sideways by %dpx", path, size.w, over)
				}
				b.axe(t, path+" "+size.name)
			}
		})
	}
	t.Run("printed", func(t *testing.T) {
		b.open(t, tp.BaseURL+"/policy/"+docsFixtureCode)
		b.do(t, "emulate print", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
			return err
		}))
		for sel, want := range map[string]string{"header.site": "none", "footer.site": "none", "p.policy-actions": "none", "main": "block"} {
			if got := evalJS[string](t, b, `getComputedStyle(document.querySelector(`+strconv.Quote(sel)+`)).display`); got != want {
				t.Errorf("printed, %s has display %q, want %q", sel, got, want)
			}
		}
		if got := evalJS[string](t, b, `getComputedStyle(document.body).color + " on " + getComputedStyle(document.body).backgroundColor`); got != "rgb(0, 0, 0) on rgb(255, 255, 255)" {
			t.Errorf("printed text is %s, want black on white", got)
		}
		if got := evalJS[string](t, b, `getComputedStyle(document.querySelector(".documents a"), "::after").content`); !strings.Contains(got, "/policy/"+docsFixtureCode+"/documents/") {
			t.Errorf("a printed link does not show its address: ::after is %s", got)
		}
		b.do(t, "back to the screen", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
			return err
		}))
	})
	t.Run("HR's page of a version with documents", func(t *testing.T) {
		hr := b.incognito(t)
		hr.open(t, tp.signInLink(t, "1002"))
		hr.confirmSignIn(t, "Hannah Roy")
		if st := hr.open(t, tp.BaseURL+"/hr/versions/"+itoa(int64(tp.count(t, `SELECT id FROM policy_versions WHERE code = ?`, docsFixtureCode)))); st != 200 {
			hr.fatalf(t, "version page: status %d", st)
		}
		hr.wantText(t, "version page", "Official documents", "official-policy.pdf", "adoption-notice.txt")
		hr.axe(t, "HR version page with documents")
	})
}

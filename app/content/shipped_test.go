package content_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/text/unicode/norm"

	"portal/app"
	"portal/app/content"
	"portal/data"
)

const shippedDir = "policies/2026.1"

// disclaimer is the wording the employee policy requires, quoted exactly.
const disclaimer = "The information on this site is not posted on behalf of the State of Maine"

func loadShipped(t *testing.T) *app.PolicyVersion {
	t.Helper()
	v, err := content.LoadVersion(data.FS, shippedDir)
	if err != nil {
		t.Fatalf("LoadVersion(%s): %v", shippedDir, err)
	}
	return v
}

// questionsFor returns the questions on the modules of a part.
func questionsFor(v *app.PolicyVersion, part string) []app.Question {
	read := map[string]bool{}
	for _, m := range v.ModulesFor(part) {
		read[m.Slug] = true
	}
	var out []app.Question
	for _, q := range v.Questions {
		if read[q.Module] {
			out = append(out, q)
		}
	}
	return out
}

func TestShippedVersion(t *testing.T) {
	v := loadShipped(t)

	t.Run("front matter is read", func(t *testing.T) {
		if v.Code != "2026.1" || v.Title != "Personal Use of Social Media" || v.Kind != app.KindMaterial || v.Effective != "2026-01-01" {
			t.Errorf("got code %q title %q kind %q effective %q", v.Code, v.Title, v.Kind, v.Effective)
		}
		if !strings.HasPrefix(v.Intent, "I have read and understand") {
			t.Errorf("intent = %q", v.Intent)
		}
		if v.Changes == "" || v.PolicyText == "" {
			t.Error("changes or policy text is empty")
		}
		if len(v.SHA256) != 64 || v.ID != 0 || !v.PublishedAt.IsZero() {
			t.Errorf("SHA256 %q, ID %d, PublishedAt %v", v.SHA256, v.ID, v.PublishedAt)
		}
	})

	t.Run("the annual check has at least 8 questions and no posters module", func(t *testing.T) {
		for _, m := range v.ModulesFor(app.AudienceAll) {
			if m.Audience != app.AudienceAll {
				t.Errorf("the annual part has module %s (audience %s)", m.Slug, m.Audience)
			}
		}
		if n := len(questionsFor(v, app.AudienceAll)); n < 8 {
			t.Errorf("the annual part has %d questions, want at least 8", n)
		}
	})

	t.Run("the posters' part is the agency-use module and its questions", func(t *testing.T) {
		all, posters := v.ModulesFor(app.AudienceAll), v.ModulesFor(app.AudiencePosters)
		if len(all)+len(posters) != len(v.Modules) || len(posters) == 0 {
			t.Errorf("parts of %d and %d modules, of %d", len(all), len(posters), len(v.Modules))
		}
		if p := len(questionsFor(v, app.AudiencePosters)); p < 2 {
			t.Errorf("the posters' part has %d questions: want at least 2", p)
		}
	})

	t.Run("every answer is among its options", func(t *testing.T) {
		keys := map[string]int{}
		for _, q := range v.Questions {
			found := false
			for _, o := range q.Options {
				found = found || o.Key == q.Answer
			}
			if !found {
				t.Errorf("question %s: answer %q is not an option", q.ID, q.Answer)
			}
			if len(q.Options) < 3 || len(q.Options) > 4 {
				t.Errorf("question %s has %d options, want 3 or 4", q.ID, len(q.Options))
			}
			keys[q.Answer]++
		}
		if len(keys) < 3 {
			t.Errorf("right answers use keys %v: vary them", keys)
		}
	})

	t.Run("every required module is there", func(t *testing.T) {
		for _, slug := range []string{"personal-use-at-work", "off-duty-use", "separate-identities", "disclaimer",
			"state-email", "confidentiality", "other-policies", "your-rights", "agency-use"} {
			if v.Module(slug) == nil {
				t.Errorf("no module %s", slug)
			}
		}
		if m := v.Module("agency-use"); m != nil && m.Audience != app.AudiencePosters {
			t.Errorf("agency-use audience = %s", m.Audience)
		}
	})

	t.Run("the disclaimer module quotes the exact sentence with a copy-ready line", func(t *testing.T) {
		m := v.Module("disclaimer")
		if m == nil {
			t.Fatal("no disclaimer module")
		}
		if !strings.Contains(m.Body, disclaimer) {
			t.Errorf("disclaimer module lacks %q", disclaimer)
		}
		fence := regexp.MustCompile("(?s)```[^\n]*\n[^`]*" + regexp.QuoteMeta(disclaimer) + "[^`]*```")
		if !fence.MatchString(m.Body) {
			t.Error("disclaimer module has no fenced code block with the sentence")
		}
		if !strings.Contains(v.PolicyText, disclaimer) {
			t.Error("policy text lacks the disclaimer sentence")
		}
	})

	t.Run("every body renders", func(t *testing.T) {
		r := content.NewRenderer()
		bodies := []string{v.PolicyText, v.Changes}
		for _, m := range v.Modules {
			bodies = append(bodies, m.Body)
		}
		for _, q := range v.Questions {
			bodies = append(bodies, q.Prompt)
		}
		for _, b := range bodies {
			html, err := r.Markdown(b)
			if err != nil || html == "" {
				t.Errorf("Markdown: %q, %v", html, err)
			}
		}
	})

	t.Run("the hash is stable across loads", func(t *testing.T) {
		again := loadShipped(t)
		if again.SHA256 != v.SHA256 {
			t.Errorf("second load hash %s, first %s", again.SHA256, v.SHA256)
		}
		if content.VersionSHA256(v) != v.SHA256 {
			t.Error("VersionSHA256 differs from the loaded SHA256")
		}
	})

	t.Run("CRLF and NFD copies hash the same", func(t *testing.T) {
		crlf, nfd := fstest.MapFS{}, fstest.MapFS{}
		err := fs.WalkDir(data.FS, shippedDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(data.FS, p)
			crlf[p] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(string(b), "\n", "\r\n"))}
			nfd[p] = &fstest.MapFile{Data: norm.NFD.Bytes(b)}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for name, fsys := range map[string]fs.FS{"CRLF": crlf, "NFD": nfd} {
			w, err := content.LoadVersion(fsys, shippedDir)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if w.SHA256 != v.SHA256 {
				t.Errorf("%s copy hashes %s, want %s", name, w.SHA256, v.SHA256)
			}
		}
	})
}

func TestShippedConsent(t *testing.T) {
	c, err := content.LoadConsent(data.FS, "consent/2026-1.md")
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != "2026-1" || c.Title == "" || len(c.SHA256) != 64 {
		t.Errorf("got version %q title %q SHA256 %q", c.Version, c.Title, c.SHA256)
	}
	for _, want := range []string{"paper copy", "no charge", "withdraw", "PDF reader", "browser", "download"} {
		if !strings.Contains(c.Body, want) {
			t.Errorf("consent notice does not mention %q", want)
		}
	}
	if content.ConsentSHA256(c) != c.SHA256 {
		t.Error("ConsentSHA256 differs from the loaded SHA256")
	}
}

package content_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/text/unicode/norm"

	"portal/app"
	"portal/app/content"
)

// fixture returns a small valid version in folder "v" and a consent notice.
func fixture() fstest.MapFS {
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	return fstest.MapFS{
		"v/policy.md": f("---\ncode: 1.0\ntitle: Café rules\nkind: material\neffective: 2026-01-01\n" +
			"intent: I agree to the café rules.\n---\n## Rules\n\nBe kind at the café.\n"),
		"v/changes.md":        f("First version.\n"),
		"v/modules/01-one.md": f("---\ntitle: One\naudience: all\nminutes: 2\n---\n## Part\n\nRésumé text.\n"),
		"v/modules/02-two.md": f("---\ntitle: Two\naudience: posters\nminutes: 3\n---\nPosters only.\n"),
		"v/questions/01-q1.md": f("---\nid: q1\nmodule: one\nanswer: b\n---\nWhat now?\n\n" +
			"## Options\n- a: Wrong\n- b: Right\n- c: Also wrong\n"),
		"v/questions/02-q2.md": f("---\nid: q2\nmodule: two\nanswer: a\n---\nAnd then?\n\n## Options\n- a: Yes\n- b: No\n"),
		"consent/1.md":         f("---\nversion: 1\ntitle: Consent\n---\nYou may ask for paper.\n"),
	}
}

func TestLoadVersionFixture(t *testing.T) {
	v, err := content.LoadVersion(fixture(), "v")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Modules) != 2 || v.Modules[0].Slug != "one" || v.Modules[1].Minutes != 3 {
		t.Errorf("modules: %+v", v.Modules)
	}
	q := v.Questions[0]
	if q.ID != "q1" || q.Prompt != "What now?" || len(q.Options) != 3 || q.Options[1] != (app.Option{Key: "b", Text: "Right"}) {
		t.Errorf("question: %+v", q)
	}
}

func TestLoadVersionErrors(t *testing.T) {
	cases := []struct {
		name    string
		file    string // the file the error must name
		content string // its new content; "" removes it
		want    string // part of the message
	}{
		{"missing front matter", "v/modules/01-one.md", "## Part\n\nText.\n", "missing front matter"},
		{"unclosed front matter", "v/modules/01-one.md", "---\ntitle: One\n", "not closed"},
		{"unknown audience", "v/modules/01-one.md", "---\ntitle: One\naudience: everyone\nminutes: 2\n---\nText.\n", `audience "everyone"`},
		{"bad minutes", "v/modules/01-one.md", "---\ntitle: One\naudience: all\nminutes: two\n---\nText.\n", `minutes "two"`},
		{"unknown key", "v/modules/01-one.md", "---\ntitle: One\naudiance: all\nminutes: 2\n---\nText.\n", `unknown key "audiance"`},
		{"level-1 heading", "v/modules/01-one.md", "---\ntitle: One\naudience: all\nminutes: 2\n---\n# Big\n\nText.\n", "level 1"},
		{"answer not among options", "v/questions/01-q1.md", "---\nid: q1\nmodule: one\nanswer: e\n---\nWhat?\n\n## Options\n- a: A\n- b: B\n", `answer "e"`},
		{"duplicate option key", "v/questions/01-q1.md", "---\nid: q1\nmodule: one\nanswer: a\n---\nWhat?\n\n## Options\n- a: A\n- a: B\n", `"a" is used twice`},
		{"one option", "v/questions/01-q1.md", "---\nid: q1\nmodule: one\nanswer: a\n---\nWhat?\n\n## Options\n- a: A\n", "at least 2"},
		{"no options line", "v/questions/01-q1.md", "---\nid: q1\nmodule: one\nanswer: a\n---\nWhat?\n- a: A\n- b: B\n", "## Options"},
		{"unknown module", "v/questions/01-q1.md", "---\nid: q1\nmodule: nine\nanswer: a\n---\nWhat?\n\n## Options\n- a: A\n- b: B\n", `module "nine"`},
		{"duplicate question id", "v/questions/03-q1.md", "---\nid: q1\nmodule: one\nanswer: a\n---\nWhat?\n\n## Options\n- a: A\n- b: B\n", `id "q1" is also used`},
		{"id differs from file name", "v/questions/01-q1.md", "---\nid: q9\nmodule: one\nanswer: a\n---\nWhat?\n\n## Options\n- a: A\n- b: B\n", `id "q9"`},
		{"duplicate slug", "v/modules/05-one.md", "---\ntitle: Again\naudience: all\nminutes: 2\n---\nText.\n", `slug "one" is also used`},
		{"badly named file", "v/modules/One.md", "---\ntitle: One\naudience: all\nminutes: 2\n---\nText.\n", "NN-name.md"},
		{"bad kind", "v/policy.md", "---\ncode: 1.0\ntitle: T\nkind: major\neffective: 2026-01-01\nintent: I agree.\n---\nText.\n", `kind "major"`},
		{"bad date", "v/policy.md", "---\ncode: 1.0\ntitle: T\nkind: minor\neffective: 1/1/2026\nintent: I agree.\n---\nText.\n", `effective "1/1/2026"`},
		{"empty intent", "v/policy.md", "---\ncode: 1.0\ntitle: T\nkind: minor\neffective: 2026-01-01\nintent:\n---\nText.\n", `"intent" is missing or empty`},
		{"missing policy", "v/policy.md", "", "missing"},
		{"not UTF-8", "v/changes.md", "\xff\xfe", "UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fixture()
			if tc.content == "" {
				delete(fsys, tc.file)
			} else {
				fsys[tc.file] = &fstest.MapFile{Data: []byte(tc.content)}
			}
			v, err := content.LoadVersion(fsys, "v")
			if err == nil {
				t.Fatalf("no error; loaded %s", v.SHA256)
			}
			if app.ErrorCode(err) != app.EINVALID {
				t.Errorf("code %s, want %s", app.ErrorCode(err), app.EINVALID)
			}
			msg := app.ErrorMessage(err)
			if !strings.Contains(msg, tc.file+":") || !strings.Contains(msg, tc.want) {
				t.Errorf("message does not name %s with %q:\n%s", tc.file, tc.want, msg)
			}
		})
	}
}

func TestLoadConsentErrors(t *testing.T) {
	fsys := fixture()
	c, err := content.LoadConsent(fsys, "consent/1.md")
	if err != nil || c.Version != "1" || c.Body != "You may ask for paper." {
		t.Fatalf("LoadConsent: %+v, %v", c, err)
	}
	fsys["consent/1.md"] = &fstest.MapFile{Data: []byte("---\nversion: 1\n---\nText.\n")}
	if _, err := content.LoadConsent(fsys, "consent/1.md"); err == nil || !strings.Contains(err.Error(), `consent/1.md: front matter key "title"`) {
		t.Errorf("missing title: %v", err)
	}
}

func TestHashNormalisesInput(t *testing.T) {
	want, err := content.LoadVersion(fixture(), "v")
	if err != nil {
		t.Fatal(err)
	}
	for name, conv := range map[string]func(string) string{
		"CRLF":    func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") },
		"CR":      func(s string) string { return strings.ReplaceAll(s, "\n", "\r") },
		"NFD":     norm.NFD.String,
		"BOM+NFD": func(s string) string { return "\ufeff" + norm.NFD.String(s) },
	} {
		fsys := fixture()
		for _, f := range fsys {
			f.Data = []byte(conv(string(f.Data)))
		}
		if name == "NFD" && string(fsys["v/policy.md"].Data) == string(fixture()["v/policy.md"].Data) {
			t.Fatal("the fixture has no accents to decompose")
		}
		got, err := content.LoadVersion(fsys, "v")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.SHA256 != want.SHA256 || got.Title != want.Title {
			t.Errorf("%s: hash %s title %q, want %s %q", name, got.SHA256, got.Title, want.SHA256, want.Title)
		}
	}
}

func TestCanonicalChangesWithEveryField(t *testing.T) {
	base, err := content.LoadVersion(fixture(), "v")
	if err != nil {
		t.Fatal(err)
	}
	edits := map[string]func(v *app.PolicyVersion){
		"code":            func(v *app.PolicyVersion) { v.Code += "x" },
		"title":           func(v *app.PolicyVersion) { v.Title += "x" },
		"kind":            func(v *app.PolicyVersion) { v.Kind = app.KindMinor },
		"effective":       func(v *app.PolicyVersion) { v.Effective = "2026-01-02" },
		"changes":         func(v *app.PolicyVersion) { v.Changes += "x" },
		"policy text":     func(v *app.PolicyVersion) { v.PolicyText += "x" },
		"intent":          func(v *app.PolicyVersion) { v.Intent += "x" },
		"module slug":     func(v *app.PolicyVersion) { v.Modules[0].Slug += "x" },
		"module title":    func(v *app.PolicyVersion) { v.Modules[0].Title += "x" },
		"module audience": func(v *app.PolicyVersion) { v.Modules[0].Audience = app.AudiencePosters },
		"module minutes":  func(v *app.PolicyVersion) { v.Modules[0].Minutes++ },
		"module body":     func(v *app.PolicyVersion) { v.Modules[1].Body += "x" },
		"module order":    func(v *app.PolicyVersion) { v.Modules[0], v.Modules[1] = v.Modules[1], v.Modules[0] },
		"module dropped":  func(v *app.PolicyVersion) { v.Modules = v.Modules[:1] },
		"question id":     func(v *app.PolicyVersion) { v.Questions[0].ID += "x" },
		"question module": func(v *app.PolicyVersion) { v.Questions[0].Module = "two" },
		"question prompt": func(v *app.PolicyVersion) { v.Questions[0].Prompt += "x" },
		"question answer": func(v *app.PolicyVersion) { v.Questions[0].Answer = "a" },
		"question order":  func(v *app.PolicyVersion) { v.Questions[0], v.Questions[1] = v.Questions[1], v.Questions[0] },
		"option key":      func(v *app.PolicyVersion) { v.Questions[0].Options[2].Key = "d" },
		"option text":     func(v *app.PolicyVersion) { v.Questions[1].Options[0].Text += "x" },
		"option dropped":  func(v *app.PolicyVersion) { v.Questions[0].Options = v.Questions[0].Options[:2] },
		// Moving bytes from one field to the next must not give the same form.
		"field boundary": func(v *app.PolicyVersion) { v.Title, v.Kind = v.Title+v.Kind[:1], v.Kind[1:] },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			v, err := content.LoadVersion(fixture(), "v")
			if err != nil {
				t.Fatal(err)
			}
			edit(v)
			if got := content.VersionSHA256(v); got == base.SHA256 {
				t.Errorf("hash unchanged after editing %s", name)
			}
		})
	}
	t.Run("ID, SHA256 and PublishedAt are not covered", func(t *testing.T) {
		v := *base
		v.ID, v.SHA256 = 7, "other"
		v.PublishedAt = v.PublishedAt.AddDate(1, 0, 0)
		if content.VersionSHA256(&v) != base.SHA256 {
			t.Error("hash changed")
		}
	})
}

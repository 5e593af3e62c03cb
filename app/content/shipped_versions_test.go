package content_test

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"portal/app"
	"portal/app/content"
	"portal/data"
)

// shippedHashes pins the SHA-256 of every shipped version. A published
// version is immutable: its hash is in the evidence of every signature on
// it, so changing a shipped folder must fail here. Ship a new version instead.
var shippedHashes = map[string]string{
	"2026.1": "200da542fd2d46193c0c583896f4ce11d2018a85d9e918f89d0e01cc33b79a17",
	"2026.2": "f93539f99ca409132b587e33e4e3604aac1a2ea29090d79add416a124f804bbe",
}

func TestShippedVersionsArePinned(t *testing.T) {
	vs, err := content.LoadShipped(data.FS, "policies")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, v := range vs {
		codes = append(codes, v.Code)
		if want, ok := shippedHashes[v.Code]; !ok {
			t.Errorf("version %s is shipped but its hash is not pinned here: add %s", v.Code, v.SHA256)
		} else if v.SHA256 != want {
			t.Errorf("version %s hashes %s, pinned %s: a published version must not change; ship a new one", v.Code, v.SHA256, want)
		}
	}
	if !slices.Equal(codes, []string{"2026.1", "2026.2"}) {
		t.Errorf("shipped versions in publishing order: %v, want 2026.1 then 2026.2", codes)
	}
}

func TestCompareCodes(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"2026.1", "2026.2", -1}, {"2026.2", "2026.10", -1}, {"2026.2", "2026.2.1", -1},
		{"2027.1", "2026.9", 1}, {"2026.2", "2026.2", 0}, {"2026-1", "2026.1", 0},
	} {
		got := content.CompareCodes(c.a, c.b)
		if (got < 0) != (c.want < 0) || (got > 0) != (c.want > 0) {
			t.Errorf("CompareCodes(%q, %q) = %d, want the sign of %d", c.a, c.b, got, c.want)
		}
	}
}

// TestVersion2026_2Wording checks the corrections 2026.2 was made for, so
// that a later version cannot quietly bring the old wording back.
func TestVersion2026_2Wording(t *testing.T) {
	v, err := content.LoadVersion(data.FS, "policies/2026.2")
	if err != nil {
		t.Fatal(err)
	}
	module := func(slug string) *app.Module {
		t.Helper()
		m := v.Module(slug)
		if m == nil {
			t.Fatalf("no module %s", slug)
		}
		return m
	}
	if v.Kind != app.KindMaterial || !strings.Contains(v.Changes, "2026.1") {
		t.Errorf("kind %s; the changes must say what changed since 2026.1: %q", v.Kind, v.Changes)
	}

	t.Run("off-duty speech is subject to First Amendment protections, with their conditions", func(t *testing.T) {
		for name, text := range map[string]string{"policy.md": v.PolicyText, "off-duty-use": module("off-duty-use").Body} {
			if strings.Contains(text, "protected by the First Amendment") {
				t.Errorf("%s still says speech is protected by the First Amendment outright", name)
			}
			for _, want := range []string{"subject to First Amendment protections", "citizen", "public concern", "weighed against"} {
				if !strings.Contains(text, want) {
					t.Errorf("%s lacks %q", name, want)
				}
			}
		}
	})

	t.Run("confidential means confidential under law or agency policy", func(t *testing.T) {
		m := module("confidentiality")
		for _, want := range []string{"confidential under law or agency policy", "Freedom of Access Act"} {
			if !strings.Contains(m.Body, want) {
				t.Errorf("confidentiality module lacks %q", want)
			}
		}
		for _, wider := range []string{"not public yet", "system names"} {
			if strings.Contains(m.Body, wider) {
				t.Errorf("confidentiality module still widens confidential with %q", wider)
			}
		}
	})

	t.Run("the disclaimer is what employees should add, quoted exactly", func(t *testing.T) {
		m := module("disclaimer")
		if !strings.Contains(m.Body, "> "+disclaimer+"\n") || !strings.Contains(v.PolicyText, "> "+disclaimer+"\n") {
			t.Error("the disclaimer sentence is not quoted on a line of its own")
		}
		if !strings.Contains(m.Body, "should") || strings.Contains(m.Body, "you need") || strings.Contains(m.Body, "required") {
			t.Error("the disclaimer module must use the policy's should, not need or required")
		}
	})

	t.Run("posters have at least three modules of their own", func(t *testing.T) {
		var posters []string
		for _, m := range v.Modules {
			if m.Audience == app.AudiencePosters {
				posters = append(posters, m.Body)
			}
		}
		if len(posters) < 3 {
			t.Fatalf("%d posters-only modules, want at least 3", len(posters))
		}
		all := strings.Join(posters, "\n")
		for _, want := range []string{"two-step sign-in", "Never share your password", "leaves", "hijacked",
			"Information Technology Security Policy", "comments you later remove", "direct messages", "Terms of Comment", "opinion it expresses"} {
			if !strings.Contains(all, want) {
				t.Errorf("the posters' modules do not cover %q", want)
			}
		}
	})

	t.Run("questions about posting for the agency are shown to posters only", func(t *testing.T) {
		for _, q := range v.Questions {
			m := v.Module(q.Module)
			if m != nil && m.Audience == app.AudienceAll && strings.Contains(q.Prompt, "authorized to post") {
				t.Errorf("question %s is a poster scenario in module %s, shown to everyone", q.ID, m.Slug)
			}
		}
		if q := v.Module("speaking-for-your-agency"); q == nil || q.Audience != app.AudiencePosters {
			t.Error("no posters-only module speaking-for-your-agency")
		}
	})
}

// TestLoadShippedRefusesAMisnamedFolder: the folder name is the code the
// portal is configured with (PORTAL_POLICY_VERSION), so a folder whose
// policy.md says another code is refused rather than published under it.
func TestLoadShippedRefusesAMisnamedFolder(t *testing.T) {
	fsys := fstest.MapFS{}
	err := fs.WalkDir(data.FS, "policies/2026.2", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(data.FS, p)
		fsys[strings.Replace(p, "policies/2026.2", "policies/2030.1", 1)] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if vs, err := content.LoadShipped(fsys, "policies"); err == nil || !strings.Contains(err.Error(), "says code 2026.2") {
		t.Fatalf("LoadShipped: %d versions, error %v; want the misnamed folder refused", len(vs), err)
	}
}

// TestEveryShippedVersionRenders renders every body of every shipped
// version, and checks that only posters get the posters' modules.
func TestEveryShippedVersionRenders(t *testing.T) {
	vs, err := content.LoadShipped(data.FS, "policies")
	if err != nil {
		t.Fatal(err)
	}
	r := content.NewRenderer()
	for _, v := range vs {
		bodies := []string{v.PolicyText, v.Changes}
		for _, m := range v.Modules {
			bodies = append(bodies, m.Body)
		}
		for _, q := range v.Questions {
			bodies = append(bodies, q.Prompt)
		}
		for _, b := range bodies {
			if html, err := r.Markdown(b); err != nil || html == "" {
				t.Errorf("%s: Markdown gave %q, %v", v.Code, html, err)
			}
		}
		for _, m := range v.ModulesFor(app.AudienceAll) {
			if m.Audience != app.AudienceAll {
				t.Errorf("%s: the annual part has %s", v.Code, m.Slug)
			}
		}
		if n := len(v.ModulesFor(app.AudienceAll)) + len(v.ModulesFor(app.AudiencePosters)); n != len(v.Modules) {
			t.Errorf("%s: the two parts have %d of %d modules", v.Code, n, len(v.Modules))
		}
	}
}

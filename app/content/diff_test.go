package content_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"portal/app"
	"portal/app/content"
	"portal/data"
)

// loadVersion loads a shipped version folder of data.FS.
func loadVersion(t *testing.T, dir string) *app.PolicyVersion {
	t.Helper()
	v, err := content.LoadVersion(data.FS, dir)
	if err != nil {
		t.Fatalf("LoadVersion(%s): %v", dir, err)
	}
	return v
}

func loadTestdata(t *testing.T, dir string) *app.PolicyVersion {
	t.Helper()
	v, err := content.LoadVersion(os.DirFS("testdata"), dir)
	if err != nil {
		t.Fatalf("LoadVersion(testdata/%s): %v", dir, err)
	}
	return v
}

// ops returns the diff lines as "op:start of text" strings, or "skip:N" for
// a collapsed run, so a whole diff can be compared at a glance.
func ops(lines []content.DiffLine) []string {
	var out []string
	for _, l := range lines {
		if l.Skipped > 0 {
			out = append(out, fmt.Sprintf("skip:%d", l.Skipped))
			continue
		}
		text, _, _ := strings.Cut(l.Text, "\n")
		out = append(out, l.Op+":"+text[:min(len(text), 30)])
	}
	return out
}

func TestDiffMaterialVersion(t *testing.T) {
	// The fixture is shipped 2026.2 with two changes.
	old, next := loadVersion(t, "policies/2026.2"), loadTestdata(t, "2099.1")
	if next.Code != "2099.1" || next.Kind != app.KindMaterial || next.Intent != old.Intent {
		t.Fatalf("fixture: code %s kind %s, intent changed %v", next.Code, next.Kind, next.Intent != old.Intent)
	}
	changes := content.Diff(old, next)
	if len(changes) != 2 {
		t.Fatalf("got %d changes, want 2: %+v", len(changes), changes)
	}

	t.Run("a reworded paragraph is removed then added", func(t *testing.T) {
		c := changes[0]
		if c.Kind != content.ChangeModule || c.Slug != "separate-identities" || c.Status != content.StatusChanged ||
			c.Title != "Separate identities" || c.OldTitle != "" || c.Audience != app.AudienceAll {
			t.Fatalf("got %+v", c)
		}
		want := []string{"skip:3", "same:- **Your personal account** be", "removed:Never mix the two. Do not use ",
			"added:Keep the two apart. One accoun", "same:## Why it matters", "skip:4"}
		if got := ops(c.Lines); !slices.Equal(got, want) {
			t.Errorf("lines\n got %q\nwant %q", got, want)
		}
	})

	t.Run("an added paragraph is added with context", func(t *testing.T) {
		c := changes[1]
		if c.Kind != content.ChangeModule || c.Slug != "confidentiality" || c.Status != content.StatusChanged {
			t.Fatalf("got %+v", c)
		}
		want := []string{"skip:5", "same:If you are not sure whether so", "added:The duty does not end when you", "same:## Watch for hidden leaks", "skip:3"}
		if got := ops(c.Lines); !slices.Equal(got, want) {
			t.Errorf("lines\n got %q\nwant %q", got, want)
		}
		if l := c.Lines[2]; !strings.HasSuffix(l.Text, "stays confidential afterwards.") {
			t.Errorf("added paragraph %q", l.Text)
		}
	})

	t.Run("the reverse diff removes what was added", func(t *testing.T) {
		back := content.Diff(next, old)
		if len(back) != 2 || back[1].Lines[2].Op != content.OpRemoved {
			t.Errorf("got %+v", back)
		}
	})
}

func TestDiffMinorVersion(t *testing.T) {
	old, fixed := loadShipped(t), loadTestdata(t, "2026.1-typo")
	if fixed.Code != "2026.1.1" || fixed.Kind != app.KindMinor {
		t.Fatalf("fixture: code %s kind %s", fixed.Code, fixed.Kind)
	}
	changes := content.Diff(old, fixed)
	if len(changes) != 1 {
		t.Fatalf("got %d changes, want 1: %+v", len(changes), changes)
	}
	c := changes[0]
	if c.Kind != content.ChangePolicy || c.Status != content.StatusChanged || c.Title != old.Title {
		t.Errorf("got %+v", c)
	}
	want := []string{"skip:4", "same:## Using social media at work", "removed:This covers personal posting, ",
		"added:This covers personal posting, ", "same:- Personal use at work must be", "skip:21"}
	if got := ops(c.Lines); !slices.Equal(got, want) {
		t.Errorf("lines\n got %q\nwant %q", got, want)
	}
	if !strings.Contains(c.Lines[2].Text, "that is not part") || !strings.Contains(c.Lines[3].Text, "that are not part") {
		t.Errorf("typo lines %q / %q", c.Lines[2].Text, c.Lines[3].Text)
	}
}

func TestDiffIdenticalIsNil(t *testing.T) {
	v := loadShipped(t)
	if got := content.Diff(v, loadShipped(t)); got != nil {
		t.Errorf("got %+v", got)
	}
	// Code, kind, date, changes note and questions are not compared.
	w := *loadShipped(t)
	w.Code, w.Kind, w.Effective, w.Changes = "9", app.KindMinor, "2030-01-01", "Other."
	w.Questions = w.Questions[:1]
	if got := content.Diff(v, &w); got != nil {
		t.Errorf("got %+v", got)
	}
}

func TestDiffModulesAddedRemovedRenamed(t *testing.T) {
	old := loadShipped(t)
	next := loadShipped(t)
	next.Modules = slices.DeleteFunc(next.Modules, func(m app.Module) bool { return m.Slug == "state-email" })
	next.Modules = append(next.Modules, app.Module{Slug: "ai-tools", Title: "AI tools", Audience: app.AudienceAll, Minutes: 2,
		Body: "## The short version\n\nDo not paste confidential text into AI tools.\n\n```\na fence\n\nwith a blank line\n```"})
	next.Module("your-rights").Title = "Your rights at work"
	next.Intent = "I have read the policy."

	changes := content.Diff(old, next)
	var got []string
	for _, c := range changes {
		got = append(got, c.Kind+" "+c.Slug+" "+c.Status)
	}
	want := []string{"intent  changed", "module your-rights changed", "module ai-tools added", "module state-email removed"}
	if !slices.Equal(got, want) {
		t.Fatalf("changes\n got %q\nwant %q", got, want)
	}

	t.Run("the intent sentence is replaced", func(t *testing.T) {
		if w := []string{"removed:" + old.Intent[:30], "added:I have read the policy."}; !slices.Equal(ops(changes[0].Lines), w) {
			t.Errorf("got %q", ops(changes[0].Lines))
		}
	})
	t.Run("a new title alone is a change", func(t *testing.T) {
		c := changes[1]
		if c.Title != "Your rights at work" || c.OldTitle != "Your rights" || !slices.Equal(ops(c.Lines), []string{"skip:9"}) {
			t.Errorf("got %+v, lines %q", c, ops(c.Lines))
		}
	})
	t.Run("an added module is all added, fenced code kept whole", func(t *testing.T) {
		c := changes[2]
		if c.Title != "AI tools" || len(c.Lines) != 3 || c.Lines[2] != (content.DiffLine{Op: content.OpAdded, Text: "```\na fence\n\nwith a blank line\n```"}) {
			t.Errorf("got %+v", c)
		}
	})
	t.Run("a removed module is all removed, with its old title", func(t *testing.T) {
		c := changes[3]
		if c.Title != "No state e-mail for personal accounts" || len(c.Lines) == 0 {
			t.Fatalf("got %+v", c)
		}
		for _, l := range c.Lines {
			if l.Op != content.OpRemoved || l.Skipped != 0 {
				t.Errorf("line %+v", l)
			}
		}
	})
}

func TestDiffLargeInputFallsBack(t *testing.T) {
	// 2100 × 2100 paragraphs exceeds the LCS bound; the diff is then
	// everything removed, then everything added, apart from the common
	// first and last paragraph.
	var a, b []string
	for i := range 2100 {
		a = append(a, fmt.Sprintf("old %d", i))
		b = append(b, fmt.Sprintf("new %d", i))
	}
	old := &app.PolicyVersion{PolicyText: "Top.\n\n" + strings.Join(a, "\n\n") + "\n\nEnd."}
	next := &app.PolicyVersion{PolicyText: "Top.\n\n" + strings.Join(b, "\n\n") + "\n\nEnd."}
	c := content.Diff(old, next)
	if len(c) != 1 || len(c[0].Lines) != 4202 {
		t.Fatalf("got %d changes", len(c))
	}
	l := c[0].Lines
	if l[0].Text != "Top." || l[1].Text != "old 0" || l[2100].Text != "old 2099" || l[2101].Text != "new 0" || l[4201].Text != "End." {
		t.Errorf("got %+v … %+v", l[:3], l[len(l)-3:])
	}
}

package app

import (
	"testing"
	"time"
)

func TestParseSort(t *testing.T) {
	for _, c := range []struct {
		in       string
		key      string
		desc, ok bool
	}{
		{"", SortDue, false, true},
		{"name", SortName, false, true},
		{"-name", SortName, true, true},
		{"status", SortStatus, false, true},
		{"-status", SortStatus, true, true},
		{"due", SortDue, false, true},
		{"-due", SortDue, true, true},
		{"--name", "", false, false},
		{"-", "", false, false},
		{"Name", "", false, false},
		{"full_name", "", false, false},
		{"name; DROP TABLE employees", "", false, false},
	} {
		key, desc, ok := ParseSort(c.in)
		if key != c.key || desc != c.desc || ok != c.ok {
			t.Errorf("ParseSort(%q) = %q, %v, %v; want %q, %v, %v", c.in, key, desc, ok, c.key, c.desc, c.ok)
		}
	}
}

// TestMemberProgress: the sections counted are those the person must read,
// for the annual acknowledgment (the same for a poster), and a read
// section that is not theirs (or no longer in the version) does not count.
func TestMemberProgress(t *testing.T) {
	v := &PolicyVersion{Modules: []Module{{Slug: "a", Audience: AudienceAll}, {Slug: "b", Audience: AudienceAll}, {Slug: "agency", Audience: AudiencePosters}}}
	read := map[string]bool{"a": true, "agency": true, "gone": true}
	plain := &MemberProgress{Read: read}
	poster := &MemberProgress{Read: read, Roles: []Role{RolePoster}}
	if plain.SectionsRead(v) != 1 || plain.SectionsTotal(v) != 2 {
		t.Errorf("employee: %d of %d", plain.SectionsRead(v), plain.SectionsTotal(v))
	}
	// The team page is about the annual acknowledgment: a poster reads the
	// same sections for it as anyone.
	if poster.SectionsRead(v) != 1 || poster.SectionsTotal(v) != 2 {
		t.Errorf("poster: %d of %d", poster.SectionsRead(v), poster.SectionsTotal(v))
	}
	for _, e := range []*Employee{{}, {Roles: []Role{RolePoster}}} {
		p := &MemberProgress{Read: read, Roles: e.Roles}
		if len(v.ModulesFor(AudienceAll)) != p.SectionsTotal(v) {
			t.Errorf("roles %v: %d sections, the home page's rule says %d", e.Roles, p.SectionsTotal(v), len(v.ModulesFor(AudienceAll)))
		}
	}
}

func TestDayStart(t *testing.T) {
	ny := time.FixedZone("EST", -5*3600)
	// 02:30 UTC on March 2 is still March 1 five hours west.
	got := DayStart(time.Date(2026, 3, 2, 2, 30, 0, 0, time.UTC), ny)
	if want := time.Date(2026, 3, 1, 0, 0, 0, 0, ny); !got.Equal(want) {
		t.Errorf("DayStart = %v, want %v", got, want)
	}
}

package content

import (
	"cmp"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"portal/app"
)

// LoadShipped loads every policy version folder directly under dir of fsys
// (data/policies: one folder per version, named by its code), oldest first.
// The portal publishes them in this order, so a database that already holds
// the older versions keeps them and gains the newer ones, and the newest is
// the default for new cycles.
func LoadShipped(fsys fs.FS, dir string) ([]*app.PolicyVersion, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("content: list %s: %w", dir, err)
	}
	var codes []string
	for _, e := range entries {
		if e.IsDir() {
			codes = append(codes, e.Name())
		}
	}
	slices.SortFunc(codes, CompareCodes)
	out := make([]*app.PolicyVersion, 0, len(codes))
	for _, code := range codes {
		v, err := LoadVersion(fsys, path.Join(dir, code))
		if err != nil {
			return nil, err
		}
		if v.Code != code {
			return nil, app.Errorf(app.EINVALID, "policy version %s/%s: its policy.md says code %s; name the folder after the code", dir, code, v.Code)
		}
		out = append(out, v)
	}
	return out, nil
}

// CompareCodes orders version codes such as "2026.1", "2026.2" and
// "2026.10" by their parts, numerically where both parts are numbers, so
// 2026.10 comes after 2026.9; a code that is a prefix of another comes first.
func CompareCodes(a, b string) int {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' })
	}
	pa, pb := split(a), split(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		switch {
		case ea == nil && eb == nil && na != nb:
			return cmp.Compare(na, nb)
		case ea != nil || eb != nil:
			if c := strings.Compare(pa[i], pb[i]); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(len(pa), len(pb))
}

package roster

import (
	"strings"
	"testing"
)

const sigHeader = "employee_number,full_name,email,agency,department,signature_name\n"

func TestSignatureNameColumn(t *testing.T) {
	t.Run("a file without the column still parses, and its rows say the column is absent", func(t *testing.T) {
		res := mustParse(t, header+"E1,王小明,wx@example.gov,Agency,Dept,,,,,\n", nil)
		noProblems(t, res)
		if len(res.Rows) != 1 || res.Rows[0].HasSignatureName || res.Rows[0].SignatureName != "" {
			t.Fatalf("rows %+v", res.Rows)
		}
	})
	t.Run("the column is read and normalised like a name, under any spelling of its header", func(t *testing.T) {
		for _, h := range []string{"signature_name", "Signature Name", "signature-name", "SignatureName"} {
			in := strings.Replace(sigHeader, "signature_name", h, 1) + "E1,王小明,wx@example.gov,Agency,Dept,\"  Wang   Xiaoming \"\n"
			res := mustParse(t, in, nil)
			noProblems(t, res)
			if len(res.Rows) != 1 || !res.Rows[0].HasSignatureName || res.Rows[0].SignatureName != "Wang Xiaoming" {
				t.Fatalf("header %q: rows %+v", h, res.Rows)
			}
		}
	})
	t.Run("an empty signature name is allowed", func(t *testing.T) {
		res := mustParse(t, sigHeader+"E1,Jane Doe,jd@example.gov,Agency,Dept,\n", nil)
		noProblems(t, res)
		if len(res.Rows) != 1 || !res.Rows[0].HasSignatureName || res.Rows[0].SignatureName != "" {
			t.Fatalf("rows %+v", res.Rows)
		}
	})
	t.Run("accented Latin letters, hyphens, apostrophes and periods are allowed", func(t *testing.T) {
		res := mustParse(t, sigHeader+"E1,Ngô Bảo Châu,n@example.gov,Agency,Dept,Ngô Bảo-Châu O'Neil Jr.\n", nil)
		noProblems(t, res)
		if len(res.Rows) != 1 || res.Rows[0].SignatureName != "Ngô Bảo-Châu O'Neil Jr." {
			t.Fatalf("rows %+v", res.Rows)
		}
	})
	for _, tc := range []struct {
		name, value, text string
	}{
		{"a name in another script is refused", "王小明", `contains "王", which is not a Latin letter`},
		{"a digit is refused", "Wang Xiaoming 2", `contains "2", which is not a Latin letter`},
		{"a zero-width space is refused", "Wang\u200bXiaoming", `"\u200b", which is not a Latin letter`},
		{"a control character is refused", "Wang\x01Xiaoming", "invisible character U+0001"},
		{"a direction override is refused", "Wang\u202eXiaoming", "invisible character U+202E"},
		{"punctuation alone has no letters", "- . '", "has no letters"},
		{"a name longer than the limit is refused", strings.Repeat("a", maxField+1), "is 201 characters long; the most allowed is 200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := sigHeader + "E1,Jane Doe,jd@example.gov,Agency,Dept,ok\n" +
				"E2,王小明,wx@example.gov,Agency,Dept," + `"` + tc.value + `"` + "\n"
			res := mustParse(t, in, nil)
			sameProblems(t, res, want{3, "signature_name", tc.text})
			if len(res.Rows) != 1 || res.Rows[0].EmployeeNumber != "E1" {
				t.Fatalf("the bad row was kept: %+v", res.Rows)
			}
		})
	}
}

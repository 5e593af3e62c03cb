package export

import (
	"testing"

	"portal/app"
)

func TestFileNamesAreMadeByTheServer(t *testing.T) {
	for _, tc := range []struct{ number, name, cert, want string }{
		{"1005", "Zoë Côté", "SMP-2026-000042", "1005-zoe-cote-smp-2026-000042.pdf"},
		{"2008", "王小明", "SMP-2026-000007", "2008-smp-2026-000007.pdf"},
		{"../../etc", "<script>alert(1)</script>", "x/y\\z", "etc-script-alert-1-script-x-y-z.pdf"},
		{"", "", "", "certificate.pdf"},
	} {
		got := FileName(&app.Acknowledgment{EmployeeNumber: tc.number, EmployeeName: tc.name, CertificateNo: tc.cert})
		if got != tc.want {
			t.Errorf("FileName(%q, %q, %q) = %q, want %q", tc.number, tc.name, tc.cert, got, tc.want)
		}
	}
}

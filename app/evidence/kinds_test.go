package evidence

import (
	"bytes"
	"testing"
	"time"

	"portal/app"
)

// TestAgencyUseFieldsComeLastAndOnlyWhenSet: an acknowledgment that names
// no accounts and no Terms of Comment (every annual one, every one logged
// before agency-use acknowledgments existed) has the entry it always had,
// byte for byte; an agency-use one has the same fields, then terms_id and
// accounts, and each of them counts.
func TestAgencyUseFieldsComeLastAndOnlyWhenSet(t *testing.T) {
	base := func() *app.Acknowledgment {
		return &app.Acknowledgment{ID: 9, EmployeeID: 2, EmployeeNumber: "1005", EmployeeName: "Zoë Côté", EmployeeAgency: "A",
			EmployeeDept: "D", CycleID: 3, PolicyVersionID: 4, PolicySHA256: "ab", TypedName: "Zoë Côté", ConsentID: 5,
			ConsentVersion: "2026-1", ConsentSHA256: "cd", IntentText: "I agree.", SignedAt: time.Date(2026, 3, 1, 14, 5, 6, 0, time.UTC),
			IP: "10.0.0.1", UserAgent: "UA", AuthMethod: app.AuthEmailLink, SignInIdentity: "zoe@x.example", QuizAttemptID: 6,
			CertificateNo: "SMP-2026-000009", VerifyCode: "ABCDE-FGHIJ"}
	}
	// The entry as logged before migration 019, written out in full.
	want := "portal/evidence/1\nkind 14:acknowledgment\nid 1:9\nemployee_id 1:2\nemployee_number 4:1005\n" +
		"full_name 11:Zoë Côté\nagency 1:A\ndepartment 1:D\ncycle_id 1:3\npolicy_version_id 1:4\npolicy_sha256 2:ab\n" +
		"typed_name 11:Zoë Côté\nconsent_id 1:5\nconsent_version 6:2026-1\nconsent_sha256 2:cd\nintent_text 8:I agree.\n" +
		"comment 0:\nsigned_at 27:2026-03-01T14:05:06.000000Z\nip 8:10.0.0.1\nuser_agent 2:UA\nauth_method 10:email-link\n" +
		"sign_in_identity 13:zoe@x.example\nquiz_attempt_id 1:6\ncertificate_no 15:SMP-2026-000009\nverify_code 11:ABCDE-FGHIJ\n"
	annual := base()
	annual.KindTitle, annual.KindPolicyName, annual.KindAnnual = "Annual", "Personal Use", true // joined for display, not evidence
	if got := string(AcknowledgmentLeaf(annual).Data); got != want {
		t.Fatalf("an acknowledgment without agency-use fields changed:\n%q\nwant\n%q", got, want)
	}
	terms := int64(12)
	poster := base()
	poster.TermsID, poster.Accounts = &terms, []string{"Facebook StateDAFSNews", "YouTube StateDAFS"}
	got := string(AcknowledgmentLeaf(poster).Data)
	if wantPoster := want + "terms_id 2:12\naccounts 46:[\"Facebook StateDAFSNews\",\"YouTube StateDAFS\"]\n"; got != wantPoster {
		t.Fatalf("agency-use entry:\n%q\nwant\n%q", got, wantPoster)
	}
	for name, change := range map[string]func(a *app.Acknowledgment){
		"terms":    func(a *app.Acknowledgment) { other := int64(13); a.TermsID = &other },
		"accounts": func(a *app.Acknowledgment) { a.Accounts = a.Accounts[:1] },
		"no terms": func(a *app.Acknowledgment) { a.TermsID = nil },
	} {
		a := base()
		a.TermsID, a.Accounts = &terms, []string{"Facebook StateDAFSNews", "YouTube StateDAFS"}
		change(a)
		if bytes.Equal(AcknowledgmentLeaf(a).Data, []byte(got)) {
			t.Errorf("changing the %s leaves the entry unchanged", name)
		}
	}
}

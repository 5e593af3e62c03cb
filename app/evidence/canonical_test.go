package evidence

// The canonical form of the records the log holds: fixed byte for byte
// (golden vectors), every field counted, no value able to forge another.

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"portal/app"
)

// The canonical form of a record is fixed byte for byte: a change to it
// would make every entry written before fail to verify.
func TestCanonicalFormIsFixed(t *testing.T) {
	signed := time.Date(2026, 3, 1, 14, 5, 6, 123456789, time.UTC)
	actor := int64(7)
	ev := AuditEventLeaf(&app.AuditEvent{ID: 3, At: signed, ActorID: &actor, Action: "policy.published",
		SubjectType: "policy_version", SubjectID: 2, Detail: "Zoë\nline two", IP: "10.0.0.1"})
	want := "portal/evidence/1\n" +
		"kind 11:audit_event\n" +
		"id 1:3\n" +
		"at 27:2026-03-01T14:05:06.123456Z\n" +
		"actor_id 1:7\n" +
		"action 16:policy.published\n" +
		"subject_type 14:policy_version\n" +
		"subject_id 1:2\n" +
		"detail 13:Zoë\nline two\n" + // 13 bytes: ë is two
		"ip 8:10.0.0.1\n"
	if string(ev.Data) != want {
		t.Fatalf("canonical form:\n%q\nwant\n%q", ev.Data, want)
	}
	if ev.Kind != KindAuditEvent || ev.RefID != 3 {
		t.Fatalf("leaf %s %d", ev.Kind, ev.RefID)
	}
	// The leaf hash is RFC 6962's: SHA-256 over 0x00 and the data.
	if got, want := ev.Hash(), tlog.RecordHash([]byte(want)); got != want {
		t.Fatalf("hash %x, want %x", got, want)
	}
	noActor := AuditEventLeaf(&app.AuditEvent{ID: 3, At: signed, Action: "policy.published"})
	if !bytes.Contains(noActor.Data, []byte("\nactor_id 0:\n")) {
		t.Fatalf("an absent actor is the empty value:\n%s", noActor.Data)
	}
}

// The same instant written in any time zone, with nanoseconds below the
// microsecond, is the same record.
func TestCanonicalTimesIgnoreTheZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	utc := time.Date(2026, 11, 1, 5, 30, 0, 1_000_999, time.UTC) // the night New York's clocks go back
	a := &app.Acknowledgment{ID: 1, SignedAt: utc}
	b := &app.Acknowledgment{ID: 1, SignedAt: utc.In(ny).Add(-999 * time.Nanosecond)}
	if !bytes.Equal(AcknowledgmentLeaf(a).Data, AcknowledgmentLeaf(b).Data) {
		t.Fatalf("zones differ:\n%s\n%s", AcknowledgmentLeaf(a).Data, AcknowledgmentLeaf(b).Data)
	}
	if got := FormatTime(utc.In(ny)); got != "2026-11-01T05:30:00.001000Z" {
		t.Fatalf("FormatTime: %s", got)
	}
}

// Every field of an acknowledgment is in its entry: changing any one
// changes the entry's bytes.
func TestEveryAcknowledgmentFieldCounts(t *testing.T) {
	base := func() *app.Acknowledgment {
		return &app.Acknowledgment{ID: 1, EmployeeID: 2, EmployeeNumber: "1005", EmployeeName: "Zoë Côté", EmployeeAgency: "A",
			EmployeeDept: "D", CycleID: 3, PolicyVersionID: 4, PolicySHA256: "ab", TypedName: "Zoë Côté", ConsentID: 5,
			ConsentVersion: "2026-1", ConsentSHA256: "cd", IntentText: "I agree.", Comment: "", SignedAt: time.Unix(1e9, 0),
			IP: "10.0.0.1", UserAgent: "UA", AuthMethod: app.AuthEmailLink, SignInIdentity: "zoe@x.example", QuizAttemptID: 6,
			CertificateNo: "SMP-2026-000001", VerifyCode: "ABCDE-FGHIJ"}
	}
	orig := AcknowledgmentLeaf(base()).Data
	for name, change := range map[string]func(a *app.Acknowledgment){
		"id": func(a *app.Acknowledgment) { a.ID++ }, "employee": func(a *app.Acknowledgment) { a.EmployeeID++ },
		"number": func(a *app.Acknowledgment) { a.EmployeeNumber += "x" }, "name": func(a *app.Acknowledgment) { a.EmployeeName += "x" },
		"agency": func(a *app.Acknowledgment) { a.EmployeeAgency += "x" }, "department": func(a *app.Acknowledgment) { a.EmployeeDept += "x" },
		"cycle": func(a *app.Acknowledgment) { a.CycleID++ }, "version": func(a *app.Acknowledgment) { a.PolicyVersionID++ },
		"policy hash": func(a *app.Acknowledgment) { a.PolicySHA256 += "x" }, "typed name": func(a *app.Acknowledgment) { a.TypedName += "x" },
		"consent": func(a *app.Acknowledgment) { a.ConsentID++ }, "consent version": func(a *app.Acknowledgment) { a.ConsentVersion += "x" },
		"consent hash": func(a *app.Acknowledgment) { a.ConsentSHA256 += "x" }, "intent": func(a *app.Acknowledgment) { a.IntentText += "x" },
		"comment":   func(a *app.Acknowledgment) { a.Comment += "x" },
		"signed at": func(a *app.Acknowledgment) { a.SignedAt = a.SignedAt.Add(time.Microsecond) },
		"ip":        func(a *app.Acknowledgment) { a.IP += "x" }, "user agent": func(a *app.Acknowledgment) { a.UserAgent += "x" },
		"method": func(a *app.Acknowledgment) { a.AuthMethod += "x" }, "identity": func(a *app.Acknowledgment) { a.SignInIdentity += "x" },
		"attempt": func(a *app.Acknowledgment) { a.QuizAttemptID++ }, "certificate": func(a *app.Acknowledgment) { a.CertificateNo += "x" },
		"code": func(a *app.Acknowledgment) { a.VerifyCode += "x" },
	} {
		a := base()
		change(a)
		if bytes.Equal(AcknowledgmentLeaf(a).Data, orig) {
			t.Errorf("changing the %s leaves the entry unchanged", name)
		}
	}
}

// A value holding what looks like the next field cannot pass for it: each
// value carries its length.
func TestCanonicalValuesCannotForgeFields(t *testing.T) {
	honest := ConsentLeaf(&app.ConsentRecord{ID: 1, Version: "1", SHA256: "ab", IP: "10.0.0.1", UserAgent: "UA"})
	forged := ConsentLeaf(&app.ConsentRecord{ID: 1, Version: "1\nsha256 2:ab", SHA256: "", IP: "10.0.0.1", UserAgent: "UA"})
	if bytes.Equal(honest.Data, forged.Data) || honest.Hash() == forged.Hash() {
		t.Fatal("a value spelling out the next field made the same entry")
	}
	// Quiz answers are ordered by question, whatever the map's order.
	q1 := QuizAttemptLeaf(&app.QuizAttempt{ID: 1, Answers: map[string]string{"b": "2", "a": "1", "c": "3"}})
	for i := 0; i < 20; i++ {
		if q := QuizAttemptLeaf(&app.QuizAttempt{ID: 1, Answers: map[string]string{"c": "3", "a": "1", "b": "2"}}); !bytes.Equal(q.Data, q1.Data) {
			t.Fatal("a quiz attempt's entry depends on map order")
		}
	}
	if !bytes.Contains(q1.Data, []byte("answers 1:3\nanswer.question 1:a\nanswer.option 1:1\nanswer.question 1:b\n")) {
		t.Fatalf("answers not in question order:\n%s", q1.Data)
	}
}

func newYork(t *testing.T) *time.Location {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return ny
}

// goldenAck is an acknowledgment with every field set, its time given in
// New York with nanoseconds below the microsecond.
func goldenAck(t *testing.T) *app.Acknowledgment {
	return &app.Acknowledgment{ID: 42, EmployeeID: 1005, EmployeeNumber: "E-1005", EmployeeName: "Zoë Côté",
		EmployeeAgency: "Finance", EmployeeDept: "Payroll", CycleID: 3, PolicyVersionID: 17,
		PolicySHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", TypedName: "Zoë Côté",
		ConsentID: 8, ConsentVersion: "2026-1", ConsentSHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		IntentText: "I have read and agree to this policy.", Comment: "line one\nline two",
		SignedAt: time.Date(2026, 3, 1, 9, 5, 6, 123456789, newYork(t)), // 14:05:06.123456789 UTC
		IP:       "2001:db8::1", UserAgent: "Mozilla/5.0 (X11)", AuthMethod: app.AuthEmailLink, SignInIdentity: "zoe@agency.example",
		QuizAttemptID: 0, CertificateNo: "SMP-2026-000042", VerifyCode: "ABCDE-FGHIJ",
		// Display fields, not evidence: they must not reach the entry.
		LogIndex: 9, PolicyCode: "HR-1", PolicyTitle: "Conduct", CycleName: "2026", Superseded: true}
}

// An acknowledgment's entry, byte for byte (the lengths are in bytes: ë, ô
// and é are two each), and its leaf hash, SHA-256(0x00 || data), written out.
func TestAcknowledgmentGolden(t *testing.T) {
	leaf := AcknowledgmentLeaf(goldenAck(t))
	want := "portal/evidence/1\n" +
		"kind 14:acknowledgment\n" +
		"id 2:42\n" +
		"employee_id 4:1005\n" +
		"employee_number 6:E-1005\n" +
		"full_name 11:Zoë Côté\n" +
		"agency 7:Finance\n" +
		"department 7:Payroll\n" +
		"cycle_id 1:3\n" +
		"policy_version_id 2:17\n" +
		"policy_sha256 64:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n" +
		"typed_name 11:Zoë Côté\n" +
		"consent_id 1:8\n" +
		"consent_version 6:2026-1\n" +
		"consent_sha256 64:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
		"intent_text 37:I have read and agree to this policy.\n" +
		"comment 17:line one\nline two\n" +
		"signed_at 27:2026-03-01T14:05:06.123456Z\n" +
		"ip 11:2001:db8::1\n" +
		"user_agent 17:Mozilla/5.0 (X11)\n" +
		"auth_method 10:email-link\n" +
		"sign_in_identity 18:zoe@agency.example\n" +
		"quiz_attempt_id 1:0\n" +
		"certificate_no 15:SMP-2026-000042\n" +
		"verify_code 11:ABCDE-FGHIJ\n"
	if string(leaf.Data) != want {
		t.Fatalf("acknowledgment entry:\n%q\nwant\n%q", leaf.Data, want)
	}
	if leaf.Kind != KindAcknowledgment || leaf.RefID != 42 {
		t.Fatalf("leaf %s %d", leaf.Kind, leaf.RefID)
	}
	h := leaf.Hash()
	if got := hex.EncodeToString(h[:]); got != "06f6f0cf1e092e3b9359ce024513ccd536bb31aa761e21ad3135edf7bd07c7f1" {
		t.Fatalf("leaf hash %s", got)
	}
}

// A consent's entry, byte for byte: a CR LF and quotes in a value are
// written raw, the length says where the value ends.
func TestConsentGolden(t *testing.T) {
	c := &app.ConsentRecord{ID: 7, EmployeeID: 1005, CycleID: 3, Version: "2026-1", SHA256: "abc",
		AcceptedAt: time.Date(2026, 7, 4, 9, 0, 0, 1999, newYork(t)), // EDT: 13:00:00.000001999 UTC
		IP:         "10.0.0.1", UserAgent: "UA/1.0 \"q\"\r\n"}
	leaf := ConsentLeaf(c)
	want := "portal/evidence/1\n" +
		"kind 7:consent\n" +
		"id 1:7\n" +
		"employee_id 4:1005\n" +
		"cycle_id 1:3\n" +
		"version 6:2026-1\n" +
		"sha256 3:abc\n" +
		"accepted_at 27:2026-07-04T13:00:00.000001Z\n" +
		"ip 8:10.0.0.1\n" +
		"user_agent 12:UA/1.0 \"q\"\r\n\n"
	if string(leaf.Data) != want {
		t.Fatalf("consent entry:\n%q\nwant\n%q", leaf.Data, want)
	}
	h := leaf.Hash()
	if got := hex.EncodeToString(h[:]); got != "7d778688d797249e5fa2c6863190791639324d60598b01f32084564d80c1c860" {
		t.Fatalf("leaf hash %s", got)
	}
	// The same instant in UTC, truncated to the microsecond, is the same entry.
	c.AcceptedAt = time.Date(2026, 7, 4, 13, 0, 0, 1000, time.UTC)
	if !bytes.Equal(ConsentLeaf(c).Data, leaf.Data) {
		t.Fatal("the consent's time zone or nanoseconds changed its entry")
	}
	// One microsecond later is another entry.
	c.AcceptedAt = c.AcceptedAt.Add(time.Microsecond)
	if bytes.Equal(ConsentLeaf(c).Data, leaf.Data) {
		t.Fatal("a microsecond's change left the entry unchanged")
	}
}

// The golden acknowledgment's instant given in UTC, in New York and in a
// zone with a half-hour offset is one entry.
func TestAcknowledgmentZoneAndNanoseconds(t *testing.T) {
	want := AcknowledgmentLeaf(goldenAck(t)).Data
	kolkata := time.FixedZone("IST", 5*3600+1800)
	for _, at := range []time.Time{
		time.Date(2026, 3, 1, 14, 5, 6, 123456000, time.UTC),
		time.Date(2026, 3, 1, 14, 5, 6, 123456999, time.UTC),
		time.Date(2026, 3, 1, 19, 35, 6, 123456500, kolkata),
	} {
		a := goldenAck(t)
		a.SignedAt = at
		if got := AcknowledgmentLeaf(a).Data; !bytes.Equal(got, want) {
			t.Errorf("%v: the entry differs", at)
		}
	}
}

// Every consent field is in its entry.
func TestEveryConsentFieldCounts(t *testing.T) {
	base := func() *app.ConsentRecord {
		return &app.ConsentRecord{ID: 1, EmployeeID: 2, CycleID: 3, Version: "v", SHA256: "s",
			AcceptedAt: time.Unix(1e9, 0), IP: "ip", UserAgent: "ua"}
	}
	orig := ConsentLeaf(base()).Data
	for name, change := range map[string]func(c *app.ConsentRecord){
		"id":          func(c *app.ConsentRecord) { c.ID++ },
		"employee":    func(c *app.ConsentRecord) { c.EmployeeID++ },
		"cycle":       func(c *app.ConsentRecord) { c.CycleID++ },
		"version":     func(c *app.ConsentRecord) { c.Version += "x" },
		"sha256":      func(c *app.ConsentRecord) { c.SHA256 += "x" },
		"accepted at": func(c *app.ConsentRecord) { c.AcceptedAt = c.AcceptedAt.Add(time.Microsecond) },
		"ip":          func(c *app.ConsentRecord) { c.IP += "x" },
		"user agent":  func(c *app.ConsentRecord) { c.UserAgent += "x" },
	} {
		c := base()
		change(c)
		if bytes.Equal(ConsentLeaf(c).Data, orig) {
			t.Errorf("changing the %s leaves the entry unchanged", name)
		}
	}
}

// Pairs of different acknowledgments that an unprefixed or separator-based
// encoding would write alike: the length prefixes keep them apart.
func TestCanonicalCraftedPairsDiffer(t *testing.T) {
	ack := func(intent, comment, ip, ua string) *app.Acknowledgment {
		return &app.Acknowledgment{ID: 1, IntentText: intent, Comment: comment, IP: ip, UserAgent: ua, SignedAt: time.Unix(0, 0)}
	}
	for name, pair := range map[string][2]*app.Acknowledgment{
		// bytes moved from one value to the next
		"shifted boundary": {ack("ab", "c", "", ""), ack("a", "bc", "", "")},
		// a comment spelling out the rest of the entry, including signed_at
		"forged tail": {
			ack("I agree.", "x", "", ""),
			ack("I agree.", "x\nsigned_at 27:2026-01-01T00:00:00.000000Z\nip 0:\nuser_agent 0:\nauth_method 0:", "", ""),
		},
		// a newline in a value against the same bytes across two fields
		"newline vs field break": {ack("", "", "1.2.3.4\nuser_agent 2:UA", ""), ack("", "", "1.2.3.4", "UA")},
		// an empty value against a value holding what an empty field looks like
		"empty vs literal empty field": {ack("", "", "", ""), ack("", "\ncomment 0:", "", "")},
	} {
		a, b := AcknowledgmentLeaf(pair[0]), AcknowledgmentLeaf(pair[1])
		if bytes.Equal(a.Data, b.Data) || a.Hash() == b.Hash() {
			t.Errorf("%s: two different records made the same entry:\n%q", name, a.Data)
		}
	}
}

package evidence

import (
	"strings"
	"testing"
	"time"

	"portal/app"
)

// A paper acknowledgment's entry is a portal one's fields followed by the
// paper fields, byte for byte; a portal one has none of them, so entries
// logged before paper acknowledgments existed keep their hashes
// (TestAcknowledgmentGolden holds those bytes).
func TestPaperAcknowledgmentCanonicalForm(t *testing.T) {
	a := goldenAck(t)
	portal := string(AcknowledgmentLeaf(a).Data)
	if strings.Contains(portal, "paper.") {
		t.Fatalf("a portal signature's entry has paper fields:\n%s", portal)
	}
	a.Paper = &app.PaperRecord{SignedOn: "2026-02-27", RecordedAt: time.Date(2026, 3, 2, 15, 4, 5, 999, time.UTC),
		RecordedBy: 7, RecordedByName: "Hana Ito", ScanID: 3,
		ScanSHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ScanType: app.ScanPDF,
		ScanSize: 1234, Note: "form received by post"}
	got := string(AcknowledgmentLeaf(a).Data)
	want := portal +
		"paper.signed_on 10:2026-02-27\n" +
		"paper.recorded_at 27:2026-03-02T15:04:05.000000Z\n" +
		"paper.recorded_by 1:7\n" +
		"paper.recorded_by_name 8:Hana Ito\n" +
		"paper.scan_id 1:3\n" +
		"paper.scan_sha256 64:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
		"paper.scan_type 15:application/pdf\n" +
		"paper.note 21:form received by post\n"
	if got != want {
		t.Fatalf("paper entry:\n%s\nwant:\n%s", got, want)
	}
	// Every paper field is evidence: changing any changes the entry.
	for name, change := range map[string]func(p *app.PaperRecord){
		"date": func(p *app.PaperRecord) { p.SignedOn = "2026-02-28" }, "recorder": func(p *app.PaperRecord) { p.RecordedBy = 8 },
		"scan": func(p *app.PaperRecord) { p.ScanSHA256 = strings.Repeat("0", 64) }, "note": func(p *app.PaperRecord) { p.Note = "" },
	} {
		b := *a.Paper
		change(&b)
		c := *a
		c.Paper = &b
		if string(AcknowledgmentLeaf(&c).Data) == want {
			t.Errorf("a changed %s gives the same entry", name)
		}
	}
}

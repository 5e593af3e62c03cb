package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"portal/app/evidence"
	"portal/server"
)

// The log from outside: every certificate proven in it by /log routes a
// reader checks alone, certificates bound to their signer, and the routes
// refusing bad input.

// evProof is the JSON of /log/proof/inclusion and /log/certificate.
type evProof struct {
	Index      int64    `json:"index"`
	TreeSize   int64    `json:"tree_size"`
	LeafHash   string   `json:"leaf_hash"`
	RootHash   string   `json:"root_hash"`
	Proof      []string `json:"proof"`
	Checkpoint string   `json:"checkpoint"`
	Error      string   `json:"error"`
}

func evHash(t *testing.T, s string) tlog.Hash {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		t.Fatalf("not a hash: %q", s)
	}
	var h tlog.Hash
	copy(h[:], b)
	return h
}

func evHashes(t *testing.T, ss []string) []tlog.Hash {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		out[i] = evHash(t, s)
	}
	return out
}

func evJSON(t *testing.T, r response, v any) {
	t.Helper()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("content type %q", r.Header.Get("Content-Type"))
	}
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
}

// TestEveryCertificateIsProvenInTheLog checks, for every certificate the
// demo holds, what an outside reader can check with nothing but the public
// routes: the record's canonical hash is the entry's, the entry is in the
// signed checkpoint, and /verify says so in words.
func TestEveryCertificateIsProvenInTheLog(t *testing.T) {
	tp := startTestPortal(t)
	mine := evSign(t, tp, "1005")
	_, v := evVerifier(t, tp)
	_, cp := evCheckpoint(t, tp, v)
	// The signer's own certificate, HTML and PDF, prints its entry.
	ownIndex := tp.logIndexOf(t, mine)
	signer := newClient(t, tp.BaseURL)
	signer.signIn(tp.signInLink(t, "1005"))
	mustContain(t, signer.get("/certificates/"+mine).Body, fmt.Sprintf("Entry %d of the portal's public evidence log", ownIndex))
	pdf := signer.get("/certificates/" + mine + "/pdf")
	if pdf.Status != 200 {
		t.Fatalf("PDF: status %d", pdf.Status)
	}
	if text := popplerTool(t, []byte(pdf.Body), "pdftotext", "-layout", "-enc", "UTF-8"); text != "" {
		mustContain(t, text, "Evidence log", fmt.Sprintf("entry %d", ownIndex))
	}
	db := evRaw(t, tp.DB.Path)
	rows, err := db.Query(`SELECT verify_code FROM acknowledgments ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		codes = append(codes, c)
	}
	rows.Close()
	db.Close()
	if len(codes) < 2 {
		t.Fatalf("only %d certificates", len(codes))
	}
	c := newClient(t, tp.BaseURL)
	for _, code := range codes {
		index, a := tp.logIndexOf(t, code), tp.ackByCode(t, code)
		var p evProof
		r := c.get("/log/certificate/" + code)
		if r.Status != 200 {
			t.Fatalf("%s: status %d %s", code, r.Status, r.Body)
		}
		evJSON(t, r, &p)
		if p.Index != index || p.Index < 0 {
			t.Fatalf("%s: entry %d, the log table says %d", code, p.Index, index)
		}
		pc, err := evidence.OpenCheckpoint([]byte(p.Checkpoint), v)
		if err != nil {
			t.Fatalf("%s: the proof's checkpoint: %v", code, err)
		}
		if pc.Size != p.TreeSize || pc.Size < cp.Size || evHash(t, p.RootHash) != pc.Root {
			t.Fatalf("%s: proof for size %d, checkpoint %d", code, p.TreeSize, pc.Size)
		}
		leaf := evidence.AcknowledgmentLeaf(a).Hash()
		if evHash(t, p.LeafHash) != leaf {
			t.Fatalf("%s: the served leaf hash is not the record's canonical hash", code)
		}
		if err := tlog.CheckRecord(evHashes(t, p.Proof), pc.Size, pc.Root, p.Index, leaf); err != nil {
			t.Fatalf("%s: inclusion proof: %v", code, err)
		}
		// The same proof through the generic route.
		var q evProof
		evJSON(t, c.get(fmt.Sprintf("/log/proof/inclusion?index=%d&size=%d", p.Index, pc.Size)), &q)
		if err := tlog.CheckRecord(evHashes(t, q.Proof), pc.Size, pc.Root, q.Index, leaf); err != nil {
			t.Fatalf("%s: /log/proof/inclusion: %v", code, err)
		}
		page := c.get("/verify/" + code)
		want := "Valid"
		if a.Superseded {
			want = "superseded"
		}
		mustContain(t, page.Body, want, fmt.Sprintf("This acknowledgment is entry %d of the portal's public evidence log", a.LogIndex),
			"includes it exactly as it was recorded at signing")
	}
	// The consistency of the first checkpoint with a later one, through the public route.
	evSign(t, tp, "1006")
	_, later := evCheckpoint(t, tp, v)
	var cons struct {
		Proof []string `json:"proof"`
	}
	evJSON(t, c.get(fmt.Sprintf("/log/proof/consistency?from=%d&to=%d", cp.Size, later.Size)), &cons)
	if err := tlog.CheckTree(evHashes(t, cons.Proof), later.Size, later.Root, cp.Size, cp.Root); err != nil {
		t.Fatalf("consistency proof: %v", err)
	}
}

// TestCertificatesHoldTheirSigner checks point 2: the certificate shows
// the signer as at signing, whatever later happens to the rows around it;
// a record changed behind the portal's back is called altered.
func TestCertificatesHoldTheirSigner(t *testing.T) {
	tp := startTestPortal(t)
	code := evSign(t, tp, "1005")
	e := tp.employee(t, "1005")
	_, v := evVerifier(t, tp)
	evCheckpoint(t, tp, v)
	c := newClient(t, tp.BaseURL)
	mustContain(t, c.get("/verify/"+code).Body, "Valid", e.FullName)

	// The operator edits the employee row and clears the assignment's link.
	db := evRaw(t, tp.DB.Path)
	// On SQLite a plain connection lacks the SQL function that folds the
	// words of names for search (migration 015): a rename there fails until
	// the word index's trigger is dropped. (On PostgreSQL the trigger only
	// queues the name for the portal to fold.)
	if !onPostgres() {
		if _, err := db.Exec(`UPDATE employees SET full_name = 'Renamed Person' WHERE id = ?`, e.ID); err == nil ||
			!strings.Contains(err.Error(), "portal_search_text") {
			t.Fatalf("a plain connection renamed someone: %v", err)
		}
		dropTrigger(t, db, "name_words_u", "employees")
	}
	evExec(t, db, `UPDATE employees SET full_name = 'Renamed Person', agency = 'Other Agency' WHERE id = ?`, e.ID)
	evExec(t, db, `UPDATE assignments SET ack_id = NULL WHERE employee_id = ?`, e.ID)
	db.Close()
	page := c.get("/verify/" + code).Body
	mustContain(t, page, "Valid", e.FullName)
	if strings.Contains(page, "Renamed Person") || strings.Contains(page, "superseded") {
		t.Fatal("the certificate follows the employee row or the assignment, not its own record")
	}
	// The roster as stored no longer adds up to its logged history.
	tp.commandEnv(t)
	var out bytes.Buffer
	err := server.Run(context.Background(), []string{"audit-verify"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "roster") {
		t.Fatalf("audit-verify did not notice the roster edited behind the log: %v\n%s", err, out.String())
	}

	// The record itself edited behind the triggers: /verify says altered.
	db = evRaw(t, tp.DB.Path)
	evDropTriggers(t, db)
	evExec(t, db, `UPDATE acknowledgments SET full_name = 'Someone Else' WHERE verify_code = ?`, code)
	db.Close()
	page = c.get("/verify/" + code).Body
	mustContain(t, page, "This record does not match the evidence log", "it was changed afterwards", "Do not rely on this certificate")
	if strings.Contains(page, ">Valid") {
		t.Fatal("an altered record is still called valid")
	}
}

// TestLogRoutesRefuseBadInput: each bad request gets a 400 or 404 with a
// JSON message, and nothing more.
func TestLogRoutesRefuseBadInput(t *testing.T) {
	tp := startTestPortal(t)
	_, v := evVerifier(t, tp)
	_, cp := evCheckpoint(t, tp, v)
	c := newClient(t, tp.BaseURL)
	n := cp.Size
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/log/proof/inclusion", 400, "index must be a whole number"},
		{"/log/proof/inclusion?index=x&size=3", 400, "index must be a whole number"},
		{"/log/proof/inclusion?index=1&size=", 400, "size must be a whole number"},
		{"/log/proof/inclusion?index=1e3&size=3", 400, "index must be a whole number"},
		{"/log/proof/inclusion?index=99999999999999999999&size=3", 400, "index must be a whole number"},
		{"/log/proof/inclusion?index=-1&size=3", 400, ""},
		{fmt.Sprintf("/log/proof/inclusion?index=%d&size=%d", n, n), 400, ""},
		{fmt.Sprintf("/log/proof/inclusion?index=0&size=%d", n+1000), 400, ""},
		{"/log/proof/inclusion?index=0&size=0", 400, ""},
		{"/log/proof/consistency?from=a&to=2", 400, "from must be a whole number"},
		{"/log/proof/consistency?from=2", 400, "to must be a whole number"},
		{"/log/proof/consistency?from=3&to=2", 400, ""},
		{"/log/proof/consistency?from=-1&to=2", 400, ""},
		{fmt.Sprintf("/log/proof/consistency?from=1&to=%d", n+1000), 400, ""},
		{"/log/certificate/not-a-code", 404, "No certificate has that code."},
		{"/log/certificate/AAAAA-AAAAA", 404, ""},
		{"/log/certificate/%27%20OR%201=1--", 404, ""},
	} {
		r := c.get(tc.path)
		if r.Status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.path, r.Status, tc.status, r.Body)
			continue
		}
		var body struct {
			Error string `json:"error"`
		}
		evJSON(t, r, &body)
		if body.Error == "" || !strings.Contains(body.Error, tc.want) {
			t.Errorf("%s: error %q, want %q", tc.path, body.Error, tc.want)
		}
		if strings.Contains(strings.ToLower(body.Error), "sql") || strings.Contains(body.Error, "tlog") {
			t.Errorf("%s: internal error text shown: %q", tc.path, body.Error)
		}
	}
	// The routes need no sign-in and set no session.
	for _, p := range []string{"/log/checkpoint", "/log/key", "/log/proof/consistency?from=1&to=2"} {
		r := c.get(p)
		if r.Status != 200 {
			t.Errorf("%s: status %d", p, r.Status)
		}
	}
}

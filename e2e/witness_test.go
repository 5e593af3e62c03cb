package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"portal/app/evidence"
	"portal/server"
)

// runWitness runs `portal witness args…` as an auditor's cron job would.
func runWitness(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := server.Run(context.Background(), append([]string{"witness"}, args...), &out, &out)
	return out.String(), err
}

// TestWitnessCatchesARewrittenLog: an auditor's witness keeps the last
// checkpoint it saw. A second portal process started on an older backup,
// at the same address and with the same key, serves a log that does not
// extend it, whether shorter or grown again with other entries: the witness
// says "the log was rewritten" and keeps its state.
func TestWitnessCatchesARewrittenLog(t *testing.T) {
	a := startTestPortal(t)
	vkey, v := evVerifier(t, a)
	evCheckpoint(t, a, v)
	state := filepath.Join(t.TempDir(), "witness.json")

	t.Run("bad use is refused and writes no state", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--url", a.BaseURL, "--state", state}, "the first run needs the log's verifier key"},
			{[]string{"--url", "ftp://example", "--state", state, "--key", vkey}, "--url must start with http"},
			{[]string{"--url", a.BaseURL, "--state", state, "--key", "not a key"}, "witness --key"},
			{[]string{"--url", a.BaseURL, "--state", state, "--key", vkey, "--certificate", "nope"}, "is not a certificate code"},
			{[]string{"--url", a.BaseURL, "--state", state, "--key", vkey, "--bogus", "x"}, "unexpected"},
		} {
			out, err := runWitness(t, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v: %v (%s), want %q", c.args, err, out, c.want)
			}
		}
		other, err := evidence.NewKey("127.0.0.1/test/log")
		if err != nil {
			t.Fatal(err)
		}
		if out, err := runWitness(t, "--url", a.BaseURL, "--state", state, "--key", other.VerifierKey); err == nil {
			t.Errorf("a checkpoint not signed by the key given was accepted: %s", out)
		}
		if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
			t.Fatal("a refused run wrote the state file")
		}
	})

	out, err := runWitness(t, "--url", a.BaseURL, "--state", state, "--key", vkey)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	mustContain(t, out, "first checkpoint kept")

	// The backup the second process will start from.
	backup := evCopy(t, a)

	code := evSign(t, a, "1005")
	_, grown := evCheckpoint(t, a, v)
	out, err = runWitness(t, "--url", a.BaseURL, "--state", state, "--certificate", code)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	mustContain(t, out, "checkpoint verified", "consistency proof checked", "certificate "+code+" is entry", "inclusion proof checked")
	out, err = runWitness(t, "--url", a.BaseURL, "--state", state)
	if err != nil {
		t.Fatalf("third run: %v", err)
	}
	mustContain(t, out, "unchanged since the last run")
	kept, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var st evidence.WitnessState
	if err := json.Unmarshal(kept, &st); err != nil {
		t.Fatal(err)
	}
	if cp, err := evidence.OpenCheckpoint([]byte(st.Checkpoint), v); err != nil || cp.Size != grown.Size {
		t.Fatalf("the state keeps %v (%v), want the checkpoint of %d", cp, err, grown.Size)
	}
	if _, err := runWitness(t, "--url", a.BaseURL+"/other", "--state", state); err == nil || !strings.Contains(err.Error(), "one state file per log") {
		t.Fatalf("another URL with the same state: %v", err)
	}

	// The portal stops; a second process starts on the backup, with the
	// same key, at the same address.
	u, err := url.Parse(a.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	a.Stop()
	b := startTestPortal(t, func(c *server.Config) {
		c.DB, c.LogKeyFile, c.Port = backup, a.Config.LogKeyFile, port
	})
	if b.BaseURL != a.BaseURL {
		t.Fatalf("the second process is at %s, not %s", b.BaseURL, a.BaseURL)
	}

	out, err = runWitness(t, "--url", b.BaseURL, "--state", state)
	if !errors.Is(err, evidence.ErrRewritten) || !strings.Contains(err.Error(), "the log was rewritten") {
		t.Fatalf("a shorter log: %v (%s)", err, out)
	}
	// It grows past the size the witness kept, with other entries.
	for _, n := range []string{"1006", "1007", "1008"} {
		evSign(t, b, n)
		if _, cp := evCheckpoint(t, b, v); cp.Size > grown.Size {
			break
		}
	}
	if _, cp := evCheckpoint(t, b, v); cp.Size <= grown.Size {
		t.Fatalf("the second process's log did not grow past %d", grown.Size)
	}
	out, err = runWitness(t, "--url", b.BaseURL, "--state", state)
	if !errors.Is(err, evidence.ErrRewritten) || !strings.Contains(err.Error(), "does not extend") {
		t.Fatalf("a log grown again with other entries: %v (%s)", err, out)
	}
	after, err := os.ReadFile(state)
	if err != nil || !bytes.Equal(after, kept) {
		t.Fatal("a failed run changed the witness's state")
	}
	// The certificate the witness proved is not in the rewritten log.
	if _, err := runWitness(t, "--url", b.BaseURL, "--state", state, "--certificate", code); err == nil {
		t.Fatal("a certificate missing from the rewritten log was proven")
	}
}

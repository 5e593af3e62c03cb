package evidence

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a tree head: the log's name, its size and its root hash.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// Text is the checkpoint's note text in the C2SP tlog-checkpoint format:
// three lines, the origin, the size in decimal and the root in base64.
func (c Checkpoint) Text() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

var errMalformedCheckpoint = errors.New("malformed checkpoint")

// ParseCheckpoint reads a checkpoint's note text. Extension lines after the
// third are allowed by the format and ignored.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	if len(text) > 1<<16 || !bytes.HasSuffix(text, []byte("\n")) {
		return Checkpoint{}, errMalformedCheckpoint
	}
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	if len(lines) < 3 {
		return Checkpoint{}, errMalformedCheckpoint
	}
	for _, l := range lines {
		if l == "" {
			return Checkpoint{}, errMalformedCheckpoint
		}
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || lines[1] != strconv.FormatInt(n, 10) {
		return Checkpoint{}, errMalformedCheckpoint
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize || base64.StdEncoding.EncodeToString(root) != lines[2] {
		return Checkpoint{}, errMalformedCheckpoint
	}
	c := Checkpoint{Origin: lines[0], Size: n}
	copy(c.Root[:], root)
	return c, nil
}

// Sign returns the checkpoint as a signed note.
func (k *Key) Sign(c Checkpoint) ([]byte, error) {
	if c.Origin != k.Origin {
		return nil, fmt.Errorf("checkpoint of log %q signed with the key of %q", c.Origin, k.Origin)
	}
	return note.Sign(&note.Note{Text: string(c.Text())}, k.Signer)
}

// OpenCheckpoint checks a signed checkpoint with the verifier and returns
// it. The checkpoint's origin must be the verifier's name.
func OpenCheckpoint(msg []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		// note.Open drops signatures by unknown keys and reports a note left
		// with none as unverified (it never returns UnknownVerifierError).
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return Checkpoint{}, fmt.Errorf("the checkpoint is not signed by the log key %s", v.Name())
		}
		return Checkpoint{}, fmt.Errorf("the checkpoint's signature does not verify: %w", err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("the checkpoint names the log %q, not %q", c.Origin, v.Name())
	}
	return c, nil
}

package evidence

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrRewritten is what a witness reports when the log it watches no longer
// extends the checkpoint it kept: someone rewrote history.
var ErrRewritten = errors.New("the log was rewritten")

// WitnessState is what a witness keeps between runs: the log's verifier
// key, the last checkpoint it verified, and the entries of the certificates
// it was asked about.
type WitnessState struct {
	URL          string                 `json:"url"`
	VerifierKey  string                 `json:"verifier_key"`
	Checkpoint   string                 `json:"checkpoint,omitempty"` // the signed note
	CheckedAt    time.Time              `json:"checked_at,omitempty"`
	Certificates map[string]WitnessCert `json:"certificates,omitempty"`
}

// WitnessCert is a certificate's entry as a witness first saw it.
type WitnessCert struct {
	Index    int64  `json:"index"`
	LeafHash string `json:"leaf_hash"`
}

// WitnessResult says what one run of the witness found.
type WitnessResult struct {
	Previous *Checkpoint // the checkpoint kept from the last run, if any
	Current  Checkpoint
	Cert     *WitnessCert // the certificate's entry, when one was asked about
}

// Witness fetches the log's latest checkpoint, checks its signature and
// that it extends the one in st (a consistency proof), and, when code is
// set, proves that certificate's entry is in it. On success it updates st.
// A failed proof is an error wrapping ErrRewritten.
func Witness(ctx context.Context, client *http.Client, st *WitnessState, code string) (*WitnessResult, error) {
	v, err := ParseVerifierKey(st.VerifierKey)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(st.URL, "/")
	res := &WitnessResult{}
	var cert *logProofJSON
	if code != "" {
		// First, so that the checkpoint fetched next covers the entry.
		cert = &logProofJSON{}
		if err := getJSON(ctx, client, base+"/log/certificate/"+url.PathEscape(code), cert); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", code, err)
		}
	}
	msg, err := get(ctx, client, base+"/log/checkpoint")
	if err != nil {
		return nil, err
	}
	cur, err := OpenCheckpoint(msg, v)
	if err != nil {
		return nil, fmt.Errorf("the log's checkpoint: %w", err)
	}
	res.Current = cur
	if st.Checkpoint != "" {
		prev, err := OpenCheckpoint([]byte(st.Checkpoint), v)
		if err != nil {
			return nil, fmt.Errorf("the checkpoint kept in the state file: %w", err)
		}
		res.Previous = &prev
		switch {
		case cur.Size < prev.Size:
			return nil, fmt.Errorf("%w: it now has %d entries, but a checkpoint of %d entries was signed before", ErrRewritten, cur.Size, prev.Size)
		case cur.Size == prev.Size && cur.Root != prev.Root:
			return nil, fmt.Errorf("%w: the checkpoint of %d entries now has another root hash", ErrRewritten, cur.Size)
		case cur.Size > prev.Size && prev.Size > 0:
			var p struct {
				Proof []string `json:"proof"`
			}
			q := fmt.Sprintf("%s/log/proof/consistency?from=%d&to=%d", base, prev.Size, cur.Size)
			if err := getJSON(ctx, client, q, &p); err != nil {
				return nil, fmt.Errorf("consistency proof: %w", err)
			}
			proof, err := decodeHashes(p.Proof)
			if err != nil {
				return nil, fmt.Errorf("consistency proof: %w", err)
			}
			if err := tlog.CheckTree(tlog.TreeProof(proof), cur.Size, cur.Root, prev.Size, prev.Root); err != nil {
				return nil, fmt.Errorf("%w: the checkpoint of %d entries does not extend the one of %d entries kept since %s",
					ErrRewritten, cur.Size, prev.Size, st.CheckedAt.Format(time.RFC3339))
			}
		}
	}
	if cert != nil {
		wc, err := checkCertificate(ctx, client, base, code, cert, cur)
		if err != nil {
			return nil, err
		}
		if seen, ok := st.Certificates[code]; ok && seen != *wc {
			return nil, fmt.Errorf("%w: certificate %s was entry %d with hash %s, and is now entry %d with hash %s",
				ErrRewritten, code, seen.Index, seen.LeafHash, wc.Index, wc.LeafHash)
		}
		if st.Certificates == nil {
			st.Certificates = map[string]WitnessCert{}
		}
		st.Certificates[code] = *wc
		res.Cert = wc
	}
	st.Checkpoint, st.CheckedAt = string(msg), time.Now().UTC()
	return res, nil
}

// checkCertificate proves the certificate's entry is in cur.
func checkCertificate(ctx context.Context, client *http.Client, base, code string, cert *logProofJSON, cur Checkpoint) (*WitnessCert, error) {
	leaf, err := decodeHash(cert.LeafHash)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", code, err)
	}
	if cert.Index < 0 || cert.Index >= cur.Size {
		return nil, fmt.Errorf("certificate %s: entry %d is not in the checkpoint of %d entries", code, cert.Index, cur.Size)
	}
	var p logProofJSON
	q := fmt.Sprintf("%s/log/proof/inclusion?index=%d&size=%d", base, cert.Index, cur.Size)
	if err := getJSON(ctx, client, q, &p); err != nil {
		return nil, fmt.Errorf("inclusion proof: %w", err)
	}
	proof, err := decodeHashes(p.Proof)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof: %w", err)
	}
	if err := tlog.CheckRecord(tlog.RecordProof(proof), cur.Size, cur.Root, cert.Index, leaf); err != nil {
		return nil, fmt.Errorf("%w: certificate %s is not entry %d of the checkpoint of %d entries", ErrRewritten, code, cert.Index, cur.Size)
	}
	return &WitnessCert{Index: cert.Index, LeafHash: cert.LeafHash}, nil
}

// logProofJSON is the JSON of /log/certificate and /log/proof/inclusion.
type logProofJSON struct {
	Index    int64    `json:"index"`
	TreeSize int64    `json:"tree_size"`
	LeafHash string   `json:"leaf_hash"`
	RootHash string   `json:"root_hash"`
	Proof    []string `json:"proof"`
}

func decodeHash(s string) (tlog.Hash, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		return tlog.Hash{}, fmt.Errorf("malformed hash %q", s)
	}
	return tlog.Hash(b), nil
}

func decodeHashes(ss []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		h, err := decodeHash(s)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

// maxResponse bounds what a witness reads from the log: proofs are a few
// kilobytes.
const maxResponse = 1 << 20

func get(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req) // #nosec G107 G704 -- the witness is told the log's address by its operator
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("%s: %s", resp.Status, e.Error)
		}
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return body, nil
}

func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	body, err := get(ctx, client, u)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: not the expected JSON", u)
	}
	return nil
}

// VerifierFromFileOrText reads a verifier key given as the key itself or as
// the name of a file holding it.
func VerifierFromFileOrText(s string, readFile func(string) ([]byte, error)) (note.Verifier, string, error) {
	s = strings.TrimSpace(s)
	if _, err := ParseVerifierKey(s); err != nil {
		b, ferr := readFile(s)
		if ferr != nil {
			return nil, "", fmt.Errorf("%q is neither a verifier key nor a file holding one", s)
		}
		s = strings.TrimSpace(string(b))
	}
	v, err := ParseVerifierKey(s)
	return v, s, err
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"portal/app"
	"portal/app/evidence"
	"portal/app/secret"
	"portal/app/store"
)

// flags reads "--name value" pairs for a command; anything else is an
// error naming the command.
func flags(cmd string, args []string, names ...string) (map[string]string, error) {
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		known := false
		for _, n := range names {
			known = known || a == "--"+n
		}
		if !known {
			return nil, fmt.Errorf("%s: unexpected %q", cmd, a)
		}
		if i+1 >= len(args) {
			return nil, fmt.Errorf("%s: %s needs a value", cmd, a)
		}
		i++
		out[strings.TrimPrefix(a, "--")] = args[i]
	}
	return out, nil
}

// auditVerify is `portal audit-verify [--checkpoint FILE] [--key VERIFIER-KEY]`.
// It opens the database read-only: it never creates, migrates or changes it.
func auditVerify(ctx context.Context, args []string, stdout io.Writer) error {
	f, err := flags("audit-verify", args, "checkpoint", "key")
	if err != nil {
		return err
	}
	cfg, err := LoadConfig(false)
	if err != nil {
		return err
	}
	db, err := store.OpenReadOnly(cfg.DB)
	if err != nil {
		return fmt.Errorf("audit-verify: %w", err)
	}
	defer db.Close()
	var opts evidence.VerifyOptions
	if cfg.LogKeyFile != "" {
		if opts.Key, err = evidence.LoadKeyFile(cfg.LogKeyFile); err != nil {
			return fmt.Errorf("PORTAL_LOG_KEY: %w", err)
		}
	}
	if k := f["key"]; k != "" {
		var vkey string
		if opts.Verifier, vkey, err = evidence.VerifierFromFileOrText(k, os.ReadFile); err != nil {
			return fmt.Errorf("audit-verify --key: %w", err)
		}
		if opts.Key != nil && opts.Key.VerifierKey != vkey {
			return errors.New("audit-verify: --key is not the public key of PORTAL_LOG_KEY")
		}
	}
	if file := f["checkpoint"]; file != "" {
		if opts.Checkpoint, opts.More, err = readCheckpoints(file); err != nil {
			return fmt.Errorf("audit-verify --checkpoint: %w", err)
		}
		if opts.Key == nil && opts.Verifier == nil {
			return errors.New("audit-verify: checking a checkpoint needs the log's verifier key: pass --key (the text GET /log/key serves, or a file holding it)")
		}
	}
	legacy, brk, err := store.NewAuditService(db).VerifyChain(ctx)
	if err != nil {
		return err
	}
	if brk != nil {
		return fmt.Errorf("the chain kept from before the evidence log is broken after %d good records: %s %d (chain record %d): %s",
			legacy, brk.Kind, brk.RefID, brk.Seq, brk.Reason)
	}
	has, err := db.HasLog(ctx)
	if err != nil {
		return err
	}
	if !has {
		if opts.Checkpoint != nil {
			return errors.New("this database predates the evidence log, so no checkpoint can be checked against it; the portal builds the log when it next starts")
		}
		fmt.Fprintf(stdout, "evidence chain verified: %d records, no break (this database predates the evidence log; the portal builds it when it next starts)\n", legacy)
		return nil
	}
	rep, err := db.VerifyLog(ctx, opts)
	if err != nil {
		return err
	}
	if rep.Problem != nil {
		return fmt.Errorf("evidence log: %s", rep.Problem.Error())
	}
	var what []string
	what = append(what, "every record re-hashed from its canonical form and the tree rebuilt from them")
	if rep.SealsChecked {
		what = append(what, "every entry's seal checked with the log key")
	}
	switch {
	case rep.External > 1:
		what = append(what, fmt.Sprintf("consistent with the %d checkpoints in %s, the largest of %d entries", rep.External, f["checkpoint"], rep.Checkpoint.Size))
	case rep.Checkpoint != nil:
		what = append(what, fmt.Sprintf("consistent with the checkpoint of %d entries in %s", rep.Checkpoint.Size, f["checkpoint"]))
	}
	if rep.StoredVerified > 0 {
		what = append(what, fmt.Sprintf("%d signed checkpoints in the database verified", rep.StoredVerified))
	}
	what = append(what, "no evidence row outside the log", "the roster matches its logged history")
	fmt.Fprintf(stdout, "evidence log verified: %d entries; %s\n", rep.Entries, strings.Join(what, "; "))
	if legacy > 0 {
		fmt.Fprintf(stdout, "the chain kept from before the log verified: %d records\n", legacy)
	}
	if rep.Entries > rep.Signed && (rep.Checkpoint != nil || rep.StoredVerified > 0 || rep.SealsChecked) {
		unsealed := ""
		if !rep.SealsChecked {
			unsealed = "; their seals were not checked (that needs PORTAL_LOG_KEY), so if the portal was running when they were written they should be signed soon: run audit-verify again later, and treat entries that stay unsigned as suspect"
		}
		fmt.Fprintf(stdout, "entries %d to %d are covered by no signed checkpoint yet%s\n", rep.Signed, rep.Entries-1, unsealed)
	}
	if !rep.SealsChecked && rep.Checkpoint == nil {
		fmt.Fprintln(stdout, "note: without the log key (PORTAL_LOG_KEY) or a checkpoint saved earlier (--checkpoint), a record edited by someone who also recomputed every hash would go unnoticed")
	}
	return nil
}

// logKeygen is `portal log-keygen FILE [--origin NAME]`.
func logKeygen(args []string, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return UsageError{}
	}
	file := args[0]
	f, err := flags("log-keygen", args[1:], "origin")
	if err != nil {
		return err
	}
	origin := f["origin"]
	if origin == "" {
		cfg, err := LoadConfig(false)
		if err != nil {
			return err
		}
		origin = logOrigin(cfg.BaseURL)
	}
	vkey, err := evidence.WriteKeyFile(file, origin)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Wrote the evidence log key for %s to %s (keep it secret, and back it up apart from the database).\n", origin, file)
	fmt.Fprintf(stdout, "Its public verifier key, to give to witnesses and auditors:\n%s\n", vkey)
	return nil
}

// secretKeygen is `portal secret-keygen FILE`.
func secretKeygen(file string, stdout io.Writer) error {
	if err := secret.WriteFile(file); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Wrote a new secret to %s; set PORTAL_SECRET_FILE=%s.\n", file, file)
	return nil
}

// witness is `portal witness --url URL --state FILE [--key VERIFIER-KEY]
// [--certificate CODE]`, run by an auditor from cron on another machine.
func witness(ctx context.Context, args []string, stdout io.Writer) error {
	f, err := flags("witness", args, "url", "state", "key", "certificate")
	if err != nil {
		return err
	}
	if f["url"] == "" || f["state"] == "" {
		return UsageError{}
	}
	if !strings.HasPrefix(f["url"], "http://") && !strings.HasPrefix(f["url"], "https://") {
		return fmt.Errorf("witness: --url must start with http:// or https://")
	}
	st := &evidence.WitnessState{}
	body, err := os.ReadFile(f["state"]) // #nosec G304 -- the witness names its own state file
	switch {
	case err == nil:
		if err := json.Unmarshal(body, st); err != nil {
			return fmt.Errorf("witness: the state file %s is not one this command wrote", f["state"])
		}
	case errors.Is(err, os.ErrNotExist):
		if f["key"] == "" {
			return errors.New("witness: the first run needs the log's verifier key: pass --key (the text the agency published, or a file holding it)")
		}
	default:
		return err
	}
	if k := f["key"]; k != "" {
		_, vkey, err := evidence.VerifierFromFileOrText(k, os.ReadFile)
		if err != nil {
			return fmt.Errorf("witness --key: %w", err)
		}
		if st.VerifierKey != "" && st.VerifierKey != vkey {
			return fmt.Errorf("witness: --key differs from the key kept in %s; a log does not change its key", f["state"])
		}
		st.VerifierKey = vkey
	}
	if st.URL != "" && strings.TrimRight(st.URL, "/") != strings.TrimRight(f["url"], "/") {
		return fmt.Errorf("witness: %s watches %s, not %s; use one state file per log", f["state"], st.URL, f["url"])
	}
	st.URL = f["url"]
	code := ""
	if c := f["certificate"]; c != "" {
		var ok bool
		if code, ok = app.NormalizeVerifyCode(c); !ok {
			return fmt.Errorf("witness: %q is not a certificate code", c)
		}
	}
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := evidence.Witness(ctx, client, st, code)
	if err != nil {
		if errors.Is(err, evidence.ErrRewritten) {
			return err
		}
		return fmt.Errorf("witness: %w", err)
	}
	if err := writeStateFile(f["state"], st); err != nil {
		return err
	}
	switch {
	case res.Previous == nil:
		fmt.Fprintf(stdout, "first checkpoint kept: %d entries, signed by %s\n", res.Current.Size, res.Current.Origin)
	case res.Previous.Size == res.Current.Size:
		fmt.Fprintf(stdout, "checkpoint verified: %d entries, unchanged since the last run\n", res.Current.Size)
	default:
		fmt.Fprintf(stdout, "checkpoint verified: %d entries, extending the %d kept since the last run (consistency proof checked)\n",
			res.Current.Size, res.Previous.Size)
	}
	if res.Cert != nil {
		fmt.Fprintf(stdout, "certificate %s is entry %d of the log, included in the checkpoint of %d entries (inclusion proof checked)\n",
			code, res.Cert.Index, res.Current.Size)
	}
	return nil
}

// writeStateFile replaces the witness's state atomically.
func writeStateFile(path string, st *evidence.WitnessState) error {
	body, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".witness-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(body, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name()) // best effort; the error is what matters
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readCheckpoints reads the checkpoint file an auditor names, or every
// checkpoint file in a folder (a PORTAL_CHECKPOINT_DIR copy): the first, and
// the rest.
func readCheckpoints(path string) ([]byte, [][]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !st.IsDir() {
		msg, err := os.ReadFile(path) // #nosec G304 -- the auditor names the checkpoint file
		return msg, nil, err
	}
	names, err := filepath.Glob(filepath.Join(path, "checkpoint-*"))
	if err != nil {
		return nil, nil, err
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("%s holds no checkpoint-* file", path)
	}
	var all [][]byte
	for _, n := range names {
		msg, err := os.ReadFile(n) // #nosec G304 -- a file in the folder the auditor names
		if err != nil {
			return nil, nil, err
		}
		all = append(all, msg)
	}
	return all[0], all[1:], nil
}

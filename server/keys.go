package server

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"portal/app/evidence"
	"portal/app/secret"
	"portal/app/store"
)

// Keys are what the portal reads from outside its database: the evidence
// log's private key and its own secret. Either may be nil for a command
// that does not need it.
type Keys struct {
	Log     *evidence.Key
	Secrets *secret.Keys
}

// LoadKeys reads the keys the configuration names. The demo makes them on
// first run, beside its database.
func LoadKeys(cfg *Config, stdout io.Writer) (*Keys, error) {
	k := &Keys{}
	if cfg.LogKeyFile != "" {
		if _, err := os.Stat(cfg.LogKeyFile); errors.Is(err, os.ErrNotExist) && cfg.Demo { // #nosec G703 -- the operator names the key file
			if err := os.MkdirAll(filepath.Dir(cfg.LogKeyFile), 0o750); err != nil { // #nosec G703 -- beside the operator's database
				return nil, err
			}
			vkey, err := evidence.WriteKeyFile(cfg.LogKeyFile, logOrigin(cfg.BaseURL))
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(stdout, "Created the evidence log key %s; its verifier key is %s\n", cfg.LogKeyFile, vkey)
		}
		var err error
		if k.Log, err = evidence.LoadKeyFile(cfg.LogKeyFile); err != nil {
			return nil, fmt.Errorf("PORTAL_LOG_KEY: %w", err)
		}
	}
	raw := []byte(cfg.Secret)
	if len(raw) == 0 && cfg.SecretFile != "" {
		if _, err := os.Stat(cfg.SecretFile); errors.Is(err, os.ErrNotExist) && cfg.Demo { // #nosec G703 -- the operator names the secret file
			if err := secret.WriteFile(cfg.SecretFile); err != nil {
				return nil, err
			}
		}
		var err error
		if raw, err = secret.ReadFile(cfg.SecretFile); err != nil {
			return nil, fmt.Errorf("PORTAL_SECRET_FILE: %w", err)
		}
	}
	if len(raw) > 0 {
		var err error
		if k.Secrets, err = secret.New(raw); err != nil {
			return nil, fmt.Errorf("PORTAL_SECRET: %w", err)
		}
	}
	return k, nil
}

// logOrigin names a new log after the portal's address: its host and path
// and "/log", as the checkpoint format recommends (no scheme).
func logOrigin(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return "portal/log"
	}
	return strings.TrimSuffix(u.Host+u.Path, "/") + "/log"
}

// errNoLogKey explains what serve needs.
var errNoLogKey = errors.New("PORTAL_LOG_KEY is not set. The evidence log's private key must live in a file outside the database: " +
	"make one with `portal log-keygen /etc/portal/log.key` (it prints the public verifier key to publish) and set PORTAL_LOG_KEY to its path")

var errNoSecret = errors.New("PORTAL_SECRET (or PORTAL_SECRET_FILE) is not set. The portal's own secret never lives in the database: " +
	"make one with `portal secret-keygen /etc/portal/secret.key` and set PORTAL_SECRET_FILE to its path")

func OpenDB(cfg *Config, k *Keys) (*store.DB, error) {
	var lk *evidence.Key
	if k != nil {
		lk = k.Log
	}
	return store.Open(cfg.DB, store.Options{Synchronous: cfg.Synchronous, ReadConns: cfg.DBConns, LogKey: lk, Location: cfg.TimeZone})
}

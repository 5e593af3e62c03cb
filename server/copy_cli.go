package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"portal/app/evidence"
	"portal/app/store"
)

// copyToPostgres is `portal copy-to-postgres URL`: the SQLite database
// PORTAL_DB copied into a new, empty PostgreSQL database, whose evidence
// log is then verified there, seals and all.
func copyToPostgres(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return UsageError{}
	}
	target := args[0]
	if !store.IsPostgres(target) {
		return errors.New("copy-to-postgres: name the target as a postgres:// or postgresql:// address")
	}
	cfg, err := LoadConfig(false)
	if err != nil {
		return err
	}
	if store.IsPostgres(cfg.DB) {
		return errors.New("copy-to-postgres: PORTAL_DB is already a PostgreSQL database; set it to the SQLite file to copy")
	}
	if _, err := os.Stat(cfg.DB); err != nil {
		return fmt.Errorf("copy-to-postgres: no SQLite database at %s (PORTAL_DB)", cfg.DB)
	}
	k, err := LoadKeys(cfg, io.Discard)
	if err != nil {
		return err
	}
	if k.Log == nil {
		return errNoLogKey // the copy's log is verified with its seals
	}
	src, err := OpenDB(cfg, k)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := store.Open(target, store.Options{Synchronous: cfg.Synchronous, ReadConns: cfg.DBConns, LogKey: k.Log, Location: cfg.TimeZone})
	if err != nil {
		return err
	}
	defer dst.Close()
	res, err := src.CopyInto(ctx, dst)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %d rows in %d tables from %s into PostgreSQL\n", res.Rows, res.Tables, cfg.DB)
	legacy, brk, err := store.NewAuditService(dst).VerifyChain(ctx)
	if err != nil {
		return err
	}
	if brk != nil {
		return fmt.Errorf("the copy's chain kept from before the evidence log is broken after %d good records: %s %d", legacy, brk.Kind, brk.RefID)
	}
	rep, err := dst.VerifyLog(ctx, evidence.VerifyOptions{Key: k.Log})
	if err != nil {
		return err
	}
	if rep.Problem != nil {
		return fmt.Errorf("the copy's evidence log: %s", rep.Problem.Error())
	}
	fmt.Fprintf(stdout, "evidence log verified on PostgreSQL: %d entries, every record re-hashed and every seal checked\n", rep.Entries)
	fmt.Fprintln(stdout, "set PORTAL_DB to the PostgreSQL address on every node; keep the SQLite file as it is until the nodes run")
	return nil
}

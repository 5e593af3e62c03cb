package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"

	"portal/app"
	"portal/app/atomicfile"
)

// backupPostgres writes a pg_dump of the database (its custom format, which
// pg_restore reads) to path, under a temporary name until pg_dump has
// finished and the file is synced: a dump cut short leaves nothing under
// the name asked for. A deployment's real backups are the database
// administrator's (base backups and archived WAL, or a managed service's);
// this is the one-off copy an operator asks for, made where pg_dump is
// installed.
func (db *DB) backupPostgres(ctx context.Context, path string) error {
	dump, err := exec.LookPath("pg_dump")
	if err != nil {
		return errors.New("backup: pg_dump is not installed here. On PostgreSQL, back up with the database administrator's tools " +
			"(pg_dump, or base backups with archived WAL); install the postgresql-client package to let `portal backup` run pg_dump")
	}
	u, err := url.Parse(db.dsn)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// The password goes to pg_dump in its environment, never on its command
	// line, where any user of the machine could read it.
	env := os.Environ()
	if pw, ok := u.User.Password(); ok {
		env = append(env, "PGPASSWORD="+pw)
		u.User = url.User(u.User.Username())
	}
	f, err := atomicfile.Create(path)
	if errors.Is(err, fs.ErrExist) {
		return app.Errorf(app.ECONFLICT, "%s already exists", path)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Abort()
	cmd := exec.CommandContext(ctx, dump, "--format=custom", "--no-owner", "--file="+f.Name(), "--dbname="+u.String()) // #nosec G204 -- pg_dump, with the configured database
	cmd.Env = env
	attr, unlock := dieWithParent()
	defer unlock()
	cmd.SysProcAttr = attr
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("backup: pg_dump: %v: %s", err, out)
	}
	err = f.Commit()
	if errors.Is(err, fs.ErrExist) {
		return app.Errorf(app.ECONFLICT, "%s already exists", path)
	}
	return err
}

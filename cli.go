package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"portal/app"
	"portal/app/sqlite"
	"portal/handlers"
)

// importRoster is `portal import-roster FILE [--dry-run] [--deactivate-missing]`.
func importRoster(ctx context.Context, args []string, stdout io.Writer) error {
	var file string
	var opts app.ImportOptions
	for _, a := range args {
		switch {
		case a == "--dry-run":
			opts.DryRun = true
		case a == "--deactivate-missing":
			opts.DeactivateMissing = true
		case strings.HasPrefix(a, "-"):
			return fmt.Errorf("import-roster: unknown option %s", a)
		case file != "":
			return usageError{}
		default:
			file = a
		}
	}
	if file == "" {
		return usageError{}
	}
	cfg, err := loadConfig(false)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	db, err := openDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	rs := sqlite.NewRosterService(db)
	existing, err := rs.ActiveManagers(ctx)
	if err != nil {
		return err
	}
	rows, probs, err := handlers.ParseRoster(f, existing)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	if len(probs) == 0 {
		opts.Source = file
		sum, err := rs.ImportRoster(ctx, rows, opts)
		if err != nil {
			return err
		}
		probs = sum.Problems
		if len(probs) == 0 {
			verb := "imported"
			if opts.DryRun {
				verb = "checked (dry run, nothing changed)"
			}
			fmt.Fprintf(stdout, "%s %s: %d rows, %d added, %d updated, %d reactivated, %d deactivated, %d unchanged\n",
				file, verb, sum.Rows, sum.Added, sum.Updated, sum.Reactivated, sum.Deactivated, sum.Unchanged)
			return nil
		}
	}
	for _, p := range probs {
		col := ""
		if p.Column != "" {
			col = " (" + p.Column + ")"
		}
		fmt.Fprintf(stdout, "%s:%d%s: %s\n", file, p.Line, col, p.Message)
	}
	return errors.New(fmt.Sprint(len(probs), " problem(s) in ", file, "; nothing was imported"))
}

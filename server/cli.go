package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"portal/app"
	"portal/app/atomicfile"
	"portal/app/roster"
	"portal/app/store"
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
			return UsageError{}
		default:
			file = a
		}
	}
	if file == "" {
		return UsageError{}
	}
	f, err := os.Open(file) // #nosec G304 G703 -- the operator names the roster file on the command line
	if err != nil {
		return err
	}
	defer f.Close()
	_, db, _, err := openForCommand(true)
	if err != nil {
		return err
	}
	defer db.Close()
	rs := rosterWithSync(db)
	existing, err := rs.ActiveManagers(ctx)
	if err != nil {
		return err
	}
	rows, probs, err := roster.ParseRows(f, existing)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	if len(probs) == 0 {
		opts.Source = "import-roster " + file
		sum, err := rs.ImportRoster(ctx, rows, opts)
		var after *app.CommittedError
		if errors.As(err, &after) { // the import is committed; only what follows it failed
			fmt.Fprintf(stdout, "warning: the import is done, but what follows it failed: %v\n", after.Err)
			err = nil
		}
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
			if sum.Invitations > 0 {
				// Queued with the roster change; the server's mail worker sends them.
				noun := "invitations"
				if sum.Invitations == 1 {
					noun = "invitation"
				}
				fmt.Fprintf(stdout, "%d %s queued for the people added or reactivated; the portal is sending them now\n", sum.Invitations, noun)
			}
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

// exportCertificates is `portal export-certificates [--agency NAME]
// [--department NAME] [--manager EMPLOYEE_NUMBER] --out FILE.zip`.
func exportCertificates(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var agency, department, manager, out string
	for i := 0; i < len(args); i++ {
		var dest *string
		switch args[i] {
		case "--agency":
			dest = &agency
		case "--department":
			dest = &department
		case "--manager":
			dest = &manager
		case "--out":
			dest = &out
		default:
			return fmt.Errorf("export-certificates: unexpected %q", args[i])
		}
		if i+1 >= len(args) {
			return fmt.Errorf("export-certificates: %s needs a value", args[i])
		}
		i++
		*dest = args[i]
	}
	if out == "" {
		return UsageError{}
	}
	cfg, db, k, err := openForCommand(true)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := Wire(ctx, cfg, db, k, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	h := p.Handler
	cycle, err := h.Cycles.CurrentCycle(ctx)
	if err != nil {
		return err
	}
	f := app.PeopleFilter{CycleID: cycle.ID, Agency: agency, Department: department}
	if manager != "" {
		es, _, err := h.Employees.FindEmployees(ctx, app.EmployeeFilter{EmployeeNumber: &manager})
		if err != nil {
			return err
		}
		if len(es) == 0 {
			return fmt.Errorf("export-certificates: no employee has number %s", manager)
		}
		f.ManagerID = &es[0].ID
	}
	// Written under a temporary name, then renamed: a run killed half way
	// leaves no partial ZIP under the name asked for.
	file, err := atomicfile.Create(out)
	if err != nil {
		return fmt.Errorf("export-certificates: %w", err)
	}
	defer file.Abort()
	w := bufio.NewWriter(file)
	n, err := h.Certificates.Write(ctx, w, f)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = file.Commit()
	}
	if err != nil {
		return err
	}
	if err := h.Audit.RecordEvent(ctx, &app.AuditEvent{Action: "certificates.exported", SubjectType: "cycle", SubjectID: cycle.ID,
		Detail: fmt.Sprintf("%d certificates to %s (command line; agency %q, department %q, manager %q)", n, out, agency, department, manager)}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d certificates written to %s\n", n, out)
	return nil
}

// remind is `portal remind [--dry-run]`: one reminder pass, then the outbox
// is drained once (a running server's worker would deliver it as well).
func remind(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	dry := false
	for _, a := range args {
		if a != "--dry-run" {
			return UsageError{}
		}
		dry = true
	}
	cfg, db, k, err := openForCommand(true)
	if err != nil {
		return err
	}
	defer db.Close()
	if k.Secrets == nil && !dry {
		return errNoSecret // the outbox's sign-in links open only with it
	}
	p, err := Wire(ctx, cfg, db, k, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	sum, err := p.Reminders.RunPass(ctx, db.Now(), cfg.TimeZone, cfg.Schedule, dry)
	if err != nil {
		return err
	}
	verb := "queued"
	if dry {
		verb = "would queue (dry run, nothing changed)"
	}
	fmt.Fprintf(stdout, "reminder pass %s %d invitations, %d reminders, %d escalations, %d digests\n",
		verb, sum.Invitations, sum.Reminders, sum.Escalations, sum.Digests)
	if sum.AccountReviews > 0 {
		fmt.Fprintf(stdout, "reminder pass %s %d account review reminders to supervisors\n", verb, sum.AccountReviews)
	}
	if sum.AuthorizationsEnding > 0 {
		fmt.Fprintf(stdout, "reminder pass %s %d reminders of poster authorizations ending soon\n", verb, sum.AuthorizationsEnding)
	}
	if !dry {
		p.Worker.Drain(ctx)
	}
	return nil
}

// openForCommand reads the configuration and the keys and opens the
// database, as every operator command does; a command that writes evidence
// needs the log key.
func openForCommand(writesEvidence bool) (*Config, *store.DB, *Keys, error) {
	cfg, err := LoadConfig(false)
	if err != nil {
		return nil, nil, nil, err
	}
	k, err := LoadKeys(cfg, io.Discard)
	if err != nil {
		return nil, nil, nil, err
	}
	if writesEvidence && k.Log == nil {
		return nil, nil, nil, errNoLogKey
	}
	db, err := OpenDB(cfg, k)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, db, k, nil
}

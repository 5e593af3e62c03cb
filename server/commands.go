package server

import (
	"context"
	"errors"
	"fmt"
	"io"
)

const usage = `usage: portal <command> [arguments]

commands:
  serve          run the web server (configured by environment variables)
  demo           run the web server on a demo database with sample data
  import-roster FILE [--dry-run] [--deactivate-missing]
                 load a roster CSV; exit 1 and list every bad row if the file is bad
  remind [--dry-run]
                 one reminder pass (safe from cron while the server runs)
  export-certificates [--agency NAME] [--department NAME] [--manager EMPLOYEE_NUMBER] --out FILE.zip
                 the signed certificates of the current cycle with a SHA-256 manifest
  audit-verify [--checkpoint FILE] [--key VERIFIER-KEY]
                 check every evidence record against the log, its seals and its
                 checkpoints (and a checkpoint saved earlier); exit 1 and name
                 the first bad record. Reads the database and nothing else.
  log-keygen FILE [--origin NAME]
                 write a new evidence log key to FILE (mode 0600) and print its
                 public verifier key
  secret-keygen FILE
                 write a new PORTAL_SECRET to FILE (mode 0600)
  witness --url URL --state FILE [--key VERIFIER-KEY] [--certificate CODE]
                 check a portal's log from another machine: its latest
                 checkpoint extends the one kept in FILE; exit 1 with "the log
                 was rewritten" if not
  backup FILE    write an online, consistent copy of the database to FILE
  copy-to-postgres URL
                 copy the SQLite database PORTAL_DB into a new, empty PostgreSQL
                 database (as a superuser, with the portal stopped) and verify
                 its evidence log there
  api-token create --name NAME --scope SCOPE[,SCOPE]
                 make an API token and print it (once: only its hash is kept);
                 scopes: completion:read, certificates:read, roster:write
  api-token list | api-token revoke ID
                 list the API tokens; revoke one for good
`

// Main runs the command line args (without the program name) until ctx is
// done and returns the process's exit code: 0, 1 for a failure (printed on
// stderr), 2 for a usage error (the usage is printed).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := Run(ctx, args, stdout, stderr)
	if err == nil {
		return 0
	}
	var ue UsageError
	if errors.As(err, &ue) {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fmt.Fprintln(stderr, "portal:", err)
	return 1
}

type UsageError struct{}

func (UsageError) Error() string { return "usage" }

// Run executes one command and returns its error: Main without the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return UsageError{}
	}
	switch args[0] {
	case "serve", "demo":
		if len(args) != 1 {
			return UsageError{}
		}
		return serve(ctx, args[0] == "demo", stdout, stderr)
	case "audit-verify":
		return auditVerify(ctx, args[1:], stdout)
	case "log-keygen":
		return logKeygen(args[1:], stdout)
	case "secret-keygen":
		if len(args) != 2 {
			return UsageError{}
		}
		return secretKeygen(args[1], stdout)
	case "witness":
		return witness(ctx, args[1:], stdout)
	case "import-roster":
		return importRoster(ctx, args[1:], stdout)
	case "remind":
		return remind(ctx, args[1:], stdout, stderr)
	case "export-certificates":
		return exportCertificates(ctx, args[1:], stdout, stderr)
	case "backup":
		if len(args) != 2 {
			return UsageError{}
		}
		return backup(ctx, args[1], stdout)
	case "copy-to-postgres":
		return copyToPostgres(ctx, args[1:], stdout)
	case "api-token":
		return apiToken(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return UsageError{}
}

func backup(ctx context.Context, path string, stdout io.Writer) error {
	_, db, _, err := openForCommand(false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", path)
	return nil
}

package server

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"portal/app"
	"portal/app/store"
)

// apiToken is `portal api-token create --name NAME --scope SCOPE[,SCOPE]`,
// `portal api-token list` and `portal api-token revoke ID`. What the
// command line does is recorded as the portal's own doing (no person).
func apiToken(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return UsageError{}
	}
	switch args[0] {
	case "create":
		var name, scopes string
		var named, scoped bool
		for i := 1; i < len(args); i++ {
			if i+1 >= len(args) {
				return fmt.Errorf("api-token create: %s needs a value", args[i])
			}
			switch args[i] {
			case "--name":
				name, named = args[i+1], true
			case "--scope":
				scopes, scoped = args[i+1], true
			default:
				return fmt.Errorf("api-token create: unexpected %q", args[i])
			}
			i++
		}
		if !named || !scoped {
			return fmt.Errorf("api-token create: give --name NAME and --scope SCOPE[,SCOPE] (scopes: %s)", strings.Join(app.APIScopes, ", "))
		}
		return withTokens(func(s *store.APITokenService) error {
			t, secret, err := s.CreateAPIToken(ctx, name, strings.Split(scopes, ","), nil)
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintf(stdout, "API token %d %q created with %s.\nCopy it now: it is not shown again (only its hash is kept).\n%s\n",
				t.ID, t.Name, strings.Join(t.Scopes, ", "), secret)
			return nil
		})
	case "list":
		if len(args) != 1 {
			return UsageError{}
		}
		return withTokens(func(s *store.APITokenService) error {
			ts, err := s.APITokens(ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tSCOPES\tCREATED\tLAST USED\tSTATE")
			for _, t := range ts {
				used, state := "never", "in use"
				if t.LastUsedAt != nil {
					used = t.LastUsedAt.UTC().Format(time.RFC3339)
				}
				if t.RevokedAt != nil {
					state = "revoked " + t.RevokedAt.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Scopes, ","), t.CreatedAt.UTC().Format(time.RFC3339), used, state)
			}
			return w.Flush()
		})
	case "revoke":
		if len(args) != 2 {
			return UsageError{}
		}
		id, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("api-token revoke: %q is not a token's id (see portal api-token list)", args[1])
		}
		return withTokens(func(s *store.APITokenService) error {
			t, err := s.RevokeAPIToken(ctx, id, nil)
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintf(stdout, "API token %d %q revoked: calls made with it are refused from now on.\n", t.ID, t.Name)
			return nil
		})
	}
	return UsageError{}
}

// withTokens opens the database (tokens' changes are audit events, so the
// log key is needed) and runs fn with the token store.
func withTokens(fn func(*store.APITokenService) error) error {
	_, db, _, err := openForCommand(true)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(store.NewAPITokenService(db))
}

// cliError is an app error's message alone, for a person at a terminal.
func cliError(err error) error {
	if code := app.ErrorCode(err); code != app.EINTERNAL {
		return fmt.Errorf("api-token: %s", app.ErrorMessage(err))
	}
	return err
}

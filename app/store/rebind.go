package store

import (
	"context"
	"database/sql/driver"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgConnector gives database/sql connections of pgx's pool whose queries
// are rewritten from the portal's placeholders (`?`, and `:name` for
// sql.Named arguments, as SQLite reads them) to PostgreSQL's `$1, $2…`.
type pgConnector struct {
	inner driver.Connector
	pool  *pgxpool.Pool
}

// Close closes the pgx pool under the connector: database/sql calls it
// when the *sql.DB is closed, so no pool outlives its DB.
func (c pgConnector) Close() error {
	c.pool.Close()
	return nil
}

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{cn.(*stdlib.Conn)}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is one of the pool's connections; everything but the query text
// is pgx's own.
type pgConn struct{ *stdlib.Conn }

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, rebind(query, args), loose(args))
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebind(query, args), loose(args))
}

// looseInt is an integer argument that PostgreSQL may take as a number or
// as text: SQLite converts a number bound where text is expected (an id in
// `'digest:' || ?`), and the services' SQL relies on it; pgx would refuse.
type looseInt int64

func (n looseInt) Int64Value() (pgtype.Int8, error) {
	return pgtype.Int8{Int64: int64(n), Valid: true}, nil
}
func (n looseInt) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: strconv.FormatInt(int64(n), 10), Valid: true}, nil
}

// loose makes the integer arguments looseInt, in place.
func loose(args []driver.NamedValue) []driver.NamedValue {
	for i, a := range args {
		switch v := a.Value.(type) {
		case int64:
			args[i].Value = looseInt(v)
		case int:
			args[i].Value = looseInt(v)
		case int32:
			args[i].Value = looseInt(v)
		}
	}
	return args
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebind(query, nil))
}

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// indexedBy matches SQLite's INDEXED BY hint, which a few queries give where
// SQLite, without statistics, would pick a worse index. PostgreSQL has no
// such clause (its planner keeps statistics), so its connections drop it.
var indexedBy = regexp.MustCompile(`(?i)\s+INDEXED\s+BY\s+[a-z_][a-z0-9_]*`)

// rebound caches the rewrite of queries without named arguments: the
// portal sends a few hundred distinct texts, again and again.
var rebound sync.Map

// rebind rewrites query's placeholders for PostgreSQL: the n-th `?` becomes
// the position of the n-th unnamed argument, and `:name` that of the
// argument named name. Text inside quotes and comments is left alone, and
// so is PostgreSQL's `::type` cast.
func rebind(query string, args []driver.NamedValue) string {
	named := false
	for _, a := range args {
		if a.Name != "" {
			named = true
			break
		}
	}
	if !named {
		if q, ok := rebound.Load(query); ok {
			return q.(string)
		}
	}
	query = indexedBy.ReplaceAllString(query, "")
	if !strings.ContainsAny(query, "?:") {
		return query
	}
	var unnamed []int // positions ($n) of the unnamed arguments, in order
	byName := map[string]int{}
	for _, a := range args {
		if a.Name == "" {
			unnamed = append(unnamed, a.Ordinal)
		} else {
			byName[a.Name] = a.Ordinal
		}
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	next := 0 // the next `?`
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case ch == '\'' || ch == '"': // a string or a quoted name, '' and "" escaping the quote
			j := i + 1
			for j < len(query) {
				if query[j] == ch {
					if j+1 < len(query) && query[j+1] == ch {
						j += 2
						continue
					}
					break
				}
				j++
			}
			b.WriteString(query[i:min(j+1, len(query))])
			i = j
		case ch == '-' && i+1 < len(query) && query[i+1] == '-': // a comment to the end of the line
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j - 1
		case ch == '?':
			next++
			n := next
			if named && next <= len(unnamed) {
				n = unnamed[next-1]
			}
			b.WriteString("$" + strconv.Itoa(n))
		case ch == ':' && named && i+1 < len(query) && isNameStart(query[i+1]) && (i == 0 || query[i-1] != ':'):
			j := i + 1
			for j < len(query) && isNameChar(query[j]) {
				j++
			}
			if n, ok := byName[query[i+1:j]]; ok {
				b.WriteString("$" + strconv.Itoa(n))
				i = j - 1
			} else {
				b.WriteByte(ch)
			}
		default:
			b.WriteByte(ch)
		}
	}
	out := b.String()
	if !named {
		rebound.Store(query, out)
	}
	return out
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isNameChar(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }

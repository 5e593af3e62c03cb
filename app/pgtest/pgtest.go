// Package pgtest starts a throwaway PostgreSQL server for tests: Debian's
// PostgreSQL binaries, initdb into a temporary directory, a free port on
// 127.0.0.1, and everything removed when the tests end. No containers.
//
// PostgreSQL refuses to run as root, so a test run by root (as `make test`
// is on the build machines) starts the server as the postgres user, in a
// directory that user owns.
//
// A test package that uses it stops the server after its tests:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
//
// and a test asks for an empty database of its own with Database(t).
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Server is a running throwaway PostgreSQL.
type Server struct {
	dir  string // owns data/, the socket and the log
	bin  string // the folder of initdb, pg_ctl
	port int
	// asPostgres: the server runs as the postgres user (the tests run as root).
	asPostgres bool
	admin      *sql.DB
	n          atomic.Int64 // databases made so far
}

// Options tune the server.
type Options struct {
	// Durable keeps PostgreSQL's defaults (fsync, synchronous commit), for
	// benchmarks whose figures must be a real server's. Tests leave it false:
	// a crash of the machine is not what they test, and every commit waiting
	// for the disk would slow them for nothing.
	Durable bool
	// MaxConnections is the server's limit (default 400: many tests, each
	// with a pool of its own, at once).
	MaxConnections int
}

// Bin is the folder holding initdb and pg_ctl: PORTAL_PG_BIN, or the
// newest of Debian's /usr/lib/postgresql/N/bin.
func Bin() (string, error) {
	if b := os.Getenv("PORTAL_PG_BIN"); b != "" {
		return b, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb) under /usr/lib/postgresql; " +
		"`make test` installs Debian's postgresql package, or set PORTAL_PG_BIN")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start initialises and starts a server. Stop removes it.
func Start(opts Options) (*Server, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	if opts.MaxConnections == 0 {
		opts.MaxConnections = 400
	}
	reapStale(bin)
	dir, err := os.MkdirTemp("", "portal-pgtest-")
	if err != nil {
		return nil, err
	}
	// The test process that owns the server: a later start stops a server
	// whose owner was killed before it could (reapStale).
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{dir: dir, bin: bin, asPostgres: os.Geteuid() == 0}
	if s.asPostgres {
		if err := chownToPostgres(dir); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	if out, err := s.run("initdb", "-D", s.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	settings := []string{"-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=" + strconv.Itoa(opts.MaxConnections)}
	if !opts.Durable {
		settings = append(settings, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	// A port that was free a moment ago may be taken by the time the server
	// binds it: try a few.
	for try := 0; ; try++ {
		if s.port, err = freePort(); err != nil {
			break
		}
		o := strings.Join(append([]string{"-p", strconv.Itoa(s.port)}, settings...), " ")
		var out string
		if out, err = s.run("pg_ctl", "-D", s.data(), "-o", o, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err == nil {
			break
		}
		err = fmt.Errorf("pg_ctl start: %v: %s %s", err, out, s.logTail())
		if try == 2 {
			break
		}
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if s.admin, err = sql.Open("pgx", s.URL("postgres")); err == nil {
		err = s.admin.Ping()
	}
	if err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("connect to the test server: %w", err)
	}
	return s, nil
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// URL is the address of database name, as PORTAL_DB takes it.
func (s *Server) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, name)
}

// Port is the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// CreateDatabase makes a new, empty database and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context) (name, url string, err error) {
	name = fmt.Sprintf("t%d_%d", os.Getpid(), s.n.Add(1))
	// A name of digits and letters made here: nothing to quote.
	if _, err := s.admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return "", "", fmt.Errorf("create database: %w", err)
	}
	return name, s.URL(name), nil
}

// DropDatabase removes a database, closing its connections first.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	_, err := s.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	return err
}

// Stop stops the server at once and removes its files.
func (s *Server) Stop() error {
	if s.admin != nil {
		_ = s.admin.Close()
	}
	_, err := s.run("pg_ctl", "-D", s.data(), "-m", "immediate", "-w", "stop")
	return errors.Join(err, os.RemoveAll(s.dir))
}

// Command runs one of the server's programs (psql, pg_dump…) as the user
// the server runs as, and returns what it printed.
func (s *Server) Command(name string, args ...string) (string, error) { return s.run(name, args...) }

// BinPath is the path of one of the server's programs.
func (s *Server) BinPath(name string) string { return filepath.Join(s.bin, name) }

func (s *Server) run(name string, args ...string) (string, error) {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.asPostgres {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...) // #nosec G204 -- the server's own programs, arguments made by this package
	} else {
		cmd = exec.Command(path, args...) // #nosec G204 -- the server's own programs, arguments made by this package
	}
	cmd.Dir = s.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func chownToPostgres(dir string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("no postgres user to run PostgreSQL as (it refuses root): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// reapStale stops and removes the servers of test processes that were
// killed before they could stop their own (a test binary timed out, a run
// interrupted): each server's folder names its owner's process id.
func reapStale(bin string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "portal-pgtest-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid")) // #nosec G304 -- a folder this package made under the temporary folder
		if err != nil {
			continue // not made by this package, or being made right now
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue // its owner is alive
		}
		s := &Server{dir: dir, bin: bin, asPostgres: os.Geteuid() == 0}
		_, _ = s.run("pg_ctl", "-D", s.data(), "-m", "immediate", "-w", "stop")
		_ = os.RemoveAll(dir)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// The server of a test package, started by the first Database call and
// stopped by Run.
var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// Shared is the test package's server, started on first use.
func Shared() (*Server, error) {
	sharedOnce.Do(func() { shared, sharedErr = Start(Options{}) })
	return shared, sharedErr
}

// Run runs a test package's tests and then stops its server, if one was
// started. Use it from TestMain.
func Run(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stop:", err)
		}
	}
	return code
}

// Database returns the URL of a new, empty database on the package's
// server, dropped when the test ends. Without PostgreSQL the test fails
// under CI (where `make test` installed it) and is skipped elsewhere, with
// the reason.
func Database(t testing.TB) string {
	t.Helper()
	s, err := Shared()
	if err != nil {
		msg := "PostgreSQL tests need a PostgreSQL server: " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name, url, err := s.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.DropDatabase(context.Background(), name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return url
}

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"portal/app/pgtest"
	"portal/server"
)

// portalBinary builds the real portal command into a temporary folder.
func portalBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "portal")
	if out, err := exec.Command("go", "build", "-o", bin, "portal").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// temporaries lists the temporary files written for final.
func temporaries(t *testing.T, final string) []string {
	t.Helper()
	tmps, err := filepath.Glob(final + ".tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	return tmps
}

// killWhenWriting starts cmd and kills it with SIGKILL once a file for final
// (a temporary one, or final itself for a command that writes there
// straight) exists and holds some bytes: a run killed half way.
func killWhenWriting(t *testing.T, cmd *exec.Cmd, final string) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	waitFor(t, "a temporary file with bytes in it", func() bool {
		select {
		case <-exited:
			t.Fatalf("%s ended before it could be killed half way (make its work bigger):\n%s", cmd.Args[1], out.String())
		default:
		}
		for _, f := range append(temporaries(t, final), final) {
			if fi, err := os.Stat(f); err == nil && fi.Size() > 0 {
				return true
			}
		}
		return false
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("%s was not killed: %v\n%s", cmd.Args[1], cmd.ProcessState, out.String())
	}
}

// checkKilledRun checks what a killed run left: nothing under the final
// name, its temporary file beside it, named as the README says (and for a
// backup, SQLite's journal of that temporary file).
func checkKilledRun(t *testing.T, final string) {
	t.Helper()
	if _, err := os.Lstat(final); err == nil {
		t.Fatalf("a killed run left %s", final)
	}
	tmps := temporaries(t, final)
	if len(tmps) == 0 {
		t.Fatal("no temporary file after the kill")
	}
	for _, tmp := range tmps {
		if len(strings.TrimSuffix(strings.TrimPrefix(tmp, final+".tmp-"), "-journal")) != 16 {
			t.Fatalf("temporary files after the kill: %v", tmps)
		}
	}
}

// TestKilledExportLeavesNoFile kills `portal export-certificates` while it
// writes the ZIP of 100 and more certificates, then runs it again.
func TestKilledExportLeavesNoFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a portal process")
	}
	bin := portalBinary(t)
	tp, _, _ := exportPortal(t)
	env := append(os.Environ(), "PORTAL_DB="+tp.DB.Path, "PORTAL_LOG_KEY="+tp.Config.LogKeyFile,
		"PORTAL_SECRET="+testSecret, "PORTAL_BASE_URL="+tp.BaseURL, "PORTAL_LOG_FORMAT=text")
	final := filepath.Join(t.TempDir(), "certificates.zip")
	run := func() *exec.Cmd {
		cmd := exec.Command(bin, "export-certificates", "--out", final)
		cmd.Env = env
		return cmd
	}

	killWhenWriting(t, run(), final)
	checkKilledRun(t, final)

	if out, err := run().CombinedOutput(); err != nil {
		t.Fatalf("the run after the kill: %v\n%s", err, out)
	}
	b, err := os.ReadFile(final)
	if err != nil {
		t.Fatal(err)
	}
	signed := tp.count(t, `SELECT COUNT(*) FROM assignments WHERE cycle_id = ? AND signed_at IS NOT NULL AND active = 1`, tp.cycleID(t))
	if got := checkZip(t, b); len(got) != signed {
		t.Fatalf("%d certificates in the ZIP, %d signed", len(got), signed)
	}
	if fi, err := os.Stat(final); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v", final, fi.Mode(), err)
	}
	if out, err := run().CombinedOutput(); err == nil || !strings.Contains(string(out), "file already exists") {
		t.Fatalf("a third run over the finished file: %v\n%s", err, out)
	}
}

// TestKilledBackupLeavesNoFile kills `portal backup` while VACUUM INTO
// writes the copy of a database made large (200 MB of ballast in a table of
// its own), then backs up again and checks the copy.
func TestKilledBackupLeavesNoFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a portal process")
	}
	bin := portalBinary(t)
	tp := startTestPortal(t)
	tp.Stop()
	raw := evRaw(t, tp.DB.Path)
	if onPostgres() {
		// pg_dump writes the copy: random bytes, which it cannot compress
		// away, make it take long enough to be killed half way.
		evExec(t, raw, `CREATE TABLE ballast (b BYTEA NOT NULL)`)
		evExec(t, raw, `INSERT INTO ballast (b) SELECT decode(string_agg(md5(random()::text || g || h), ''), 'hex')
			FROM generate_series(1, 200) g, generate_series(1, 32768) h GROUP BY g`)
	} else {
		evExec(t, raw, `CREATE TABLE ballast (b BLOB NOT NULL)`)
		evExec(t, raw, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
			INSERT INTO ballast (b) SELECT zeroblob(1 << 20) FROM n`)
	}
	raw.Close()
	final := filepath.Join(t.TempDir(), "backup.db")
	run := func() *exec.Cmd {
		cmd := exec.Command(bin, "backup", final)
		cmd.Env = append(os.Environ(), "PORTAL_DB="+tp.DB.Path, "PORTAL_LOG_KEY="+tp.Config.LogKeyFile,
			"PORTAL_SECRET="+testSecret, "PORTAL_LOG_FORMAT=text")
		return cmd
	}

	killWhenWriting(t, run(), final)
	checkKilledRun(t, final)
	if onPostgres() {
		// pg_dump dies with the portal: nothing goes on writing the
		// temporary file once `portal backup` is killed.
		// A pg_dump left running would finish the file, which pg_restore
		// would then read to the end.
		waitFor(t, "pg_dump to end", func() bool { return len(processesNaming(t, final)) == 0 })
		for _, tmp := range temporaries(t, final) {
			if out, err := exec.Command("pg_restore", "--file=/dev/null", tmp).CombinedOutput(); err == nil { // #nosec G204 -- the test's own file
				t.Fatalf("pg_dump went on writing %s after the portal was killed: pg_restore reads it whole (%s)", tmp, out)
			}
		}
	}

	if out, err := run().CombinedOutput(); err != nil {
		t.Fatalf("the run after the kill: %v\n%s", err, out)
	}
	if fi, err := os.Stat(final); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v", final, fi.Mode(), err)
	}
	if onPostgres() {
		final = restorePgDump(t, final) // the dump, restored into a database of its own
	}
	t.Setenv("PORTAL_DB", final)
	t.Setenv("PORTAL_LOG_KEY", tp.Config.LogKeyFile)
	t.Setenv("PORTAL_SECRET", testSecret)
	var out bytes.Buffer
	if err := server.Run(context.Background(), []string{"audit-verify"}, &out, &out); err != nil {
		t.Fatalf("the backup does not verify: %v\n%s", err, out.String())
	}
	if n := tp.count(t, `SELECT COUNT(*) FROM ballast`); n != 200 {
		t.Fatalf("%d rows of ballast in the source", n)
	}
	copyRows := readFile(t, final)
	defer copyRows.Close()
	var n int
	if err := copyRows.QueryRow(`SELECT COUNT(*) FROM ballast`).Scan(&n); err != nil || n != 200 {
		t.Fatalf("the copy holds %d rows of ballast: %v", n, err)
	}
}

// restorePgDump restores a `portal backup` of PostgreSQL (pg_dump's custom
// format) into a new database of the test server and returns its URL.
func restorePgDump(t *testing.T, file string) string {
	t.Helper()
	url := pgtest.Database(t)
	if out, err := exec.Command("pg_restore", "--no-owner", "--exit-on-error", "--dbname="+url, file).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore of the backup: %v\n%s", err, out)
	}
	return url
}

// processesNaming lists the running processes whose command line names
// path (or a file beside it, such as its temporary file).
func processesNaming(t *testing.T, path string) []string {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, f := range dirs {
		b, err := os.ReadFile(f) // #nosec G304 -- /proc, read by the test
		if err != nil {
			continue // the process has ended
		}
		if cmd := strings.ReplaceAll(string(b), "\x00", " "); strings.Contains(cmd, path) {
			found = append(found, cmd)
		}
	}
	return found
}

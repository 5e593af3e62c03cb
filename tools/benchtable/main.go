// Command benchtable reads `go test -bench` output on standard input and
// prints one Markdown table: each benchmark with its time per operation and
// the metrics it reports (rates, ratios against the raw limit measured in
// the same run). `make bench` pipes every hot-path benchmark through it.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

type row struct {
	pkg, name, nsop string
	metrics         []string
}

func run(in io.Reader, out io.Writer) error {
	var rows []row
	var failed []string
	pkg, cpu := "", ""
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimPrefix(line, "pkg: ")
		case strings.HasPrefix(line, "cpu: "):
			cpu = strings.TrimPrefix(line, "cpu: ")
		case strings.HasPrefix(line, "--- FAIL"), strings.HasPrefix(line, "FAIL"), strings.HasPrefix(line, "panic:"):
			failed = append(failed, strings.TrimSpace(line))
		case strings.HasPrefix(line, "Benchmark"):
			f := strings.Fields(line)
			if len(f) < 4 || f[3] != "ns/op" {
				continue
			}
			r := row{pkg: pkg, name: strings.TrimPrefix(f[0], "Benchmark"), nsop: human(f[2])}
			for i := 4; i+1 < len(f); i += 2 {
				r.metrics = append(r.metrics, f[i]+" "+f[i+1])
			}
			rows = append(rows, r)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(failed) > 0 { // a failed benchmark fails the run, whatever else measured
		return fmt.Errorf("benchmarks failed:\n  %s", strings.Join(failed, "\n  "))
	}
	if len(rows) == 0 {
		return fmt.Errorf("no benchmark results on standard input")
	}
	fmt.Fprintf(out, "Machine: %s, %d cores (GOMAXPROCS), %s\n\n", cpu, runtime.NumCPU(), runtime.Version())
	fmt.Fprintln(out, "| package | benchmark | time/op | measured |")
	fmt.Fprintln(out, "|---|---|---|---|")
	for _, r := range rows {
		pkg := "." + strings.TrimPrefix(r.pkg, "portal")
		fmt.Fprintf(out, "| %s | %s | %s | %s |\n", pkg, r.name, r.nsop, strings.Join(r.metrics, ", "))
	}
	return nil
}

// human turns nanoseconds into a readable duration.
func human(ns string) string {
	var v float64
	if _, err := fmt.Sscan(ns, &v); err != nil {
		return ns
	}
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2f s", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f µs", v/1e3)
	}
	return fmt.Sprintf("%.0f ns", v)
}

package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("drift-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	full := fs.Bool("full", false, "run the full grid of docs/drift.md (default: the CI subset)")
	out := fs.String("out", "", "write the markdown table to this file (default: stdout)")
	r := fs.Int("r", 200, "replicates per cell (full grid)")
	r1000 := fs.Int("r1000", 200, "replicates for N = 1000 cells (the spec allows 50)")
	quiet := fs.Bool("q", false, "no progress on stderr")
	only := fs.String("bars", "", "comma-separated bars to run (default: all)")
	tables := fs.String("tables", "", "regenerate Table B of this power-tables file from the oracle O, then exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *tables != "" {
		if err := rewriteTableB(*tables, 4000); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		return 0
	}
	plan := QuickPlan()
	if *full {
		plan = FullPlan(*r, *r1000)
	}
	for _, f := range strings.FieldsFunc(*only, func(r rune) bool { return r == ',' }) {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 11 {
			fmt.Fprintf(stderr, "-bars: %q is not a bar number 1..11\n", f)
			return 2
		}
		plan.Bars = append(plan.Bars, n)
	}
	if !*quiet {
		plan.Log = stderr
	}
	start := time.Now()
	rows := Run(plan)
	elapsed := time.Since(start)
	command := "go run ./bench/drift " + strings.Join(args, " ")
	w := stdout
	if *out != "" {
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		defer f.Close()
		w = f
	}
	if err := WriteMarkdown(w, rows, plan, elapsed, strings.TrimSpace(command)); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if n := Failed(rows); n > 0 {
		fmt.Fprintf(stderr, "drift bench: %d bar rows failed\n", n)
		return 1
	}
	return 0
}

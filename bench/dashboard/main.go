package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/server"
	"github.com/evald/evald/store"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	p := DefaultPlan()
	fs := flag.NewFlagSet("dashboard-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "bench/out/dashboard/year.db", "database `file`; generated when missing")
	fs.IntVar(&p.Suites, "suites", p.Suites, "suites (one target each)")
	fs.IntVar(&p.PerDay, "per-day", p.PerDay, "runs a day per suite")
	fs.IntVar(&p.Days, "days", p.Days, "days of history")
	fs.IntVar(&p.Cases, "cases", p.Cases, "cases per suite")
	n := fs.Int("n", 20, "timed requests per page")
	serve := fs.String("serve", "", "instead of measuring, serve the dashboard of the database on this `address` until interrupted")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx := context.Background()
	if _, err := os.Stat(*db); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(*db), 0o755); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stderr, "generating %s: %d suites x %d runs a day x %d days x %d cases\n", *db, p.Suites, p.PerDay, p.Days, p.Cases)
		start := time.Now()
		runs, err := Generate(ctx, *db, p, func(day int) {
			if day%30 == 29 {
				fmt.Fprintf(stderr, "  day %d of %d (%s)\n", day+1, p.Days, time.Since(start).Round(time.Second))
			}
		})
		if err != nil {
			fmt.Fprintln(stderr, "generate:", err)
			return 1
		}
		fmt.Fprintf(stderr, "generated %d runs in %s\n", runs, time.Since(start).Round(time.Second))
	}
	if *serve != "" {
		if err := Serve(ctx, *db, p, *serve, stderr); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	res, err := Measure(ctx, *db, p, *n)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	size := int64(0)
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(*db + suffix); err == nil {
			size += fi.Size()
		}
	}
	fmt.Fprintf(stdout, "database: %s, %d MB, %d suites x %d runs a day x %d days x %d cases; %d timed requests per page after 3 warm-up ones\n\n",
		*db, size>>20, p.Suites, p.PerDay, p.Days, p.Cases, *n)
	fmt.Fprintln(stdout, "| page | bytes | first request | CPU per request | wall: min | median | p90 | max |")
	fmt.Fprintln(stdout, "| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range res {
		fmt.Fprintf(stdout, "| `%s` | %d | %s | %s | %s | %s | %s | %s |\n", r.Path, r.Bytes, ms(r.First), ms(r.CPU), ms(r.Min), ms(r.Median), ms(r.P90), ms(r.Max))
	}
	return 0
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// Result is the timing of one page. CPU is the process's user and system
// time per request (server and client, both in this process): on a machine
// shared with other work it says what a request costs better than the
// wall times do.
type Result struct {
	Path                  string
	Bytes                 int
	CPU                   time.Duration
	Min, Median, P90, Max time.Duration
	// First is the wall time of the first request, before any cache of
	// the server's is warm (the OS's file cache is, after generating).
	First time.Duration
}

// cpuTime is the user and system time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchDaemon stands in for the daemon: the plan's pairs, all due in a
// minute.
type benchDaemon struct {
	pairs []daemon.Pair
	next  time.Time
}

func (d benchDaemon) Trigger(string, string, string) error { return nil }
func (d benchDaemon) Ready(context.Context) error          { return nil }
func (d benchDaemon) DBCheck() daemon.DBCheck              { return daemon.DBCheck{} }
func (d benchDaemon) Pairs() []daemon.Pair                 { return d.pairs }
func (d benchDaemon) NextRun(string, string) time.Time     { return d.next }
func (d benchDaemon) StartFailure(string, string) (daemon.StartFailure, bool) {
	return daemon.StartFailure{}, false
}
func (d benchDaemon) Detectability(context.Context, string, string) (drift.Detectability, bool, error) {
	return drift.Detectability{}, false, nil
}
func (d benchDaemon) Signoff(context.Context, string, string, string) ([]governance.Change, error) {
	return nil, errors.New("read-only")
}
func (d benchDaemon) SignedOff(string) (*governance.RecordEntry, bool) { return nil, false }
func (d benchDaemon) Silence(context.Context, string, string, string, string, time.Duration) (store.Silence, error) {
	return store.Silence{}, errors.New("read-only")
}

// Pages are the pages timed for a plan: the overview, suite-00's page at
// each range, its newest run (200 samples and a baseline) and governance.
func Pages(ctx context.Context, st *store.Store) ([]string, error) {
	runs, err := st.Runs(ctx, store.RunFilter{Suite: suiteName(0), Target: "prod", Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("newest run of %s: %w", suiteName(0), err)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("newest run of %s: the database has none", suiteName(0))
	}
	return []string{
		"/",
		"/suites/" + suiteName(0) + "/prod?range=1d",
		"/suites/" + suiteName(0) + "/prod",
		"/suites/" + suiteName(0) + "/prod?range=90d",
		"/suites/" + suiteName(0) + "/prod?range=365d",
		fmt.Sprintf("/runs/%d", runs[0].ID),
		"/governance",
	}, nil
}

// Measure serves the database with the real server and times each page.
func Measure(ctx context.Context, path string, p Plan, n int) ([]Result, error) {
	st, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	srv, err := server.New(server.Options{Addr: "127.0.0.1:0", Store: st,
		Daemon: benchDaemon{pairs: p.Pairs(), next: p.Now().Add(time.Minute)}, Now: p.Now})
	if err != nil {
		return nil, err
	}
	srv.Start()
	defer srv.Stop(context.Background())
	pages, err := Pages(ctx, st)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: time.Minute}
	var out []Result
	for _, page := range pages {
		r := Result{Path: page}
		var times []time.Duration
		var cpu0 time.Duration
		for i := range n + 3 {
			if i == 3 {
				cpu0 = cpuTime()
			}
			start := time.Now()
			resp, err := client.Get("http://" + srv.Addr() + page)
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return nil, err
			}
			if resp.StatusCode != http.StatusOK {
				return nil, fmt.Errorf("GET %s = %d: %s", page, resp.StatusCode, strings.TrimSpace(string(b[:min(len(b), 300)])))
			}
			if i == 0 {
				r.First = time.Since(start)
			}
			if i >= 3 {
				times = append(times, time.Since(start))
			}
			r.Bytes = len(b)
		}
		r.CPU = (cpuTime() - cpu0) / time.Duration(n)
		slices.Sort(times)
		r.Min, r.Median, r.P90, r.Max = times[0], times[len(times)/2], times[len(times)*9/10], times[len(times)-1]
		out = append(out, r)
	}
	return out, nil
}

// Serve serves the dashboard of the database until SIGINT or SIGTERM, with
// the clock at the plan's end, for a look at a year of history.
func Serve(ctx context.Context, path string, p Plan, addr string, log io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := server.New(server.Options{Addr: addr, Store: st,
		Daemon: benchDaemon{pairs: p.Pairs(), next: p.Now().Add(time.Minute)}, Now: p.Now})
	if err != nil {
		return err
	}
	srv.Start()
	fmt.Fprintf(log, "serving %s at http://%s/ (Ctrl-C stops)\n", path, srv.Addr())
	<-ctx.Done()
	return srv.Stop(context.Background())
}

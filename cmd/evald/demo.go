package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/plural"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/sim"
)

// demoGradeProbe is how long the demo's daemon trusts cached grades
// before asking the judge again: less than the judged suite's schedule.
const demoGradeProbe = 10 * time.Second

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stdout, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP listen `address` (a busy port falls back to a free one)")
	db := fs.String("db", "", "SQLite database `file` (default: a new one in a temporary folder)")
	dur := durationFlag(fs.FlagSet, new(time.Duration), "for", 0, "stop by itself after this `duration` (0: run until Ctrl-C)")
	driftAfter := fs.Int("drift-after", 8, "the simulated provider silently updates its model after this many rounds of runs (0: never)")
	judgeDriftAfter := fs.Int("judge-drift-after", 0, "the simulated judge silently updates (new model id, stricter grades) after this many runs of the judged suite (0: never)")
	greedyAfter := fs.Int("greedy-after", 24, "the replica's simulator switches to greedy decoding after this many runs of faq-replica: cases move both ways, the mean stays put (0: never)")
	noise := fs.Float64("noise", 0.02, "share of simulated answers that flip at random, like temperature > 0")
	verbose := fs.Bool("v", false, "also print the daemon's log")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("takes no arguments (got %q)", pos)
	}
	if *driftAfter < 0 || *judgeDriftAfter < 0 || *greedyAfter < 0 {
		return usageErr("--drift-after, --judge-drift-after and --greedy-after take a count, 0 or more")
	}
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}

	// The simulator stands in for the provider, on a free loopback port, and
	// a second one for the judge: one simulator could do both, but its
	// silent model update would then change the judge's identity too.
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start simulator: %w", err)
	}
	defer simLn.Close()
	judgeLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start the judge's simulator: %w", err)
	}
	defer judgeLn.Close()
	replicaLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start the replica's simulator: %w", err)
	}
	defer replicaLn.Close()
	simURL := "http://" + simLn.Addr().String() + "/v1"
	judgeURL := "http://" + judgeLn.Addr().String() + "/v1"
	replicaURL := "http://" + replicaLn.Addr().String() + "/v1"
	proj, err := configs.DemoWith(simURL, judgeURL, replicaURL)
	if err != nil {
		return fmt.Errorf("embedded demo config: %w", err)
	}
	perRound, perReplicaRun := 0, 0
	for i, s := range proj.Suites {
		if slices.Contains(proj.Config.Suites[i].Targets, configs.DemoReplica) {
			perReplicaRun += len(s.Cases) * max(s.Repeats, 1)
			continue
		}
		perRound += len(s.Cases) * max(s.Repeats, 1) * len(proj.Config.Suites[i].Targets)
	}
	seed := uint64(time.Now().UnixNano())
	simOpts := sim.Options{Noise: *noise, Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond, Seed: seed}
	if *driftAfter > 0 {
		simOpts.DriftAfter = *driftAfter * perRound
	}
	// The judge's simulator answers as the judge target's model, so that
	// runs record who graded them apart from who answered.
	judgeOpts := sim.Options{Model: demoJudgeModel(proj), Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond, Seed: seed + 1}
	// The replica answers noisily (so that greedy decoding has something
	// to fix) and never drifts; it switches to greedy decoding instead.
	replicaOpts := sim.Options{Noise: 0.3, WrongRate: -1, Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond, Seed: seed + 2}
	if *greedyAfter > 0 {
		replicaOpts.GreedyAfter = *greedyAfter * perReplicaRun
	}
	provider, judge, replica := sim.New(simOpts), sim.New(judgeOpts), sim.New(replicaOpts)
	for _, s := range []struct {
		ln net.Listener
		h  *sim.Server
	}{{simLn, provider}, {judgeLn, judge}, {replicaLn, replica}} {
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(s.ln) }()
		defer srv.Close()
		defer s.h.Close()
	}

	// The demo's project is embedded; a copy on disk, next to the
	// database unless --db says otherwise, gives the commands it prints
	// (accept, history) a config to read from any folder.
	dir, err := os.MkdirTemp("", "evald-demo-")
	if err != nil {
		return err
	}
	if err := os.CopyFS(dir, configs.DemoFS()); err != nil {
		return fmt.Errorf("write the demo's project files: %w", err)
	}
	// The demo's suites run with a sign-off, as every suite must: the
	// demo records their first ones in its copy of the project.
	if err := signFirst(ctx, proj, filepath.Join(dir, governance.RecordFile), "evald demo", "the demo's own suites, signed off as shipped"); err != nil {
		return err
	}
	cmd := cmdLine{prog: selfName(), config: filepath.Join(dir, "evald.yaml"), db: *db}
	if *db == "" {
		*db = filepath.Join(dir, "evald.db") // the copied config's storage.sqlite
	}
	if !portFree(*addr) {
		fmt.Fprintf(stdout, "%s is busy; using a free port instead\n", *addr)
		*addr = "127.0.0.1:0"
	}

	level := slog.LevelError
	if *verbose {
		level = slog.LevelInfo
	}
	log := newLogger(stderr, level)
	var mu sync.Mutex // guards stdout and judgedRuns
	judgedRuns := 0
	providerUpdate := "never updates"
	if *driftAfter > 0 {
		providerUpdate = fmt.Sprintf("silent model update after %d rounds", *driftAfter)
	}
	fmt.Fprintf(stdout, "evald demo: simulated provider at %s (%s)\n", simURL, providerUpdate)
	judged := judgedSuites(proj)
	judgeUpdate := "never updates"
	if *judgeDriftAfter > 0 {
		judgeUpdate = fmt.Sprintf("silent update after %d runs of %s", *judgeDriftAfter, strings.Join(judged, ", "))
	}
	replicaUpdate := "never switches"
	if *greedyAfter > 0 {
		replicaUpdate = fmt.Sprintf("greedy decoding after %d runs of faq-replica", *greedyAfter)
	}
	fmt.Fprintf(stdout, "simulated replica at %s (%s)\n", replicaURL, replicaUpdate)
	fmt.Fprintf(stdout, "simulated judge at %s grades the model-graded assertions of %s (%s)\n", judgeURL, strings.Join(judged, ", "), judgeUpdate)
	fmt.Fprintf(stdout, "database: %s\nproject files (a copy of the embedded demo): %s\n", *db, dir)
	start := time.Now()
	tally := demoTally{runs: map[string]map[string]int{}}
	err = serveProject(ctx, serveOptions{
		project: proj, dbPath: *db, addr: *addr, grace: 5 * time.Second, log: log, stdout: stdout,
		// Cached grades hide a changed judge until one request goes to it
		// again; the demo's schedules run in seconds, so that is every
		// run of the judged suite here, not every ten minutes.
		gradeProbe: demoGradeProbe,
		ready: func(httpAddr string) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(stdout, "dashboard and API: http://%s/   metrics: http://%s/metrics\n", httpAddr, httpAddr)
			for _, r := range proj.Config.Suites {
				fmt.Fprintf(stdout, "scheduled %s on %v: %s\n", r.File, r.Targets, r.Schedule)
			}
			fmt.Fprintf(stdout, "judge calibrations: http://%s/api/calibrations\n", httpAddr)
			fmt.Fprintln(stdout, "Ctrl-C stops; try: "+cmd.command("history"))
		},
		onRun: func(res *daemon.Result) {
			mu.Lock()
			defer mu.Unlock()
			printRunLine(stdout, res, cmd)
			tally.add(res)
			if slices.Contains(judged, res.Run.Suite) {
				if judgedRuns++; judgedRuns == *judgeDriftAfter {
					judge.UpdateJudge()
				}
			}
		},
	})
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	tally.print(stdout, proj, time.Since(start), *db, cmd)
	return nil
}

// demoTally is what the demo saw, for the summary it closes with.
type demoTally struct {
	runs    map[string]map[string]int // suite -> status -> runs
	total   int
	pages   []string
	notices []string // behaviour_changed notices
}

func (t *demoTally) add(res *daemon.Result) {
	r := res.Run
	if t.runs[r.Suite] == nil {
		t.runs[r.Suite] = map[string]int{}
	}
	t.runs[r.Suite][string(r.Status)]++
	t.total++
	if v := res.Verdict; v != nil && v.Page {
		t.pages = append(t.pages, fmt.Sprintf("%s on %s, run %d: %s", r.Suite, r.Target, r.ID, v.Kind))
	}
	if v := res.Verdict; v != nil && v.Behaviour != nil && v.Behaviour.Changed {
		t.notices = append(t.notices, fmt.Sprintf("%s on %s, run %d", r.Suite, r.Target, r.ID))
	}
}

// print writes the runs per suite, in the config's order, the pages and
// where the database is.
func (t *demoTally) print(w io.Writer, proj *configs.Project, took time.Duration, db string, cmd cmdLine) {
	fmt.Fprintf(w, "\nevald demo stopped after %s: %s\n", took.Round(time.Second), plural.N(t.total, "run"))
	for _, s := range proj.Suites {
		byStatus := t.runs[s.Name]
		n, parts := 0, []string{}
		for _, status := range slices.Sorted(maps.Keys(byStatus)) {
			n += byStatus[status]
			parts = append(parts, fmt.Sprintf("%d %s", byStatus[status], status))
		}
		detail := ""
		if n > 0 {
			detail = " (" + strings.Join(parts, ", ") + ")"
		}
		fmt.Fprintf(w, "  %-16s %s%s\n", s.Name, plural.N(n, "run"), detail)
	}
	if len(t.pages) == 0 {
		fmt.Fprintln(w, "pages: none")
	} else {
		fmt.Fprintf(w, "pages: %d\n", len(t.pages))
		for _, p := range t.pages {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if len(t.notices) > 0 {
		fmt.Fprintf(w, "behaviour notices (information, no page): %d\n", len(t.notices))
		for _, n := range t.notices {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	fmt.Fprintf(w, "database: %s (kept; see %s)\n", db, cmd.command("history"))
}

// printRunLine prints a run of the demo; cmd writes the commands it
// suggests.
func printRunLine(w io.Writer, res *daemon.Result, cmd cmdLine) {
	r := res.Run
	line := fmt.Sprintf("%s  run %-4d %-15s on %-5s %-11s", r.FinishedAt.Local().Format("15:04:05"), r.ID, r.Suite, r.Target, r.Status)
	if r.PassRate != nil {
		lo, hi := wilson(*r.PassRate, res.Summary.ValidCases)
		line += fmt.Sprintf(" pass %.2f [%.2f-%.2f]  score %.2f", *r.PassRate, lo, hi, *r.MeanScore)
	}
	// Model ids come from the endpoints: one line, cut short.
	if m := runner.Dominant(res.Summary.Models); m != "" {
		line += "  model " + oneLine(m, 40)
	}
	if m := runner.Dominant(res.Summary.JudgeModels); m != "" {
		line += "  judge " + oneLine(m, 40)
	}
	if r.Verdict != "" {
		line += "  drift: " + r.Verdict
	}
	fmt.Fprintln(w, line)
	if v := res.Verdict; v != nil && (v.Page || v.Identity != nil || v.Kind == drift.KindBehaviourChanged) {
		fmt.Fprintf(w, "          >> %s: %s\n", drift.Words(v.Kind), v.Message)
		if v.Page {
			fmt.Fprintf(w, "          >> to accept the new behaviour: %s\n", cmd.accept(r.Target, r.Suite))
		}
	}
	if c := res.Calibration; c != nil {
		cr := c.Result
		missing := ""
		if cr.Missing > 0 {
			missing = fmt.Sprintf(", %d missing", cr.Missing)
		}
		fmt.Fprintf(w, "          >> judge calibration %s (target %s, model %s): %d of %d items disagree, limit %.0f%%%s\n",
			cr.Status, c.JudgeTarget, orDash(oneLine(c.Identity.Model, 40)), cr.Disagreements, cr.Items, 100*cr.MaxDisagreement, missing)
	}
}

// demoJudgeModel is the model of the demo's judge target, which its
// simulator answers as.
func demoJudgeModel(proj *configs.Project) string {
	for _, t := range proj.Config.Targets {
		if t.Name == configs.DemoJudge {
			return t.Model
		}
	}
	return ""
}

// judgedSuites names the demo's suites that have model-graded assertions.
func judgedSuites(proj *configs.Project) []string {
	var out []string
	for _, s := range proj.Suites {
		if s.NeedsJudge() {
			out = append(out, s.Name)
		}
	}
	return out
}

func portFree(addr string) bool {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}

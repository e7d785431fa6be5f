package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/redact"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/store"
)

// runOptions are the flags of `evald run`.
type runOptions struct {
	target, prompt, model string
	baseline              string
	baselineSet           bool
	format, out           string
	dryRun                bool
	budget                float64
	cacheDir              string
	cacheTTL              time.Duration
	server, tokenEnv      string
}

// candidate reports whether the run measures a candidate rather than
// production: --prompt, --model or --baseline make it one.
func (o *runOptions) candidate() bool { return o.prompt != "" || o.model != "" || o.baselineSet }

var formats = []string{"text", "json", "markdown", "junit"}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("run", stdout, stderr)
	var pf projectFlags
	pf.register(fs)
	var o runOptions
	fs.StringVar(&o.target, "target", "", "run on this `target` only (default: the suite's targets in the config)")
	fs.StringVar(&o.prompt, "prompt", "", "run a candidate prompt: a YAML or JSON `file` holding the prompt messages")
	fs.StringVar(&o.model, "model", "", "run a candidate `model` on the target instead of its configured model")
	fs.StringVar(&o.baseline, "baseline", "", "compare the candidate with `latest|RUN_ID|none|side-by-side` (default: latest, else side-by-side)")
	fs.StringVar(&o.format, "format", "text", "report `format`: text, json, markdown or junit")
	fs.StringVar(&o.out, "out", "", "write the report to `file` instead of stdout")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the requests and the estimated cost, and send nothing")
	fs.Float64Var(&o.budget, "budget-usd", 0, "spend at most `USD`: refuse when the estimate exceeds it, stop when the spend reaches it")
	fs.StringVar(&o.cacheDir, "cache", "", "answer repeated candidate requests from a response cache in `dir` (CI re-runs)")
	durationFlag(fs.FlagSet, &o.cacheTTL, "cache-ttl", 24*time.Hour, "how long a cached answer stays valid")
	fs.StringVar(&o.server, "server", "", "take the baseline from the evald serve at `URL` over its JSON API")
	fs.StringVar(&o.tokenEnv, "token-env", "", "environment `variable` holding the bearer token sent to --server, when it is set")
	suites, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	serverSet := false
	fs.Visit(func(f *flag.Flag) {
		o.baselineSet = o.baselineSet || f.Name == "baseline"
		serverSet = serverSet || f.Name == "server"
	})
	if err := o.check(); err != nil {
		return err
	}
	if serverSet && o.server == "" {
		// `--server "$EVALD_URL"` with the variable unset: docs/ci.md's
		// command then gates against the local database, as without
		// --server, and says so.
		fmt.Fprintln(stderr, "evald run: --server is empty: the baseline comes from the local database")
	}
	var prompt []evals.Message
	if o.prompt != "" {
		if prompt, err = evals.LoadPrompt(o.prompt); err != nil {
			return usageErr("--prompt: %w", err)
		}
	}
	proj, err := pf.load()
	if err != nil {
		return err
	}
	if o.prompt != "" && len(suites) == 0 && len(proj.Suites) > 1 {
		return usageErr("--prompt: name the suite the prompt is for (%s has %d suites)", proj.Config.File, len(proj.Suites))
	}
	jobs, err := plan(proj, suites, o.target)
	if err != nil {
		return err
	}

	var remote *remoteBaselines
	if o.server != "" {
		token := ""
		if o.tokenEnv != "" {
			token = os.Getenv(o.tokenEnv)
		}
		if remote, err = newRemoteBaselines(o.server, token); err != nil {
			return usageErr("%w", err)
		}
		if !o.dryRun {
			// The gate against production: the sign-offs production
			// enforces must be in this checkout's record.
			if err := remote.checkRecords(ctx, proj, jobSuites(jobs)); err != nil {
				return err
			}
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		meter *spendMeter
		cache *responseCache
	)
	if o.budget > 0 {
		meter = &spendMeter{budget: o.budget, cancel: cancel}
	}
	if o.cacheDir != "" {
		if cache, err = newResponseCache(o.cacheDir, o.cacheTTL); err != nil {
			return usageErr("--cache: %w", err)
		}
	}

	var closers cleanups
	defer func() { err = errors.Join(err, closers.run(context.WithoutCancel(ctx))) }()
	st, err := openDB(ctx, pf.dbPath(proj), lockRuns, &closers)
	if err != nil {
		return err
	}
	recoverRuns(ctx, st, newLogger(stderr, slogWarn))
	d, err := daemon.New(daemon.Options{Project: proj, Store: st, Logger: newLogger(stderr, slogWarn),
		NewProvider: func(t configs.Target, key string) (runner.Provider, error) {
			var p runner.Provider
			p, err := runner.New(t, key, nil)
			if err != nil {
				return nil, err
			}
			if meter != nil {
				p = meter.wrap(p, t.Price)
			}
			if cache != nil {
				p = cache.wrap(p, t.Version())
			}
			return p, nil
		}})
	if err == nil {
		closers.add("send telemetry", d.FlushTelemetry)
	}
	if err != nil {
		return err
	}

	// Choose each job's baseline and estimate it before anything is sent:
	// a bad name, prompt or baseline is found before the first request.
	g := &gateRun{opts: &o, d: d, remote: remote, prompt: prompt, stderr: stderr, db: pf.dbPath(proj), cmd: pf.cmdLine(), secrets: targetKeys(proj), cache: cache}
	plans := make([]jobPlan, len(jobs))
	total := 0.0
	for i, j := range jobs {
		if plans[i], err = g.plan(ctx, j); err != nil {
			return err
		}
		total += plans[i].estimate.TotalUSD() // the judge's grading included
	}

	w := stdout
	if o.out != "" {
		f, err := os.Create(o.out)
		if err != nil {
			return usageErr("--out: %w", err)
		}
		defer f.Close()
		w = f
	}
	if o.dryRun {
		if err := writeDryRun(w, o.format, plans, total, o.budget); err != nil {
			return err
		}
		if o.budget > 0 && total > o.budget {
			return &exitError{code: exitNoResult, err: fmt.Errorf("the estimated cost $%.4f exceeds --budget-usd %g", total, o.budget)}
		}
		return nil
	}
	if o.budget > 0 && total > o.budget {
		return &exitError{code: exitNoResult, err: fmt.Errorf("the estimated cost $%.4f exceeds --budget-usd %g: nothing was sent (see --dry-run)", total, o.budget)}
	}

	code := exitOK
	var reports []*runReport
	for i, p := range plans {
		var hits map[string]int
		if cache != nil {
			hits = cache.hitsByVersion()
		}
		rep, err := g.execute(ctx, p)
		if err != nil {
			if errors.Is(err, daemon.ErrSecret) || errors.Is(err, daemon.ErrUnknown) || errors.Is(err, daemon.ErrInvalid) {
				return usageErr("%w", err)
			}
			return &exitError{code: exitNoResult, err: err}
		}
		if cache != nil {
			v := rep.res.Run.TargetVersion
			rep.cacheHits = cache.hitsByVersion()[v] - hits[v]
			rep.cached = true
		}
		if rep.cases, err = caseRows(context.WithoutCancel(ctx), st, rep.res); err != nil {
			return &exitError{code: exitNoResult, err: err}
		}
		reports = append(reports, rep)
		if o.format != "junit" {
			if err := writeReport(w, o.format, rep); err != nil {
				return err
			}
		}
		res := rep.res
		if res.Run.Status == store.StatusRefused {
			if res.Governance.Kind == governance.Unsigned {
				fmt.Fprintf(stderr, "evald run: %s: refused: the suite has no sign-off in %s (a new or renamed suite needs its own)\n", res.Suite.Name, recordOf(proj))
				fmt.Fprintf(stderr, "To record the first, say who and why:\n  %s\n", rep.cmd.signoff(res.Suite.Name))
			} else {
				fmt.Fprintf(stderr, "evald run: %s: refused: its governed set differs from the signed-off one:\n%s", res.Suite.Name,
					indent(governance.FormatDiff(res.Governance.Changes)))
				fmt.Fprintf(stderr, "To put it in force, record who and why:\n  %s\n", rep.cmd.signoff(res.Suite.Name))
			}
		}
		if v := res.Verdict; v != nil && v.Page && !rep.candidate {
			fmt.Fprintf(stderr, "evald run: %s on %s: %s: %s\nIf the new behaviour is fine, accept it (the drift reference re-anchors):\n  %s\n",
				res.Run.Suite, res.Run.Target, v.Kind, v.Message, rep.cmd.accept(res.Run.Target, res.Run.Suite))
		}
		code = worse(code, exitCodeOf(res.Run.Status))
		if why := keyRefused(proj, rep); why != "" {
			// Every request answered 401/403: the job is misconfigured,
			// retrying cannot help.
			fmt.Fprintf(stderr, "evald run: %s on %s: %s\n", res.Run.Suite, res.Run.Target, why)
			code = worse(code, exitUsage)
		}
		left := len(plans) - i - 1
		var be *budgetError
		if errors.As(context.Cause(ctx), &be) {
			fmt.Fprintf(stderr, "evald run: %v: %s on %s stopped, run %d stored %s", be, res.Run.Suite, res.Run.Target, res.Run.ID, res.Run.Status)
			if left > 0 {
				fmt.Fprintf(stderr, "; %d more runs not started", left)
			}
			fmt.Fprintln(stderr)
			code = worse(code, exitNoResult)
			break
		}
		if why := incomplete(rep); why != "" {
			fmt.Fprintf(stderr, "evald run: %s", why)
			if ctx.Err() != nil && left > 0 {
				fmt.Fprintf(stderr, "; %d more runs not started", left)
			}
			fmt.Fprintln(stderr)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if o.format == "junit" {
		if err := writeJUnit(w, reports); err != nil {
			return err
		}
	}
	if cache != nil {
		if err := cache.warning(); err != nil {
			fmt.Fprintf(stderr, "evald run: warning: %v\n", err)
		}
	}
	if code != exitOK {
		return &exitError{code: code}
	}
	return nil
}

// check rejects flag combinations that cannot mean anything.
func (o *runOptions) check() error {
	if !slices.Contains(formats, o.format) {
		return usageErr("--format must be one of %s (got %q)", strings.Join(formats, ", "), o.format)
	}
	if o.baselineSet {
		switch o.baseline {
		case daemon.BaselineLatest, "none", daemon.BaselineSideBySide:
		default:
			if id, err := strconv.ParseInt(o.baseline, 10, 64); err != nil || id < 1 {
				return usageErr("--baseline must be latest, a run id, none or side-by-side (got %q)", o.baseline)
			}
		}
	}
	switch {
	case o.baseline == daemon.BaselineSideBySide && o.prompt == "" && o.model == "":
		return usageErr("--baseline side-by-side needs --prompt or --model: both sides would be the same")
	case o.budget < 0:
		return usageErr("--budget-usd must be positive (got %g)", o.budget)
	case o.cacheTTL <= 0:
		return usageErr("--cache-ttl must be positive (got %s)", o.cacheTTL)
	case o.cacheDir != "" && !o.candidate():
		return usageErr("--cache only serves candidate runs (--prompt, --model or --baseline): cached answers would hide drift in a production measurement")
	case o.server != "" && !o.candidate():
		return usageErr("--server supplies the baseline of a candidate run: add --prompt, --model or --baseline")
	case o.server != "" && (o.baseline == "none" || o.baseline == daemon.BaselineSideBySide):
		return usageErr("--server supplies a stored baseline: it has no use with --baseline %s", o.baseline)
	}
	return nil
}

type job struct{ suite, target string }

// plan expands suite names (none: every suite) into (suite, target) jobs.
func plan(proj *configs.Project, names []string, target string) ([]job, error) {
	if target != "" {
		if _, err := proj.Target(target); err != nil {
			return nil, usageErr("--target: %w", err)
		}
	}
	for _, n := range names {
		if _, err := proj.Suite(n); err != nil {
			return nil, usageErr("%w", err)
		}
	}
	var jobs []job
	for i, s := range proj.Suites {
		if len(names) > 0 && !slices.Contains(names, s.Name) {
			continue
		}
		targets := proj.Config.Suites[i].Targets
		if target != "" {
			targets = []string{target}
		}
		for _, t := range targets {
			jobs = append(jobs, job{s.Name, t})
		}
	}
	if len(jobs) == 0 {
		return nil, usageErr("nothing to run: %s schedules no suite on any target", proj.Config.File)
	}
	return jobs, nil
}

// gateRun holds what every job of one `evald run` shares.
type gateRun struct {
	opts   *runOptions
	d      *daemon.Daemon
	remote *remoteBaselines
	prompt []evals.Message
	stderr io.Writer
	db     string
	cmd    cmdLine
	// secrets are the keys of the targets, redacted from the reports.
	secrets []string
	// cache is --cache's (nil without): estimates leave out what it holds.
	cache *responseCache
}

// jobPlan is a job with its baseline chosen and its cost estimated.
type jobPlan struct {
	job
	candidate bool
	gate      daemon.GateRequest
	// mode is the baseline mode as reported: latest, run, none,
	// side-by-side ("" for production runs).
	mode     string
	estimate daemon.Estimate
}

// plan chooses a job's baseline and estimates it. Baselines that cannot
// be had are usage errors (exit 2); a server that cannot be reached is
// exit 4.
func (g *gateRun) plan(ctx context.Context, j job) (jobPlan, error) {
	o := g.opts
	p := jobPlan{job: j, candidate: o.candidate(),
		gate: daemon.GateRequest{Suite: j.suite, Target: j.target, Prompt: g.prompt, Model: o.model}}
	if p.candidate {
		// A suite governance refuses is refused whatever its baseline:
		// say so (exit 3) rather than fail on a baseline it never needs.
		suite, err := g.suite(j.suite)
		if err != nil {
			return p, err
		}
		gov, err := g.d.CheckThresholds(ctx, suite)
		if err != nil {
			return p, &exitError{code: exitNoResult, err: err}
		}
		if !gov.Pending() {
			if err := g.chooseBaseline(ctx, &p); err != nil {
				return p, err
			}
		}
	}
	var err error
	est := p.gate
	if g.cache != nil {
		est.Cached = g.cache.covers
	}
	if p.estimate, err = g.d.Estimate(ctx, est, p.candidate); err != nil {
		if errors.Is(err, daemon.ErrInvalid) || errors.Is(err, daemon.ErrUnknown) {
			return p, usageErr("%w", err)
		}
		return p, &exitError{code: exitNoResult, err: err}
	}
	return p, nil
}

func (g *gateRun) chooseBaseline(ctx context.Context, p *jobPlan) error {
	o := g.opts
	where := g.db
	if g.remote != nil {
		where = g.remote.source()
	}
	switch o.baseline {
	case "none":
		p.mode = "none"
		return nil
	case daemon.BaselineSideBySide:
		p.mode, p.gate.SideBySide = daemon.BaselineSideBySide, true
		return nil
	}
	var (
		base *daemon.Baseline
		err  error
	)
	switch {
	case o.baseline != "" && o.baseline != daemon.BaselineLatest:
		id, _ := strconv.ParseInt(o.baseline, 10, 64)
		p.mode = daemon.BaselineRun
		if g.remote != nil {
			base, err = g.remote.run(ctx, id, daemon.BaselineRun)
		} else {
			base, err = g.d.BaselineRun(ctx, id)
		}
	case g.remote != nil && o.dryRun:
		// A dry run contacts nothing; the estimate assumes the server has one.
		p.mode = daemon.BaselineLatest
		return nil
	default:
		p.mode = daemon.BaselineLatest
		if g.remote != nil {
			base, err = g.remote.latest(ctx, p.suite, p.target)
		} else {
			base, err = g.d.LatestBaseline(ctx, p.suite, p.target)
		}
	}
	var re *remoteError
	switch {
	case errors.As(err, &re) && re.client: // a wrong URL, token or run id
		return usageErr("--server: %w", err)
	case errors.As(err, &re):
		return &exitError{code: exitNoResult, err: fmt.Errorf("--server: %w", err)}
	case err != nil && !errors.Is(err, daemon.ErrNoBaseline):
		return &exitError{code: exitNoResult, err: err}
	case err == nil && base.Run.Suite != p.suite:
		return usageErr("--baseline %s: run %d is a run of suite %s, not %s", o.baseline, base.Run.ID, base.Run.Suite, p.suite)
	}
	if err == nil {
		suite, serr := g.suite(p.suite)
		if serr != nil {
			return serr
		}
		if base.Shares(suite) == 0 {
			err = fmt.Errorf("%w: run %d (%s) shares no answered case with suite %s", daemon.ErrNoBaseline, base.Run.ID, where, p.suite)
		}
	}
	if err != nil {
		if o.baselineSet {
			return usageErr("--baseline %s: %w", o.baseline, err)
		}
		// The default: no usable production run, so production runs now.
		verb := "comparing"
		if o.dryRun {
			verb = "the run would compare"
		}
		fmt.Fprintf(g.stderr, "evald run: %s on %s: %v; %s side by side with production run now\n", p.suite, p.target, err, verb)
		p.mode, p.gate.SideBySide = daemon.BaselineSideBySide, true
		return nil
	}
	p.gate.Baseline = base
	return nil
}

func (g *gateRun) suite(name string) (*evals.Suite, error) {
	for _, s := range g.d.Project().Suites {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, usageErr("no suite named %q", name)
}

// execute runs one planned job.
func (g *gateRun) execute(ctx context.Context, p jobPlan) (*runReport, error) {
	if !p.candidate {
		res, err := g.d.Evaluate(ctx, daemon.Request{Suite: p.suite, Target: p.target, Trigger: daemon.TriggerCI})
		if err != nil {
			return nil, err
		}
		return &runReport{res: res, cmd: g.cmd, secrets: g.secrets}, nil
	}
	gr, err := g.d.Gate(ctx, p.gate)
	if err != nil {
		return nil, err
	}
	return &runReport{res: gr.Candidate, prod: gr.Production, candidate: true, mode: p.mode, prompt: g.opts.prompt, model: g.opts.model, cmd: g.cmd, secrets: g.secrets}, nil
}

// incomplete says in one sentence why a run could not be completed (exit
// 4), naming the run; "" for a run that completed.
func incomplete(rep *runReport) string {
	why := incompleteWhy(rep)
	if why == "" {
		return ""
	}
	r := rep.res.Run
	kind := ""
	if rep.candidate {
		kind = " (candidate)"
	}
	return fmt.Sprintf("%s on %s%s: %s: %s", r.Suite, r.Target, kind, r.Status, why)
}

// incompleteWhy is why a run could not be completed, from what its result
// knows, for stderr and the markdown and JUnit reports alike; "" for a run
// that completed.
func incompleteWhy(rep *runReport) string {
	res := rep.res
	r, s := res.Run, res.Summary
	planned := r.Cases * max(res.Suite.Repeats, 1)
	switch r.Status {
	case store.StatusErrored:
		if s.TimedOut > 0 {
			return fmt.Sprintf("the suite's timeout of %s ran out after %d of %d samples; run %d keeps them", s.TimedOut, s.Samples, planned, r.ID)
		}
		if s.Outcome == runner.Errored {
			return fmt.Sprintf("%d of %d samples missing (%s), over the %g%% error budget",
				s.Errors, planned, rep.missingWhy(), 100*runner.DefaultErrorBudget)
		}
		if r.ErrorText != "" {
			return r.ErrorText
		}
		return "the run could not be completed"
	case store.StatusInterrupted:
		return fmt.Sprintf("stopped after %d of %d samples; run %d keeps them", s.Samples, planned, r.ID)
	}
	return ""
}

func exitCodeOf(status store.Status) int {
	switch status {
	case store.StatusPassed:
		return exitOK
	case store.StatusFailed, store.StatusRegressed:
		return exitFailed
	case store.StatusRefused:
		return exitRefused
	default: // errored, interrupted
		return exitNoResult
	}
}

// worse keeps the more severe exit code: a configuration error (the key
// refused), refused, then could-not-complete, then failed.
func worse(a, b int) int {
	rank := map[int]int{exitOK: 0, exitFailed: 1, exitNoResult: 2, exitRefused: 3, exitUsage: 4}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func indent(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		b.WriteString("  " + line)
	}
	return b.String()
}

// recordOf names the project's sign-off record.
func recordOf(p *configs.Project) string {
	if p.RecordFile != "" {
		return p.RecordFile
	}
	return governance.RecordFile
}

// targetKeys are the values of the targets' key variables, to redact.
func targetKeys(proj *configs.Project) []string {
	var keys []string
	for _, t := range proj.Config.Targets {
		if t.APIKeyEnv != "" {
			if k := os.Getenv(t.APIKeyEnv); k != "" {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// keyRefused says why a run whose every request the endpoint answered 401
// or 403 is a configuration error, naming the variable that holds the key
// ("" when the run got other answers too).
func keyRefused(proj *configs.Project, rep *runReport) string {
	s := rep.res.Summary
	if s.Samples == 0 || s.AuthRefused < s.Samples {
		return ""
	}
	detail := redact.Text(runner.ErrorDetail(runner.ClassClient, s.FirstErrors[runner.ClassClient]), rep.secrets...)
	if status, msg, ok := strings.Cut(strings.TrimPrefix(detail, "HTTP "), ": "); ok {
		detail = status + " " + msg // "401 Incorrect API key provided ..."
	}
	for _, t := range proj.Config.Targets {
		if t.Name != rep.res.Run.Target {
			continue
		}
		if t.APIKeyEnv == "" {
			return fmt.Sprintf("the endpoint refused the request, which carried no key (the target sets no api_key_env): %s", detail)
		}
		return fmt.Sprintf("the endpoint refused the key in %s: %s", t.APIKeyEnv, detail)
	}
	return fmt.Sprintf("the endpoint refused the key: %s", detail)
}

// jobSuites returns the suites of jobs, each once, in order.
func jobSuites(jobs []job) []string {
	var out []string
	for _, j := range jobs {
		if !slices.Contains(out, j.suite) {
			out = append(out, j.suite)
		}
	}
	return out
}

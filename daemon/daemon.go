package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/store"
	"github.com/evald/evald/telemetry"
)

// Options wire a Daemon.
type Options struct {
	Project *configs.Project
	Store   *store.Store
	Logger  *slog.Logger
	// Getenv resolves the secrets the config names (default os.Getenv).
	Getenv func(string) string
	// HTTPClient is used for model endpoints (default: a plain client).
	HTTPClient *http.Client
	// Runner tunes retries and the error budget.
	Runner runner.Options
	// Now is the clock (default time.Now).
	Now func() time.Time
	// FlushEvery bounds how many samples are written in one transaction
	// when answers queue up (default 200). A sample is written as soon as
	// no other is waiting.
	FlushEvery int
	// Registry receives the daemon's metrics (default: a private registry).
	Registry prometheus.Registerer
	// NewProvider builds a target's provider (default: go-openai over
	// HTTPClient with the key from Getenv). Tests swap in fakes.
	NewProvider func(t configs.Target, apiKey string) (runner.Provider, error)
	// GradeCacheSize bounds the in-memory cache of judge answers (default
	// runner.DefaultGradeCacheSize).
	GradeCacheSize int
	// GradeProbeEvery is how long cached judge answers are trusted before
	// one request goes to the judge again, to see whether it changed
	// (default runner.DefaultProbeEvery). The demo, whose schedules run in
	// seconds, shortens it alike.
	GradeProbeEvery time.Duration
	// Grace is how long Stop lets runs in flight finish before it cancels
	// them (default 30s).
	Grace time.Duration
	// AlertGrace bounds how long Stop keeps delivering queued alerts
	// after the runs have ended (default 10s); what is left waits in the
	// outbox for the next start.
	AlertGrace time.Duration
	// Jitter spreads scheduled runs: each (suite, target) starts a fixed
	// offset in [0, Jitter) after its tick, so suites sharing a schedule do
	// not hit the endpoint in the same second.
	Jitter time.Duration
	// LiveCIRuns says another process (`evald run`) may be recording runs
	// in the store right now: Start then leaves runs triggered by ci that
	// are still "running" alone instead of marking them interrupted.
	LiveCIRuns bool
	// OnRun, if set, is called after every recorded evaluation (the demo
	// prints a line per run with it).
	OnRun func(*Result)
	// Alerts turns on incidents and deliveries to the config's sinks (serve
	// and demo). One-shot commands leave it off: a CI gate pages nobody.
	// With it, New and Reload refuse a configuration whose scheduled runs
	// or sinks need a variable that Getenv leaves empty.
	Alerts bool
	// TelemetryClient is the HTTP client of the OTLP export (default: the
	// exporter's own).
	TelemetryClient *http.Client
	// MissedCheck is how often the missed-run watch checks every
	// scheduled pair (default DefaultMissedCheck).
	MissedCheck time.Duration
	// QueueAlerts plans alerts and writes them to the store's outbox but
	// sends nothing and needs none of the sinks' secrets: a one-shot command
	// that changes governed state (accept) queues, for instance, the
	// resolution of a regression, and the serving process delivers it.
	QueueAlerts bool
	// QuickCheckEvery is how often Start's background work checks the
	// database's structure (PRAGMA quick_check, table by table) for the
	// metrics and the dashboard (default DefaultQuickCheckEvery; negative:
	// never).
	QuickCheckEvery time.Duration
}

// Daemon evaluates suites on targets and keeps the results.
type Daemon struct {
	opts  Options
	log   *slog.Logger
	store *store.Store
	gates runner.Gates

	metrics  *metrics
	alerting *alerting // nil when alerts are off
	// telemetry exports runs (nil without telemetry.otlp).
	telemetry *telemetry.Exporter

	mu        sync.Mutex
	project   *configs.Project
	providers map[string]runner.Provider      // by target name
	judges    map[string]runner.JudgeProvider // by target name, with judge defaults (judge.go)
	// grades caches judge answers for every run (runner.GradeCache).
	grades  *runner.GradeCache
	running map[runKey]bool // (suite, target) pairs with a run in flight
	// startFails holds each pair's start failure until a run starts.
	startFails map[runKey]StartFailure
	// pendingSeen remembers pending threshold changes already reported.
	pendingSeen map[string]bool
	// cron is set by Start: the daemon is started when it is not nil.
	cron    *cron.Cron
	entries map[runKey]cron.EntryID
	// watchFrom is when the missed-run watch began to watch each
	// scheduled pair, and on which schedule: Start, or the reload that
	// added the pair or changed its schedule.
	watchFrom map[runKey]watchStart
	// pairLocks holds a *sync.Mutex per runKey: a production run's verdict
	// and the missed-run watch's decision on its pair do not interleave.
	pairLocks sync.Map
	// lastWatch is when the missed-run watch last checked (Start, before
	// its first check): see schedulerHealth.
	lastWatch time.Time

	// runCtx is the parent of every run; Stop cancels it after the grace period.
	runCtx     context.Context
	cancelRuns context.CancelFunc
	// stopping is closed, under mu, when Stop begins (see stoppingLocked):
	// a scheduled run still waiting out its jitter then gives up instead
	// of starting inside the grace period.
	stopping chan struct{}
	runs     sync.WaitGroup
	// bgCtx is the parent of background work that outlives runs (the alert
	// worker); Stop cancels it last.
	bgCtx    context.Context
	cancelBg context.CancelFunc
	bg       sync.WaitGroup
	stopOnce sync.Once
	stopErr  error

	// calib serialises judge calibrations per (suite, judge target).
	calib calibrationLocks

	// chain seals the audit entries; chainErr, when set, refuses them (the
	// key's variable is named but unset). Both are decided by New.
	chain    governance.Chain
	chainErr error

	// signMu serialises sign-offs, so that each follows the last.
	signMu sync.Mutex

	// heartbeat is the scheduler's liveness, read by Ready.
	heartbeat heartbeat
	// dbChecks is the latest background check of the database.
	dbChecks dbChecks
}

// New checks the options and builds a daemon; it starts nothing.
func New(opts Options) (*Daemon, error) {
	if opts.Project == nil || opts.Store == nil {
		return nil, errors.New("daemon: a project and a store are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = 200
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.NewProvider == nil {
		hc := opts.HTTPClient
		opts.NewProvider = func(t configs.Target, key string) (runner.Provider, error) {
			return runner.New(t, key, hc)
		}
	}
	if opts.Grace <= 0 {
		opts.Grace = 30 * time.Second
	}
	if opts.QuickCheckEvery == 0 {
		opts.QuickCheckEvery = DefaultQuickCheckEvery
	}
	if opts.AlertGrace <= 0 {
		opts.AlertGrace = 10 * time.Second
	}
	if opts.MissedCheck <= 0 {
		opts.MissedCheck = DefaultMissedCheck
	}
	d := &Daemon{
		opts:        opts,
		log:         opts.Logger,
		store:       opts.Store,
		project:     opts.Project,
		providers:   map[string]runner.Provider{},
		judges:      map[string]runner.JudgeProvider{},
		grades:      runner.NewGradeCache(opts.GradeCacheSize).WithProbe(opts.GradeProbeEvery, opts.Now),
		metrics:     newMetrics(opts.Registry),
		running:     map[runKey]bool{},
		startFails:  map[runKey]StartFailure{},
		watchFrom:   map[runKey]watchStart{},
		pendingSeen: map[string]bool{},
	}
	d.chain, d.chainErr = AuditChain(opts.Project.Config, opts.Getenv)
	opts.Store.SetAuditWitness(d.witness)
	opts.Store.OnAuditCommitted(d.auditCommitted)
	d.runCtx, d.cancelRuns = context.WithCancel(context.Background())
	d.stopping = make(chan struct{})
	d.bgCtx, d.cancelBg = context.WithCancel(context.Background())
	if opts.Alerts {
		// Serving: refuse at once what every tick, or every page, would
		// fail on.
		if err := CheckSecrets(opts.Project, opts.Getenv); err != nil {
			return nil, err
		}
	}
	if opts.Alerts || opts.QueueAlerts {
		getenv := opts.Getenv
		if !opts.Alerts {
			getenv = nil // queue only: no secret is read
		}
		a, err := newAlerting(opts.Project.Config, getenv, opts.Logger, opts.Registry, opts.HTTPClient, outbox{opts.Store})
		if err != nil {
			return nil, err
		}
		d.alerting = a
	}
	d.telemetry = d.newTelemetry(opts.Project.Config)
	d.metrics.reloadOK.Set(1)
	d.metrics.dbCheckOK.Set(1)
	d.metrics.reloadTime.Set(float64(opts.Now().Unix()))
	d.metrics.configHash.Set(configHash(opts.Project))
	return d, nil
}

// Project returns the configuration in force.
func (d *Daemon) Project() *configs.Project {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.project
}

// suiteAndTarget finds a suite by name and one of the config's targets.
func (d *Daemon) suiteAndTarget(suiteName, targetName string) (*evals.Suite, configs.Target, error) {
	p := d.Project()
	suite, err := p.Suite(suiteName)
	if err != nil {
		return nil, configs.Target{}, err
	}
	t, err := p.Target(targetName)
	if err != nil {
		return nil, configs.Target{}, err
	}
	return suite, t, nil
}

func configName(p *configs.Project) string {
	if p.Config.File == "" {
		return "the configuration"
	}
	return p.Config.File
}

// ErrUnknown is returned for a suite or target that the config lacks
// (configs.ErrUnknownName: the error is a *configs.NameError with a
// did-you-mean).
var ErrUnknown = configs.ErrUnknownName

// ErrNoJudge is wrapped when a suite needs a judge (model-graded
// assertions, a calibration set) and none is configured.
var ErrNoJudge = errors.New("no judge")

// ErrSecret is matched by the error of a variable the config names for a
// secret (a target's api_key_env, an alert sink's) that the environment
// leaves empty. The error is a *configs.FieldError naming the config's
// file, line and field, like every other configuration problem.
var ErrSecret = configs.ErrEnvUnset

// provider returns the target's provider, building it on first use.
func (d *Daemon) provider(t configs.Target) (runner.Provider, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p, ok := d.providers[t.Name]; ok {
		return p, nil
	}
	p, err := d.newProviderLocked(t, "")
	if err != nil {
		return nil, err
	}
	d.providers[t.Name] = p
	return p, nil
}

// newProviderLocked builds t's provider with its API key from the
// environment; note says in errors what the key is for ("" for a run, or
// the judge's use).
func (d *Daemon) newProviderLocked(t configs.Target, note string) (runner.Provider, error) {
	key := ""
	if t.APIKeyEnv != "" {
		key = d.opts.Getenv(t.APIKeyEnv)
		if key == "" {
			return nil, unsetKey(d.project.Config, t, note)
		}
	}
	return d.opts.NewProvider(t, key)
}

// unsetKey is the problem of t's API key variable being empty, placed at
// the target's api_key_env in cfg; it matches ErrSecret.
func unsetKey(cfg *configs.Config, t configs.Target, note string) error {
	ref, ok := cfg.TargetKey(t.Name)
	if !ok || ref.Var != t.APIKeyEnv {
		// A target of a configuration since reloaded: no line to point at.
		ref = configs.EnvRef{Field: "api_key_env", Var: t.APIKeyEnv, Target: t.Name}
		note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("target %q", t.Name)
	}
	return cfg.Unset(ref, note)
}

// Store returns the daemon's store.
func (d *Daemon) Store() *store.Store { return d.store }

// shutdownContext is used for the writes that record a stopped run: they
// must happen even though the run's context is done.
func shutdownContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// Pair is a scheduled (suite, target) combination.
type Pair struct {
	Suite, Target, Schedule string
	BudgetUSDPerDay         float64
}

// Pairs lists what the configuration schedules, in config order.
func (d *Daemon) Pairs() []Pair {
	p := d.Project()
	var out []Pair
	for i, ref := range p.Config.Suites {
		for _, t := range ref.Targets {
			out = append(out, Pair{Suite: p.Suites[i].Name, Target: t, Schedule: ref.Schedule, BudgetUSDPerDay: ref.BudgetUSDPerDay})
		}
	}
	return out
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/server"
	"github.com/evald/evald/store"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stdout, stderr)
	var pf projectFlags
	pf.register(fs)
	addr := fs.String("addr", "", "HTTP listen `address` (default: the config's server.addr, else 127.0.0.1:8080)")
	grace := durationFlag(fs.FlagSet, new(time.Duration), "grace", 30*time.Second, "how long runs in flight may finish after SIGTERM before they are interrupted")
	jitter := durationFlag(fs.FlagSet, new(time.Duration), "jitter", 0, "spread scheduled runs over up to this `duration` after each tick")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("takes no arguments (got %q)", pos)
	}
	proj, err := pf.load()
	if err != nil {
		return err
	}
	log := newLogger(stderr, slog.LevelInfo)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := func() (*configs.Project, error) { return configs.Load(pf.file()) }
	return serveProject(ctx, serveOptions{
		project: proj, dbPath: pf.dbPath(proj), addr: *addr, grace: *grace, jitter: *jitter,
		log: log, stdout: stdout, hup: hup, reload: reload,
	})
}

type serveOptions struct {
	project *configs.Project
	dbPath  string
	addr    string
	grace   time.Duration
	jitter  time.Duration
	log     *slog.Logger
	stdout  io.Writer
	hup     <-chan os.Signal
	reload  func() (*configs.Project, error)
	onRun   func(*daemon.Result)
	// gradeProbe is daemon.Options.GradeProbeEvery (0: its default).
	gradeProbe time.Duration
	// ready, if set, is called once everything listens.
	ready func(httpAddr string)
}

// serveProject runs the daemon and its HTTP server until ctx ends. Cleanups
// run in reverse order of setup.
func serveProject(ctx context.Context, o serveOptions) (err error) {
	// A daemon whose every tick would fail on a missing key, or whose
	// pages could never leave, is worse than one that does not start.
	if err := daemon.CheckSecrets(o.project, os.Getenv); err != nil {
		return usageErr("%w", err)
	}
	var closers cleanups
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.grace+15*time.Second)
		defer cancel()
		err = errors.Join(err, closers.run(sctx))
	}()

	st, err := openDB(ctx, o.dbPath, lockServe, &closers)
	if err != nil {
		return err
	}
	recoverRuns(ctx, st, o.log)
	// Runs a crash left "running" are closed at start, but not those a
	// live `evald run` on the same database is still recording.
	// The exclusive lock is kept until Start has closed them, so that no
	// `evald run` starts in between.
	releaseRuns, liveCI, err := store.ExcludeRuns(o.dbPath)
	if err != nil {
		o.log.Warn("cannot tell whether an evald run is recording; leaving its runs alone", "err", err)
		releaseRuns, liveCI = func() error { return nil }, true
	}
	defer releaseRuns() // on an early return; released after Start below

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d, err := daemon.New(daemon.Options{
		Project: o.project, Store: st, Logger: o.log.With("component", "daemon"),
		Registry: reg, Grace: o.grace, Jitter: o.jitter, OnRun: o.onRun, Alerts: true, LiveCIRuns: liveCI,
		GradeProbeEvery: o.gradeProbe,
	})
	if err != nil {
		return err
	}
	tokens, err := tokensFrom(o.project.Config.Server.TokensEnv)
	if err != nil {
		return usageErr("%w", err)
	}
	warnTokens(o.log, o.project, o.project, tokens != nil)
	addr := o.addr
	if addr == "" {
		addr = o.project.Config.Server.Addr
	}
	srv, err := server.New(server.Options{
		Addr: addr, Daemon: d, Store: st, Gatherer: reg, Tokens: tokens,
		Logger: o.log.With("component", "server"),
	})
	if err != nil {
		return usageErr("%w", err)
	}
	srv.Start()
	closers.add("stop the HTTP server", srv.Stop)
	err = d.Start(ctx)
	if rerr := releaseRuns(); rerr != nil {
		o.log.Warn("release the runs lock", "err", rerr)
	}
	if err != nil {
		return err
	}
	closers.add("stop the daemon", d.Stop)
	o.log.Info("evald serving", "http", "http://"+srv.Addr(), "db", o.dbPath, "suites", len(o.project.Suites))
	if o.ready != nil {
		o.ready(srv.Addr())
	}
	for {
		select {
		case <-ctx.Done():
			o.log.Info("stopping: no new runs; runs in flight get the grace period", "grace", o.grace)
			return nil
		case <-o.hup:
			if o.reload == nil {
				continue
			}
			proj, err := o.reload()
			if err != nil {
				d.ReloadFailed(err)
				continue
			}
			if err := d.Reload(ctx, proj); err != nil {
				d.ReloadFailed(err)
				continue
			}
			warnTokens(o.log, o.project, proj, tokens != nil)
		}
	}
}

// warnTokens logs what the config proj means for the HTTP API's tokens,
// which the server reads once, from the config it started with (started):
// at start and after each reload (SIGHUP), a server.tokens_env that names
// an unset variable is said, as is a changed one that waits for a
// restart. have says whether the server has tokens.
func warnTokens(log *slog.Logger, started, proj *configs.Project, have bool) {
	ref, named := proj.Config.EnvRef("server.tokens_env")
	changed := proj.Config.Server.TokensEnv != started.Config.Server.TokensEnv
	switch {
	case named && os.Getenv(ref.Var) == "" && !have:
		// The dashboard and the schedules work without; changes over HTTP do not.
		log.Warn("the HTTP API refuses every change", "err", proj.Config.Unset(ref, ""))
	case named && os.Getenv(ref.Var) == "":
		log.Warn("the HTTP API keeps the tokens it started with; after a restart it would refuse every change", "err", proj.Config.Unset(ref, ""))
	case changed:
		log.Warn("server.tokens_env changed: the HTTP API keeps the tokens it started with until evald serve restarts", "tokens_env", proj.Config.Server.TokensEnv)
	}
}

// tokensFrom reads the API tokens from the named environment variable.
func tokensFrom(env string) (map[string]string, error) {
	if env == "" {
		return nil, nil
	}
	v := os.Getenv(env)
	if v == "" {
		return nil, nil
	}
	t, err := server.ParseTokens(v)
	if err != nil {
		return nil, fmt.Errorf("environment variable %s: %w", env, err)
	}
	return t, nil
}

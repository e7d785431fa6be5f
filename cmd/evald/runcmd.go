package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/store"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	var pf projectFlags
	pf.register(fs)
	target := fs.String("target", "", "run on this `target` only (default: the suite's targets in the config)")
	format := fs.String("format", "text", "report `format`: text or json")
	out := fs.String("out", "", "write the report to `file` instead of stdout")
	suites, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if !slices.Contains([]string{"text", "json"}, *format) {
		return usageErr("--format must be text or json (got %q)", *format)
	}
	proj, err := pf.load()
	if err != nil {
		return err
	}
	jobs, err := plan(proj, suites, *target)
	if err != nil {
		return err
	}

	st, err := store.Open(ctx, pf.dbPath(proj))
	if err != nil {
		return usageErr("open %s: %w", pf.dbPath(proj), err)
	}
	defer st.Close()
	d, err := daemon.New(daemon.Options{Project: proj, Store: st, Logger: newLogger(stderr, slogWarn)})
	if err != nil {
		return err
	}

	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return usageErr("--out: %w", err)
		}
		defer f.Close()
		w = f
	}
	code := exitOK
	for _, j := range jobs {
		res, err := d.Evaluate(ctx, daemon.Request{Suite: j.suite, Target: j.target, Trigger: daemon.TriggerCI})
		if err != nil {
			if errors.Is(err, daemon.ErrSecret) || errors.Is(err, daemon.ErrUnknown) {
				return usageErr("%w", err)
			}
			return &exitError{code: exitNoResult, err: err}
		}
		if err := writeReport(w, *format, res); err != nil {
			return err
		}
		if res.Run.Status == daemon.StatusRefused {
			fmt.Fprintf(stderr, "evald run: %s: refused: its thresholds differ from the signed-off ones:\n%s", res.Suite.Name,
				indent(governance.FormatDiff(res.Governance.Changes)))
			fmt.Fprintf(stderr, "To put them in force, record who and why:\n  %s\n", governance.SignoffCommand(res.Suite.Name))
		}
		code = worse(code, exitCodeOf(res.Run.Status))
		if ctx.Err() != nil {
			break
		}
	}
	if code != exitOK {
		return &exitError{code: code}
	}
	return nil
}

type job struct{ suite, target string }

// plan expands suite names (none: every suite) into (suite, target) jobs.
func plan(proj *configs.Project, names []string, target string) ([]job, error) {
	if target != "" && !slices.ContainsFunc(proj.Config.Targets, func(t configs.Target) bool { return t.Name == target }) {
		return nil, usageErr("--target: no target named %q in %s", target, proj.Config.File)
	}
	var jobs []job
	matched := map[string]bool{}
	for i, s := range proj.Suites {
		if len(names) > 0 && !slices.Contains(names, s.Name) {
			continue
		}
		matched[s.Name] = true
		targets := proj.Config.Suites[i].Targets
		if target != "" {
			targets = []string{target}
		}
		for _, t := range targets {
			jobs = append(jobs, job{s.Name, t})
		}
	}
	for _, n := range names {
		if !matched[n] {
			return nil, usageErr("no suite named %q in %s", n, proj.Config.File)
		}
	}
	if len(jobs) == 0 {
		return nil, usageErr("nothing to run: %s schedules no suite on any target", proj.Config.File)
	}
	return jobs, nil
}

func exitCodeOf(status string) int {
	switch status {
	case daemon.StatusPassed:
		return exitOK
	case daemon.StatusFailed, daemon.StatusRegressed:
		return exitFailed
	case daemon.StatusRefused:
		return exitRefused
	default: // errored, interrupted
		return exitNoResult
	}
}

// worse keeps the more severe exit code: refused, then could-not-complete,
// then failed.
func worse(a, b int) int {
	rank := map[int]int{exitOK: 0, exitFailed: 1, exitNoResult: 2, exitRefused: 3}
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

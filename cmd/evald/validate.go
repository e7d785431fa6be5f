package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/plural"
)

func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("validate", stdout, stderr)
	var pf projectFlags
	pf.register(fs)
	signed := fs.Bool("signed", false, "exit 3 when a suite has no sign-off or its files wait for one, printing the diff and the signoff command (a check of the record with no run and no endpoint)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		// A file named here would look checked while the project is what
		// is validated: refuse it, as every command refuses stray words.
		return usageErr("takes no arguments (got %q): it validates the whole project, every suite and dataset the config names; name another config with --config FILE", pos)
	}
	proj, err := pf.load()
	if err != nil {
		return err
	}
	// Validation is about the files: CI may validate without the secrets,
	// so an unset variable is a warning, not a failure. It is still said
	// where it is named, so that a daemon that cannot run is no surprise.
	for _, w := range unsetWarnings(proj, os.Getenv) {
		fmt.Fprintln(stderr, w)
	}
	for _, n := range toolOverrides(proj) {
		fmt.Fprintln(stderr, n)
	}
	for _, w := range missedAfterWarnings(proj, time.Now()) {
		fmt.Fprintln(stderr, w)
	}
	cases := 0
	for _, s := range proj.Suites {
		cases += len(s.Cases)
	}
	fmt.Fprintf(stdout, "%s: ok (%s, %s, %s)\n", pf.file(), plural.N(len(proj.Config.Targets), "target"), plural.N(len(proj.Suites), "suite"), plural.N(cases, "case"))
	for i, s := range proj.Suites {
		fmt.Fprintf(stdout, "  %-20s %s × %s  suite %s  prompt %s  %s\n", s.Name, plural.N(len(s.Cases), "case"), plural.N(s.Repeats, "repeat"), s.Version[:12], s.PromptVersion[:12], signoffState(proj.SignoffDecision(s).Kind))
		for _, f := range s.RowNamed {
			fmt.Fprintf(stdout, "  %-20s %s has no __id column: its cases are named by line (%s), ids that hold while its rows keep their order\n", "", f, rowExample(s, f))
		}
		// What drift can catch on each target it is scheduled on, before
		// any run: the noise is assumed (docs/drift.md §3.3); the
		// dashboard and /api/suites switch to the reference's own once it
		// has runs.
		ref := proj.Config.Suites[i]
		for _, t := range ref.Targets {
			det := drift.Assess(daemon.DriftConfig(s, ref.Schedule, time.Now()), len(s.Cases), s.Repeats, nil)
			fmt.Fprintf(stdout, "    drift on %s: %s\n", t, det.Summary())
			if det.UnderPowered {
				fmt.Fprintf(stdout, "    warning: %s on %s is %s\n", s.Name, t, det.Warning)
			}
		}
	}
	if *signed {
		return unsignedSuites(proj, stderr)
	}
	return nil
}

// toolOverrides says, for each suite with tools that runs on a target with
// params.tools, that the suite's tools are the ones sent there.
func toolOverrides(proj *configs.Project) []string {
	var out []string
	seen := map[string]bool{}
	for i, ref := range proj.Config.Suites {
		s := proj.Suites[i]
		if s == nil || s.Tools == nil {
			continue
		}
		for _, t := range proj.Config.Targets {
			name := t.Name
			key := s.File + "\x00" + name
			if !slices.Contains(ref.Targets, name) || t.Params.Tools == nil || seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, fmt.Sprintf("%s:%d: tools: note: the suite's tools replace target %q's params.tools in its runs there", s.File, s.ToolsLine, name))
		}
	}
	return out
}

// missedAfterWarnings warns, once per suite, when the global
// alerts.missed_after is shorter than the suite's schedule interval (the
// shortest gap between its firings over the next week): the value is the
// grace after every firing of every pair, so such a suite's runs must all
// complete within it, while its default grace would be an interval.
func missedAfterWarnings(proj *configs.Project, now time.Time) []string {
	after := proj.Config.Alerts.MissedAfter
	if after <= 0 {
		return nil
	}
	file := proj.Config.File
	if file == "" {
		file = "evald.yaml"
	}
	var out []string
	for i, ref := range proj.Config.Suites {
		if ref.Schedule == "" {
			continue
		}
		sched, err := cron.ParseStandard(ref.Schedule)
		if err != nil {
			continue // loading refused it already
		}
		gap := shortestGap(sched, now.UTC(), 7*24*time.Hour)
		if gap <= 0 || after >= gap {
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d: alerts.missed_after: warning: %s is shorter than suite %s's schedule interval (%s, %q): missed_run pages whenever one of its runs takes longer than %s after its firing; leave missed_after unset for a grace of the interval plus the usual run duration per pair",
			file, proj.Config.Alerts.MissedAfterLine, after, proj.Suites[i].Name, gap, ref.Schedule, after))
	}
	return out
}

// shortestGap is the shortest time between two firings of s in the span
// after now (at most 10 000 firings looked at; 0: fewer than two).
func shortestGap(s cron.Schedule, now time.Time, span time.Duration) time.Duration {
	var gap time.Duration
	prev := s.Next(now)
	for n := 0; n < 10000 && !prev.IsZero() && prev.Sub(now) <= span; n++ {
		next := s.Next(prev)
		if next.IsZero() {
			break
		}
		if d := next.Sub(prev); gap == 0 || d < gap {
			gap = d
		}
		prev = next
	}
	return gap
}

// unsignedSuites is validate --signed's check: for every suite whose files
// evald run would refuse against the record, the diff and the command that
// signs it off on stderr, and exit 3.
func unsignedSuites(proj *configs.Project, stderr io.Writer) error {
	var refused []string
	for _, s := range proj.Suites {
		dec := proj.SignoffDecision(s)
		if dec.Kind != governance.Unsigned && dec.Kind != governance.Pending {
			continue
		}
		refused = append(refused, s.Name)
		fmt.Fprintf(stderr, "%s: %s\n%s  sign off: %s\n", s.Name, signoffState(dec.Kind), governance.FormatDiff(dec.Changes), governance.SignoffCommand(s.Name))
	}
	if len(refused) > 0 {
		return &exitError{code: exitRefused, err: fmt.Errorf("%s waiting for a sign-off in the record (evald run refuses them)", plural.N(len(refused), "suite"))}
	}
	return nil
}

// signoffState says in words how a suite's files stand against its
// sign-off in the record, as evald run will judge them.
func signoffState(k governance.Kind) string {
	switch k {
	case governance.Unsigned:
		return "no sign-off (evald run refuses it)"
	case governance.Pending:
		return "changed, pending sign-off (evald run refuses it)"
	case governance.Stricter:
		return "signed off, files stricter"
	}
	return "signed off"
}

// unsetWarnings is a problem per field of the config naming a variable that
// getenv leaves empty, each saying what will fail for want of it.
func unsetWarnings(proj *configs.Project, getenv func(string) string) []error {
	cfg := proj.Config
	judges, runs := map[string]bool{}, map[string]bool{}
	if cfg.Judge != "" {
		judges[cfg.Judge] = true
	}
	for i, ref := range cfg.Suites {
		for _, t := range ref.Targets {
			runs[t] = true
		}
		if s := proj.Suites[i]; s != nil && s.Judge != "" {
			judges[s.Judge] = true
		}
	}
	var out []error
	for _, ref := range cfg.EnvRefs() {
		if getenv(ref.Var) != "" {
			continue
		}
		what := "evald serve will refuse to start" // the alert sinks'
		switch {
		case ref.Field == "server.tokens_env":
			what = "the HTTP API will refuse every change"
		case ref.Target != "" && judges[ref.Target] && runs[ref.Target]:
			what = "runs against this target and grading by this judge will fail"
		case ref.Target != "" && judges[ref.Target]:
			what = "grading by this judge will fail"
		case ref.Target != "":
			what = "runs against this target will fail"
		}
		out = append(out, cfg.Unset(ref, "warning: "+what))
	}
	return out
}

// rowExample is the id of the first case of CSV file f, "" when none.
func rowExample(s *evals.Suite, f string) string {
	for _, c := range s.Cases {
		if strings.HasPrefix(c.Source, f+":") {
			return c.ID + ", ..."
		}
	}
	return "FILE:LINE"
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/store"
)

func cmdRegrade(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("regrade", stdout, stderr)
	var pf projectFlags
	pf.register(fs)
	runID := fs.Int64("run", 0, "the `ID` of the run whose stored outputs are graded again (required)")
	allow := fs.Bool("allow-suite-change", false, "grade with the suite's current assertions even though the suite changed since the run")
	maxFlips := fs.Float64("max-flip-share", daemon.DefaultMaxFlipShare, "the largest `share` of compared samples that may flip while the judge still agrees")
	format := fs.String("format", "text", "report `format`: text or json")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	suite, err := oneSuite(pos)
	if err != nil {
		return err
	}
	if *runID <= 0 {
		return usageErr("--run ID is required: the run whose outputs to grade again (see evald history)")
	}
	if *format != "text" && *format != "json" {
		return usageErr("--format %q: want text or json", *format)
	}
	if *maxFlips < 0 || *maxFlips > 1 {
		return usageErr("--max-flip-share %g: want a share in [0, 1]", *maxFlips)
	}
	return withDaemon(ctx, &pf, stderr, func(d *daemon.Daemon, _ *store.Store) error {
		rep, err := d.Regrade(ctx, *runID, suite, daemon.RegradeOptions{AllowSuiteChange: *allow, MaxFlipShare: maxFlips})
		switch {
		case errors.Is(err, daemon.ErrSuiteChanged):
			return usageErr("%w; to grade with the current assertions, matching samples to cases by id, add --allow-suite-change", err)
		case errors.Is(err, daemon.ErrCannotRegrade), errors.Is(err, daemon.ErrUnknown), errors.Is(err, daemon.ErrSecret):
			return usageErr("%w", err)
		case err != nil:
			return &exitError{code: exitNoResult, err: err}
		}
		if *format == "json" {
			if err := json.NewEncoder(stdout).Encode(rep); err != nil {
				return err
			}
		} else if err := writeRegradeText(stdout, rep); err != nil {
			return err
		}
		switch rep.Status {
		case daemon.RegradeAgree:
			return nil
		case daemon.RegradeDisagree:
			return &exitError{code: exitFailed}
		}
		return &exitError{code: exitNoResult}
	})
}

// writeRegradeText prints a regrade report for a person.
func writeRegradeText(w io.Writer, r *daemon.RegradeReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "regrade of run %d: suite %s on %s, started %s\n", r.RunID, r.Suite, r.Target, r.RunStartedAt.Local().Format("2006-01-02 15:04:05"))
	if r.SuiteChanged {
		fmt.Fprintf(&b, "suite changed: run %s, now %s (graded with today's assertions)\n", shortID(r.SuiteVersion), shortID(r.CurrentSuiteVersion))
	}
	if r.JudgeThen != nil {
		fmt.Fprintf(&b, "judge then: %s\n", judgeLine(*r.JudgeThen))
	} else {
		fmt.Fprintln(&b, "judge then: not recorded with the run")
	}
	fmt.Fprintf(&b, "judge now:  %s\n", judgeLine(r.JudgeNow))
	if r.JudgeVersionChanged {
		fmt.Fprintln(&b, "            (the judge target's version changed since the run)")
	}
	n := r.Samples
	fmt.Fprintf(&b, "samples: %d stored, %d graded again of %d with an output, %d compared", n.Stored, n.Graded, n.ToGrade, n.Compared)
	if n.EndpointErrors > 0 {
		fmt.Fprintf(&b, ", %d without output (endpoint errors)", n.EndpointErrors)
	}
	if n.NoCase > 0 {
		fmt.Fprintf(&b, ", %d of cases no longer in the suite", n.NoCase)
	}
	if n.StoredUngraded > 0 {
		fmt.Fprintf(&b, ", %d ungraded in the run", n.StoredUngraded)
	}
	fmt.Fprintln(&b)
	fmt.Fprintf(&b, "pass rate (cases):   stored %s  regraded %s\n", fmtRate(r.Stored.PassRate), fmtRate(r.Regraded.PassRate))
	fmt.Fprintf(&b, "pass rate (samples): stored %s  regraded %s\n", fmtRate(r.Stored.SamplePassRate), fmtRate(r.Regraded.SamplePassRate))
	fmt.Fprintf(&b, "flips: %d pass->fail, %d fail->pass (%.1f%% of compared, at most %.1f%%); McNemar mid-p %.3g (alpha %g)\n",
		r.NPassToFail, r.NFailToPass, r.FlipShare*100, r.MaxFlipShare*100, r.PMid, r.Alpha)
	for _, f := range r.PassToFail {
		fmt.Fprintf(&b, "  pass->fail  %s #%d  %s\n", f.CaseID, f.Repeat, printable(f.Reason))
	}
	if more := r.NPassToFail - len(r.PassToFail); more > 0 {
		fmt.Fprintf(&b, "  ... and %d more pass->fail\n", more)
	}
	for _, f := range r.FailToPass {
		fmt.Fprintf(&b, "  fail->pass  %s #%d  (stored: %s)\n", f.CaseID, f.Repeat, printable(f.Reason))
	}
	if more := r.NFailToPass - len(r.FailToPass); more > 0 {
		fmt.Fprintf(&b, "  ... and %d more fail->pass\n", more)
	}
	if n.Missing > 0 {
		fmt.Fprintf(&b, "missing grades: %d (%d judge errors, %d unreadable replies): not counted as fails\n",
			n.Missing, r.Missing.JudgeError, r.Missing.JudgeUnparseable)
		for _, m := range r.Missing.Examples {
			fmt.Fprintf(&b, "  %s #%d  %s: %s\n", m.CaseID, m.Repeat, m.Class, printable(m.Text))
		}
	}
	fmt.Fprintf(&b, "judge cost of the regrade: %d prompt + %d completion tokens, $%.4f\n", r.Tokens.Prompt, r.Tokens.Completion, r.CostUSD)
	fmt.Fprintf(&b, "%s: %s\n", r.Status, r.Conclusion)
	_, err := io.WriteString(w, b.String())
	return err
}

// judgeLine is a judge's target, version and returned identities.
func judgeLine(j daemon.RegradeJudge) string {
	s := fmt.Sprintf("%s (version %s)", j.Target, shortID(j.TargetVersion))
	if len(j.Models) > 0 {
		s += "  models " + printable(counts(j.Models))
	}
	if len(j.Fingerprints) > 0 {
		s += "  fingerprints " + printable(counts(j.Fingerprints))
	}
	return s
}

// counts prints name x count pairs, the most frequent first.
func counts(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return m[b] - m[a] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s x%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func shortID(v string) string {
	if v == "" {
		return "-"
	}
	return short(v)
}

// printable replaces control characters, which judge replies and reasons
// (untrusted text) may hold, so that they cannot drive the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/store"
)

// cmdCalibrate grades a suite's calibration set with its judge now and
// records the result. It never raises an alert: like `evald run`, a
// one-shot command pages nobody. A pass by the judge that failed resolves
// an open judge_calibration_failed incident, queued for the serving daemon to
// deliver. Its calibration does not change when `evald serve` calibrates
// next. Exit 0 ok, 1 failed, 4 inconclusive (too many missing
// grades), 2 usage.
func cmdCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("calibrate", stdout, stderr)
	var pf projectFlags
	pf.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	suite, err := oneSuite(pos)
	if err != nil {
		return err
	}
	return withDaemon(ctx, &pf, stderr, func(d *daemon.Daemon, _ *store.Store) error {
		out, err := d.Calibrate(ctx, suite)
		switch {
		case errors.Is(err, daemon.ErrUnknown), errors.Is(err, daemon.ErrInvalid), errors.Is(err, daemon.ErrSecret):
			return usageErr("%w", err)
		case err != nil:
			return &exitError{code: exitNoResult, err: err}
		}
		printCalibration(stdout, out)
		switch out.Result.Status {
		case runner.CalibrationFailed:
			return &exitError{code: exitFailed}
		case runner.CalibrationInconclusive:
			return &exitError{code: exitNoResult}
		}
		return nil
	})
}

// printCalibration writes a calibration for people. Judge reasons and
// model ids are untrusted: printed on one line each, cut short.
func printCalibration(w io.Writer, out daemon.CalibrationOutcome) {
	r := out.Result
	fmt.Fprintf(w, "%s: judge %s (model %s, fingerprint %s, version %s)\n", out.Suite, out.JudgeTarget,
		orDash(oneLine(out.Identity.Model, 80)), orDash(oneLine(out.Identity.Fingerprint, 80)), shortHash(out.Identity.Version))
	rate := "-"
	if r.Items > r.Missing {
		rate = fmt.Sprintf("%.1f%%", 100*r.Rate)
	}
	fmt.Fprintf(w, "%s: %d items, %d agree, %d disagree, %d missing; disagreement %s, limit %.1f%%\n",
		strings.ToUpper(r.Status), r.Items, r.Agreements, r.Disagreements, r.Missing, rate, 100*r.MaxDisagreement)
	for _, it := range r.Results {
		if it.Agrees() {
			continue
		}
		name := fmt.Sprintf("item %d", it.Index)
		if it.Case != "" {
			name += " (case " + it.Case + ")"
		}
		fmt.Fprintf(w, "  %s: expected %s, got %s", name, it.Expected, it.Got)
		if it.Reason != "" {
			fmt.Fprintf(w, ": %s", oneLine(it.Reason, 200))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "judge tokens %d+%d, cost $%.4f; stored as calibration %d\n", r.PromptTokens, r.CompletionTokens, r.CostUSD, out.ID)
}

// oneLine folds s onto one line of at most n runes, with control
// characters removed, for a terminal.
func oneLine(s string, n int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == ' ' }), " ")
	if rs := []rune(s); len(rs) > n {
		return string(rs[:n-1]) + "…"
	}
	return s
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return orDash(h)
}

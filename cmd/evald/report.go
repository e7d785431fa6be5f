package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
)

const slogWarn = slog.LevelWarn

// runJSON is one line of `evald run --format json` (DESIGN.md lists the fields).
type runJSON struct {
	Suite             string                   `json:"suite"`
	SuiteVersion      string                   `json:"suite_version"`
	PromptVersion     string                   `json:"prompt_version"`
	Target            string                   `json:"target"`
	TargetVersion     string                   `json:"target_version"`
	RunID             int64                    `json:"run_id"`
	Status            string                   `json:"status"`
	Cases             int                      `json:"cases"`
	ValidCases        int                      `json:"valid_cases"`
	Samples           int                      `json:"samples"`
	PassRate          *float64                 `json:"pass_rate"`
	PassRateCI        *[2]float64              `json:"pass_rate_ci95"`
	MeanScore         *float64                 `json:"mean_score"`
	Thresholds        evals.Thresholds         `json:"thresholds"`
	ThresholdFailures []evals.ThresholdFailure `json:"threshold_failures"`
	Regression        regressionJSON           `json:"regression"`
	Provider          providerJSON             `json:"provider"`
	Tokens            tokensJSON               `json:"tokens"`
	CostUSD           float64                  `json:"cost_usd"`
	Errors            int                      `json:"errors"`
	ErrorsByClass     map[string]int           `json:"errors_by_class"`
	FailedCases       []daemon.CaseFailure     `json:"failed_cases"`
	PendingSignoff    []governance.Change      `json:"pending_signoff,omitempty"`
	DurationMS        int64                    `json:"duration_ms"`
}

type regressionJSON struct {
	Detected      bool     `json:"detected"`
	BaselineRunID *int64   `json:"baseline_run_id"`
	Delta         *float64 `json:"delta"`
	PValue        *float64 `json:"p_value"`
	// Verdict is the drift detector's verdict on the run.
	Verdict string `json:"verdict,omitempty"`
}

type tokensJSON struct {
	Prompt     int64 `json:"prompt"`
	Completion int64 `json:"completion"`
}

func toRunJSON(res *daemon.Result) runJSON {
	r, s := res.Run, res.Summary
	j := runJSON{
		Suite: r.Suite, SuiteVersion: r.SuiteVersion, PromptVersion: r.PromptVersion,
		Target: r.Target, TargetVersion: r.TargetVersion, RunID: r.ID, Status: r.Status,
		Cases: r.Cases, ValidCases: s.ValidCases, Samples: r.Samples,
		PassRate: r.PassRate, MeanScore: r.MeanScore,
		Thresholds: res.Suite.Thresholds, ThresholdFailures: res.ThresholdFailures,
		Provider:       providerJSON{Models: s.Models, Fingerprints: s.Fingerprints},
		Tokens:         tokensJSON{Prompt: s.PromptTokens, Completion: s.CompletionTokens},
		CostUSD:        s.CostUSD,
		Errors:         s.Errors,
		ErrorsByClass:  s.ErrorsByClass,
		FailedCases:    res.FailedCases,
		PendingSignoff: res.Governance.Changes,
		DurationMS:     r.DurationMS,
	}
	if v := res.Verdict; v != nil && v.Kind != drift.KindWarmingUp && v.Kind != drift.KindSkipped && v.Kind != drift.KindNewSegment {
		j.Regression.Detected = r.Status == daemon.StatusRegressed
		j.Regression.Delta, j.Regression.PValue = &v.D, &v.P
		j.Regression.Verdict = v.Kind
		if len(res.BaselineRuns) > 0 {
			j.Regression.BaselineRunID = &res.BaselineRuns[0]
		}
	} else if v != nil {
		j.Regression.Verdict = v.Kind
	}
	if j.ThresholdFailures == nil {
		j.ThresholdFailures = []evals.ThresholdFailure{}
	}
	if j.FailedCases == nil {
		j.FailedCases = []daemon.CaseFailure{}
	}
	if r.PassRate != nil {
		lo, hi := wilson(*r.PassRate, s.ValidCases)
		j.PassRateCI = &[2]float64{lo, hi}
	}
	return j
}

func writeReport(w io.Writer, format string, res *daemon.Result) error {
	if format == "json" {
		return json.NewEncoder(w).Encode(toRunJSON(res))
	}
	writeText(w, res)
	return nil
}

func writeText(w io.Writer, res *daemon.Result) {
	r, s := res.Run, res.Summary
	fmt.Fprintf(w, "%s on %s: %s (run %d, %d cases x %d)\n", r.Suite, r.Target, strings.ToUpper(r.Status), r.ID, r.Cases, max(res.Suite.Repeats, 1))
	if r.Status == daemon.StatusRefused {
		fmt.Fprintf(w, "  threshold change pending sign-off; nothing was run\n")
		return
	}
	if r.PassRate != nil {
		lo, hi := wilson(*r.PassRate, s.ValidCases)
		fmt.Fprintf(w, "  pass rate   %.3f  (95%% CI %.3f-%.3f over %d cases)%s\n", *r.PassRate, lo, hi, s.ValidCases, bar(res.Suite.Thresholds.PassRate))
		fmt.Fprintf(w, "  mean score  %.3f%s\n", *r.MeanScore, bar(res.Suite.Thresholds.MeanScore))
	} else {
		fmt.Fprintf(w, "  nothing measured: no case got a usable answer\n")
	}
	if v := res.Verdict; v != nil && v.Message != "" {
		fmt.Fprintf(w, "  drift       %s: %s\n", v.Kind, v.Message)
	}
	for _, f := range res.ThresholdFailures {
		fmt.Fprintf(w, "  FAILED threshold %s\n", f)
	}
	if s.Errors > 0 {
		fmt.Fprintf(w, "  missing     %d of %d samples (%s); not counted as failures\n", s.Errors, s.Samples, classes(s.ErrorsByClass))
	}
	for i, c := range res.FailedCases {
		if i == 10 {
			fmt.Fprintf(w, "  ... and %d more failing cases\n", len(res.FailedCases)-10)
			break
		}
		fmt.Fprintf(w, "  fail  %-24s %d/%d passed  %s\n", c.ID, c.Passed, c.Samples, strings.Join(c.Reasons, "; "))
	}
	fmt.Fprintf(w, "  tokens %d in / %d out, cost $%.4f, %s\n", s.PromptTokens, s.CompletionTokens, s.CostUSD, (time.Duration(r.DurationMS) * time.Millisecond).String())
}

func bar(t *float64) string {
	if t == nil {
		return ""
	}
	return fmt.Sprintf("  threshold %.3f", *t)
}

func classes(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// wilson is the 95% Wilson interval of a pass rate over n cases. A pass
// rate averaged over repeats is rounded to the nearest count of cases.
func wilson(p float64, n int) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	return drift.Wilson(int(math.Round(p*float64(n))), n, 0.05)
}

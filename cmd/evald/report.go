package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/plural"
	"github.com/evald/evald/internal/redact"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/scoring"
	"github.com/evald/evald/store"
)

const slogWarn = slog.LevelWarn

// failingNotListed returns the run's failing cases that the regressed
// cases of its gate do not list already, and how many they do: a case is
// shown once.
func (rep *runReport) failingNotListed() ([]daemon.CaseFailure, int) {
	g := rep.res.Gate
	if g == nil || len(g.RegressedCases) == 0 {
		return rep.res.FailedCases, 0
	}
	shown := map[string]bool{}
	for _, c := range g.RegressedCases {
		shown[c.ID] = true
	}
	var out []daemon.CaseFailure
	listed := 0
	for _, c := range rep.res.FailedCases {
		if shown[c.ID] {
			listed++
			continue
		}
		out = append(out, c)
	}
	return out, listed
}

// costUSD is what the run's answers cost. With --cache, the answers the
// cache gave were paid for by an earlier run and cost nothing: a re-run
// answered fully from the cache costs 0 (docs/ci.md).
func (rep *runReport) costUSD() float64 {
	s := rep.res.Summary
	n := rep.cacheSamples()
	if !rep.cached || n == 0 {
		return s.CostUSD
	}
	return s.CostUSD * float64(n-min(rep.cacheHits, n)) / float64(n)
}

// cacheSamples are the samples the cache could answer for this report's
// target version: the run's, and production's arm's too when a
// side-by-side comparison sends both to the same target.
func (rep *runReport) cacheSamples() int {
	n := rep.res.Summary.Samples
	if p := rep.prod; p != nil && p.Run.TargetVersion == rep.res.Run.TargetVersion {
		n += p.Summary.Samples
	}
	return n
}

// runReport is one (suite, target) run of `evald run` with what the
// reports show about it.
type runReport struct {
	res *daemon.Result
	// prod is production's arm of a side-by-side comparison.
	prod      *daemon.Result
	candidate bool
	// mode is the baseline mode (latest, run, none, side-by-side).
	mode string
	// prompt and model are the candidate's overrides as given.
	prompt, model string
	// cached is set when --cache was on; cacheHits counts the answers it gave.
	cached    bool
	cacheHits int
	cases     []caseRow
	// cmd writes the commands the reports tell the user to run.
	cmd cmdLine
	// secrets are redacted from every error text the reports show.
	secrets []string
}

// missingWhy says, class by class, how many samples went missing and the
// first error of each, with the keys redacted: the why of an errored run.
func (rep *runReport) missingWhy() string {
	s := rep.res.Summary
	return redact.Text(runner.ErrorSummary(s.ErrorsByClass, s.FirstErrors), rep.secrets...)
}

// firstErrors is the first error text of each class, redacted.
func (rep *runReport) firstErrors() map[string]string {
	out := map[string]string{}
	for c, t := range rep.res.Summary.FirstErrors {
		out[c] = redact.Text(runner.ErrorDetail(c, t), rep.secrets...)
	}
	return out
}

// caseRow is one case of a run, from its stored samples.
type caseRow struct {
	ID, Source string
	// Samples counts the valid samples, Passed those passing, Missing the
	// samples without a usable answer.
	Samples, Passed, Missing int
	LatencyMS                float64
	// Reasons are the failing assertions' messages; Output an excerpt of
	// the first failing answer; Errors the classes of the missing samples.
	Reasons []string
	Output  string
	Errors  []string
}

// caseRows reads a run's samples back per case, in suite order.
func caseRows(ctx context.Context, st *store.Store, res *daemon.Result) ([]caseRow, error) {
	if res.Run.ID == 0 || res.Run.Status == store.StatusRefused {
		return nil, nil
	}
	samples, err := st.Samples(ctx, res.Run.ID)
	if err != nil {
		return nil, err
	}
	by := map[string]*caseRow{}
	rows := make([]caseRow, len(res.Suite.Cases))
	for i, c := range res.Suite.Cases {
		rows[i] = caseRow{ID: c.ID, Source: c.Source}
		by[c.ID] = &rows[i]
	}
	for _, s := range samples {
		r := by[s.CaseID]
		if r == nil {
			continue
		}
		r.LatencyMS += s.LatencyMS
		if runner.Missing(s.ErrorClass) {
			r.Missing++
			if !contains(r.Errors, s.ErrorClass) {
				r.Errors = append(r.Errors, s.ErrorClass)
			}
			continue
		}
		r.Samples++
		if s.Pass {
			r.Passed++
			continue
		}
		if r.Output == "" {
			r.Output = clipText(s.Output, 300)
		}
		for _, a := range s.Results {
			why := scoring.TurnReason(a.Turn, a.Reason)
			if !a.Pass && a.Reason != "" && !contains(r.Reasons, why) && len(r.Reasons) < 5 {
				r.Reasons = append(r.Reasons, why)
			}
		}
		for _, why := range turnFailures(s) {
			if !contains(r.Reasons, why) && len(r.Reasons) < 5 {
				r.Reasons = append(r.Reasons, why)
			}
		}
	}
	return rows, nil
}

// turnFailures are the reasons a sample's turns failed beyond their
// assertions (max_tool_steps), each naming its turn in a conversation.
func turnFailures(s store.Sample) []string {
	if s.Turns == "" {
		return nil
	}
	var ts []scoring.Turn
	if json.Unmarshal([]byte(s.Turns), &ts) != nil {
		return nil
	}
	var out []string
	for i, t := range ts {
		if t.Failure == "" {
			continue
		}
		n := i + 1
		if len(ts) == 1 && t.User == "" {
			n = 0
		}
		out = append(out, scoring.TurnReason(n, t.Failure))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// clipText makes s one line of at most n runes.
func clipText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// runJSON is one line of `evald run --format json` (DESIGN.md lists the fields).
type runJSON struct {
	Suite             string                   `json:"suite"`
	SuiteVersion      string                   `json:"suite_version"`
	PromptVersion     string                   `json:"prompt_version"`
	Target            string                   `json:"target"`
	TargetVersion     string                   `json:"target_version"`
	RunID             int64                    `json:"run_id"`
	Status            store.Status             `json:"status"`
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
	Judge             *judgeJSON               `json:"judge,omitempty"`
	Tokens            tokensJSON               `json:"tokens"`
	CostUSD           float64                  `json:"cost_usd"`
	Errors            int                      `json:"errors"`
	ErrorsByClass     map[string]int           `json:"errors_by_class"`
	FirstErrors       map[string]string        `json:"first_errors"`
	FailedCases       []daemon.CaseFailure     `json:"failed_cases"`
	PendingSignoff    []governance.Change      `json:"pending_signoff,omitempty"`
	DurationMS        int64                    `json:"duration_ms"`
	// Candidate is true for a candidate run (--prompt, --model, --baseline);
	// Baseline is how its baseline was chosen and Gate the comparison.
	Candidate bool                `json:"candidate"`
	Baseline  string              `json:"baseline,omitempty"`
	Gate      *daemon.GateVerdict `json:"gate,omitempty"`
	// CacheHits counts the answers taken from --cache.
	CacheHits *int `json:"cache_hits,omitempty"`
}

type regressionJSON struct {
	Detected      bool     `json:"detected"`
	BaselineRunID *int64   `json:"baseline_run_id"`
	Delta         *float64 `json:"delta"`
	PValue        *float64 `json:"p_value"`
	// Verdict is the drift detector's verdict on a production run, or the
	// gate's decision on a candidate.
	Verdict string `json:"verdict,omitempty"`
}

type tokensJSON struct {
	Prompt     int64 `json:"prompt"`
	Completion int64 `json:"completion"`
}

func toRunJSON(rep *runReport) runJSON {
	res := rep.res
	r, s := res.Run, res.Summary
	j := runJSON{
		Suite: r.Suite, SuiteVersion: r.SuiteVersion, PromptVersion: r.PromptVersion,
		Target: r.Target, TargetVersion: r.TargetVersion, RunID: r.ID, Status: r.Status,
		Cases: r.Cases, ValidCases: s.ValidCases, Samples: r.Samples,
		PassRate: r.PassRate, MeanScore: r.MeanScore,
		Thresholds: res.Suite.Thresholds, ThresholdFailures: res.ThresholdFailures,
		Provider:       providerJSON{Models: s.Models, Fingerprints: s.Fingerprints},
		Judge:          judgeOf(detailOf(r).Judge),
		Tokens:         tokensJSON{Prompt: s.PromptTokens, Completion: s.CompletionTokens},
		CostUSD:        rep.costUSD(),
		Errors:         s.Errors,
		ErrorsByClass:  s.ErrorsByClass,
		FirstErrors:    rep.firstErrors(),
		FailedCases:    res.FailedCases,
		PendingSignoff: res.Governance.Changes,
		DurationMS:     r.DurationMS,
		Candidate:      rep.candidate,
		Baseline:       rep.mode,
		Gate:           res.Gate,
	}
	if rep.cached {
		j.CacheHits = &rep.cacheHits
	}
	switch v := res.Verdict; {
	case res.Gate != nil:
		g := res.Gate
		j.Regression.Detected = g.Regressed() && r.Status == store.StatusRegressed
		j.Regression.BaselineRunID = &g.Baseline.RunID
		j.Regression.Verdict = g.Decision
		if g.PassRate.N > 0 {
			j.Regression.Delta, j.Regression.PValue = &g.PassRate.Delta, &g.PassRate.PTwoSided
		}
	case v != nil && v.Kind != drift.KindWarmingUp && v.Kind != drift.KindSkipped && v.Kind != drift.KindNewSegment:
		j.Regression.Detected = r.Status == store.StatusRegressed
		j.Regression.Delta, j.Regression.PValue = &v.D, &v.P
		j.Regression.Verdict = v.Kind
		if len(res.BaselineRuns) > 0 {
			j.Regression.BaselineRunID = &res.BaselineRuns[0]
		}
	case v != nil:
		j.Regression.Verdict = v.Kind
	}
	// A refused run measured nothing: its maps are empty, as the
	// other statuses print them, not null.
	j.Provider = nonNilProvider(j.Provider)
	if j.ErrorsByClass == nil {
		j.ErrorsByClass = map[string]int{}
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

func writeReport(w io.Writer, format string, rep *runReport) error {
	switch format {
	case "json":
		return json.NewEncoder(w).Encode(toRunJSON(rep))
	case "markdown":
		_, err := io.WriteString(w, markdownReport(rep))
		return err
	}
	writeText(w, rep)
	return nil
}

func writeText(w io.Writer, rep *runReport) {
	res := rep.res
	r, s := res.Run, res.Summary
	kind := ""
	if rep.candidate {
		kind = " candidate"
	}
	fmt.Fprintf(w, "%s on %s:%s %s (run %d, %s × %s)\n", r.Suite, r.Target, kind, strings.ToUpper(string(r.Status)), r.ID, plural.N(r.Cases, "case"), plural.N(max(res.Suite.Repeats, 1), "repeat"))
	if r.Status == store.StatusRefused {
		fmt.Fprintf(w, "  threshold change pending sign-off; nothing was run\n")
		return
	}
	if o := overrides(rep); o != "" {
		fmt.Fprintf(w, "  candidate   %s\n", o)
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
	if g := res.Gate; g != nil {
		fmt.Fprintf(w, "  baseline    %s\n", baselineLine(rep))
		fmt.Fprintf(w, "  gate        %s: %s\n", strings.ToUpper(g.Decision), g.Message)
		if g.MeanScore.N > 0 {
			fmt.Fprintf(w, "  mean score  %.3f -> %.3f (%+.3f, 95%% CI %s %+.3f to %+.3f, p = %.4g, %s)\n",
				g.MeanScore.Reference, g.MeanScore.Current, g.MeanScore.Delta, drift.CIScope, g.MeanScore.CILow, g.MeanScore.CIHigh, g.MeanScore.PTwoSided, g.MeanScore.Test)
		}
		textCases(w, "regressed", g.RegressedCases, g.NRegressedCases)
		textCases(w, "improved", g.ImprovedCases, g.NImprovedCases)
	} else if rep.candidate && rep.mode == "none" {
		fmt.Fprintf(w, "  baseline    none: thresholds only\n")
	}
	for _, f := range res.ThresholdFailures {
		fmt.Fprintf(w, "  FAILED threshold %s\n", f)
	}
	if s.Errors > 0 {
		fmt.Fprintf(w, "  missing     %d of %d samples (%s); not counted as failures\n", s.Errors, s.Samples, printable(rep.missingWhy()))
	}
	if r.ErrorText != "" {
		fmt.Fprintf(w, "  error       %s\n", r.ErrorText)
	}
	if res.Gate == nil || len(res.ThresholdFailures) > 0 {
		failing, listed := rep.failingNotListed()
		for i, c := range failing {
			if i == 10 {
				fmt.Fprintf(w, "  ... and %d more failing cases\n", len(failing)-10)
				break
			}
			fmt.Fprintf(w, "  fail  %-24s %d/%d passed  %s\n", printable(c.ID), c.Passed, c.Samples, printable(strings.Join(c.Reasons, "; ")))
		}
		if listed > 0 {
			fmt.Fprintf(w, "  fail  %s listed above as regressed\n", plural.N(listed, "more case"))
		}
	}
	fmt.Fprintf(w, "  tokens %d in / %d out, cost $%.4f, %s\n", s.PromptTokens, s.CompletionTokens, rep.costUSD(), (time.Duration(r.DurationMS) * time.Millisecond).String())
	if rep.cached {
		fmt.Fprintf(w, "  cache       %d of %d answers from the response cache (they cost nothing)\n", min(rep.cacheHits, rep.cacheSamples()), rep.cacheSamples())
	}
}

func textCases(w io.Writer, label string, cs []daemon.CaseChange, n int) {
	for i, c := range cs {
		if i == 10 {
			fmt.Fprintf(w, "  ... and %d more %s cases\n", n-10, label)
			return
		}
		why := ""
		if len(c.Reasons) > 0 {
			why = "  (" + printable(strings.Join(c.Reasons, "; ")) + ")"
		}
		fmt.Fprintf(w, "  %-10s  %-20s %d/%d -> %d/%d  %q%s\n", label, printable(c.ID), c.BaselinePassed, c.BaselineSamples, c.CandidatePassed, c.CandidateSamples,
			clipText(c.CandidateOutput, 80), why)
	}
}

// overrides says what the candidate changes ("" when nothing is given).
func overrides(rep *runReport) string {
	var parts []string
	if rep.prompt != "" {
		parts = append(parts, "prompt "+rep.prompt)
	}
	if rep.model != "" {
		parts = append(parts, "model "+rep.model)
	}
	if len(parts) == 0 && rep.candidate {
		return "the suite as it is in this checkout"
	}
	return strings.Join(parts, ", ")
}

// baselineLine describes the baseline of a gate comparison in one line.
func baselineLine(rep *runReport) string {
	g := rep.res.Gate
	b := g.Baseline
	var what string
	switch b.Mode {
	case daemon.BaselineSideBySide:
		what = "production, run side by side now"
	case daemon.BaselineRun:
		what = "the run asked for"
	default:
		what = "the latest production run"
	}
	from := ""
	if b.Source != "" && b.Source != "store" && b.Source != daemon.BaselineSideBySide {
		from = " on " + b.Source
	}
	if b.Cases == 0 {
		return fmt.Sprintf("run %d (%s%s, %s): no case paired", b.RunID, what, from, b.Status)
	}
	return fmt.Sprintf("run %d (%s%s, %s): pass rate %.3f, mean score %.3f over %d paired cases",
		b.RunID, what, from, b.Status, b.PassRate, b.MeanScore, b.Cases)
}

func bar(t *float64) string {
	if t == nil {
		return ""
	}
	return fmt.Sprintf("  threshold %.3f", *t)
}

// wilson is the 95% Wilson interval of a pass rate over n cases. A pass
// rate averaged over repeats is rounded to the nearest count of cases.
func wilson(p float64, n int) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	return drift.Wilson(int(math.Round(p*float64(n))), n, 0.05)
}

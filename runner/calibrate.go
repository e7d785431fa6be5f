package runner

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
)

// Calibration statuses.
const (
	// CalibrationOK: the judge disagrees with at most the allowed share of
	// the items, whatever the missing grades would have been.
	CalibrationOK = "ok"
	// CalibrationFailed: the judge disagrees with more than the allowed
	// share, even if every missing grade had agreed.
	CalibrationFailed = "failed"
	// CalibrationInconclusive: the missing grades decide between ok and
	// failed, so the calibration says neither.
	CalibrationInconclusive = "inconclusive"
	// CalibrationInterrupted: ctx ended before every item was graded; the
	// result holds only what the judge's calls cost.
	CalibrationInterrupted = "interrupted"
)

// Verdicts of a calibration item.
const (
	VerdictPass    = "pass"
	VerdictFail    = "fail"
	VerdictMissing = "missing"
)

// maxCalibrationReason bounds, in runes, the judge text an item result keeps.
const maxCalibrationReason = 500

// CalibrationResult is how a judge graded a calibration set.
type CalibrationResult struct {
	// Items counts the set's items; Agreements and Disagreements those the
	// judge graded, Missing those it gave no usable grade for.
	Items, Agreements, Disagreements, Missing int
	// Rate is Disagreements over the graded items (0 when none was graded).
	Rate float64
	// MaxDisagreement is the set's limit.
	MaxDisagreement float64
	Status          string
	// Results holds every item's outcome, in set order.
	Results []CalibrationItemResult
	// Models and Fingerprints count the model ids and system fingerprints
	// the judge returned, one per graded item: who was calibrated.
	Models, Fingerprints map[string]int
	// What the calibration cost, counted like a run's judging.
	PromptTokens, CompletionTokens int64
	CostUSD                        float64
	Calls                          int
	Duration                       time.Duration
}

// CalibrationItemResult is the judge's verdict on one item.
type CalibrationItemResult struct {
	Index int    `json:"index"`
	Case  string `json:"case,omitempty"`
	// Expected is "pass" or "fail"; Got is "pass", "fail" or "missing".
	Expected string `json:"expected"`
	Got      string `json:"got"`
	// Reason is the judge's reason for a failed assertion, or why the
	// grade is missing; untrusted text, cut to 500 runes.
	Reason string `json:"reason,omitempty"`
	Model  string `json:"model,omitempty"`
	// Fingerprint is the judge's system_fingerprint for this item.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// Agrees reports whether the judge gave the expected verdict.
func (r CalibrationItemResult) Agrees() bool { return r.Got == r.Expected }

// Disagreeing returns the items the judge graded against their expected
// verdict.
func (c CalibrationResult) Disagreeing() []CalibrationItemResult {
	var out []CalibrationItemResult
	for _, r := range c.Results {
		if r.Got != VerdictMissing && !r.Agrees() {
			out = append(out, r)
		}
	}
	return out
}

// Calibrate grades every item of a calibration set with the judge and
// compares the verdicts with the expected ones. An item passes when all of
// its assertions pass. A grade the judge could not give (an endpoint
// failure after its retries, an unreadable answer) is missing, never a
// disagreement; when the missing grades could turn the outcome either
// way, the status is CalibrationInconclusive.
//
// The grade cache is not used, neither read nor filled: a cached answer
// was given by the judge as it was then, and would hide the very change a
// calibration is there to notice. Items are graded concurrently, as many
// at a time as the judge's gate allows. The error is non-nil only when ctx
// ended, with a result of status CalibrationInterrupted that holds only
// the spend of the calls made, or for a misuse.
func Calibrate(ctx context.Context, j *Judge, cal *evals.Calibration, opts Options) (CalibrationResult, error) {
	if j == nil || j.Provider == nil || j.Gate == nil {
		return CalibrationResult{}, errors.New("runner: calibration needs a judge with a provider and a gate")
	}
	if cal == nil {
		return CalibrationResult{}, errors.New("runner: no calibration set")
	}
	opts = opts.withDefaults()
	uncached := *j
	uncached.Cache = nil
	start := time.Now()
	res := CalibrationResult{
		Items: len(cal.Items), MaxDisagreement: cal.MaxDisagreement, Results: make([]CalibrationItemResult, len(cal.Items)),
		Models: map[string]int{}, Fingerprints: map[string]int{},
	}
	calls := make([]*judgeCall, len(cal.Items))
	var wg sync.WaitGroup
	for i := range cal.Items {
		calls[i] = &judgeCall{j: &uncached, opts: opts}
		wg.Go(func() {
			res.Results[i] = gradeItem(ctx, calls[i], i, cal.Items[i])
		})
	}
	wg.Wait()
	for _, jc := range calls {
		res.PromptTokens += int64(jc.promptTokens)
		res.CompletionTokens += int64(jc.completionTokens)
		res.Calls += jc.calls
	}
	res.CostUSD = float64(res.PromptTokens)*j.Price.InputPerMTok/1e6 + float64(res.CompletionTokens)*j.Price.OutputPerMTok/1e6
	if err := ctx.Err(); err != nil {
		// The calls made are paid for: the spend is returned, the
		// verdicts are not.
		spent := CalibrationResult{Items: res.Items, MaxDisagreement: res.MaxDisagreement, Status: CalibrationInterrupted,
			PromptTokens: res.PromptTokens, CompletionTokens: res.CompletionTokens, Calls: res.Calls, CostUSD: res.CostUSD,
			Duration: time.Since(start)}
		return spent, err
	}
	for i, jc := range calls {
		r := &res.Results[i]
		switch {
		case r.Got == VerdictMissing:
			res.Missing++
			continue
		case r.Agrees():
			res.Agreements++
		default:
			res.Disagreements++
		}
		if jc.model != "" {
			res.Models[jc.model]++
		}
		if jc.fingerprint != "" {
			res.Fingerprints[jc.fingerprint]++
		}
	}
	if graded := res.Items - res.Missing; graded > 0 {
		res.Rate = float64(res.Disagreements) / float64(graded)
	}
	res.Status = calibrationStatus(res.Disagreements, res.Missing, res.Items, cal.MaxDisagreement)
	res.Duration = time.Since(start)
	return res, nil
}

// calibrationStatus decides with the missing grades counted both ways:
// failed when even all of them agreeing would leave too many
// disagreements, ok when even all of them disagreeing would not, and
// inconclusive otherwise. "Too many" is a share above limit.
func calibrationStatus(disagree, missing, items int, limit float64) string {
	over := func(k int) bool { return float64(k) > limit*float64(items)+1e-9 }
	switch {
	case items == 0:
		return CalibrationInconclusive
	case over(disagree):
		return CalibrationFailed
	case !over(disagree + missing):
		return CalibrationOK
	}
	return CalibrationInconclusive
}

// gradeItem grades one item's output with its assertions: a failed
// assertion makes the verdict fail (the others are not asked), else a
// missing grade makes it missing, else it passes.
func gradeItem(ctx context.Context, jc *judgeCall, i int, it evals.CalibrationItem) CalibrationItemResult {
	r := CalibrationItemResult{Index: i, Case: it.Case, Expected: it.Expected(), Got: VerdictPass}
	out := scoring.Output{Text: it.Output, Input: it.Input}
	for _, a := range it.Asserts {
		g, ok := a.(scoring.Graded)
		if !ok {
			continue // the parser admits model-graded types only
		}
		res := g.Grade(ctx, jc, out)
		if res.Missing {
			r.Got, r.Reason = VerdictMissing, clipRunes(res.Type+": "+res.Reason, maxCalibrationReason)
			continue
		}
		if !res.Pass {
			r.Got, r.Reason = VerdictFail, clipRunes(res.Type+": "+res.Reason, maxCalibrationReason)
			break
		}
	}
	r.Model, r.Fingerprint = jc.model, jc.fingerprint
	return r
}

// clipRunes folds s onto one line of at most n runes, valid UTF-8.
func clipRunes(s string, n int) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

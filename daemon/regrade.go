package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/evald/evald/drift"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/scoring"
	"github.com/evald/evald/store"
)

// A regrade (`evald regrade --run ID SUITE`) grades the stored outputs of a
// past run again with the judge as configured today and compares the new
// verdicts with the stored ones, output by output. The outputs are the
// same, so any difference is the judge's: it tells a judge change from a
// change of the tested model (DRIFT.md §1, attribution). A regrade leaves
// the run, its samples, their scores and the drift state as they are; it
// writes one row, what it was and what the judge was paid, so that its
// spend counts toward the suite's budget_usd_per_day.

// RegradeAlpha is the two-sided level at which a regrade calls the
// judge's change significant. It is stricter than the gate's: the pairs
// are the same outputs, so an honest judge should barely move.
const RegradeAlpha = 0.01

// DefaultMaxFlipShare is the largest share of compared samples whose
// verdict may flip, either way, while the judge still counts as agreeing:
// flips that cancel out are no significant shift, but a judge that
// changes its mind on many outputs is not the same judge.
const DefaultMaxFlipShare = 0.05

// Regrade statuses.
const (
	RegradeAgree        = "agree"         // no significant shift, few flips
	RegradeDisagree     = "disagree"      // the judge grades the same outputs differently
	RegradeErrored      = "errored"       // missing grades beyond the error budget
	RegradeInterrupted  = "interrupted"   // stopped before every output was graded
	RegradeNoComparison = "no_comparison" // no stored output could be compared
)

// ErrCannotRegrade is returned when the run cannot be regraded as asked:
// a run of another suite, a run still going or refused, a suite without
// model-graded assertions or without a judge, or a suite that changed
// since the run.
var ErrCannotRegrade = errors.New("cannot regrade")

// ErrSuiteChanged is returned (wrapping ErrCannotRegrade) when the suite's
// version differs from the run's and RegradeOptions.AllowSuiteChange is off.
var ErrSuiteChanged = fmt.Errorf("%w: the suite changed since the run", ErrCannotRegrade)

// RegradeOptions tune a regrade.
type RegradeOptions struct {
	// AllowSuiteChange grades with the suite's current assertions even when
	// its version differs from the run's; samples are matched to cases by
	// case id, and those whose case is gone are counted and skipped.
	AllowSuiteChange bool
	// MaxFlipShare, when set, overrides DefaultMaxFlipShare (0 allows no
	// flip at all).
	MaxFlipShare *float64
}

// RegradeReport compares a run's stored verdicts with today's judge's on
// the same outputs. `evald regrade --format json` prints it as it is.
type RegradeReport struct {
	RunID        int64     `json:"run_id"`
	Suite        string    `json:"suite"`
	Target       string    `json:"target"`
	RunStartedAt time.Time `json:"run_started_at"`
	// SuiteVersion is the run's; CurrentSuiteVersion the config's now.
	SuiteVersion        string `json:"suite_version"`
	CurrentSuiteVersion string `json:"current_suite_version"`
	SuiteChanged        bool   `json:"suite_changed"`
	// Status is one of the Regrade* statuses; Conclusion says what it
	// means in one sentence.
	Status     string        `json:"status"`
	Conclusion string        `json:"conclusion"`
	Samples    RegradeCounts `json:"samples"`
	// RunPassRate is the pass rate the run recorded, over all its samples.
	RunPassRate *float64 `json:"run_pass_rate"`
	// Stored and Regraded are the two verdicts over the compared samples.
	Stored   RegradeSide `json:"stored"`
	Regraded RegradeSide `json:"regraded"`
	// PassToFail and FailToPass list the samples whose verdict flipped
	// (at most drift.MaxListedCases each; the N fields count them all).
	PassToFail  []RegradeFlip `json:"pass_to_fail"`
	FailToPass  []RegradeFlip `json:"fail_to_pass"`
	NPassToFail int           `json:"n_pass_to_fail"`
	NFailToPass int           `json:"n_fail_to_pass"`
	// FlipShare is (pass→fail + fail→pass) / compared samples.
	FlipShare    float64 `json:"flip_share"`
	MaxFlipShare float64 `json:"max_flip_share"`
	// PMid is the exact two-sided McNemar mid-p of the paired per-sample
	// verdicts; the judge disagrees when it is below Alpha.
	PMid    float64        `json:"p_mid"`
	Alpha   float64        `json:"alpha"`
	Missing RegradeMissing `json:"missing"`
	// JudgeThen is the judge recorded with the run (nil when the run's
	// detail has none); JudgeNow the judge that regraded.
	JudgeThen *RegradeJudge `json:"judge_then"`
	JudgeNow  RegradeJudge  `json:"judge_now"`
	// JudgeVersionChanged: the judge target's version differs from the
	// run's (its URL, model or parameters changed in the config).
	JudgeVersionChanged bool          `json:"judge_version_changed"`
	Tokens              RegradeTokens `json:"tokens"`
	// CostUSD is what the regrade's judge calls cost.
	CostUSD     float64 `json:"cost_usd"`
	ErrorBudget float64 `json:"error_budget"`
	DurationMS  int64   `json:"duration_ms"`
}

// RegradeCounts says what became of the run's stored samples.
type RegradeCounts struct {
	// Stored counts the run's samples.
	Stored int `json:"stored"`
	// EndpointErrors had no output (the endpoint failed): they stay missing.
	EndpointErrors int `json:"endpoint_errors"`
	// NoCase answered a case the suite no longer has (--allow-suite-change).
	NoCase int `json:"no_case"`
	// ToGrade were sent to the judge; Graded of them were done (fewer when
	// interrupted); Missing of those got no grade.
	ToGrade int `json:"to_grade"`
	Graded  int `json:"graded"`
	Missing int `json:"missing"`
	// StoredUngraded were graded now but had no grade in the run.
	StoredUngraded int `json:"stored_ungraded"`
	// Compared have a verdict on both sides: the pairs of the comparison.
	Compared int `json:"compared"`
}

// RegradeSide is one side's verdicts over the compared samples; the rates
// are nil when nothing was compared.
type RegradeSide struct {
	// PassRate is the share of cases passing, a case's samples averaged,
	// as runs report it; SamplePassRate the share of samples passing.
	PassRate       *float64 `json:"pass_rate"`
	SamplePassRate *float64 `json:"sample_pass_rate"`
	MeanScore      *float64 `json:"mean_score"`
	Passed         int      `json:"passed"`
	Cases          int      `json:"cases"`
}

// RegradeFlip is one sample whose verdict changed.
type RegradeFlip struct {
	CaseID string `json:"id"`
	Repeat int    `json:"repeat"`
	// Reason is why the failing side failed: today's judge for pass→fail,
	// the stored grade for fail→pass.
	Reason string `json:"reason,omitempty"`
}

// RegradeMissing counts the grades today's judge did not give: they are
// missing data, never fails.
type RegradeMissing struct {
	JudgeError       int `json:"judge_error"`
	JudgeUnparseable int `json:"judge_unparseable"`
	// Examples are the first few, with the judge's raw reply shortened.
	Examples []RegradeMissingSample `json:"examples"`
}

// RegradeMissingSample is one missing grade.
type RegradeMissingSample struct {
	CaseID string `json:"id"`
	Repeat int    `json:"repeat"`
	Class  string `json:"class"`
	Text   string `json:"text"`
}

// RegradeJudge identifies a judge: its target and target version, and the
// models and fingerprints it returned, with counts.
type RegradeJudge struct {
	Target        string         `json:"target"`
	TargetVersion string         `json:"target_version"`
	Models        map[string]int `json:"models"`
	Fingerprints  map[string]int `json:"fingerprints"`
}

// RegradeTokens are the judge tokens a regrade used.
type RegradeTokens struct {
	Prompt     int64 `json:"prompt"`
	Completion int64 `json:"completion"`
}

// maxMissingExamples bounds RegradeMissing.Examples.
const maxMissingExamples = 5

// Regrade grades the stored outputs of run runID, a run of suite, again
// with the suite's judge as configured now, and compares the verdicts. It
// records only the regrade itself (store.Regrade), for its spend. Unknown
// names wrap ErrUnknown, refusals ErrCannotRegrade (ErrSuiteChanged for a
// changed suite), a missing secret ErrSecret. A regrade stopped by ctx
// returns a partial report with status RegradeInterrupted.
func (d *Daemon) Regrade(ctx context.Context, runID int64, suiteName string, opts RegradeOptions) (*RegradeReport, error) {
	suite, err := d.suite(suiteName)
	if err != nil {
		return nil, err
	}
	run, err := d.store.Run(ctx, runID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: no run %d in the store", ErrUnknown, runID)
	}
	if err != nil {
		return nil, err
	}
	if run.Suite != suiteName {
		return nil, fmt.Errorf("%w: run %d is a run of suite %q, not %q", ErrCannotRegrade, runID, run.Suite, suiteName)
	}
	switch run.Status {
	case store.StatusRunning:
		return nil, fmt.Errorf("%w: run %d is still running", ErrCannotRegrade, runID)
	case store.StatusRefused:
		return nil, fmt.Errorf("%w: run %d was refused by governance and has no outputs", ErrCannotRegrade, runID)
	}
	changed := run.SuiteVersion != suite.Version
	if changed && !opts.AllowSuiteChange {
		return nil, fmt.Errorf("%w: run %d graded suite version %s, the config now has suite version %s",
			ErrSuiteChanged, runID, shortVersion(run.SuiteVersion), shortVersion(suite.Version))
	}
	if !suite.NeedsJudge() {
		return nil, fmt.Errorf("%w: suite %q has no model-graded assertions: there is no judge's grade to check", ErrCannotRegrade, suiteName)
	}
	judge, err := d.judgeFor(suite)
	if err != nil {
		if errors.Is(err, ErrUnknown) || errors.Is(err, ErrSecret) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrCannotRegrade, err)
	}
	samples, err := d.store.Samples(ctx, runID)
	if err != nil {
		return nil, err
	}

	maxFlips := DefaultMaxFlipShare
	if m := opts.MaxFlipShare; m != nil && *m >= 0 && *m <= 1 {
		maxFlips = *m
	}
	rep := &RegradeReport{
		RunID: run.ID, Suite: run.Suite, Target: run.Target, RunStartedAt: run.StartedAt,
		SuiteVersion: run.SuiteVersion, CurrentSuiteVersion: suite.Version, SuiteChanged: changed,
		RunPassRate: run.PassRate, MaxFlipShare: maxFlips, Alpha: RegradeAlpha,
		JudgeThen: judgeThen(run),
		JudgeNow:  RegradeJudge{Target: judge.Name, TargetVersion: judge.Version, Models: map[string]int{}, Fingerprints: map[string]int{}},
		// Empty lists rather than null, for scripts.
		PassToFail: []RegradeFlip{},
		FailToPass: []RegradeFlip{},
		Missing:    RegradeMissing{Examples: []RegradeMissingSample{}},
	}
	rep.JudgeVersionChanged = rep.JudgeThen != nil && rep.JudgeThen.TargetVersion != judge.Version
	outputs, stored := d.regradeInputs(run, suite, samples, &rep.Samples)

	start := time.Now()
	// The grade cache is not used (runner.Regrade says why).
	res, err := runner.Regrade(ctx, judge, suite.Cases, outputs, d.opts.Runner)
	if err != nil {
		return nil, err
	}
	rep.DurationMS = time.Since(start).Milliseconds()
	rep.ErrorBudget = res.ErrorBudget
	rep.compare(suite, stored, res.Samples)
	rep.conclude(res)
	d.log.Info("regrade finished", "suite", rep.Suite, "target", rep.Target, "run_id", rep.RunID, "status", rep.Status,
		"compared", rep.Samples.Compared, "pass_to_fail", rep.NPassToFail, "fail_to_pass", rep.NFailToPass, "cost_usd", rep.CostUSD)
	d.recordRegrade(ctx, rep)
	return rep, nil
}

// recordRegrade stores what a regrade was and cost, even when ctx is done
// (an interrupted regrade paid for the grades it got). A failure is logged,
// not returned: the judge's verdicts stand and the report is still worth
// reading; only the spend goes uncounted, and the log says how much.
func (d *Daemon) recordRegrade(ctx context.Context, rep *RegradeReport) {
	wctx, cancel := shutdownContext(ctx)
	defer cancel()
	_, err := d.store.SaveRegrade(wctx, store.Regrade{
		Suite: rep.Suite, Target: rep.Target, RunID: rep.RunID,
		JudgeTarget: rep.JudgeNow.Target, JudgeVersion: rep.JudgeNow.TargetVersion,
		At: d.opts.Now().UTC(), Status: rep.Status,
		Graded: rep.Samples.Graded, Compared: rep.Samples.Compared, PassToFail: rep.NPassToFail, FailToPass: rep.NFailToPass,
		PromptTokens: rep.Tokens.Prompt, CompletionTokens: rep.Tokens.Completion, CostUSD: rep.CostUSD,
	})
	if err != nil {
		d.log.Error("record the regrade; its judge spend is not counted toward the daily budget",
			"suite", rep.Suite, "run_id", rep.RunID, "cost_usd", rep.CostUSD, "err", err)
	}
}

// regradeInputs picks the stored samples that have an output and a case in
// the suite, and returns them as outputs to grade, with the stored samples
// in the same order. Latency and cost are those recorded, priced at the
// run's target's price today (as stored samples carry tokens, not cost).
func (d *Daemon) regradeInputs(run store.Run, suite *evals.Suite, samples []store.Sample, n *RegradeCounts) ([]runner.StoredOutput, []store.Sample) {
	caseIndex := make(map[string]int, len(suite.Cases))
	for i, c := range suite.Cases {
		caseIndex[c.ID] = i
	}
	var price struct{ in, out float64 }
	for _, t := range d.Project().Config.Targets {
		if t.Name == run.Target {
			price.in, price.out = t.Price.InputPerMTok, t.Price.OutputPerMTok
		}
	}
	n.Stored = len(samples)
	var (
		outputs []runner.StoredOutput
		stored  []store.Sample
	)
	for _, s := range samples {
		if !hasOutput(s.ErrorClass) {
			n.EndpointErrors++
			continue
		}
		ci, ok := caseIndex[s.CaseID]
		if !ok {
			n.NoCase++
			continue
		}
		outputs = append(outputs, runner.StoredOutput{
			CaseIndex: ci,
			Repeat:    s.Repeat,
			Text:      s.Output,
			Refused:   s.ErrorClass == runner.ClassRefused,
			Latency:   time.Duration(s.LatencyMS * float64(time.Millisecond)),
			CostUSD:   float64(s.PromptTokens)*price.in/1e6 + float64(s.CompletionTokens)*price.out/1e6,
			CostKnown: price.in > 0 || price.out > 0,
			Turns:     storedTurns(s.Turns),
		})
		stored = append(stored, s)
	}
	n.ToGrade = len(outputs)
	return outputs, stored
}

// hasOutput reports whether a stored sample holds an answer: it was scored,
// or the endpoint answered and only its grade is missing.
func hasOutput(class string) bool {
	return !runner.Missing(class) || class == runner.ClassJudgeError || class == runner.ClassJudgeUnparseable
}

// judgeThen reads the judge recorded in a run's detail.
func judgeThen(run store.Run) *RegradeJudge {
	var det struct {
		Judge *JudgeDetail `json:"judge"`
	}
	if run.Detail == "" || json.Unmarshal([]byte(run.Detail), &det) != nil || det.Judge == nil {
		return nil
	}
	j := det.Judge
	return &RegradeJudge{Target: j.Target, TargetVersion: j.TargetVersion, Models: nonNil(j.Models), Fingerprints: nonNil(j.Fingerprints)}
}

func nonNil(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// compare pairs each stored verdict with today's on the same output and
// fills the counts, the two sides, the flips, the test and the judge's
// part.
func (r *RegradeReport) compare(suite *evals.Suite, stored []store.Sample, regraded []runner.Sample) {
	var (
		before, after = make([]scoring.CaseTally, len(suite.Cases)), make([]scoring.CaseTally, len(suite.Cases))
		b, c          int
	)
	for i, s := range regraded {
		if s.ErrClass == runner.ClassCanceled {
			continue
		}
		r.Samples.Graded++
		r.Tokens.Prompt += int64(s.JudgePromptTokens)
		r.Tokens.Completion += int64(s.JudgeCompletionTokens)
		r.CostUSD += s.JudgeCostUSD
		if s.JudgeModel != "" {
			r.JudgeNow.Models[s.JudgeModel]++
		}
		if s.JudgeFingerprint != "" {
			r.JudgeNow.Fingerprints[s.JudgeFingerprint]++
		}
		if !s.Valid() {
			r.Samples.Missing++
			r.Missing.add(s)
			continue
		}
		old := stored[i]
		if runner.Missing(old.ErrorClass) {
			r.Samples.StoredUngraded++
			continue
		}
		r.Samples.Compared++
		before[s.CaseIndex].Add(old.Pass, old.Score)
		after[s.CaseIndex].Add(s.Pass, s.Score)
		switch {
		case old.Pass && !s.Pass:
			b++
			r.PassToFail = append(r.PassToFail, RegradeFlip{CaseID: s.CaseID, Repeat: s.Repeat, Reason: failReason(s.Results)})
		case !old.Pass && s.Pass:
			c++
			r.FailToPass = append(r.FailToPass, RegradeFlip{CaseID: s.CaseID, Repeat: s.Repeat, Reason: storedFailReason(old.Results)})
		}
	}
	r.NPassToFail, r.NFailToPass = b, c
	r.PassToFail = r.PassToFail[:min(len(r.PassToFail), drift.MaxListedCases)]
	r.FailToPass = r.FailToPass[:min(len(r.FailToPass), drift.MaxListedCases)]
	r.Stored, r.Regraded = regradeSide(before), regradeSide(after)
	r.PMid = drift.McNemar(b, c).PMidP
	if r.Samples.Compared > 0 {
		r.FlipShare = float64(b+c) / float64(r.Samples.Compared)
	}
}

func (m *RegradeMissing) add(s runner.Sample) {
	switch s.ErrClass {
	case runner.ClassJudgeError:
		m.JudgeError++
	case runner.ClassJudgeUnparseable:
		m.JudgeUnparseable++
	}
	if len(m.Examples) < maxMissingExamples {
		m.Examples = append(m.Examples, RegradeMissingSample{CaseID: s.CaseID, Repeat: s.Repeat, Class: s.ErrClass, Text: excerpt(s.ErrText)})
	}
}

func regradeSide(cases []scoring.CaseTally) RegradeSide {
	var side RegradeSide
	samples := 0
	for _, t := range cases {
		samples += t.Samples
		side.Passed += t.Passed
	}
	passRate, meanScore, n := scoring.RunScores(cases)
	side.Cases = n
	if n > 0 {
		side.PassRate, side.MeanScore = ptr(passRate), ptr(meanScore)
		side.SamplePassRate = ptr(float64(side.Passed) / float64(samples))
	}
	return side
}

// failReason is the reason of the first failing assertion.
func failReason(results []scoring.Result) string {
	for _, res := range results {
		if !res.Pass {
			return excerpt(res.Type + ": " + res.Reason)
		}
	}
	return ""
}

func storedFailReason(results []store.AssertionResult) string {
	for _, res := range results {
		if !res.Pass {
			return excerpt(res.Type + ": " + res.Reason)
		}
	}
	return ""
}

// conclude sets the status and the one-sentence conclusion.
func (r *RegradeReport) conclude(res runner.Regraded) {
	flips := r.NPassToFail + r.NFailToPass
	switch {
	case res.Outcome == runner.Interrupted:
		r.Status = RegradeInterrupted
		r.Conclusion = fmt.Sprintf("interrupted after %d of %d outputs: a partial result that concludes nothing", r.Samples.Graded, r.Samples.ToGrade)
	case res.Outcome == runner.Errored:
		r.Status = RegradeErrored
		r.Conclusion = fmt.Sprintf("the regrade could not be completed: %d of %d grades are missing (judge errors or unreadable replies), beyond the error budget of %g%%",
			r.Samples.Missing, r.Samples.ToGrade, r.ErrorBudget*100)
	case r.Samples.Compared == 0:
		r.Status = RegradeNoComparison
		r.Conclusion = fmt.Sprintf("no output of run %d has a verdict on both sides: nothing to compare", r.RunID)
	case r.PMid < r.Alpha || r.FlipShare > r.MaxFlipShare:
		r.Status = RegradeDisagree
		r.Conclusion = fmt.Sprintf("the judge changed: it grades the same %d outputs differently (%d pass→fail, %d fail→pass, McNemar mid-p %.3g): a score change since this run may be the judge's doing",
			r.Samples.Compared, r.NPassToFail, r.NFailToPass, r.PMid)
	default:
		r.Status = RegradeAgree
		r.Conclusion = fmt.Sprintf("the judge agrees with its grades of run %d (%d of %d verdicts flipped, McNemar mid-p %.3g): a score change since this run is not the judge's doing",
			r.RunID, flips, r.Samples.Compared, r.PMid)
	}
}

// shortVersion is the first 12 hex digits of a version, as printed.
func shortVersion(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}

// storedTurns decodes a sample's stored turns (nil when it has none, or
// they do not decode: the sample is then graded on its output alone).
func storedTurns(text string) []scoring.Turn {
	if text == "" {
		return nil
	}
	var ts []scoring.Turn
	if json.Unmarshal([]byte(text), &ts) != nil {
		return nil
	}
	return ts
}

package daemon

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/scoring"
	"github.com/evald/evald/store"
)

// The pre-release gate (`evald run --prompt/--model/--baseline`): a
// candidate prompt or model is run through the same pipeline as production
// and compared, paired by case, with what production does (DRIFT.md §1.1,
// §2.2–2.3). Candidate runs are stored with their own versions but are
// never fed to the drift detector and never serve as a production baseline.

// GateAlpha is the two-sided level at which the gate calls a change
// significant.
const GateAlpha = 0.05

// Baseline modes: how the production side of a comparison was chosen.
const (
	BaselineLatest     = "latest"       // the latest completed production run
	BaselineRun        = "run"          // a run named by its ID
	BaselineSideBySide = "side-by-side" // production run now, interleaved with the candidate
)

// Gate roles, recorded in a run's Detail (its store.Role says the same:
// store.RoleCandidate and store.RoleReference).
const (
	RoleCandidate = "candidate"             // the candidate side
	RoleReference = "side_by_side_baseline" // production's side of a side-by-side comparison
)

// Gate decisions.
const (
	DecisionRegressed    = "regressed"     // significant drop of at least min_effect
	DecisionImproved     = "improved"      // significant rise of at least min_effect
	DecisionUnchanged    = "unchanged"     // no significant change of at least min_effect
	DecisionNoComparison = "no_comparison" // nothing could be compared
)

// ErrNoBaseline is returned when the store holds no usable production run.
var ErrNoBaseline = errors.New("no production baseline")

// runRole is the role of the request's run: a candidate (with or without
// a baseline), production's arm of a side-by-side comparison, or production.
func (r Request) runRole() store.Role {
	switch {
	case r.gate != nil && r.gate.role == RoleReference:
		return store.RoleReference
	case r.gate != nil || r.Candidate:
		return store.RoleCandidate
	}
	return store.RoleProduction
}

// production reports whether the request measures production: only such
// runs feed the drift detector and may serve as a later baseline.
func (r Request) production() bool { return r.runRole() == store.RoleProduction }

// role is the request's gate role ("" for production runs).
func (r Request) role() string {
	switch {
	case r.gate != nil:
		return r.gate.role
	case r.Candidate:
		return RoleCandidate
	}
	return ""
}

// resolve finds the request's suite and target and applies its candidate
// overrides: a prompt (the cases are rendered again and the versions
// recomputed) and a model (a different target version).
func (d *Daemon) resolve(req Request) (*evals.Suite, configs.Target, error) {
	suite, target, err := d.suiteAndTarget(req.Suite, req.Target)
	if err != nil {
		return nil, configs.Target{}, err
	}
	if req.Prompt != nil {
		if suite, err = suite.WithPrompt(req.Prompt); err != nil {
			return nil, configs.Target{}, fmt.Errorf("%w: candidate prompt for suite %s: %w", ErrInvalid, req.Suite, err)
		}
	}
	if req.Model != "" {
		target.Model = req.Model
	}
	return suite, target, nil
}

// providerOf returns the provider of a resolved target. A model override
// gets a provider of its own, built for this run only: the shared one
// speaks to the configured model.
func (d *Daemon) providerOf(req Request, t configs.Target) (runner.Provider, error) {
	if req.Model == "" {
		return d.provider(t)
	}
	key := ""
	if t.APIKeyEnv != "" {
		if key = d.opts.Getenv(t.APIKeyEnv); key == "" {
			return nil, unsetKey(d.Project().Config, t, "")
		}
	}
	return d.opts.NewProvider(t, key)
}

// execute runs the suite for Evaluate: alone, or as one arm of a
// side-by-side pair; gate runs also keep their samples per case for the
// comparison.
func (d *Daemon) execute(ctx context.Context, req Request, run store.Run, suite *evals.Suite, rt runner.Target, emit func(runner.Sample, bool)) (runner.Summary, error) {
	a := req.gate
	if a == nil {
		return runner.Run(ctx, suite, rt, d.opts.Runner, emit)
	}
	a.run = run
	a.cases = caseRecords{}
	record := func(s runner.Sample, more bool) {
		a.cases.addSample(s)
		emit(s, more)
	}
	if a.pair == nil {
		sum, err := runner.Run(ctx, suite, rt, d.opts.Runner, record)
		a.sum = sum
		return sum, err
	}
	return a.pair.run(ctx, a.side, runner.Arm{Suite: suite, Target: rt, Emit: record}, d.opts.Runner)
}

// gateDecision is decideGate's verdict on a finished candidate run.
type gateDecision struct {
	Verdict *GateVerdict
	// Untrustworthy is set when the comparison could not be made for a
	// reason that makes a candidate judged on its thresholds errored: the
	// side-by-side baseline could not be measured, or no case has answers
	// on both sides.
	Untrustworthy bool
}

// decideGate compares a finished candidate run (outcome, its gate arm a)
// with its baseline: regressed on a significant drop of at least
// min_effect. It is nil for a production run, for production's arm of a
// side-by-side comparison and for a candidate without a baseline
// (--baseline none), which keep their threshold verdict.
func decideGate(a *gateArm, suite *evals.Suite, outcome runner.Outcome) *gateDecision {
	if a == nil || a.role != RoleCandidate {
		return nil
	}
	base := a.baseline
	if a.other != nil {
		base = a.other.asBaseline()
	}
	if base == nil {
		return nil
	}
	minEffect := drift.DefaultMinEffect
	if m := suite.MinEffect; m != nil && *m > 0 {
		minEffect = *m
	}
	v := compareGate(base, a.cases, suite, minEffect)
	g := &gateDecision{Verdict: v}
	switch {
	case outcome != runner.Completed:
		v.Decision = DecisionNoComparison
		v.Message = "the candidate run did not complete: nothing to compare"
	case a.other != nil && a.other.sum.Outcome != runner.Completed:
		v.Decision = DecisionNoComparison
		v.Message = fmt.Sprintf("the side-by-side production run ended %s: no trustworthy comparison", a.other.sum.Outcome)
		g.Untrustworthy = true
	case v.PassRate.N == 0:
		v.Decision = DecisionNoComparison
		v.Message = "no case has answers on both sides: nothing to compare"
		g.Untrustworthy = true
	}
	return g
}

// gateArm is one run of a gate comparison, shared between Gate and the
// Evaluate call that performs it.
type gateArm struct {
	role string
	// baseline is the fixed production side (candidate arm, not side-by-side).
	baseline *Baseline
	// other is production's arm of a side-by-side comparison (candidate arm).
	other *gateArm
	pair  *pairing
	side  int

	// Written by execute, before and during the run.
	run   store.Run
	cases caseRecords
	sum   runner.Summary
}

// asBaseline is a side-by-side production arm as the candidate's baseline.
func (a *gateArm) asBaseline() *Baseline {
	r := a.run
	r.Status = store.Status(a.sum.Outcome)
	return &Baseline{Run: r, Mode: BaselineSideBySide, Source: BaselineSideBySide, cases: a.cases}
}

// pairing runs the two arms of a side-by-side comparison as one
// interleaved runner.RunPair: each arm's Evaluate registers when it
// reaches the runner; the second to come runs the pair for both. An arm
// whose Evaluate ended before it got there (refused, store failure)
// leaves, and the other one runs alone.
type pairing struct {
	mu   sync.Mutex
	arms [2]*runner.Arm
	// left[i] is closed when arm i's Evaluate has returned.
	left [2]chan struct{}
	// done is closed when the pair has run; sums and err are then set.
	done chan struct{}
	sums [2]runner.Summary
	err  error
	// gateArms receive their summaries.
	gateArms [2]*gateArm
}

func newPairing(prod, cand *gateArm) *pairing {
	p := &pairing{left: [2]chan struct{}{make(chan struct{}), make(chan struct{})}, done: make(chan struct{}), gateArms: [2]*gateArm{prod, cand}}
	prod.pair, prod.side = p, 0
	cand.pair, cand.side = p, 1
	return p
}

func (p *pairing) run(ctx context.Context, side int, arm runner.Arm, opts runner.Options) (runner.Summary, error) {
	p.mu.Lock()
	p.arms[side] = &arm
	both := p.arms[1-side] != nil
	p.mu.Unlock()
	if both {
		p.sums[0], p.sums[1], p.err = runner.RunPair(ctx, *p.arms[0], *p.arms[1], opts)
		p.gateArms[0].sum, p.gateArms[1].sum = p.sums[0], p.sums[1]
		close(p.done)
		return p.sums[side], p.err
	}
	select {
	case <-p.done:
		return p.sums[side], p.err
	case <-p.left[1-side]:
	}
	// The other arm has returned: if it ran the pair, done is closed too.
	select {
	case <-p.done:
		return p.sums[side], p.err
	default:
	}
	sum, err := runner.Run(ctx, arm.Suite, arm.Target, opts, arm.Emit)
	p.gateArms[side].sum = sum
	return sum, err
}

// GateRequest asks for one candidate measurement of a suite on a target.
type GateRequest struct {
	Suite, Target string
	// Prompt replaces the suite's prompt messages (nil: the suite's own).
	Prompt []evals.Message
	// Model replaces the target's model ("": the target's own).
	Model string
	// Baseline is the production run to compare with; nil with SideBySide
	// false means thresholds only (--baseline none).
	Baseline *Baseline
	// SideBySide runs production and the candidate now, interleaved case
	// by case, and compares them.
	SideBySide bool
	// Cached, when set, says how many of n identical requests (msgs, on a
	// target of the given version) a response cache would answer; an
	// Estimate prices only the others. Gate ignores it.
	Cached func(targetVersion string, msgs []evals.Message, n int) int
}

// GateResult is a finished gate measurement.
type GateResult struct {
	// Candidate is the candidate run; its Gate field holds the comparison.
	Candidate *Result
	// Production is the production arm of a side-by-side comparison.
	Production *Result
}

// Gate runs a candidate (trigger ci) and compares it with its baseline.
// Governance applies as to any CI run: an unsigned threshold change is
// refused. The candidate's thresholds are checked as usual, and a
// significant pass-rate drop of at least the suite's drift.min_effect
// makes the candidate regressed.
func (d *Daemon) Gate(ctx context.Context, g GateRequest) (*GateResult, error) {
	cand := &gateArm{role: RoleCandidate, baseline: g.Baseline}
	creq := Request{Suite: g.Suite, Target: g.Target, Trigger: TriggerCI, Candidate: true, Prompt: g.Prompt, Model: g.Model, gate: cand}
	if !g.SideBySide {
		res, err := d.Evaluate(ctx, creq)
		if err != nil {
			return nil, err
		}
		return &GateResult{Candidate: res}, nil
	}
	prod := &gateArm{role: RoleReference}
	cand.other = prod
	p := newPairing(prod, cand)
	preq := Request{Suite: g.Suite, Target: g.Target, Trigger: TriggerCI, gate: prod}
	var (
		wg   sync.WaitGroup
		res  [2]*Result
		errs [2]error
	)
	for i, req := range []Request{preq, creq} {
		wg.Go(func() {
			defer close(p.left[i])
			res[i], errs[i] = d.Evaluate(ctx, req)
		})
	}
	wg.Wait()
	if err := errors.Join(errs[0], errs[1]); err != nil {
		return nil, err
	}
	if v := res[1].Gate; v != nil {
		v.Baseline.Status = res[0].Run.Status
	}
	return &GateResult{Candidate: res[1], Production: res[0]}, nil
}

// Baseline is the production side of a gate comparison: a stored run and
// its samples per case.
type Baseline struct {
	Run store.Run
	// Mode is how it was chosen (BaselineLatest, BaselineRun, BaselineSideBySide).
	Mode string
	// Source is where it came from: "store", a server URL, or "side-by-side".
	Source string
	cases  caseRecords
}

// NewBaseline builds a baseline from a run and its samples (from the store
// or from a server's JSON API).
func NewBaseline(run store.Run, samples []store.Sample, mode, source string) *Baseline {
	b := &Baseline{Run: run, Mode: mode, Source: source, cases: caseRecords{}}
	for _, s := range samples {
		b.cases.addStored(s)
	}
	return b
}

// Shares returns how many of the suite's cases have at least one valid
// sample in the baseline: the cases a comparison can pair.
func (b *Baseline) Shares(suite *evals.Suite) int {
	n := 0
	for _, c := range suite.Cases {
		if r := b.cases[c.ID]; r != nil && len(r.pass) > 0 {
			n++
		}
	}
	return n
}

// LatestBaseline returns the latest completed production run of suite on
// target, with its samples, or an error wrapping ErrNoBaseline.
func (d *Daemon) LatestBaseline(ctx context.Context, suite, target string) (*Baseline, error) {
	run, err := d.latestProduction(ctx, suite, target)
	if err != nil {
		return nil, err
	}
	samples, err := d.store.Samples(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	return NewBaseline(run, samples, BaselineLatest, "store"), nil
}

// latestProduction is the newest completed production run of suite on
// target: one indexed query (runs_pair_role_id) for the one run.
func (d *Daemon) latestProduction(ctx context.Context, suite, target string) (store.Run, error) {
	runs, err := d.store.Runs(ctx, store.RunFilter{Suite: suite, Target: target, Production: true, Completed: true, Limit: 1})
	if err != nil {
		return store.Run{}, err
	}
	if len(runs) == 0 {
		return store.Run{}, fmt.Errorf("%w: no completed production run of %s on %s in the store", ErrNoBaseline, suite, target)
	}
	return runs[0], nil
}

// BaselineRun returns the stored run id, with its samples, as a baseline.
// Runs still going and refused runs measured nothing and are refused.
func (d *Daemon) BaselineRun(ctx context.Context, id int64) (*Baseline, error) {
	run, err := d.store.Run(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: run %d is not in the store", ErrNoBaseline, id)
	}
	if err != nil {
		return nil, err
	}
	if run.Status == store.StatusRunning || run.Status == store.StatusRefused {
		return nil, fmt.Errorf("%w: run %d is %s: it measured nothing", ErrNoBaseline, id, run.Status)
	}
	samples, err := d.store.Samples(ctx, id)
	if err != nil {
		return nil, err
	}
	return NewBaseline(run, samples, BaselineRun, "store"), nil
}

// caseRecord holds one case's valid samples on one side of a comparison.
type caseRecord struct {
	pass, score []float64
	passed      int
	// passOut and failOut are the first passing and failing answers;
	// reasons are the first failing assertions' reasons.
	passOut, failOut string
	reasons          []string
}

type caseRecords map[string]*caseRecord

func (c caseRecords) add(id string, pass bool, score float64, text string, failed func(yield func(string) bool)) {
	r := c[id]
	if r == nil {
		r = &caseRecord{}
		c[id] = r
	}
	p := 0.0
	if pass {
		p = 1
		r.passed++
		if r.passOut == "" {
			r.passOut = text
		}
	} else if r.failOut == "" {
		r.failOut = text
	}
	r.pass = append(r.pass, p)
	r.score = append(r.score, score)
	if !pass {
		for reason := range failed {
			if reason != "" && len(r.reasons) < 3 && !slices.Contains(r.reasons, reason) {
				r.reasons = append(r.reasons, reason)
			}
		}
	}
}

func (c caseRecords) addSample(s runner.Sample) {
	if !s.Valid() {
		return
	}
	c.add(s.CaseID, s.Pass, s.Score, s.Text, func(yield func(string) bool) {
		for _, r := range s.Results {
			if !r.Pass && r.Reason != "" && !yield(scoring.TurnReason(r.Turn, r.Reason)) {
				return
			}
		}
	})
}

func (c caseRecords) addStored(s store.Sample) {
	if runner.Missing(s.ErrorClass) {
		return
	}
	c.add(s.CaseID, s.Pass, s.Score, s.Output, func(yield func(string) bool) {
		for _, r := range s.Results {
			if !r.Pass && r.Reason != "" && !yield(scoring.TurnReason(r.Turn, r.Reason)) {
				return
			}
		}
	})
}

func (c caseRecords) passes() map[string][]float64 {
	out := make(map[string][]float64, len(c))
	for id, r := range c {
		out[id] = r.pass
	}
	return out
}

func (c caseRecords) scores() map[string][]float64 {
	out := make(map[string][]float64, len(c))
	for id, r := range c {
		out[id] = r.score
	}
	return out
}

// GateVerdict is the comparison of a candidate run with its baseline.
type GateVerdict struct {
	// Decision is DecisionRegressed, DecisionImproved, DecisionUnchanged or
	// DecisionNoComparison; Message says why in one sentence.
	Decision  string   `json:"decision"`
	Message   string   `json:"message"`
	Baseline  GateSide `json:"baseline"`
	Candidate GateSide `json:"candidate"`
	// PassRate compares per-sample passes (CMH / McNemar mid-p, paired by
	// case); MeanScore the scores (paired t). Both are two-sided and cover
	// the cases present on both sides only.
	PassRate  drift.Comparison `json:"pass_rate"`
	MeanScore drift.Comparison `json:"mean_score"`
	Alpha     float64          `json:"alpha"`
	MinEffect float64          `json:"min_effect"`
	// RegressedCases pass less often in the candidate, worst first;
	// ImprovedCases more often. At most drift.MaxListedCases each.
	RegressedCases  []CaseChange `json:"regressed_cases"`
	ImprovedCases   []CaseChange `json:"improved_cases"`
	NRegressedCases int          `json:"n_regressed_cases"`
	NImprovedCases  int          `json:"n_improved_cases"`
}

// Regressed reports whether the gate found a regression.
func (v *GateVerdict) Regressed() bool { return v != nil && v.Decision == DecisionRegressed }

// GateSide describes one side of a comparison, over the paired cases.
type GateSide struct {
	RunID         int64        `json:"run_id"`
	Mode          string       `json:"mode,omitempty"`
	Source        string       `json:"source,omitempty"`
	Trigger       string       `json:"trigger,omitempty"`
	Status        store.Status `json:"status,omitempty"`
	SuiteVersion  string       `json:"suite_version"`
	PromptVersion string       `json:"prompt_version"`
	TargetVersion string       `json:"target_version"`
	// Cases are the paired cases the figures cover.
	Cases       int        `json:"cases"`
	PassRate    float64    `json:"pass_rate"`
	PassRateCI  [2]float64 `json:"pass_rate_ci95"`
	MeanScore   float64    `json:"mean_score"`
	MeanScoreCI [2]float64 `json:"mean_score_ci95"`
}

// CaseChange is a case whose pass share differs between the two sides.
type CaseChange struct {
	ID               string `json:"id"`
	BaselinePassed   int    `json:"baseline_passed"`
	BaselineSamples  int    `json:"baseline_samples"`
	CandidatePassed  int    `json:"candidate_passed"`
	CandidateSamples int    `json:"candidate_samples"`
	// Delta is the change of the case's pass share (candidate − baseline).
	Delta float64 `json:"delta"`
	// BaselineOutput and CandidateOutput are excerpts of one answer each:
	// the failing one on the side that fails more.
	BaselineOutput  string `json:"baseline_output"`
	CandidateOutput string `json:"candidate_output"`
	// Reasons are the failing assertions' messages on the side that fails more.
	Reasons []string `json:"reasons,omitempty"`
}

// excerptRunes bounds the answer excerpts kept with a verdict.
const excerptRunes = 200

// compareGate compares the candidate's cases with the baseline's.
func compareGate(base *Baseline, cand caseRecords, suite *evals.Suite, minEffect float64) *GateVerdict {
	v := &GateVerdict{
		PassRate:  drift.Compare(base.cases.passes(), cand.passes(), true),
		MeanScore: drift.Compare(base.cases.scores(), cand.scores(), false),
		Alpha:     GateAlpha,
		MinEffect: minEffect,
		Baseline: GateSide{RunID: base.Run.ID, Mode: base.Mode, Source: base.Source, Trigger: base.Run.Trigger, Status: base.Run.Status,
			SuiteVersion: base.Run.SuiteVersion, PromptVersion: base.Run.PromptVersion, TargetVersion: base.Run.TargetVersion},
		RegressedCases: []CaseChange{},
		ImprovedCases:  []CaseChange{},
	}
	// Per-side figures over the paired cases.
	var bScores, cScores []float64
	n := 0
	for id, c := range cand {
		b := base.cases[id]
		if b == nil || len(b.pass) == 0 || len(c.pass) == 0 {
			continue
		}
		n++
		bScores = append(bScores, mean(b.score))
		cScores = append(cScores, mean(c.score))
	}
	v.Baseline.fill(n, v.PassRate.Reference, bScores)
	v.Candidate.fill(n, v.PassRate.Current, cScores)

	// Cases whose pass share moved, in suite order, then by size.
	for _, c := range suite.Cases {
		b, k := base.cases[c.ID], cand[c.ID]
		if b == nil || k == nil || len(b.pass) == 0 || len(k.pass) == 0 {
			continue
		}
		bs, ks := float64(b.passed)/float64(len(b.pass)), float64(k.passed)/float64(len(k.pass))
		if math.Abs(ks-bs) < 1e-12 {
			continue
		}
		ch := CaseChange{ID: c.ID, BaselinePassed: b.passed, BaselineSamples: len(b.pass),
			CandidatePassed: k.passed, CandidateSamples: len(k.pass), Delta: ks - bs}
		if ch.Delta < 0 {
			ch.BaselineOutput, ch.CandidateOutput = excerpt(first(b.passOut, b.failOut)), excerpt(k.failOut)
			ch.Reasons = k.reasons
			v.RegressedCases = append(v.RegressedCases, ch)
		} else {
			ch.BaselineOutput, ch.CandidateOutput = excerpt(b.failOut), excerpt(first(k.passOut, k.failOut))
			ch.Reasons = b.reasons
			v.ImprovedCases = append(v.ImprovedCases, ch)
		}
	}
	sort.SliceStable(v.RegressedCases, func(i, j int) bool { return v.RegressedCases[i].Delta < v.RegressedCases[j].Delta })
	sort.SliceStable(v.ImprovedCases, func(i, j int) bool { return v.ImprovedCases[i].Delta > v.ImprovedCases[j].Delta })
	v.NRegressedCases, v.NImprovedCases = len(v.RegressedCases), len(v.ImprovedCases)
	v.RegressedCases = v.RegressedCases[:min(len(v.RegressedCases), drift.MaxListedCases)]
	v.ImprovedCases = v.ImprovedCases[:min(len(v.ImprovedCases), drift.MaxListedCases)]

	c := v.PassRate
	const eps = 1e-9
	significant := c.N > 0 && c.PTwoSided < GateAlpha
	evidence := fmt.Sprintf("%+.3f, 95%% CI %s %+.3f to %+.3f; two-sided p = %.4g, %s over %d paired cases", c.Delta, drift.CIScope, c.CILow, c.CIHigh, c.PTwoSided, c.Test, c.N)
	switch {
	case significant && c.Delta < 0 && -c.Delta >= minEffect-eps:
		v.Decision = DecisionRegressed
		v.Message = fmt.Sprintf("pass rate fell from %.3f to %.3f (%s): significant at α = %.2g and at least min_effect %.3g", c.Reference, c.Current, evidence, GateAlpha, minEffect)
	case significant && c.Delta > 0 && c.Delta >= minEffect-eps:
		v.Decision = DecisionImproved
		v.Message = fmt.Sprintf("pass rate rose from %.3f to %.3f (%s): significant at α = %.2g", c.Reference, c.Current, evidence, GateAlpha)
	case significant:
		v.Decision = DecisionUnchanged
		v.Message = fmt.Sprintf("pass rate %.3f → %.3f (%s): significant but smaller than min_effect %.3g", c.Reference, c.Current, evidence, minEffect)
	default:
		v.Decision = DecisionUnchanged
		v.Message = fmt.Sprintf("no significant change in pass rate: %.3f → %.3f (%s)", c.Reference, c.Current, evidence)
	}
	return v
}

// fill sets a side's figures over n paired cases: the pass rate with its
// 95 % Wilson interval (cases passing rounded from the averaged share) and
// the mean score with its 95 % t interval over case means.
func (s *GateSide) fill(n int, passRate float64, caseScores []float64) {
	s.Cases = n
	if n == 0 {
		s.PassRateCI, s.MeanScoreCI = [2]float64{0, 1}, [2]float64{0, 1}
		return
	}
	s.PassRate = passRate
	lo, hi := drift.Wilson(int(math.Round(passRate*float64(n))), n, 0.05)
	s.PassRateCI = [2]float64{lo, hi}
	m := mean(caseScores)
	s.MeanScore = m
	s.MeanScoreCI = [2]float64{m, m}
	if n > 1 {
		ss := 0.0
		for _, x := range caseScores {
			ss += (x - m) * (x - m)
		}
		half := drift.StudentTQuantile(0.975, float64(n-1)) * math.Sqrt(ss/float64(n-1)/float64(n))
		s.MeanScoreCI = [2]float64{math.Max(0, m-half), math.Min(1, m+half)}
	}
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func first(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// excerpt shortens an answer to one line of at most excerptRunes runes.
func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= excerptRunes {
		return s
	}
	r := []rune(s)
	return string(r[:excerptRunes-1]) + "…"
}

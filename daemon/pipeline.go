package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/scoring"
	"github.com/evald/evald/store"
	"github.com/evald/evald/telemetry"
)

// Triggers say who started a run.
const (
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
	TriggerCI       = "ci"
)

// Request names one evaluation.
type Request struct {
	Suite, Target string
	Trigger       string
	// Candidate marks a pre-release measurement (`evald run --prompt`,
	// `--model`, `--baseline`): stored with its own versions, but never fed
	// to the drift detector and never a production baseline (gate.go).
	Candidate bool
	// Prompt replaces the suite's prompt messages (candidates only).
	Prompt []evals.Message
	// Model replaces the target's model (candidates only).
	Model string
	// gate is set by Gate for the runs of a gate comparison.
	gate *gateArm
}

// Result is a finished (or stopped) evaluation.
type Result struct {
	Run store.Run
	// Verdict is the drift detector's verdict (nil when the run was not
	// evaluated, e.g. a candidate run).
	Verdict *drift.Verdict
	// BaselineRuns are the reference runs the verdict compared against.
	BaselineRuns      []int64
	Suite             *evals.Suite
	Target            configs.Target
	Summary           runner.Summary
	ThresholdFailures []evals.ThresholdFailure
	// FailedCases lists the cases with at least one failing sample, in suite order.
	FailedCases []CaseFailure
	// Governance is the threshold check the run passed (or was refused by).
	Governance ThresholdCheck
	// Gate is the comparison of a candidate run with its baseline (nil
	// for production runs and for candidates without a baseline).
	Gate *GateVerdict
	// Calibration is the judge calibration made after the run because the
	// judge's identity was new (nil when none was due, or it failed and
	// was logged). It is recorded before OnRun is called.
	Calibration *CalibrationOutcome
}

// CaseFailure is a case that did not pass every sample.
type CaseFailure struct {
	ID      string   `json:"id"`
	Passed  int      `json:"passed"`
	Samples int      `json:"samples"`
	Reasons []string `json:"reasons"`
}

// Detail is the JSON kept with a run for what has no column of its own.
type Detail struct {
	ThresholdFailures []evals.ThresholdFailure `json:"threshold_failures"`
	Models            map[string]int           `json:"models"`
	Fingerprints      map[string]int           `json:"fingerprints"`
	ErrorsByClass     map[string]int           `json:"errors_by_class"`
	// WhyMissing gives each error class with its count and first error
	// (runner.ErrorSummary), the why of ErrorsByClass.
	WhyMissing  string        `json:"why_missing,omitempty"`
	ValidCases  int           `json:"valid_cases"`
	FailedCases []CaseFailure `json:"failed_cases,omitempty"`
	// PendingSignoff lists threshold changes in the file that are not in
	// force: the run enforced the signed-off values.
	PendingSignoff []governance.Change `json:"pending_signoff,omitempty"`
	// SignoffHash is the threshold set the run enforced.
	SignoffHash string `json:"signoff_hash,omitempty"`
	// Candidate marks a candidate run; GateRole is its role in a gate
	// comparison (gate.go). Neither kind is a production baseline.
	Candidate bool         `json:"candidate,omitempty"`
	GateRole  string       `json:"gate_role,omitempty"`
	Gate      *GateVerdict `json:"gate,omitempty"`
	// Judge is what grading the model-graded assertions took (nil when the
	// suite has none), counted apart from the tested model's tokens and cost.
	Judge *JudgeDetail `json:"judge,omitempty"`
}

// JudgeDetail is a run's judging: the judge target and version, the models
// and fingerprints it returned (per graded sample), tokens, cost and grades
// served from the cache.
type JudgeDetail struct {
	Target           string         `json:"target"`
	TargetVersion    string         `json:"target_version"`
	Models           map[string]int `json:"models"`
	Fingerprints     map[string]int `json:"fingerprints"`
	PromptTokens     int64          `json:"prompt_tokens"`
	CompletionTokens int64          `json:"completion_tokens"`
	CostUSD          float64        `json:"cost_usd"`
	CacheHits        int            `json:"cache_hits"`
}

// Evaluate runs one suite on one target and records everything. The error is
// non-nil only when the run could not be recorded or started (unknown names,
// missing secret, store failure); endpoint failures end in store.StatusErrored.
// Each step is a method below, in the order Evaluate calls them.
func (d *Daemon) Evaluate(ctx context.Context, req Request) (*Result, error) {
	ev, err := d.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	refused, err := d.govern(ctx, ev)
	if err != nil {
		return nil, err
	}
	if refused {
		return d.refuse(ctx, ev)
	}
	if err := d.startRun(ctx, ev); err != nil {
		return nil, err
	}
	ev.span = d.startSpan(ev)
	sum, tally, err := d.executeRun(ctx, ev)
	if err != nil {
		ev.span.End(string(store.StatusErrored), nil, nil, err.Error(), d.opts.Now())
		return nil, d.closeErrored(ctx, ev.run, err)
	}
	c := classify(classifyInput{
		Suite: ev.suite, Summary: sum, Cases: tally.cases, Gov: ev.gov,
		Candidate: req.Candidate, Role: req.role(), Judge: judgeDetail(ev.judge, sum),
		Gate: decideGate(req.gate, ev.suite, sum.Outcome),
	})
	res, err := d.record(ctx, ev, sum, tally.scores, tally.shapes, c)
	if err != nil {
		ev.span.End(string(store.StatusErrored), nil, nil, err.Error(), d.opts.Now())
		return nil, d.closeErrored(ctx, ev.run, err)
	}
	ev.span.End(string(res.Run.Status), res.Run.PassRate, res.Run.MeanScore, res.Run.ErrorText, res.Run.FinishedAt)
	d.report(ev, res)
	res.Calibration = d.calibrateAfter(ctx, req, res.Run, ev.suite, ev.judge, sum)
	if d.opts.OnRun != nil {
		d.opts.OnRun(res)
	}
	return res, nil
}

// evaluation is one Evaluate call as it goes through its steps.
type evaluation struct {
	req    Request
	suite  *evals.Suite
	target configs.Target
	prov   runner.Provider
	judge  *runner.Judge
	gov    ThresholdCheck
	// run is the stored run, from startRun on; record completes it.
	run store.Run
	log *slog.Logger
	// span exports the run (nil without telemetry.otlp).
	span *telemetry.RunSpan
}

// prepare resolves the request's names, provider and judge, and records
// the suite and target versions it will run.
func (d *Daemon) prepare(ctx context.Context, req Request) (*evaluation, error) {
	suite, target, err := d.resolve(req)
	if err != nil {
		return nil, err
	}
	ev := &evaluation{req: req, suite: suite, target: target}
	if ev.prov, err = d.providerOf(req, target); err != nil {
		return nil, err
	}
	if ev.judge, err = d.judgeFor(suite); err != nil {
		return nil, err
	}
	if err := d.saveVersions(ctx, suite, target); err != nil {
		return nil, err
	}
	return ev, nil
}

// govern checks the suite's thresholds against the signed-off ones and
// sets ev.gov. It reports whether the run is refused (a CI run of an
// unsigned change); otherwise the daemon keeps enforcing what was signed
// off, and ev.suite carries those thresholds.
func (d *Daemon) govern(ctx context.Context, ev *evaluation) (refused bool, err error) {
	if ev.gov, err = d.CheckThresholds(ctx, ev.suite); err != nil {
		return false, err
	}
	if !ev.gov.Pending() {
		return false, nil
	}
	if ev.req.Trigger == TriggerCI {
		return true, nil
	}
	if ev.suite, err = enforce(ev.suite, ev.gov.Signed.Set); err != nil {
		return false, err
	}
	d.notePending(ev.suite.Name, ev.gov)
	return false, nil
}

// newRun is the first row of ev's run.
func (d *Daemon) newRun(ev *evaluation) store.Run {
	return store.Run{
		Suite:         ev.suite.Name,
		Target:        ev.target.Name,
		Trigger:       ev.req.Trigger,
		Status:        store.StatusRunning,
		Role:          ev.req.runRole(),
		StartedAt:     d.opts.Now().UTC(),
		SuiteVersion:  ev.suite.Version,
		PromptVersion: ev.suite.PromptVersion,
		TargetVersion: ev.target.Version(),
		Cases:         len(ev.suite.Cases),
	}
}

// startRun records the run as running.
func (d *Daemon) startRun(ctx context.Context, ev *evaluation) error {
	thresholds, err := json.Marshal(ev.suite.Thresholds)
	if err != nil {
		return fmt.Errorf("encode thresholds: %w", err)
	}
	run := d.newRun(ev)
	run.ThresholdsJSON = string(thresholds)
	if !ev.req.production() {
		// A gate arm's role is in its first row (Role); its detail says so
		// too from the start, for whoever reads a running run's detail (the
		// full detail is written at the end).
		early, err := json.Marshal(Detail{Candidate: ev.req.Candidate, GateRole: ev.req.role()})
		if err != nil {
			return fmt.Errorf("encode run detail: %w", err)
		}
		run.Detail = string(early)
	}
	if run.ID, err = d.store.CreateRun(ctx, run); err != nil {
		return fmt.Errorf("record run start: %w", err)
	}
	ev.run = run
	// A production run started: whatever kept the pair from starting is
	// over, even though this run takes a while to finish. (A CI gate's arm
	// says nothing of production's schedule.)
	if ev.req.production() {
		d.clearStartFailure(runKey{run.Suite, run.Target})
	}
	ev.log = d.log.With("suite", run.Suite, "target", run.Target, "run_id", run.ID)
	ev.log.Info("run started", withNonEmpty([]any{"trigger", ev.req.Trigger}, "role", ev.req.role(), "cases", len(ev.suite.Cases), "repeats", ev.suite.Repeats)...)
	return nil
}

// executeRun runs the suite and writes its samples, the last of them even
// when ctx is done.
func (d *Daemon) executeRun(ctx context.Context, ev *evaluation) (_ runner.Summary, _ *sampleWriter, err error) {
	defer recovered(&err)
	w := &sampleWriter{d: d, target: ev.target.Name, runID: ev.run.ID, cases: make([]CaseFailure, len(ev.suite.Cases)), scores: caseScores{}, shapes: caseShapes{}, span: ev.span}
	rt := runner.Target{
		Name:     ev.target.Name,
		Provider: ev.prov,
		Gate:     d.gates.For(ev.target.Name, ev.target.Concurrency, ev.target.RPS),
		Timeout:  ev.target.Timeout,
		Retries:  ev.target.Retries,
		Price:    ev.target.Price,
		Judge:    ev.judge,
	}
	sum, err := d.execute(ctx, ev.req, ev.run, ev.suite, rt, w.add)
	if err != nil {
		return sum, nil, err
	}
	wctx, cancel := shutdownContext(ctx)
	defer cancel()
	if err := w.flush(wctx); err != nil {
		return sum, nil, err
	}
	return sum, w, nil
}

// record writes the end of ev's run as c classifies it. A production run
// is fed to the drift detector first, and ends in the same transaction as
// its verdict, the detector state and its alerts; a gate's run just ends.
// It writes even when ctx is done.
func (d *Daemon) record(ctx context.Context, ev *evaluation, sum runner.Summary, scores caseScores, shapes caseShapes, c classification) (_ *Result, err error) {
	defer recovered(&err)
	wctx, cancel := shutdownContext(ctx)
	defer cancel()
	run := &ev.run
	run.Status, run.ErrorText = c.Status, c.ErrorText
	run.FinishedAt = d.opts.Now().UTC()
	run.Samples, run.Errors = sum.Samples, sum.Errors
	if sum.ValidCases > 0 {
		run.PassRate, run.MeanScore = ptr(sum.PassRate), ptr(sum.MeanScore)
	}
	run.PromptTokens, run.CompletionTokens = sum.PromptTokens, sum.CompletionTokens
	run.CostUSD, run.JudgeCostUSD = sum.CostUSD, sum.JudgeCostUSD
	run.DurationMS = sum.Duration.Milliseconds()
	detail, err := json.Marshal(c.Detail)
	if err != nil {
		return nil, fmt.Errorf("encode run detail: %w", err)
	}
	run.Detail = string(detail)
	res := &Result{Suite: ev.suite, Target: ev.target, Summary: sum, Governance: ev.gov,
		ThresholdFailures: c.ThresholdFailures, FailedCases: c.FailedCases, Gate: c.Detail.Gate}
	if !ev.req.production() {
		if err := d.store.FinishRun(wctx, *run); err != nil {
			return nil, fmt.Errorf("record run end: %w", err)
		}
		res.Run = *run
		return res, nil
	}
	// Every production run is fed to the detector (errored and interrupted
	// runs are skipped by it and leave its statistic alone). The missed-run
	// watch waits while the pair's verdict and alerts are written, so that
	// it never reopens what this run resolves.
	defer d.lockPair(runKey{run.Suite, run.Target})()
	st, verdict, err := d.detect(wctx, *run, ev.suite, sum, scores, shapes)
	if err != nil {
		return nil, err
	}
	run.Status = withVerdict(run.Status, verdict)
	res.BaselineRuns = st.Ref.Runs
	writes, err := d.runAlerts(wctx, ev.req, *run, ev.suite, res, verdict, st, ev.gov)
	if err != nil {
		return nil, err
	}
	if err := d.saveVerdict(wctx, *run, st, verdict, writes); err != nil {
		return nil, err
	}
	if d.alerting != nil && len(writes.Deliveries) > 0 {
		d.alerting.worker.Kick()
	}
	run.Verdict = verdict.Kind
	res.Run, res.Verdict = *run, &verdict
	return res, nil
}

// withVerdict is a production run's status once the drift detector judged
// it: a completed run that regressed, or whose provider changed, is
// regressed. A scorer change (the judge alone changed) pages, but the model
// under test did not regress.
func withVerdict(status store.Status, v drift.Verdict) store.Status {
	if (status == store.StatusPassed || status == store.StatusFailed) &&
		(v.Kind == drift.KindRegressed || v.Kind == drift.KindProviderChanged) {
		return store.StatusRegressed
	}
	return status
}

// closeErrored closes run as errored after err stopped the pipeline once
// the run was recorded as started, rather than leave it "running", and
// returns err.
func (d *Daemon) closeErrored(ctx context.Context, run store.Run, err error) error {
	gctx, cancel := shutdownContext(ctx)
	defer cancel()
	run.Status, run.FinishedAt, run.ErrorText = store.StatusErrored, d.opts.Now().UTC(), "evald could not record the run's result; see its log"
	if pe, ok := errors.AsType[*runner.PanicError](err); ok {
		run.ErrorText = pe.Error()
		d.notePanic(run.Suite, run.Target, pe)
	}
	if ferr := d.store.FinishRun(gctx, run); ferr != nil {
		d.log.Error("close a run left unfinished by an error", "run_id", run.ID, "err", ferr)
	}
	return err
}

// report counts a recorded run in the metrics and logs its end.
func (d *Daemon) report(ev *evaluation, res *Result) {
	run, sum, log := res.Run, res.Summary, ev.log
	switch v := res.Verdict; {
	case v != nil && v.Page && v.Kind == drift.KindScorerChanged:
		log.Warn("scorer changed: the judge's grades moved", "verdict", v.Kind, "message", v.Message, "attribution", v.Attribution)
	case v != nil && v.Page:
		log.Warn("regression detected", "verdict", v.Kind, "message", v.Message, "attribution", v.Attribution)
	case res.Gate.Regressed():
		// The gate's report says so: a warning would repeat it (evald run
		// logs at warn level).
		log.Info("candidate regressed against its baseline", "baseline_run_id", res.Gate.Baseline.RunID, "message", res.Gate.Message)
	}
	d.metrics.runs.WithLabelValues(run.Suite, run.Target, string(run.Status)).Inc()
	add(d.metrics.cost.WithLabelValues(run.Suite, run.Target), sum.CostUSD)
	if ev.judge != nil && sum.JudgeCostUSD > 0 {
		// Grading is spent on the judge target, for the suite it graded.
		add(d.metrics.cost.WithLabelValues(run.Suite, ev.judge.Name), sum.JudgeCostUSD)
	}
	if sum.ValidCases > 0 && sum.Outcome == runner.Completed && ev.req.production() {
		d.metrics.passRate.WithLabelValues(run.Suite, run.Target).Set(sum.PassRate)
		d.metrics.meanScore.WithLabelValues(run.Suite, run.Target).Set(sum.MeanScore)
	}
	gate := ""
	if res.Gate != nil {
		gate = res.Gate.Decision
	}
	log.Info("run finished", withNonEmpty([]any{"status", run.Status}, "role", ev.req.role(), "verdict", run.Verdict, "gate", gate,
		"pass_rate", sum.PassRate, "mean_score", sum.MeanScore, "samples", sum.Samples, "errors", sum.Errors,
		"cost_usd", sum.CostUSD, "judge_cost_usd", sum.JudgeCostUSD, "duration_ms", run.DurationMS)...)
}

func (d *Daemon) saveVersions(ctx context.Context, suite *evals.Suite, t configs.Target) error {
	sv, err := json.Marshal(map[string]any{"prompt": suite.Prompt, "repeats": suite.Repeats, "cases": len(suite.Cases), "file": suite.File})
	if err != nil {
		return fmt.Errorf("encode suite version: %w", err)
	}
	if err := d.store.SaveSuiteVersion(ctx, store.SuiteVersion{Suite: suite.Name, Version: suite.Version, PromptVersion: suite.PromptVersion, Canonical: sv}); err != nil {
		return fmt.Errorf("record suite version: %w", err)
	}
	tv, err := json.Marshal(map[string]any{"base_url": t.BaseURL, "model": t.Model, "params": t.Params})
	if err != nil {
		return fmt.Errorf("encode target version: %w", err)
	}
	if err := d.store.SaveTargetVersion(ctx, store.TargetVersion{Target: t.Name, Version: t.Version(), Canonical: tv}); err != nil {
		return fmt.Errorf("record target version: %w", err)
	}
	return nil
}

// sampleWriter batches samples into store transactions so that a crash
// loses at most one small batch, and tallies cases for the report.
type sampleWriter struct {
	d       *Daemon
	written int // samples committed so far
	scores  caseScores
	shapes  caseShapes
	target  string
	runID   int64
	buf     []store.Sample
	err     error
	cases   []CaseFailure
	span    *telemetry.RunSpan
}

func (w *sampleWriter) add(s runner.Sample, more bool) {
	if s.Valid() {
		c := &w.cases[s.CaseIndex]
		c.Samples++
		if s.Pass {
			c.Passed++
		} else {
			for _, r := range s.Results {
				why := scoring.TurnReason(r.Turn, r.Reason)
				if !r.Pass && r.Reason != "" && !slices.Contains(c.Reasons, why) && len(c.Reasons) < 3 {
					c.Reasons = append(c.Reasons, why)
				}
			}
			for i, t := range s.Turns {
				why := scoring.TurnReason(turnNumber(s, i), t.Failure)
				if t.Failure != "" && !slices.Contains(c.Reasons, why) && len(c.Reasons) < 3 {
					c.Reasons = append(c.Reasons, why)
				}
			}
		}
	}
	w.d.metrics.observeSample(w.target, s)
	w.span.Sample(s, w.d.opts.Now())
	w.scores.add(s)
	w.shapes.add(s)
	w.buf = append(w.buf, toStore(s))
	// Group commit: write as soon as no other sample is waiting, so an
	// answered sample is on disk within one transaction of arriving, and
	// batch when answers arrive faster than a write takes.
	if !more || len(w.buf) >= w.d.opts.FlushEvery {
		// A failed write is kept and reported at the end; the run goes on.
		ctx, cancel := shutdownContext(context.Background())
		defer cancel()
		if err := w.flush(ctx); err != nil {
			w.d.log.Error("write samples", "run_id", w.runID, "err", err)
		}
	}
}

func (w *sampleWriter) flush(ctx context.Context) error {
	if len(w.buf) == 0 {
		return w.err
	}
	if err := w.d.store.AddSamples(ctx, w.runID, w.buf); err != nil {
		w.err = fmt.Errorf("write samples of run %d: %w", w.runID, err)
		return w.err
	}
	w.err = nil // the retained batch is now written
	w.written += len(w.buf)
	w.d.log.Debug("samples written", "run_id", w.runID, "total", w.written)
	w.buf = w.buf[:0]
	return w.err
}

// turnNumber is the number reports give turn i of s: 1-based in a
// conversation, 0 for the single turn of a one-turn case.
func turnNumber(s runner.Sample, i int) int {
	if len(s.Turns) == 1 && s.Turns[0].User == "" {
		return 0
	}
	return i + 1
}

func toStore(s runner.Sample) store.Sample {
	out := store.Sample{
		CaseID:           s.CaseID,
		CaseIndex:        s.CaseIndex,
		Repeat:           s.Repeat,
		Output:           s.Text,
		FinishReason:     s.FinishReason,
		LatencyMS:        float64(s.Latency.Microseconds()) / 1000,
		PromptTokens:     s.PromptTokens,
		CompletionTokens: s.CompletionTokens,
		Model:            s.Model,
		Fingerprint:      s.Fingerprint,
		ErrorClass:       s.ErrClass,
		ErrorText:        s.ErrText,
		Attempts:         s.Attempts,
		Pass:             s.Pass,
		Score:            s.Score,

		JudgeModel:            s.JudgeModel,
		JudgeFingerprint:      s.JudgeFingerprint,
		JudgePromptTokens:     s.JudgePromptTokens,
		JudgeCompletionTokens: s.JudgeCompletionTokens,
		JudgeCostUSD:          s.JudgeCostUSD,
	}
	if len(s.Turns) > 0 {
		if b, err := json.Marshal(s.Turns); err == nil {
			out.Turns = string(b)
		}
	}
	if len(s.Results) > 0 {
		out.Results = make([]store.AssertionResult, len(s.Results))
		for i, r := range s.Results {
			out.Results[i] = store.AssertionResult{Type: r.Type, Pass: r.Pass, Score: r.Score, Weight: r.Weight, Reason: r.Reason, Turn: r.Turn}
		}
	}
	return out
}

func ptr(f float64) *float64 { return &f }

// refuse records a run that governance refused: the suite file changes
// thresholds nobody signed off. Nothing is sent to the endpoint.
func (d *Daemon) refuse(ctx context.Context, ev *evaluation) (*Result, error) {
	detail, err := json.Marshal(Detail{PendingSignoff: ev.gov.Changes, SignoffHash: ev.gov.Signed.Hash, Candidate: ev.req.Candidate, GateRole: ev.req.role()})
	if err != nil {
		return nil, fmt.Errorf("encode refused run detail: %w", err)
	}
	// The detail (a gate arm's role among it) is in the first row, as for
	// any run (see startRun).
	run := d.newRun(ev)
	run.Detail = string(detail)
	id, err := d.store.CreateRun(ctx, run)
	if err != nil {
		return nil, fmt.Errorf("record refused run: %w", err)
	}
	// Once created, the run is closed even if ctx ended meanwhile.
	wctx, cancel := shutdownContext(ctx)
	defer cancel()
	run.ID, run.Status, run.FinishedAt = id, store.StatusRefused, run.StartedAt
	run.ErrorText = "threshold change pending sign-off"
	if err := d.store.FinishRun(wctx, run); err != nil {
		return nil, fmt.Errorf("record refused run: %w", err)
	}
	d.metrics.runs.WithLabelValues(run.Suite, run.Target, string(store.StatusRefused)).Inc()
	d.log.Info("run refused: threshold change pending sign-off", "suite", run.Suite, "target", run.Target, "run_id", id)
	res := &Result{Run: run, Suite: ev.suite, Target: ev.target, Governance: ev.gov}
	if d.opts.OnRun != nil {
		d.opts.OnRun(res)
	}
	return res, nil
}

// notePending logs a pending threshold change once per (suite, file set).
func (d *Daemon) notePending(suite string, gov ThresholdCheck) {
	key := suite + "\x00" + governance.FormatDiff(gov.Changes)
	d.mu.Lock()
	seen := d.pendingSeen[key]
	d.pendingSeen[key] = true
	d.mu.Unlock()
	if !seen {
		d.log.Warn("threshold change pending sign-off: enforcing the signed-off values",
			"suite", suite, "changes", strings.TrimSpace(governance.FormatDiff(gov.Changes)), "sign_off", governance.SignoffCommand(suite))
	}
}

// withNonEmpty appends the key-value pairs kv to attrs, leaving out those
// whose value is an empty string: a production run has no gate role, a
// candidate no drift verdict, and role="" reads as a role named "".
func withNonEmpty(attrs []any, kv ...any) []any {
	for i := 0; i+1 < len(kv); i += 2 {
		if v, ok := kv[i+1].(string); ok && v == "" {
			continue
		}
		attrs = append(attrs, kv[i], kv[i+1])
	}
	return attrs
}

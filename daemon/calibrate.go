package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/evald/evald/alerts"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/store"
)

// A suite's calibration set is graded again whenever the identity of its
// judge changes: the model and fingerprint the judge returned most often in
// a run, the judge target's version, or the set itself (its hash). The
// daemon compares each production run's judge identity with the one of
// the last calibration it made after a run for the same (suite, judge
// target); when they differ, or there is none, it calibrates. Only the
// daemon that alerts (serve, demo) does this, so that a calibration made
// where nobody hears of its outcome never stands in for one that alerts.
//
// The calibration runs after the run is fully recorded (its verdict and
// alerts committed), so a slow or failing judge never costs the run. The
// calibration row and the alert it raises are written in one transaction:
// if the process dies before that commit, no calibration is stored for
// the new identity and the next run calibrates again, so the alert is
// never lost.

// undecided are the statuses of calibrations that concluded nothing about
// the judge: the daemon compares with, and an incident stands for, the
// last calibration that did.
var undecided = []string{runner.CalibrationInconclusive, runner.CalibrationInterrupted}

// JudgeIdentity is who grades: the judge target's version and the model id
// and system fingerprint it returned ("" when it sent none).
type JudgeIdentity struct {
	Version     string `json:"version"`
	Model       string `json:"model,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

// CalibrationOutcome is a recorded calibration.
type CalibrationOutcome struct {
	ID          int64  `json:"id"`
	Suite       string `json:"suite"`
	JudgeTarget string `json:"judge_target"`
	// Identity is the judge identity the calibration is stored under.
	Identity JudgeIdentity `json:"identity"`
	SetHash  string        `json:"set_hash"`
	// Previous is the calibration the daemon compared with (nil: none).
	Previous *store.Calibration `json:"-"`
	Result   runner.CalibrationResult
}

// calibrationDetail is the JSON kept with a calibration.
type calibrationDetail struct {
	Results          []runner.CalibrationItemResult `json:"results"`
	Models           map[string]int                 `json:"models"`
	Fingerprints     map[string]int                 `json:"fingerprints"`
	PromptTokens     int64                          `json:"prompt_tokens"`
	CompletionTokens int64                          `json:"completion_tokens"`
	CostUSD          float64                        `json:"cost_usd"`
	Calls            int                            `json:"calls"`
	DurationMS       int64                          `json:"duration_ms"`
	// Previous is the id of the calibration this one followed (0: none).
	Previous int64 `json:"previous_id,omitempty"`
}

// calibrationLocks serialises the calibrations of one (suite, judge
// target), so that runs of a suite on several targets finishing together
// calibrate its judge once. The zero value is ready to use.
type calibrationLocks struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

func (l *calibrationLocks) lock(suite, judge string) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*sync.Mutex{}
	}
	k := suite + "\x00" + judge
	m := l.m[k]
	if m == nil {
		m = &sync.Mutex{}
		l.m[k] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// changed reports whether the judge seen in a run, with the set of hash,
// is not the one last calibrated. A run whose judge returned neither model
// nor fingerprint (all its grades from other sources, or an endpoint that
// sends none) is evidence of no change on the provider side.
func changed(last store.Calibration, seen JudgeIdentity, hash string) bool {
	if last.JudgeVersion != seen.Version || last.SetHash != hash {
		return true
	}
	if seen.Model == "" && seen.Fingerprint == "" {
		return false
	}
	return last.JudgeModel != seen.Model || last.JudgeFingerprint != seen.Fingerprint
}

// calibrateAfter calibrates the suite's judge after a recorded production
// run when the run's judge identity differs from the last calibrated one,
// and raises or clears the judge_calibration_failed alert. It is the top
// of this side task: problems are logged, never returned, since the run is
// recorded already. It returns the recorded calibration, nil when none was
// due or it could not be made.
func (d *Daemon) calibrateAfter(ctx context.Context, req Request, run store.Run, suite *evals.Suite, judge *runner.Judge, sum runner.Summary) *CalibrationOutcome {
	if suite.Calibration == nil || judge == nil || d.alerting == nil || !req.production() ||
		sum.Outcome == runner.Interrupted || ctx.Err() != nil {
		return nil
	}
	log := d.log.With("suite", suite.Name, "judge", judge.Name, "run_id", run.ID)
	unlock := d.calib.lock(suite.Name, judge.Name)
	defer unlock()
	seen := JudgeIdentity{Version: judge.Version, Model: runner.Dominant(sum.JudgeModels), Fingerprint: runner.Dominant(sum.JudgeFingerprints)}
	last, err := d.store.LastCalibration(ctx, store.CalibrationQuery{Suite: suite.Name, JudgeTarget: judge.Name,
		Trigger: store.CalibrationAfterRun, SkipStatus: undecided})
	var prev *store.Calibration
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		log.Error("read the last judge calibration", "err", err)
		return nil
	default:
		if !changed(last, seen, suite.Calibration.Hash) {
			return nil
		}
		prev = &last
	}
	out, err := d.calibrate(ctx, suite, judge, seen, prev, store.CalibrationAfterRun, run.ID)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("calibrate the judge", "err", err)
		}
		return nil
	}
	r := out.Result
	attrs := []any{"calibration_id", out.ID, "status", r.Status, "rate", r.Rate, "max_disagreement", r.MaxDisagreement,
		"items", r.Items, "disagreements", r.Disagreements, "missing", r.Missing, "judge_model", out.Identity.Model,
		"judge_fingerprint", out.Identity.Fingerprint, "cost_usd", r.CostUSD}
	if r.Status == runner.CalibrationOK {
		log.Info("judge calibrated", attrs...)
	} else {
		log.Warn("judge calibration "+r.Status, attrs...)
	}
	return &out
}

// Calibrate grades the calibration set of a suite with its judge now,
// whatever the judge's identity, and records the result (`evald
// calibrate`): it is stored as a manual calibration, which does not change
// when the daemon calibrates next. It never raises an alert; when it
// passes with the judge identity and set of the daemon's last calibration,
// it resolves an open judge_calibration_failed incident of the suite's
// judge (queued, for the serving daemon to deliver).
func (d *Daemon) Calibrate(ctx context.Context, suiteName string) (CalibrationOutcome, error) {
	suite, err := d.suite(suiteName)
	if err != nil {
		return CalibrationOutcome{}, err
	}
	if suite.Calibration == nil {
		return CalibrationOutcome{}, fmt.Errorf("%w: suite %q has no calibration set (add a calibration: block to %s)", ErrInvalid, suite.Name, suite.File)
	}
	judge, err := d.judgeWhen(suite, true)
	if err != nil {
		return CalibrationOutcome{}, err
	}
	if judge == nil {
		return CalibrationOutcome{}, fmt.Errorf("suite %q has %w", suite.Name, ErrNoJudge)
	}
	return d.calibrate(ctx, suite, judge, JudgeIdentity{Version: judge.Version}, nil, store.CalibrationManual, 0)
}

// calibrate grades the set and records it under the identity key (the
// judge the calibration was made for; where the run saw no model or
// fingerprint, the one the calibration itself saw). After a run it also
// decides the judge_calibration_failed alert, in the same transaction:
// raised when the calibration failed, cleared when it passed, left as it
// is when it was inconclusive.
func (d *Daemon) calibrate(ctx context.Context, suite *evals.Suite, judge *runner.Judge, key JudgeIdentity, prev *store.Calibration, trigger string, runID int64) (CalibrationOutcome, error) {
	res, err := runner.Calibrate(ctx, judge, suite.Calibration, d.opts.Runner)
	if err != nil {
		err = fmt.Errorf("calibrate judge %s of suite %s: %w", judge.Name, suite.Name, err)
		if res.Status == runner.CalibrationInterrupted && res.Calls > 0 {
			// Cut short: record what the calls cost (the daily budget
			// counts it), with no verdict and no alert.
			if _, serr := d.saveInterrupted(ctx, suite, judge, key, trigger, runID, res); serr != nil {
				// Logged here: the caller drops errors of a stopped context.
				d.log.Error("record an interrupted calibration's spend", "suite", suite.Name, "judge", judge.Name,
					"cost_usd", res.CostUSD, "err", serr)
				err = errors.Join(err, serr)
			}
		}
		return CalibrationOutcome{}, err
	}
	if key.Model == "" && key.Fingerprint == "" {
		key.Model, key.Fingerprint = runner.Dominant(res.Models), runner.Dominant(res.Fingerprints)
	}
	detail := calibrationDetail{
		Results: res.Results, Models: res.Models, Fingerprints: res.Fingerprints,
		PromptTokens: res.PromptTokens, CompletionTokens: res.CompletionTokens, CostUSD: res.CostUSD,
		Calls: res.Calls, DurationMS: res.Duration.Milliseconds(),
	}
	if prev != nil {
		detail.Previous = prev.ID
	}
	raw, err := json.Marshal(detail)
	if err != nil {
		return CalibrationOutcome{}, fmt.Errorf("encode calibration detail: %w", err)
	}
	now := d.opts.Now().UTC()
	row := store.Calibration{
		Suite: suite.Name, JudgeTarget: judge.Name, JudgeVersion: key.Version, JudgeModel: key.Model, JudgeFingerprint: key.Fingerprint,
		SetHash: suite.Calibration.Hash, Trigger: trigger, RunID: runID, At: now,
		Items: res.Items, Agreements: res.Agreements, Disagreements: res.Disagreements, Missing: res.Missing,
		MaxDisagreement: res.MaxDisagreement, Status: res.Status, CostUSD: res.CostUSD, Detail: string(raw),
	}
	if res.Items > res.Missing {
		row.Rate = &res.Rate
	}
	// From here on the calibration is recorded even if ctx is done.
	wctx, cancel := shutdownContext(ctx)
	defer cancel()
	// After a run the calibration raises or clears the alert. A manual
	// one only clears it: `evald calibrate` pages nobody, but when it finds
	// the judge that failed agreeing with its set again, the open incident
	// has no reason left to stay open until the judge's identity next
	// changes.
	var w store.AlertWrites
	clears := false
	if trigger == store.CalibrationManual && res.Status == runner.CalibrationOK {
		if clears, err = d.sameJudgeAsLast(wctx, row, res); err != nil {
			return CalibrationOutcome{}, err
		}
	}
	if trigger == store.CalibrationAfterRun || clears {
		if w, err = d.calibrationAlert(wctx, suite, judge.Name, key, prev, runID, res, trigger, now); err != nil {
			return CalibrationOutcome{}, err
		}
	}
	id, err := d.store.SaveCalibration(wctx, row, w)
	if err != nil {
		return CalibrationOutcome{}, err
	}
	if d.alerting != nil && len(w.Deliveries) > 0 {
		d.alerting.worker.Kick()
	}
	return CalibrationOutcome{ID: id, Suite: suite.Name, JudgeTarget: judge.Name, Identity: key, SetHash: row.SetHash, Previous: prev, Result: res}, nil
}

// saveInterrupted records a calibration ctx cut short: its spend only.
func (d *Daemon) saveInterrupted(ctx context.Context, suite *evals.Suite, judge *runner.Judge, key JudgeIdentity, trigger string, runID int64,
	res runner.CalibrationResult) (int64, error) {
	// No verdict per item, but the same shape as any calibration's detail.
	raw, err := json.Marshal(calibrationDetail{Results: []runner.CalibrationItemResult{}, Models: map[string]int{}, Fingerprints: map[string]int{},
		PromptTokens: res.PromptTokens, CompletionTokens: res.CompletionTokens,
		CostUSD: res.CostUSD, Calls: res.Calls, DurationMS: res.Duration.Milliseconds()})
	if err != nil {
		return 0, fmt.Errorf("encode calibration detail: %w", err)
	}
	wctx, cancel := shutdownContext(ctx)
	defer cancel()
	return d.store.SaveCalibration(wctx, store.Calibration{
		Suite: suite.Name, JudgeTarget: judge.Name, JudgeVersion: key.Version, JudgeModel: key.Model, JudgeFingerprint: key.Fingerprint,
		SetHash: suite.Calibration.Hash, Trigger: trigger, RunID: runID, At: d.opts.Now().UTC(),
		Items: res.Items, MaxDisagreement: res.MaxDisagreement, Status: res.Status, CostUSD: res.CostUSD, Detail: string(raw),
	}, store.AlertWrites{})
}

// sameJudgeAsLast reports whether the manual calibration c, whose calls
// saw the identities of res, graded with the judge and set of the last
// calibration the daemon made after a run: the one whose outcome the open
// incident, if any, stands for. A manual pass with another judge (the
// endpoint served another model, or the config on disk is not the one
// serve runs) says nothing about the judge that failed. Target version and
// set must be the same; the model and the fingerprint match when either
// calibration saw the other's among its answers, since a provider's
// fingerprints vary between requests and the two were keyed on different
// samples (the run's grades, and the calibration's own calls).
//
// The check reads before the calibration's write transaction: a serve
// committing a failed calibration for a new identity in between could be
// resolved by this pass. `evald calibrate` is a person's act in its own
// process, and the window is the length of a few reads; it is accepted.
func (d *Daemon) sameJudgeAsLast(ctx context.Context, c store.Calibration, res runner.CalibrationResult) (bool, error) {
	last, err := d.store.LastCalibration(ctx, store.CalibrationQuery{Suite: c.Suite, JudgeTarget: c.JudgeTarget,
		Trigger: store.CalibrationAfterRun, SkipStatus: undecided})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read the last judge calibration: %w", err)
	}
	if last.JudgeVersion != c.JudgeVersion || last.SetHash != c.SetHash {
		return false, nil
	}
	var seen calibrationDetail // what the failed calibration's own calls saw
	_ = json.Unmarshal([]byte(last.Detail), &seen)
	match := func(lastKey, key string, lastSaw, saw map[string]int) bool {
		return lastKey == key || lastSaw[key] > 0 || saw[lastKey] > 0
	}
	return match(last.JudgeModel, c.JudgeModel, seen.Models, res.Models) &&
		match(last.JudgeFingerprint, c.JudgeFingerprint, seen.Fingerprints, res.Fingerprints), nil
}

// calibrationAlert decides the judge_calibration_failed incident of
// (suite, judge target) from a calibration made after a run.
func (d *Daemon) calibrationAlert(ctx context.Context, suite *evals.Suite, judge string, key JudgeIdentity, prev *store.Calibration,
	runID int64, res runner.CalibrationResult, trigger string, now time.Time) (store.AlertWrites, error) {
	evs := map[alerts.Kind]*alerts.Event{}
	note := ""
	switch res.Status {
	case runner.CalibrationFailed:
		c := alerts.Calibration{
			JudgeTarget: judge,
			After:       alerts.JudgeIdentity{Model: key.Model, Fingerprint: key.Fingerprint, Version: key.Version},
			Items:       res.Items, Disagreements: res.Disagreements, Missing: res.Missing,
			Rate: res.Rate, MaxDisagreement: res.MaxDisagreement,
		}
		if prev != nil {
			c.Before = &alerts.JudgeIdentity{Model: prev.JudgeModel, Fingerprint: prev.JudgeFingerprint, Version: prev.JudgeVersion, Status: prev.Status}
		}
		for _, r := range res.Disagreeing() {
			if len(c.Disagreeing) == alerts.MaxCalibrationShown {
				break
			}
			c.Disagreeing = append(c.Disagreeing, alerts.CalibrationMiss{Item: r.Index, Case: r.Case, Expected: r.Expected, Got: r.Got,
				Output: suite.Calibration.Items[r.Index].Output, Reason: r.Reason})
		}
		ev := alerts.NewCalibrationFailed(suite.Name, runID, c, now)
		evs[alerts.KindJudgeCalibrationFailed] = &ev
	case runner.CalibrationOK:
		evs[alerts.KindJudgeCalibrationFailed] = nil
		by := "the judge's calibration"
		if trigger == store.CalibrationManual {
			by = "a manual calibration (evald calibrate)"
		}
		note = fmt.Sprintf("%s passed again: %d of %d graded items disagree (limit %.0f%%)",
			by, res.Disagreements, res.Items-res.Missing, 100*res.MaxDisagreement)
	}
	w, err := d.plan(ctx, suite.Name, judge, evs, note)
	if err != nil {
		return w, fmt.Errorf("plan the calibration alert: %w", err)
	}
	return w, nil
}

package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/evald/evald/alerts"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/store"
)

// FalseAlarmBudget is the default false-page budget of one suite on one
// target: one false page a year (DRIFT.md §1.4).
const FalseAlarmBudget = drift.Year

// driftConfig is the detector configuration of a suite on a schedule. The
// alerting metric is the per-sample pass (0/1), paired by case.
func (d *Daemon) driftConfig(suite *evals.Suite, schedule string) drift.Config {
	return DriftConfig(suite, schedule, d.opts.Now())
}

// DriftConfig is the detector configuration of a suite on a schedule (cron
// spec; "" for none) as of now: its drift.min_effect, and the false-alarm
// budget FalseAlarmBudget in runs of that cadence.
func DriftConfig(suite *evals.Suite, schedule string, now time.Time) drift.Config {
	cfg := drift.Config{Binary: true}
	if suite.MinEffect != nil {
		cfg.MinEffect = *suite.MinEffect
	}
	if s, err := cron.ParseStandard(schedule); err == nil && schedule != "" {
		cfg.ARL0 = drift.ARL0For(interval(s, now), FalseAlarmBudget)
	}
	return cfg.WithDefaults()
}

// scheduleOf returns the cron spec the config gives a suite ("" if none).
func (d *Daemon) scheduleOf(suite string) string {
	p := d.Project()
	for i, s := range p.Suites {
		if s.Name == suite {
			return p.Config.Suites[i].Schedule
		}
	}
	return ""
}

// caseScores collects the valid samples of a run per case, as the drift
// detector wants them: 1 for a passing sample, 0 for a failing one.
type caseScores map[string][]float64

func (c caseScores) add(s runner.Sample) {
	if !s.Valid() {
		return
	}
	v := 0.0
	if s.Pass {
		v = 1
	}
	c[s.CaseID] = append(c[s.CaseID], v)
}

// detect feeds a finished run to the detector of its (suite, target) and
// returns the verdict with the state to persist. The detector's state is
// read here and written by the caller together with the verdict, in one
// transaction, so a crash never leaves them disagreeing.
func (d *Daemon) detect(ctx context.Context, run store.Run, suite *evals.Suite, sum runner.Summary, cases caseScores, shapes caseShapes) (drift.State, drift.Verdict, error) {
	var st drift.State
	raw, lastRun, err := d.store.LoadDriftState(ctx, run.Suite, run.Target)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return st, drift.Verdict{}, fmt.Errorf("load drift state: %w", err)
	default:
		if err := json.Unmarshal(raw, &st); err != nil || st.Schema != drift.StateSchema {
			d.log.Warn("drift state unreadable or of another version; starting a new reference",
				"suite", run.Suite, "target", run.Target, "last_run_id", lastRun, "err", err)
			st = drift.State{}
		}
	}
	in := drift.RunInput{
		RunID:         run.ID,
		At:            run.FinishedAt,
		SuiteVersion:  run.SuiteVersion,
		TargetVersion: run.TargetVersion,
		Completed:     sum.Outcome == runner.Completed,
		Cases:         cases,
		Shapes:        shapes,
		ExpectedCases: len(suite.Cases),
		Models:        sum.Models,
		Fingerprints:  sum.Fingerprints,
		// The judge's identity: a change of it is the scorer changing, not
		// the model under test (drift attributes it so).
		JudgeModels:       sum.JudgeModels,
		JudgeFingerprints: sum.JudgeFingerprints,
	}
	next, v := drift.Update(d.driftConfig(suite, d.scheduleOf(suite.Name)), st, in)
	return next, v, nil
}

// saveVerdict ends the run and writes its verdict, the detector state and
// the alerts they call for, at once.
func (d *Daemon) saveVerdict(ctx context.Context, run store.Run, st drift.State, v drift.Verdict, alerts store.AlertWrites) error {
	stJSON, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode drift state: %w", err)
	}
	vJSON, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode verdict: %w", err)
	}
	if err := d.store.FinishRunOutcome(ctx, run, stJSON, v.Kind, string(vJSON), alerts); err != nil {
		return fmt.Errorf("record end and verdict of run %d: %w", run.ID, err)
	}
	return nil
}

// Accept re-anchors the drift reference of suite on target after a person
// accepted the provider's new behaviour: the next eligible runs build a new
// reference and an open alert closes. Who and why go to the audit log in
// the same transaction as the new state.
func (d *Daemon) Accept(ctx context.Context, suite, target, by, reason string) error {
	if strings.TrimSpace(by) == "" || strings.TrimSpace(reason) == "" {
		return fmt.Errorf("%w: accept needs --by and a non-empty --reason", ErrInvalid)
	}
	if _, _, err := d.suiteAndTarget(suite, target); err != nil {
		return err
	}
	raw, lastRun, err := d.store.LoadDriftState(ctx, suite, target)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s on %s has no drift state yet: nothing to accept", ErrUnknown, suite, target)
	}
	if err != nil {
		return fmt.Errorf("load drift state: %w", err)
	}
	var st drift.State
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("decode drift state of %s on %s: %w", suite, target, err)
	}
	next := drift.Accept(st)
	b, err := json.Marshal(next)
	if err != nil {
		return err
	}
	payload := map[string]any{"suite": suite, "target": target, "reason": strings.TrimSpace(reason), "last_run_id": lastRun,
		"segment": st.Segment.Number, "reference_runs": st.Ref.Runs, "alert_open": st.Alert != nil}
	// The open regression or scorer-changed incident resolves with the
	// acceptance, in its transaction: a crash cannot leave the reference
	// re-anchored with the incident still open.
	note := fmt.Sprintf("new behaviour accepted by %s: %s", strings.TrimSpace(by), strings.TrimSpace(reason))
	w, err := d.plan(ctx, suite, target, map[alerts.Kind]*alerts.Event{alerts.KindRegression: nil, alerts.KindScorerChanged: nil}, note)
	if err != nil {
		return fmt.Errorf("plan the resolution of %s on %s: %w", suite, target, err)
	}
	if _, err := d.store.AcceptDrift(ctx, suite, target, lastRun, b, d.sealer(strings.TrimSpace(by), governance.ActionDriftAccepted, payload), w); err != nil {
		return err
	}
	d.log.Info("new provider behaviour accepted; drift reference re-anchored", "suite", suite, "target", target, "by", by)
	if d.alerting != nil && len(w.Deliveries) > 0 {
		d.alerting.worker.Kick()
	}
	return nil
}

// ErrInvalid is returned for a request that misses what it must state.
var ErrInvalid = errors.New("invalid request")

package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/evald/evald/alerts"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/redact"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/store"
)

// runEvents are the alert conditions one finished run speaks to. A nil
// event clears the condition; a kind absent from the map is not decided by
// this run (an interrupted run says nothing about thresholds).
func (d *Daemon) runEvents(ctx context.Context, run store.Run, suite *evals.Suite, res *Result, v drift.Verdict, st drift.State, gov ThresholdCheck) map[alerts.Kind]*alerts.Event {
	at := run.FinishedAt
	base := func(kind alerts.Kind, summary string) *alerts.Event {
		return &alerts.Event{
			Kind: kind, Suite: run.Suite, Target: run.Target, RunID: run.ID, At: at, Summary: summary,
			Versions: alerts.Versions{Prompt: run.PromptVersion, Suite: run.SuiteVersion, Target: run.TargetVersion, Thresholds: gov.Signed.Hash},
			RunURL:   d.alerting.runURL(run.ID),
		}
	}
	evs := map[alerts.Kind]*alerts.Event{}
	if v.Kind != drift.KindSkipped {
		evs[alerts.KindRegression] = nil
		evs[alerts.KindScorerChanged] = nil
		evs[alerts.KindIdentityChanged] = nil
		evs[alerts.KindBehaviourChanged] = nil
		if bs := v.Behaviour; bs != nil && bs.Changed {
			// Information beside whatever else this run raised: the cases
			// or the answers' shape moved with no page on the mean.
			ev := base(alerts.KindBehaviourChanged, bs.Message)
			ev.Behaviour = bs
			evs[alerts.KindBehaviourChanged] = ev
		}
		switch {
		case v.Kind == drift.KindRegressed || v.Kind == drift.KindProviderChanged:
			ev := alerts.NewRegression(run.Suite, run.Target, v, st.Identity.Last, at)
			ev.RunID, ev.Versions, ev.RunURL = run.ID, base("", "").Versions, d.alerting.runURL(run.ID)
			ev.Flipped = d.flipped(ctx, suite, run.ID, res.BaselineRuns, v)
			evs[alerts.KindRegression] = &ev
		case v.Kind == drift.KindScorerChanged:
			// The judge changed, not the model under test: a page of its
			// own, never a provider regression. Flipped cases show the same
			// kind of answer graded the other way.
			ev := alerts.NewScorerChange(run.Suite, run.Target, v, st.Identity.Last, at)
			ev.RunID, ev.Versions, ev.RunURL = run.ID, base("", "").Versions, d.alerting.runURL(run.ID)
			ev.Flipped = d.flipped(ctx, suite, run.ID, res.BaselineRuns, v)
			evs[alerts.KindScorerChanged] = &ev
		case v.Identity != nil:
			ev := base(alerts.KindIdentityChanged, v.Message)
			ev.Identity = alerts.NewIdentity(v.Identity)
			evs[alerts.KindIdentityChanged] = ev
		}
	}
	switch run.Status {
	case store.StatusErrored:
		ev := base(alerts.KindCouldNotMeasure, fmt.Sprintf("%d of %d samples got no usable answer", res.Summary.Errors, res.Summary.Samples))
		ev.Error = d.redactKeys(runner.ErrorSummary(res.Summary.ErrorsByClass, res.Summary.FirstErrors))
		evs[alerts.KindCouldNotMeasure] = ev
	case store.StatusPassed, store.StatusFailed, store.StatusRegressed:
		evs[alerts.KindCouldNotMeasure] = nil
		evs[alerts.KindThresholdFailure] = nil
		evs[alerts.KindMissedRun] = nil // a run completed
		if len(res.ThresholdFailures) > 0 {
			ev := base(alerts.KindThresholdFailure, "")
			ev.ThresholdFailures = res.ThresholdFailures
			evs[alerts.KindThresholdFailure] = ev
		}
	}
	// One incident, one message: the failed bars of a run whose drift
	// paged are reasons of that page, not a second page ("Regression" and
	// "Threshold failed" for the same drop). The threshold kind is then
	// not decided by this run: an incident of it that is open stays so.
	if tf := evs[alerts.KindThresholdFailure]; tf != nil {
		for _, k := range []alerts.Kind{alerts.KindRegression, alerts.KindScorerChanged} {
			if ev := evs[k]; ev != nil {
				ev.ThresholdFailures = tf.ThresholdFailures
				delete(evs, alerts.KindThresholdFailure)
				break
			}
		}
	}
	evs[alerts.KindThresholdChangePending] = nil
	if gov.Pending() {
		msg := "the suite files change its governed set and nobody signed it off; the signed-off bar stays in force where the files allow. To apply the change: "
		if gov.Kind == governance.Unsigned {
			msg = "the suite has no sign-off in the record (a new or renamed suite): its runs use the files' bar until someone records one: "
		}
		ev := base(alerts.KindThresholdChangePending, msg+governance.SignoffCommand(suite.Name))
		ev.PendingChanges = gov.Changes
		evs[alerts.KindThresholdChangePending] = ev
	}
	return evs
}

// redactKeys removes the targets' keys from text bound for an alert.
func (d *Daemon) redactKeys(text string) string {
	var keys []string
	for _, t := range d.Project().Config.Targets {
		if t.APIKeyEnv != "" {
			keys = append(keys, d.opts.Getenv(t.APIKeyEnv))
		}
	}
	return redact.Text(text, keys...)
}

// flipped returns up to five cases that passed in the reference and fail
// now, each with its input, a passing output from the reference and a
// failing one from this run: the pair is the point of the excerpt, so a
// side's first sample (which may have failed too) is not enough. Cases
// with both a passing reference sample and a failing current one come
// first; the reference runs are read newest first and only until every
// listed case has its passing sample.
func (d *Daemon) flipped(ctx context.Context, suite *evals.Suite, runID int64, baseline []int64, v drift.Verdict) []alerts.FlippedCase {
	if v.Evidence == nil || len(v.Evidence.Pooled.PassToFail) == 0 {
		return nil
	}
	want := map[string]bool{}
	for _, id := range v.Evidence.Pooled.PassToFail {
		want[id] = true
	}
	// pick returns, per wanted case, the first valid output whose pass
	// equals pass, adding to into.
	pick := func(id int64, pass bool, into map[string]string) {
		samples, err := d.store.Samples(ctx, id)
		if err != nil {
			d.log.Warn("read samples for the alert", "run_id", id, "err", err)
			return
		}
		for _, s := range samples {
			if _, ok := into[s.CaseID]; !ok && want[s.CaseID] && s.ErrorClass == "" && s.Pass == pass {
				into[s.CaseID] = s.Output
			}
		}
	}
	cur := map[string]string{}
	pick(runID, false, cur)
	ref := map[string]string{}
	for i := len(baseline) - 1; i >= 0 && len(ref) < len(want); i-- {
		pick(baseline[i], true, ref)
	}
	inputs := map[string]string{}
	for _, c := range suite.Cases {
		for i := len(c.Messages) - 1; i >= 0; i-- {
			if c.Messages[i].Role == "user" {
				inputs[c.ID] = c.Messages[i].Content
				break
			}
		}
	}
	var paired, partial []alerts.FlippedCase
	for _, id := range v.Evidence.Pooled.PassToFail {
		b, okB := ref[id]
		c, okC := cur[id]
		fc := alerts.FlippedCase{ID: id, Input: inputs[id], Baseline: b, Current: c}
		if okB && okC {
			paired = append(paired, fc)
		} else {
			partial = append(partial, fc)
		}
	}
	out := append(paired, partial...)
	return out[:min(len(out), alerts.MaxFlipped)]
}

// plan decides every event of a run and returns what to write with the
// run's verdict.
func (d *Daemon) plan(ctx context.Context, suite, target string, evs map[alerts.Kind]*alerts.Event, note string) (store.AlertWrites, error) {
	return d.planRun(ctx, suite, target, evs, note, 0)
}

// planRun is plan for the events of run runID, which a resolution names as
// the run that cleared the condition (not the last run it was seen in).
func (d *Daemon) planRun(ctx context.Context, suite, target string, evs map[alerts.Kind]*alerts.Event, note string, runID int64) (store.AlertWrites, error) {
	var w store.AlertWrites
	if d.alerting == nil {
		return w, nil
	}
	now := d.opts.Now()
	planner, renotify := d.alerting.plan()
	silenced, err := d.silenced(ctx, suite, target, now)
	if err != nil {
		return w, err
	}
	for _, kind := range alerts.Kinds {
		ev, ok := evs[kind]
		if !ok {
			continue
		}
		open, err := d.openIncident(ctx, suite, target, kind)
		if err != nil {
			return w, err
		}
		if open == nil && ev == nil {
			continue
		}
		dec := alerts.Decide(open, ev, silenced, now, renotify)
		if ev == nil {
			dec.Note, dec.Run = note, runID
		}
		out, err := planner.Plan(open, ev, dec, now)
		if err != nil {
			return w, fmt.Errorf("plan %s alert of %s on %s: %w", kind, suite, target, err)
		}
		if err := appendOutcome(&w, out); err != nil {
			return w, err
		}
	}
	return w, nil
}

func (d *Daemon) silenced(ctx context.Context, suite, target string, now time.Time) (bool, error) {
	// A silence written without its audit entry mutes nothing.
	list, problems, err := d.store.CheckedSilences(ctx, now)
	if err != nil {
		return false, fmt.Errorf("read silences: %w", err)
	}
	for _, p := range problems {
		if p.Row != nil && p.Row.Suite == suite && p.Row.Target == target {
			d.log.Error("silence does not match the audit log: ignored", "suite", suite, "target", target, "problem", p.String())
		}
	}
	for _, s := range list {
		if s.Suite == suite && s.Target == target {
			return true, nil
		}
	}
	return false, nil
}

func (d *Daemon) openIncident(ctx context.Context, suite, target string, kind alerts.Kind) (*alerts.Incident, error) {
	row, err := d.store.OpenIncident(ctx, suite, target, string(kind))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var in alerts.Incident
	if err := json.Unmarshal(row.Data, &in); err != nil {
		return nil, fmt.Errorf("decode incident %s: %w", row.ID, err)
	}
	in.ThreadChannel, in.ThreadTS = row.ThreadChannel, row.ThreadTS
	return &in, nil
}

func appendOutcome(w *store.AlertWrites, out alerts.Outcome) error {
	if in := out.Incident; in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode incident: %w", err)
		}
		w.Incidents = append(w.Incidents, store.Incident{
			ID: in.ID, Suite: in.Key.Suite, Target: in.Key.Target, Kind: string(in.Key.Kind),
			OpenedAt: in.OpenedAt, ResolvedAt: in.ResolvedAt, ThreadChannel: in.ThreadChannel, ThreadTS: in.ThreadTS, Data: data,
		})
	}
	for _, dl := range out.Deliveries {
		w.Deliveries = append(w.Deliveries, store.Delivery{
			ID: dl.ID, Sink: dl.Sink, IncidentID: dl.IncidentID, Action: string(dl.Action), Payload: dl.Payload,
			CreatedAt: dl.CreatedAt, NextAt: dl.NextAt,
		})
	}
	return nil
}

// outbox adapts the store's delivery rows to the alerts worker.
type outbox struct{ st *store.Store }

var _ alerts.Outbox = outbox{}

func (o outbox) Pending(ctx context.Context) ([]alerts.Delivery, error) {
	rows, err := o.st.PendingDeliveries(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]alerts.Delivery, len(rows))
	for i, r := range rows {
		out[i] = alerts.Delivery{
			ID: r.ID, Sink: r.Sink, IncidentID: r.IncidentID, Action: alerts.Action(r.Action), Payload: r.Payload,
			CreatedAt: r.CreatedAt, Attempts: r.Attempts, NextAt: r.NextAt, LastError: r.LastError,
			ThreadChannel: r.ThreadChannel, ThreadTS: r.ThreadTS,
		}
	}
	return out, nil
}

func (o outbox) MarkSent(ctx context.Context, id string, r alerts.Receipt) error {
	receipt, err := json.Marshal(r)
	if err != nil {
		return err
	}
	ch, ts := "", ""
	if r.StartsThread {
		ch, ts = r.Channel, r.TS
	}
	return o.st.MarkDeliverySent(ctx, id, r.At, receipt, ch, ts)
}

func (o outbox) MarkAttempt(ctx context.Context, id string, nextAt time.Time, errText string) error {
	return o.st.MarkDeliveryAttempt(ctx, id, nextAt, errText)
}

func (o outbox) MarkFailed(ctx context.Context, id string, errText string) error {
	return o.st.MarkDeliveryFailed(ctx, id, errText)
}

// runAlerts decides the alert conditions of a finished production run; the
// result is written with the run's verdict.
func (d *Daemon) runAlerts(ctx context.Context, req Request, run store.Run, suite *evals.Suite, res *Result, v drift.Verdict, st drift.State, gov ThresholdCheck) (store.AlertWrites, error) {
	if d.alerting == nil {
		return store.AlertWrites{}, nil
	}
	res.Run = run
	evs := d.runEvents(ctx, run, suite, res, v, st, gov)
	if req.Trigger == TriggerSchedule {
		evs[alerts.KindBudgetExhausted] = nil // it ran, so the budget is not spent
	}
	return d.planRun(ctx, suite.Name, run.Target, evs, "", run.ID)
}

// raise decides one condition outside a run (budget, config reload, an
// accept) and writes it at once. ev nil clears it, with note saying why.
func (d *Daemon) raise(ctx context.Context, suite, target string, kind alerts.Kind, ev *alerts.Event, note string) {
	if d.alerting == nil {
		return
	}
	w, err := d.plan(ctx, suite, target, map[alerts.Kind]*alerts.Event{kind: ev}, note)
	if err == nil {
		err = d.store.SaveAlerts(ctx, w)
	}
	if err != nil {
		d.log.Error("record alert", "kind", kind, "suite", suite, "target", target, "err", err)
		return
	}
	if len(w.Deliveries) > 0 {
		d.alerting.worker.Kick()
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/store"
)

// Plan is the history to generate.
type Plan struct {
	Suites int // one target each ("prod")
	PerDay int // runs a day per suite
	Days   int
	Cases  int // cases per suite (one sample each)
	// End is when the last imported run starts; the dashboard's clock is an
	// hour later.
	End time.Time
	// WithSamples is how many suites get two more runs with samples (the
	// run page's subject and its baseline) after the imported history.
	WithSamples int
	Seed        uint64
}

// DefaultPlan is issue 9's year: 50 suites x 24 runs a day x 365 days x 200 cases.
func DefaultPlan() Plan {
	return Plan{Suites: 50, PerDay: 24, Days: 365, Cases: 200, WithSamples: 2, Seed: 9,
		End: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
}

// Now is the dashboard's clock for a plan.
func (p Plan) Now() time.Time { return p.End.Add(time.Hour) }

// Pairs are the plan's scheduled pairs, as the daemon would list them.
func (p Plan) Pairs() []daemon.Pair {
	out := make([]daemon.Pair, p.Suites)
	for i := range out {
		out[i] = daemon.Pair{Suite: suiteName(i), Target: "prod", Schedule: fmt.Sprintf("@every %s", 24*time.Hour/time.Duration(p.PerDay)), BudgetUSDPerDay: 5}
	}
	return out
}

func suiteName(i int) string { return fmt.Sprintf("suite-%02d", i) }

// suiteSim is the state of one simulated suite on its target.
type suiteSim struct {
	name           string
	base           float64 // pass probability of a case when all is well
	model, fp      string
	modelN         int
	suiteV, target string
	prompt         string
	versionN       int
	s, h           float64 // CUSUM
	segment        int
	refRuns        int
	regressLeft    int     // runs left in an incident
	drop           float64 // the incident's drop
	alertRun       int64
	goodStreak     int // runs near the reference since the alert
	signoffHash    string
}

// Generate writes the plan's history into a new database at path and
// returns what it wrote.
func Generate(ctx context.Context, path string, p Plan, progress func(day int)) (runs int, err error) {
	st, err := store.Open(ctx, path)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(p.Seed, 0x9e3779b97f4a7c15))
	step := 24 * time.Hour / time.Duration(p.PerDay)
	start := p.End.Add(-time.Duration(p.Days)*24*time.Hour + step)
	h := math.Log(drift.ARL0For(step, drift.Year))

	sims := make([]*suiteSim, p.Suites)
	for i := range sims {
		sims[i] = &suiteSim{
			name: suiteName(i), base: 0.86 + 0.1*rng.Float64(), model: "model-2026-01", fp: "fp_a",
			suiteV: hash(fmt.Sprint("suite", i, 0)), prompt: hash(fmt.Sprint("prompt", i, 0)), target: hash("target-prod"),
			h: h, segment: 1,
		}
		sims[i].signoffHash = hash(fmt.Sprint("signoff", i, 0))
		so := store.Signoff{Suite: sims[i].name, SetJSON: []byte(`{"mean_score":0.75,"pass_rate":0.8}`), Hash: sims[i].signoffHash,
			By: governance.ActorBootstrap, Reason: "first sight of the suite: its thresholds are adopted", At: start.Add(-time.Minute)}
		if _, _, err := st.RecordSignoff(ctx, so, seal(so.At, so.By, governance.ActionSuiteAdopted, map[string]any{"suite": so.Suite, "hash": so.Hash})); err != nil {
			return 0, err
		}
	}

	id := int64(0)
	for day := range p.Days {
		var batch []store.Run
		var after []func() error
		for slot := range p.PerDay {
			for i, sim := range sims {
				at := start.Add(time.Duration(day)*24*time.Hour + time.Duration(slot)*step + time.Duration(i)*time.Second*7)
				if at.After(p.End.Add(time.Duration(i) * time.Second * 7)) {
					continue
				}
				id++
				r, extra := sim.run(rng, id, at, p, day, slot, i)
				batch = append(batch, r)
				if extra != nil {
					after = append(after, extra(st, ctx))
				}
			}
		}
		if err := st.ImportRuns(ctx, batch); err != nil {
			return runs, err
		}
		runs += len(batch)
		for _, f := range after {
			if err := f(); err != nil {
				return runs, err
			}
		}
		if progress != nil {
			progress(day)
		}
	}
	for i := range min(p.WithSamples, p.Suites) {
		if err := liveRuns(ctx, st, sims[i], p, rng); err != nil {
			return runs, err
		}
		runs += 2
	}
	return runs, nil
}

func hash(s string) string {
	// Not a real content hash: a stable 64-hex-character stand-in.
	x := uint64(14695981039346656037)
	for _, c := range []byte(s) {
		x ^= uint64(c)
		x *= 1099511628211
	}
	return fmt.Sprintf("%016x%016x%016x%016x", x, x*31, x*37, x*41)
}

// seal seals an audit entry with the governance package's rules.
func seal(at time.Time, actor, action string, payload any) store.SealFunc {
	return func(prev *store.AuditEntry) (store.AuditEntry, error) {
		var pe *governance.Entry
		if prev != nil {
			pe = &governance.Entry{Seq: prev.Seq, At: prev.At, Actor: prev.Actor, Action: prev.Action, Payload: prev.Payload, PrevHash: prev.PrevHash, Hash: prev.Hash}
		}
		e, err := governance.Seal(pe, at, actor, action, payload)
		if err != nil {
			return store.AuditEntry{}, err
		}
		return store.AuditEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Payload: e.Payload, PrevHash: e.PrevHash, Hash: e.Hash}, nil
	}
}

// run simulates one run of the suite; extra, when not nil, records the
// governance actions that go with it (after the run is imported).
func (sim *suiteSim) run(rng *rand.Rand, id int64, at time.Time, p Plan, day, slot, i int) (store.Run, func(*store.Store, context.Context) func() error) {
	var extra func(*store.Store, context.Context) func() error
	v := drift.Verdict{RunID: id, Segment: sim.segment, H: sim.h, Test: "cmh-exact-midp"}
	newSegment, identity := false, false
	if slot == 0 && day > 0 && (day+i*11)%97 == 0 {
		// Our own change: a new prompt version, signed off half the time.
		sim.versionN++
		sim.prompt = hash(fmt.Sprint("prompt", i, sim.versionN))
		sim.suiteV = hash(fmt.Sprint("suite", i, sim.versionN))
		sim.segment++
		sim.refRuns, sim.s, sim.regressLeft, sim.alertRun = 0, 0, 0, 0
		newSegment = true
		if sim.versionN%2 == 1 {
			prev := sim.signoffHash
			sim.signoffHash = hash(fmt.Sprint("signoff", i, sim.versionN))
			so := store.Signoff{Suite: sim.name, SetJSON: []byte(`{"mean_score":0.75,"pass_rate":0.82}`), Hash: sim.signoffHash,
				By: "alice", Reason: "tighter pass bar after the prompt rewrite", At: at.Add(-time.Minute), PrevHash: prev}
			extra = func(st *store.Store, ctx context.Context) func() error {
				return func() error {
					_, _, err := st.RecordSignoff(ctx, so, seal(so.At, so.By, governance.ActionThresholdsSignedOff, map[string]any{"suite": so.Suite, "hash": so.Hash, "prev_hash": so.PrevHash, "reason": so.Reason}))
					return err
				}
			}
		}
	}
	if slot == 5 && day > 0 && (day+i*7)%61 == 0 {
		// The provider ships a new model behind the same name; a third of
		// the time it is worse.
		sim.modelN++
		sim.model = fmt.Sprintf("model-2026-%02d", 1+sim.modelN%12)
		sim.fp = fmt.Sprintf("fp_%c", 'a'+rune(sim.modelN%26))
		identity = true
		if rng.IntN(3) == 0 {
			sim.regressLeft, sim.drop = 24+rng.IntN(48), 0.12+0.1*rng.Float64()
		}
	}
	pass := sim.base
	if sim.regressLeft > 0 {
		pass -= sim.drop
	}
	status := store.StatusPassed
	errored := rng.IntN(200) == 0
	passed := 0
	var failed []daemon.CaseFailure
	if !errored {
		for c := range p.Cases {
			if rng.Float64() < pass {
				passed++
			} else {
				failed = append(failed, daemon.CaseFailure{ID: fmt.Sprintf("case-%03d", c), Samples: 1,
					Reasons: []string{fmt.Sprintf("expected output to contain (ignoring case) \"answer %d\"", c)}})
			}
		}
	}
	r := store.Run{
		ID: id, Suite: sim.name, Target: "prod", Trigger: daemon.TriggerSchedule, StartedAt: at, FinishedAt: at.Add(40 * time.Second),
		SuiteVersion: sim.suiteV, PromptVersion: sim.prompt, TargetVersion: sim.target,
		ThresholdsJSON: `{"pass_rate":0.8,"mean_score":0.75}`, Cases: p.Cases, Samples: p.Cases,
		PromptTokens: int64(180 * p.Cases), CompletionTokens: int64(40 * p.Cases), CostUSD: 0.0000318 * float64(p.Cases), DurationMS: 40000,
	}
	d := daemon.Detail{Models: map[string]int{sim.model: p.Cases}, Fingerprints: map[string]int{sim.fp: p.Cases}, ErrorsByClass: map[string]int{},
		ValidCases: p.Cases, FailedCases: failed, SignoffHash: sim.signoffHash}
	switch {
	case errored:
		status = store.StatusErrored
		r.Errors, r.ErrorText = p.Cases, "endpoint errors beyond the run's error budget"
		d.ErrorsByClass = map[string]int{"server_error": p.Cases}
		d.ValidCases, d.Models, d.Fingerprints = 0, nil, nil
		v.Kind, v.Reason, v.Message, v.S = drift.KindSkipped, "run not completed", "skipped: run not completed; S unchanged", sim.s
	default:
		rate := float64(passed) / float64(p.Cases)
		score := 0.5 + rate/2
		r.PassRate, r.MeanScore = &rate, &score
		if rate < 0.8 {
			status = store.StatusFailed
			d.ThresholdFailures = append(d.ThresholdFailures, thresholdFailure(rate))
		}
		dd := rate - sim.base
		v.D, v.SETot, v.SECur, v.SEBase, v.Phi, v.N = dd, 0.02, 0.019, 0.006, 1, p.Cases
		v.P = math.Max(1e-12, math.Exp(-math.Abs(dd)*40))
		v.RefRuns = min(sim.refRuns, 10)
		switch {
		case newSegment:
			v.Kind, v.Message = drift.KindNewSegment, fmt.Sprintf("segment %d: the suite or target version changed, so no drift alarm; the reference restarts", sim.segment)
		case sim.refRuns < 5:
			v.Kind, v.Message = drift.KindWarmingUp, fmt.Sprintf("reference has %d of 5 runs", sim.refRuns)
		case sim.alertRun > 0 && sim.regressLeft == 0 && dd > -0.025:
			// The detector resolves an alert after three good runs.
			sim.goodStreak++
			v.Kind, v.AlertRun, v.ChangeRun = drift.KindRegressed, sim.alertRun, sim.alertRun
			v.Message = fmt.Sprintf("alert of run %d still open; S held at %.2f", sim.alertRun, sim.s)
			status = store.StatusRegressed
			if sim.goodStreak >= 3 {
				v.Kind, v.Message = drift.KindRecovered, fmt.Sprintf("alert of run %d closed: 3 consecutive runs within d_min/2 of the reference", sim.alertRun)
				sim.alertRun, sim.s, sim.goodStreak = 0, 0, 0
				status = store.StatusPassed
			}
		case sim.alertRun > 0:
			sim.goodStreak = 0
			v.Kind, v.AlertRun, v.ChangeRun = drift.KindRegressed, sim.alertRun, sim.alertRun
			v.Message = fmt.Sprintf("alert of run %d still open (provider (identity changed)); S held at %.2f", sim.alertRun, sim.s)
			status = store.StatusRegressed
		default:
			v.G = math.Max(-1, -dd*60-0.8)
			sim.s = math.Max(0, sim.s+v.G)
			v.Kind, v.Message = drift.KindOK, fmt.Sprintf("D = %+.1f pp (SE 2.0 pp), S = %.2f of %.2f", 100*dd, sim.s, sim.h)
			if sim.s >= sim.h {
				sim.alertRun = id
				v.Kind, v.Page, v.AlertRun, v.ChangeRun = drift.KindRegressed, true, id, id
				v.Attribution = "provider (identity changed)"
				v.Message = fmt.Sprintf("pass rate %+.1f pp since run %d; %s", 100*dd, id, v.Attribution)
				v.Evidence = &drift.Evidence{Label: drift.EvidenceLabel, FromRun: id, Runs: 1, RefRuns: 10,
					Pooled:   drift.Comparison{Test: "cmh-exact-midp", N: p.Cases, Reference: sim.base, Current: rate, Delta: dd, SE: 0.02, CILow: dd - 0.04, CIHigh: dd + 0.04, PDrop: 1e-9, NPassToFail: len(failed)},
					Describe: fmt.Sprintf("1 run from run %d pooled against 10 reference runs (cmh-exact-midp)", id)}
				status = store.StatusRegressed
			}
		}
		v.S = sim.s
		sim.refRuns++
	}
	if identity && !errored {
		v.Identity = &drift.IdentityChange{Run: id, At: at, Changes: []drift.SourceChange{{Source: "target", Reason: fmt.Sprintf("new model %q", sim.model),
			After: drift.Distribution{Models: map[string]int{sim.model: p.Cases}}}}}
		if v.Kind == drift.KindOK {
			v.Kind, v.Message = drift.KindIdentityChanged, fmt.Sprintf("provider, new model %q: checking behaviour over the next 6 runs", sim.model)
		}
	}
	if sim.regressLeft > 0 {
		sim.regressLeft--
		if sim.regressLeft == 0 && sim.alertRun > 0 && rng.IntN(2) == 0 {
			// Half the time someone accepts the new behaviour once it is
			// understood; else the provider fixes it and the alert recovers.
			sim.alertRun, sim.s, sim.refRuns, sim.goodStreak = 0, 0, 0, 0
			name, acceptAt := sim.name, at.Add(2*time.Minute)
			prevExtra := extra
			extra = func(st *store.Store, ctx context.Context) func() error {
				var first func() error
				if prevExtra != nil {
					first = prevExtra(st, ctx)
				}
				return func() error {
					if first != nil {
						if err := first(); err != nil {
							return err
						}
					}
					_, err := st.AppendAudit(ctx, seal(acceptAt, "bob", governance.ActionDriftAccepted,
						map[string]any{"suite": name, "target": "prod", "reason": "the new model's answers were checked and are fine"}))
					return err
				}
			}
		}
	}
	r.Status = status
	vj, _ := json.Marshal(v)
	dj, _ := json.Marshal(d)
	r.Verdict, r.VerdictDetail, r.Detail = v.Kind, string(vj), string(dj)
	return r, extra
}

func thresholdFailure(rate float64) evals.ThresholdFailure {
	return evals.ThresholdFailure{Metric: "pass_rate", Want: 0.8, Got: rate}
}

// liveRuns records two runs with samples through the store's live API:
// a good one and, after it, one where some cases flipped.
func liveRuns(ctx context.Context, st *store.Store, sim *suiteSim, p Plan, rng *rand.Rand) error {
	for k, at := range []time.Time{p.End.Add(20 * time.Minute), p.End.Add(40 * time.Minute)} {
		id, err := st.CreateRun(ctx, store.Run{Suite: sim.name, Target: "prod", Trigger: daemon.TriggerManual, StartedAt: at,
			SuiteVersion: sim.suiteV, PromptVersion: sim.prompt, TargetVersion: sim.target, ThresholdsJSON: `{"pass_rate":0.8,"mean_score":0.75}`, Cases: p.Cases})
		if err != nil {
			return err
		}
		var samples []store.Sample
		passed := 0
		for c := range p.Cases {
			ok := rng.Float64() < sim.base
			if k == 1 && c%10 == 3 {
				ok = false // the second run loses a tenth of the cases
			}
			reason := ""
			score := 1.0
			if ok {
				passed++
			} else {
				reason, score = fmt.Sprintf("expected output to contain (ignoring case) \"answer %d\"", c), 0
			}
			out := fmt.Sprintf(`{"answer":"Here is the answer %d you asked for, with a few more words to make it look like a real reply."}`, c)
			if !ok {
				out = `{"answer":"Sorry, I can only help with orders. <script>alert(1)</script>"}`
			}
			samples = append(samples, store.Sample{CaseID: fmt.Sprintf("case-%03d", c), CaseIndex: c, Output: out, FinishReason: "stop",
				LatencyMS: 300 + 200*rng.Float64(), PromptTokens: 180, CompletionTokens: 40, Model: sim.model, Fingerprint: sim.fp, Attempts: 1,
				Pass: ok, Score: score, Results: []store.AssertionResult{
					{Type: "icontains", Pass: ok, Score: score, Weight: 1, Reason: reason},
					{Type: "not-icontains", Pass: true, Score: 1, Weight: 1},
				}})
		}
		if err := st.AddSamples(ctx, id, samples); err != nil {
			return err
		}
		rate := float64(passed) / float64(p.Cases)
		score := 0.5 + rate/2
		status := store.StatusPassed
		if rate < 0.8 {
			status = store.StatusFailed
		}
		d, _ := json.Marshal(daemon.Detail{Models: map[string]int{sim.model: p.Cases}, Fingerprints: map[string]int{sim.fp: p.Cases}, ValidCases: p.Cases})
		if err := st.FinishRun(ctx, store.Run{ID: id, Status: status, FinishedAt: at.Add(40 * time.Second), ThresholdsJSON: `{"pass_rate":0.8,"mean_score":0.75}`,
			Cases: p.Cases, Samples: p.Cases, PassRate: &rate, MeanScore: &score, CostUSD: 0.0064, DurationMS: 40000, Detail: string(d)}); err != nil {
			return err
		}
		v, _ := json.Marshal(drift.Verdict{RunID: id, Kind: drift.KindOK, Message: "ok", S: 0, H: sim.h, Segment: sim.segment})
		if err := st.SaveRunVerdict(ctx, id, sim.name, "prod", []byte("{}"), drift.KindOK, string(v)); err != nil {
			return err
		}
	}
	return nil
}

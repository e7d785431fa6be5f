package drift

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/evald/evald/internal/plural"
)

// Verdict kinds, one per run.
const (
	KindWarmingUp       = "warming_up"       // reference has fewer than BMin runs
	KindOK              = "ok"               // compared, no alarm
	KindRegressed       = "regressed"        // CUSUM alarm (Page on the first run, then held)
	KindIdentityChanged = "identity_changed" // provider identity changed; info, no page
	KindProviderChanged = "provider_changed" // known-change-point check rejected: page
	KindScorerChanged   = "scorer_changed"   // an alarm attributed to the judge's identity alone: page
	KindNewSegment      = "new_segment"      // suite or target version changed; see Gate
	KindSkipped         = "skipped"          // ineligible run: not completed or < 90 % of cases
	KindRecovered       = "recovered"        // open alert resolved
	// KindBehaviourChanged: the behaviour signals moved (cases both ways,
	// answer shape or latency) with no alarm on the mean; info, no page.
	KindBehaviourChanged = "behaviour_changed"
)

// Words names a verdict kind for people: the one vocabulary of
// docs/drift.md "Verdicts", shown by every surface (CLI, dashboard chip,
// Slack, webhook) beside Verdict.Message, which never repeats it.
func Words(kind string) string {
	if w, ok := verdictWords[kind]; ok {
		return w
	}
	return kind
}

var verdictWords = map[string]string{
	KindWarmingUp:        "warming up",
	KindOK:               "ok",
	KindRegressed:        "regressed",
	KindIdentityChanged:  "identity changed",
	KindProviderChanged:  "provider changed behaviour",
	KindScorerChanged:    "scorer changed grading",
	KindNewSegment:       "new segment",
	KindSkipped:          "skipped",
	KindRecovered:        "recovered",
	KindBehaviourChanged: "behaviour changed",
}

// What raised an alarm (Verdict.Trigger).
const (
	TriggerCUSUM         = "cusum"          // the CUSUM reached H
	TriggerSingleRun     = "single_run"     // one run's p of a drop ≥ d_min fell below 1/ARL0
	TriggerExcursion     = "excursion"      // the same p of the CUSUM excursion's runs pooled
	TriggerIdentityCheck = "identity_check" // the known-change-point check after an identity change
)

// EvidenceLabel marks the p-values attached to an alert: the run was
// selected by the detector, so they describe, they do not test.
const EvidenceLabel = "descriptive (post-detection)"

// RunInput is one finished run as the detector needs it.
type RunInput struct {
	RunID int64
	// At is when the run finished (passed in; drift has no clock). It is
	// only recorded, never used to decide.
	At time.Time
	// SuiteVersion and TargetVersion define the segment.
	SuiteVersion, TargetVersion string
	// Completed is true for status completed (passed/failed), false for
	// errored or interrupted runs.
	Completed bool
	// Cases maps a case id to its valid sample scores: errors removed
	// (missing, never "fail"), 0/1 for a binary metric.
	Cases map[string][]float64
	// ExpectedCases is the number of cases in the suite, for the 90 %
	// eligibility rule (0: len(Cases)).
	ExpectedCases int
	// Models and Fingerprints count the returned `model` and
	// `system_fingerprint` values per response.
	Models       map[string]int
	Fingerprints map[string]int
	// JudgeModels and JudgeFingerprints do the same for the LLM judge of
	// model-graded assertions (nil when there is none).
	JudgeModels       map[string]int
	JudgeFingerprints map[string]int
	// Tags maps a case id to its tags, for the per-tag breakdown of the
	// evidence (optional).
	Tags map[string][]string
	// Shapes describe each case's valid answers beside their scores
	// (prompt tokens reported, length, answer hash, refusal, latency), for
	// the usage signature (usage.go) and the behaviour signals
	// (behaviour.go); optional.
	Shapes map[string][]SampleShape
}

// Verdict is the detector's decision on one run.
type Verdict struct {
	RunID int64  `json:"run_id"`
	Kind  string `json:"kind"`
	// Page is true on the one run that opens an alert.
	Page bool `json:"page"`
	// Message is one human sentence for logs, Slack and the dashboard. It
	// does not repeat Kind, which every surface shows beside it ("ok: ok:
	// …" read twice).
	Message string `json:"message"`
	// Reason explains a skipped run.
	Reason  string `json:"reason,omitempty"`
	Segment int    `json:"segment"`
	// RefRuns is B, the reference runs this run was compared with.
	RefRuns int `json:"ref_runs"`
	// D is the paired change of this run against the reference (current
	// minus reference; pass rate or mean score), with its case-clustered
	// standard errors: SETot, and its parts due to this run (SECur,
	// inflated by √Phi) and to the reference (SEBase).
	D     float64 `json:"d"`
	SETot float64 `json:"se_tot"`
	// DStat is the run statistic the CUSUM and the identity check consume:
	// D itself for continuous scores; for 0/1 scores D re-expressed
	// through this run's exact p-value, Φ⁻¹(P)·√(SECur²/φ + SEBase²)
	// (equal to D up to the skew of small binary suites).
	DStat  float64 `json:"d_stat"`
	SECur  float64 `json:"se_cur"`
	SEBase float64 `json:"se_base"`
	// Phi is the over-dispersion φ applied to SECur; PhiMeasured is the
	// φ measured on the reference runs, applied only when it is
	// significantly above 1 (see phiOf).
	Phi         float64 `json:"phi"`
	PhiMeasured float64 `json:"phi_measured"`
	// P is this run's one-sided p-value of a drop against the reference
	// (CMH/McNemar mid-p for binary scores, paired t otherwise), Test the
	// test used. Descriptive: the alarms are the CUSUM and the single-run
	// test below.
	P    float64 `json:"p"`
	Test string  `json:"test,omitempty"`
	// PMinEffect is this run's one-sided p-value of a drop of at least
	// d_min, Φ((DStat + d_min)/√(SECur² + SEBase²)); below Alpha1 = 1/ARL0
	// it pages at once (the single-run alarm beside the CUSUM, §6).
	PMinEffect float64 `json:"p_min_effect,omitempty"`
	// PExcursion is the same p-value for the runs of the CUSUM's current
	// excursion pooled (from its second run on); below Alpha1 it pages
	// too (TriggerExcursion).
	PExcursion float64 `json:"p_excursion,omitempty"`
	Alpha1     float64 `json:"alpha1,omitempty"`
	// PConsistent is the one-sided p of a drop with run-level noise
	// counted, Φ(DStat/√(SECur² + SEBase²)) (equal to P for 0/1 scores
	// when φ = 1); a run joins a growing reference only when it is above
	// ConsistentP (docs/drift.md §6).
	PConsistent float64 `json:"p_consistent,omitempty"`
	// CILow and CIHigh bound the 95 % interval of D from the same
	// inference as P (see Comparison.CILow), so that one can be shown
	// beside the other.
	CILow  float64 `json:"ci_low,omitempty"`
	CIHigh float64 `json:"ci_high,omitempty"`
	// Trigger says what raised the alarm on the paging run (TriggerCUSUM,
	// TriggerSingleRun or TriggerIdentityCheck).
	Trigger string `json:"trigger,omitempty"`
	// RefHeld is true when the reference is still growing but holds: a run
	// inconsistent with it came, and growth waits for ResumeAfter
	// consecutive consistent runs (§6). HeldSince is that run.
	RefHeld   bool  `json:"reference_held,omitempty"`
	HeldSince int64 `json:"held_since,omitempty"`
	// G is the CUSUM increment, S the statistic after this run, H the
	// threshold ln(ARL0).
	G float64 `json:"g"`
	S float64 `json:"s"`
	H float64 `json:"h"`
	// N counts the paired cases, DroppedCases those on one side only.
	N            int `json:"n"`
	DroppedCases int `json:"dropped_cases"`
	// ChangeRun is τ̂ as a run id: the first run after the last S = 0
	// (0 when S = 0), or the open alert's change run.
	ChangeRun int64 `json:"change_run,omitempty"`
	// AlertRun is the run that opened the alert still open (0: none).
	AlertRun int64 `json:"alert_run,omitempty"`
	// Evidence is attached to the paging run.
	Evidence *Evidence `json:"evidence,omitempty"`
	// Attribution names who changed: "provider (identity changed at run
	// N)", "scorer (judge identity changed at run N)" or
	// "silent provider change or provider incident".
	Attribution string `json:"attribution,omitempty"`
	// Identity is set on the run where the provider identity changed.
	Identity *IdentityChange `json:"identity,omitempty"`
	// Check reports the known-change-point check while it runs and on the
	// run it concludes.
	Check *CheckStatus `json:"check,omitempty"`
	// Behaviour is the behaviour signals' look at this run (behaviour.go):
	// nil while their reference fills; Changed on the run that raises a
	// behaviour_changed notice.
	Behaviour *BehaviourStatus `json:"behaviour,omitempty"`
	// Gate is the two-sided paired comparison of the first run of a new
	// segment with the previous segment's reference.
	Gate *Comparison `json:"gate,omitempty"`
}

// Evidence is attached to an alert. It pools the runs since τ̂ (or since
// the identity change) against the reference.
type Evidence struct {
	Label   string `json:"label"` // EvidenceLabel
	FromRun int64  `json:"from_run"`
	// ChangeLow and ChangeHigh bound the runs where the change may have
	// begun when the estimate is uncertain (0: FromRun is clear).
	ChangeLow  int64 `json:"change_low,omitempty"`
	ChangeHigh int64 `json:"change_high,omitempty"`
	Runs       int   `json:"runs"`
	RefRuns    int   `json:"ref_runs"`
	// Reference lists the reference runs the alert was measured against,
	// with when each finished, so that a reader can see that no run of the
	// change is in it.
	Reference []RefRun      `json:"reference,omitempty"`
	Pooled    Comparison    `json:"pooled"`
	ByTag     []TagEvidence `json:"by_tag,omitempty"`
	Describe  string        `json:"describe"`
}

// TagEvidence is the drill-down of one tag, with Benjamini–Hochberg
// q-values over all tags.
type TagEvidence struct {
	Tag   string  `json:"tag"`
	N     int     `json:"n"`
	Delta float64 `json:"delta"`
	PDrop float64 `json:"p_drop"`
	Q     float64 `json:"q"`
}

// Update feeds one finished run to the detector and returns the new state
// and the verdict on the run. It is pure: st is not modified, and the same
// inputs always give the same outputs. Call it for every run of the
// (suite, target, metric) in order, including errored ones (they are
// skipped and leave S alone), and persist the returned state.
func Update(cfg Config, st State, in RunInput) (State, Verdict) {
	cfg = cfg.WithDefaults()
	st = st.clone()
	st.Schema = StateSchema
	st.Counters.Runs++
	v := Verdict{RunID: in.RunID, H: math.Log(cfg.ARL0), Alpha1: 1 / cfg.ARL0, Segment: st.Segment.Number, S: st.S}
	v.Phi, v.PhiMeasured = phiOf(cfg, st.Ref)

	// Eligibility: completed, and ≥ 90 % of the suite's cases have a sample.
	valid := 0
	for _, xs := range in.Cases {
		if _, n := sumValid(xs); n > 0 {
			valid++
		}
	}
	expected := in.ExpectedCases
	if expected <= 0 {
		expected = len(in.Cases)
	}
	if !in.Completed || valid == 0 || float64(valid) < 0.9*float64(expected) {
		st.Counters.Skipped++
		v.Kind = KindSkipped
		v.Reason = "run not completed"
		if in.Completed {
			v.Reason = fmt.Sprintf("only %d of %d cases have a valid sample (90%% needed)", valid, expected)
		}
		v.Message = v.Reason + "; S unchanged"
		v.RefRuns = st.RefRuns()
		v.fillAlert(st)
		return st, v
	}
	st.Counters.Eligible++
	seq := st.Counters.Eligible

	// Segments: a new suite or target version starts over.
	newSegment := false
	if st.Segment.Number == 0 || st.Segment.SuiteVersion != in.SuiteVersion || st.Segment.TargetVersion != in.TargetVersion {
		if st.Segment.Number > 0 {
			newSegment = true
			if len(st.Ref.Runs) > 0 {
				g := compareAgg(st.Ref.Cases, st.Ref.scores(), aggregateSq(in.Cases, st.Ref.Cases), cfg.Binary, nil)
				g.Dropped += valid - g.N // current cases the old reference never had
				v.Gate = &g
			}
		}
		st = State{
			Schema:   StateSchema,
			Segment:  Segment{Number: st.Segment.Number + 1, SuiteVersion: in.SuiteVersion, TargetVersion: in.TargetVersion, StartRun: in.RunID},
			Counters: st.Counters,
		}
		v.Segment = st.Segment.Number
	}
	st.Segment.Runs++

	// Identity. A change while the reference is too small to test against
	// re-anchors the reference on the new identity.
	change := detectIdentity(&st.Identity, in, seq)
	if change != nil && len(st.Ref.Runs) < cfg.BMin && len(st.Ref.Runs) > 0 {
		st.Ref = Reference{}
		st.S, st.Excursion, st.Growth = 0, nil, Growth{}
		st.Counters.Reanchors++
	}
	b := len(st.Ref.Runs)
	v.RefRuns = b
	v.Phi, v.PhiMeasured = phiOf(cfg, st.Ref)

	cur := aggregateRun(in.Cases, st.Ref.Cases, cfg.Binary)
	var ps pairStats
	if b > 0 {
		ps = pairedStats(st.Ref.scores(), cur, cfg.Binary, v.Phi, nil, false)
		v.D, v.DStat, v.SETot, v.SECur, v.SEBase = ps.D, ps.DStat, ps.SETot, ps.SECur, ps.SEBase
		v.P, v.Test, v.N = ps.PDrop, ps.Test, ps.N
		v.DroppedCases = ps.Dropped + valid - paired(cur.Count)
		v.CILow, v.CIHigh = agreeingInterval(ps.D, ps.SETot, ps.N, ps.Test, ps.PTwo, ps.PDrop)
		v.PConsistent, v.PMinEffect = ps.PDrop, 1
		if se := math.Hypot(ps.SECur, ps.SEBase); ps.N > 0 && se > 0 {
			v.PMinEffect = NormalCDF((ps.DStat + cfg.MinEffect) / se)
			// With run-level noise (φ > 1) a run is judged against the
			// noise the reference runs show among themselves.
			v.PConsistent = NormalCDF(ps.DStat / se)
		}
	}

	if change != nil {
		st.Identity.Last = change
		v.Identity = change
		if b >= cfg.BMin && st.Alert == nil {
			st.Identity.Check = &Check{
				ChangeRun: change.Run, Source: change.Source(),
				Pool: Pool{FirstRun: change.Run, FirstSeq: seq},
			}
		}
	}

	var alarmKind, trigger string
	var evidence *Pool
	switch {
	case b > 0 && st.Alert != nil:
		// Hold: S frozen, no new page; resolve after three good runs.
		if ps.D > -cfg.MinEffect/2 {
			st.Alert.GoodStreak++
		} else {
			st.Alert.GoodStreak = 0
		}
		if st.Alert.GoodStreak >= 3 {
			v.Kind = KindRecovered
			v.Message = fmt.Sprintf("alert of run %d closed: %d consecutive runs within d_min/2 of the reference",
				st.Alert.Run, st.Alert.GoodStreak)
			v.AlertRun = st.Alert.Run
			st.Alert, st.S, st.Excursion = nil, 0, nil
		}
	case b > 0:
		// The CUSUM runs from the first reference run: its guard
		// z_g·SE_base carries a small reference's uncertainty (SE_base =
		// SE_cur at B = 1), and a change during warm-up must hold the
		// reference's growth (S > 0) and page rather than leave the
		// detector waiting for B_min runs that will never agree with it.
		{
			st.S, v.G = LLRStep(st.S, ps.DStat, ps.SECur, ps.SEBase, cfg.MinEffect, cfg.ZGuard)
			if st.S > 0 {
				if st.Excursion == nil {
					st.Excursion = &Pool{FirstRun: in.RunID, FirstSeq: seq}
				}
				st.Excursion.record(in.RunID, ps.DStat, ps.SECur, cur)
			} else {
				st.Excursion = nil
			}
			if ck := st.Identity.Check; ck != nil && b >= cfg.BMin {
				cst := ck.look(cfg, ps.DStat, ps.SECur, ps.SEBase, cur)
				v.Check = &cst
				switch cst.Outcome {
				case CheckBehaviourChanged:
					alarmKind, evidence, trigger = KindProviderChanged, &ck.Pool, TriggerIdentityCheck
				case CheckNoChange:
					st.Identity.Check = nil
				}
			}
			if st.S >= v.H {
				alarmKind, evidence, trigger = KindRegressed, st.Excursion, TriggerCUSUM
			}
		}
		// The single-run alarm (§6) works from the first reference run:
		// its p-value carries the reference's own uncertainty (SEBase), so
		// it needs no B_min, and a catastrophic change pages on its first
		// run instead of after H/g runs of the CUSUM.
		if alarmKind == "" && v.PMinEffect < v.Alpha1 {
			alarmKind, evidence, trigger = KindRegressed, st.Excursion, TriggerSingleRun
			if evidence == nil {
				evidence = &Pool{FirstRun: in.RunID, FirstSeq: seq}
				evidence.add(cur)
			}
		}
		// The same test on the runs of the CUSUM's excursion pooled (one
		// more look per run, at the same α_1): two runs of a large change
		// against a one-run reference share its error once, where the
		// CUSUM's guard takes z_g·SE_base off each (bench/drift S9, N = 24,
		// d = 40 pp: paged within 2 runs 0.62 → 0.72 at t0 = 2, 0.93 →
		// 0.985 at t0 = 5; docs/drift.md "As built" (6)).
		if alarmKind == "" && st.Excursion != nil && st.Excursion.Runs >= 2 {
			xs := pairedStats(st.Ref.scores(), st.Excursion.scores(), cfg.Binary, v.Phi, nil, false)
			if se := math.Hypot(xs.SECur, xs.SEBase); xs.N > 0 && se > 0 {
				v.PExcursion = NormalCDF((xs.DStat + cfg.MinEffect) / se)
				if v.PExcursion < v.Alpha1 {
					alarmKind, evidence, trigger = KindRegressed, st.Excursion, TriggerExcursion
				}
			}
		}
	}
	v.S = st.S

	var cp ChangePoint
	if alarmKind != "" && evidence == st.Excursion {
		// The excursion may have begun with a run or two of noise before
		// the change: pool from the estimated change point (changepoint.go).
		cp = st.Excursion.changePoint()
		evidence = st.Excursion.since(cp)
	}
	if alarmKind != "" {
		attr, changeRun, source := AttributionSilent, evidence.FirstRun, ""
		if ck := st.Identity.Check; ck != nil {
			attr, changeRun, source = identityAttribution(ck.Source, ck.ChangeRun), ck.ChangeRun, ck.Source
			// The evidence pools the runs since the identity change, so
			// the page names the run the identity change was announced at.
			evidence = &ck.Pool
		} else if last := st.Identity.Last; last != nil && last.Seq >= evidence.FirstSeq-cfg.M {
			attr, changeRun, source = identityAttribution(last.Source(), last.Run), last.Run, last.Source()
		}
		// One kind per cause, whichever alarm fired first (docs/drift.md
		// "Verdicts"): the provider's identity changed, the judge's did, or
		// neither (a silent change).
		switch source {
		case "judge":
			alarmKind = KindScorerChanged
		case "":
			alarmKind = KindRegressed
		default:
			alarmKind = KindProviderChanged
		}
		st.Alert = &Alert{Kind: alarmKind, Run: in.RunID, At: in.At, ChangeRun: changeRun, Attribution: attr}
		st.Identity.Check = nil
		st.Counters.Alerts++
		v.Kind, v.Page, v.Attribution, v.Trigger = alarmKind, true, attr, trigger
		v.Evidence = buildEvidence(cfg, st.Ref, evidence, in.Tags)
		if cp.Uncertain() && v.Evidence.FromRun == cp.Run {
			v.Evidence.ChangeLow, v.Evidence.ChangeHigh = cp.Low, cp.High
		}
		v.Message = alarmMessage(cfg, v)
	}

	// The behaviour signals (behaviour.go) restart with the reference and
	// stay quiet while a page is raised or open: the page says more.
	v.Behaviour = behave(cfg, &st.Behaviour, in, b == 0, v.Page || st.Alert != nil)

	growReference(cfg, &st, in, cur, b, v.PConsistent)
	v.RefHeld, v.HeldSince = st.Growth.Held, st.Growth.Since
	updateBaselines(&st.Identity, in, change, cfg.BMax)

	v.fillAlert(st)
	if v.Kind == "" {
		v.Kind, v.Message = quietKind(cfg, st, v, newSegment, b)
		if bs := v.Behaviour; bs != nil && bs.Changed && v.Kind == KindOK {
			v.Kind, v.Message = KindBehaviourChanged, bs.Message
		}
	}
	return st, v
}

// Growth of a still-growing reference (docs/drift.md §6).
const (
	// ConsistentP: a run joins a growing reference only when its one-sided
	// p-value of a drop against it is above ConsistentP (and S = 0 after
	// it).
	ConsistentP = 0.01
	// ResumeAfter consecutive consistent runs lift a hold on growth.
	ResumeAfter = 3
)

// growReference lets runs join the anchored reference while it grows
// (until BMax runs) only when they are consistent with it (docs/drift.md
// §6): a run's one-sided p of a drop above ConsistentP, S = 0 after it and
// no alert open. Before §6 every eligible run joined, so a change during
// warm-up became part of the reference it should have been measured
// against, and D shrank run by run.
//
// Below B_min a run with p > ConsistentP joins at once, whatever S. From
// B_min on a consistent run joins once it opens a streak of ResumeAfter
// consecutive consistent runs. A run with S > 0 after it holds
// growth (it still feeds the CUSUM) until such a streak, and then the runs
// held since join after all, because they turned out to be an excursion
// of the noise. An alarm (or an open alert) discards the runs
// waiting. A run with p ≤ ConsistentP waits the same way (at any B): until
// session 5 it never joined, which kept the low tail of the noise out of
// the reference, biased it upwards and φ̂ downwards (bench/drift, S0 N = 50
// p = 0.7 ρ = 0: false alarms 0.100 → 0.080 and pages per 8 760 runs 2.85
// → 2.41 with it waiting, R = 100; S7 σ_run = 0.5, R = 400: false alarms
// 0.287 → 0.155, mean φ̂ 1.89 → 2.20, with the excursion test below).
//
// Two departures from the letter of §6, measured in bench/drift: dropping
// the held runs for good keeps every low run out of the reference and
// biases it upwards (0.555 false alarms in 2 000 runs at N = 50, p = 0.7,
// against 0.17 with them joining later); and letting a consistent run join
// at once let the first run of a small change in (22 % of the time at
// N = 24, d = 10 pp), where waiting for the streak keeps it out.
func growReference(cfg Config, st *State, in RunInput, cur RunScores, b int, pDrop float64) {
	g := &st.Growth
	room := cfg.BMax - len(st.Ref.Runs)
	if st.Ref.Frozen || room <= 0 {
		*g = Growth{}
		return
	}
	consistent := pDrop > ConsistentP && st.S == 0 && st.Alert == nil && st.Identity.Check == nil
	switch {
	case b == 0:
		st.Ref.add(in, cur, cfg.Binary, cfg.BMax)
	case st.Alert != nil:
		*g = Growth{Held: true, Since: in.RunID}
	case b < cfg.BMin && pDrop > ConsistentP:
		// p > ConsistentP is enough here: holding on S > 0 as well kept a
		// reference whose first run happened to be high from growing, and
		// the held runs' S then paged (S0, N = 50, p = 0.7, ρ = 0: 0.065
		// false alarms in the first 200 runs against 0.037).
		st.Ref.add(in, cur, cfg.Binary, cfg.BMax)
	case !consistent:
		if !g.Held {
			g.Since = in.RunID
		}
		g.Held, g.Streak = true, 0
		g.hold(in, cur, room+ResumeAfter)
	default:
		g.hold(in, cur, room+ResumeAfter)
		if g.Streak++; g.Streak >= ResumeAfter {
			g.Held = false
			// The streak's runs but its first wait for a streak of their
			// own; everything before them joins.
			n := len(g.Pending) - (ResumeAfter - 1)
			for _, r := range g.Pending[:max(n, 0)] {
				if len(st.Ref.Runs) < cfg.BMax {
					st.Ref.addScores(r.Run, r.At, r.Scores, cfg.Binary, cfg.BMax)
				}
			}
			g.Pending = slices.Clone(g.Pending[max(n, 0):])
			g.Since = 0
			if len(st.Ref.Runs) >= cfg.BMax {
				*g = Growth{}
			}
		}
	}
}

// phiOf returns the φ used to inflate SE_cur and SE_base and the φ measured
// on the reference: max(1, φ̂) always (DRIFT.md §5: gating φ on its
// significance raised false alarms under run-level noise), or
// Config.FixedPhi.
func phiOf(cfg Config, r Reference) (applied, measured float64) {
	measured = math.Max(1, r.Phi)
	if cfg.FixedPhi >= 1 {
		return cfg.FixedPhi, measured
	}
	return measured, measured
}

// aggregateRun sums a run's scores per case, aligned with ids; sums of
// squares only for continuous scores.
func aggregateRun(m map[string][]float64, ids []string, binary bool) RunScores {
	if !binary {
		return aggregateSq(m, ids)
	}
	s, n := aggregate(m, ids)
	return RunScores{Sum: s, Count: n}
}

// paired counts current cases aligned with the reference that had samples.
func paired(cn []int) int {
	n := 0
	for _, c := range cn {
		if c > 0 {
			n++
		}
	}
	return n
}

// add appends one run to the reference; new case ids are appended in
// sorted order so that the state is deterministic.
func (r *Reference) add(in RunInput, cur RunScores, binary bool, bmax int) {
	known := make(map[string]struct{}, len(r.Cases))
	for _, id := range r.Cases {
		known[id] = struct{}{}
	}
	var fresh []string
	for id, xs := range in.Cases {
		if _, ok := known[id]; ok {
			continue
		}
		if _, n := sumValid(xs); n > 0 {
			fresh = append(fresh, id)
		}
	}
	slices.Sort(fresh)
	if len(fresh) > 0 {
		extra := aggregateRun(in.Cases, fresh, binary)
		r.Cases = append(r.Cases, fresh...)
		cur.Sum = append(cur.Sum, extra.Sum...)
		cur.Count = append(cur.Count, extra.Count...)
		if !binary {
			cur.SumSq = append(cur.SumSq, extra.SumSq...)
		}
	}
	r.addScores(in.RunID, in.At, cur, binary, bmax)
}

// addScores appends one run's per-case sums, aligned with r.Cases.
func (r *Reference) addScores(run int64, at time.Time, cur RunScores, binary bool, bmax int) {
	grow := len(r.Cases) - len(r.Sum)
	r.Sum = append(r.Sum, make([]float64, grow)...)
	r.Count = append(r.Count, make([]int, grow)...)
	if !binary {
		r.SumSq = append(r.SumSq, make([]float64, len(r.Cases)-len(r.SumSq))...)
	}
	for i := range cur.Sum {
		if cur.Count[i] > 0 {
			r.Sum[i] += cur.Sum[i]
			r.Count[i] += cur.Count[i]
			if !binary {
				r.SumSq[i] += cur.SumSq[i]
			}
		}
	}
	// States stored before the dates were kept have none for older runs.
	for len(r.At) < len(r.Runs) {
		r.At = append(r.At, time.Time{})
	}
	r.Runs = append(r.Runs, run)
	r.At = append(r.At, at)
	r.PerRun = append(r.PerRun, cur)
	r.Phi = r.Overdispersion(binary)
	if len(r.Runs) >= bmax {
		r.Frozen = true
		r.PerRun = nil
	}
}

// fillAlert reports the open alert and τ̂.
func (v *Verdict) fillAlert(st State) {
	if st.Alert != nil {
		v.AlertRun = st.Alert.Run
		v.ChangeRun = st.Alert.ChangeRun
		if v.Attribution == "" {
			v.Attribution = st.Alert.Attribution
		}
		return
	}
	if st.Excursion != nil {
		v.ChangeRun = st.Excursion.changePoint().Run
	}
}

// quietKind names a run that neither paged nor recovered.
func quietKind(cfg Config, st State, v Verdict, newSegment bool, b int) (string, string) {
	switch {
	case st.Alert != nil:
		return st.Alert.Kind, fmt.Sprintf("alert of run %d still open (%s); D = %s, S held at %.2f",
			st.Alert.Run, st.Alert.Attribution, pp(v.D), v.S)
	case newSegment:
		msg := fmt.Sprintf("segment %d: the suite or target version changed, so no drift alarm; the reference restarts", v.Segment)
		if g := v.Gate; g != nil {
			msg += fmt.Sprintf("; against the previous segment: %s (95%% CI "+CIScope+" %s to %s, two-sided p = %.3g, %s)",
				pp(g.Delta), pp(g.CILow), pp(g.CIHigh), g.PTwoSided, g.Test)
		}
		return KindNewSegment, msg
	case v.Check != nil && v.Check.Outcome == CheckNoChange:
		who := "provider"
		if last := st.Identity.Last; last != nil {
			who = identityWho(last.Source())
		}
		return KindIdentityChanged, fmt.Sprintf("%s, at run %d: no behaviour change ≥ MDE (%s after %d runs)",
			who, v.Check.ChangeRun, pp(v.Check.MDE80), v.Check.Look)
	case v.Identity != nil:
		what, who := v.Identity.Changes[0].Reason, identityWho(v.Identity.Source())
		if b < cfg.BMin {
			return KindIdentityChanged, who + ", " + what + ", before the reference was complete: reference restarted"
		}
		if st.Identity.Check != nil {
			return KindIdentityChanged, fmt.Sprintf("%s, %s: checking behaviour over the next %d runs", who, what, cfg.M)
		}
		return KindIdentityChanged, who + ", " + what
	case b < cfg.BMin:
		return KindWarmingUp, fmt.Sprintf("reference has %d of %d runs", len(st.Ref.Runs), cfg.BMin) + heldText(st)
	}
	return KindOK, fmt.Sprintf("D = %s (SE %s), S = %.2f of %.2f", pp(v.D), pp(v.SETot), v.S, v.H) + heldText(st)
}

// heldText says why a growing reference did not take the latest runs.
func heldText(st State) string {
	if !st.Growth.Held {
		return ""
	}
	return fmt.Sprintf("; reference held at %s since run %d, which did not agree with it (%d of %d consistent runs to resume)",
		plural.N(len(st.Ref.Runs), "run"), st.Growth.Since, st.Growth.Streak, ResumeAfter)
}

func alarmMessage(cfg Config, v Verdict) string {
	e := v.Evidence.Pooled
	metric := "mean score"
	if cfg.Binary {
		metric = "pass rate"
	}
	// The estimated change point is often the run that pages: "since run
	// 28" on run 28's own line reads as if it were an earlier one.
	ev := v.Evidence
	since := ChangePoint{Run: ev.FromRun, Low: ev.FromRun, High: ev.FromRun}
	if ev.ChangeLow != 0 {
		since.Low, since.High = ev.ChangeLow, ev.ChangeHigh
	}
	// The message starts with the facts: the verdict (Words(v.Kind)) is
	// shown beside it by every surface.
	msg := fmt.Sprintf("%s %s %s (95%% CI "+CIScope+" %s to %s, one-sided p = %.3g, %s); %s pass→fail, %d fail→pass; %s",
		metric, pp(e.Delta), since.Text(v.RunID), pp(e.CILow), pp(e.CIHigh), e.PDrop, EvidenceLabel,
		plural.N(e.NPassToFail, "case"), e.NFailToPass, v.Attribution)
	switch v.Trigger {
	case TriggerSingleRun:
		msg += fmt.Sprintf("; single-run alarm: p of a drop ≥ %.1f pp = %.3g < 1/ARL0", 100*cfg.MinEffect, v.PMinEffect)
	case TriggerExcursion:
		msg += fmt.Sprintf("; excursion alarm: the CUSUM excursion's runs pooled, p of a drop ≥ %.1f pp = %.3g < 1/ARL0", 100*cfg.MinEffect, v.PExcursion)
	}
	if ref := v.Evidence.Reference; len(ref) > 0 {
		msg += "; measured against reference " + DescribeRuns(ref)
	}
	return msg
}

// pp formats a difference of rates in percentage points.
func pp(x float64) string { return fmt.Sprintf("%+.1f pp", 100*x) }

// buildEvidence pools the runs of p against the reference.
func buildEvidence(cfg Config, ref Reference, p *Pool, tags map[string][]string) *Evidence {
	e := &Evidence{Label: EvidenceLabel, FromRun: p.FirstRun, Runs: p.Runs, RefRuns: len(ref.Runs), Reference: ref.RefRuns()}
	e.Pooled = compareAgg(ref.Cases, ref.scores(), p.scores(), cfg.Binary, nil)
	if len(tags) > 0 {
		byTag := map[string][]int{}
		for i, id := range ref.Cases {
			for _, t := range tags[id] {
				byTag[t] = append(byTag[t], i)
			}
		}
		names := slices.Sorted(maps.Keys(byTag))
		var ps []float64
		for _, t := range names {
			c := compareAgg(ref.Cases, ref.scores(), p.scores(), cfg.Binary, byTag[t])
			if c.N == 0 {
				continue
			}
			e.ByTag = append(e.ByTag, TagEvidence{Tag: t, N: c.N, Delta: c.Delta, PDrop: c.PDrop})
			ps = append(ps, c.PDrop)
		}
		for i, q := range BH(ps) {
			e.ByTag[i].Q = q
		}
	}
	e.Describe = fmt.Sprintf("%s from run %d pooled against %s (%s)", plural.N(p.Runs, "run"), p.FirstRun, plural.N(len(ref.Runs), "reference run"), e.Pooled.Test)
	return e
}

// Accept records that a human accepted the new behaviour after an alert:
// the reference, S, the open alert and the identity baselines are dropped
// and the reference restarts from the next eligible run. The segment and
// the counters are kept. ("Investigating" needs no call: the alert stays
// open and S stays held.)
func Accept(st State) State {
	st = st.clone()
	st.Ref = Reference{}
	st.S = 0
	st.Excursion = nil
	st.Alert = nil
	st.Growth = Growth{}
	st.Identity = IdentityState{}
	st.Counters.Reanchors++
	return st
}

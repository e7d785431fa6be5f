package drift

import (
	"maps"
	"slices"
	"time"
)

// StateSchema is the version of the State layout; the daemon may refuse
// (or reset) a stored state with another value.
const StateSchema = 1

// State is everything the detector of one (suite, target, metric)
// remembers between runs. It is plain data: the daemon stores it as JSON
// after every [Update] and passes it back on the next run, so a restart
// continues exactly. Its size is O(cases): per-case sums of the reference
// and of at most two pools of recent runs, plus per-run sums of the
// reference runs while the reference is still growing (at most BMax of
// them, dropped once it freezes). The zero State is a detector that has
// seen nothing.
type State struct {
	Schema  int     `json:"schema"`
	Segment Segment `json:"segment"`
	// Ref is the anchored reference of the segment.
	Ref Reference `json:"reference"`
	// S is the CUSUM statistic; held while an alert is open.
	S float64 `json:"s"`
	// Excursion pools the runs since the last S = 0 (τ̂ is its first run).
	Excursion *Pool `json:"excursion,omitempty"`
	// Alert is the open alert, if any.
	Alert    *Alert        `json:"alert,omitempty"`
	Identity IdentityState `json:"identity"`
	Counters Counters      `json:"counters"`
}

// Segment is a stretch of runs with the same suite and target versions.
type Segment struct {
	Number        int    `json:"number"` // 1 for the first segment seen
	SuiteVersion  string `json:"suite_version"`
	TargetVersion string `json:"target_version"`
	StartRun      int64  `json:"start_run"`
	Runs          int    `json:"runs"` // eligible runs in this segment
}

// Reference is the anchored reference: the first eligible runs after the
// anchor, pooled per case, growing to BMax runs and then frozen. Arrays
// are aligned with Cases.
type Reference struct {
	Runs  []int64   `json:"runs"`
	Cases []string  `json:"cases"`
	Sum   []float64 `json:"sum"`
	Count []int     `json:"count"`
	// SumSq holds the sums of squared scores (continuous metrics only; for
	// 0/1 scores x² = x) for the within-case variances.
	SumSq []float64 `json:"sum_sq,omitempty"`
	// PerRun keeps each reference run's per-case sums for the
	// leave-one-out over-dispersion φ; dropped when the reference freezes.
	PerRun []RunScores `json:"per_run,omitempty"`
	// Phi is φ ≥ 1 measured on the reference runs (1 while B < 5).
	Phi    float64 `json:"phi"`
	Frozen bool    `json:"frozen"`
}

// RunScores is one run's per-case sums and counts, aligned with
// Reference.Cases (a shorter array means the later cases are missing).
type RunScores struct {
	Sum   []float64 `json:"sum"`
	Count []int     `json:"count"`
	// SumSq is nil for 0/1 scores (x² = x).
	SumSq []float64 `json:"sum_sq,omitempty"`
}

// scores returns the reference's pooled per-case sums.
func (r Reference) scores() RunScores { return RunScores{Sum: r.Sum, Count: r.Count, SumSq: r.SumSq} }

// scores returns the pool's per-case sums.
func (p *Pool) scores() RunScores { return RunScores{Sum: p.Sum, Count: p.Count} }

// Pool is per-case sums of consecutive eligible runs.
type Pool struct {
	FirstRun int64     `json:"first_run"`
	FirstSeq int       `json:"first_seq"`
	Runs     int       `json:"runs"`
	Sum      []float64 `json:"sum"`
	Count    []int     `json:"count"`
}

// Alert is an open alert: one page, then S is held until the alert is
// accepted ([Accept]) or resolves (three consecutive runs with D > −d_min/2).
type Alert struct {
	Kind        string    `json:"kind"` // KindRegressed, KindProviderChanged or KindScorerChanged
	Run         int64     `json:"run"`
	At          time.Time `json:"at,omitzero"`
	ChangeRun   int64     `json:"change_run"` // τ̂, or the identity change's run
	Attribution string    `json:"attribution"`
	GoodStreak  int       `json:"good_streak"`
}

// IdentityState tracks the provider identity (returned model and
// system_fingerprint) of the target and of the LLM judge.
type IdentityState struct {
	Target Baseline `json:"target"`
	Judge  Baseline `json:"judge"`
	// Check is the running known-change-point check, if any.
	Check *Check `json:"check,omitempty"`
	// Last is the most recent identity change in this segment.
	Last *IdentityChange `json:"last,omitempty"`
}

// Baseline is the pooled identity distribution of the first (up to BMax)
// runs of the current identity epoch.
type Baseline struct {
	Distribution
	Runs int `json:"runs"`
}

// Distribution counts responses per returned model and fingerprint.
type Distribution struct {
	Models       map[string]int `json:"models,omitempty"`
	Fingerprints map[string]int `json:"fingerprints,omitempty"`
}

// Check is the known-change-point check of docs/drift.md §2.6: the pooled
// runs since an identity change against the reference, looked at after
// each of M runs at level α/M.
type Check struct {
	ChangeRun int64   `json:"change_run"`
	Source    string  `json:"source"` // "target", "judge" or "target+judge"
	Looks     int     `json:"looks"`
	SumD      float64 `json:"sum_d"`
	SumVarCur float64 `json:"sum_var_cur"` // Σ SE_cur² over the looks
	SEBase    float64 `json:"se_base"`
	Pool      Pool    `json:"pool"`
}

// Counters are lifetime counts of this detector.
type Counters struct {
	Runs      int `json:"runs"`      // every run passed to Update
	Eligible  int `json:"eligible"`  // runs that were not skipped
	Skipped   int `json:"skipped"`   // ineligible runs
	Alerts    int `json:"alerts"`    // pages
	Reanchors int `json:"reanchors"` // accepts and identity re-anchors
}

// RefRuns returns B, the number of runs in the reference.
func (s State) RefRuns() int { return len(s.Ref.Runs) }

// AlertOpen reports whether an alert is open (S held, no new pages).
func (s State) AlertOpen() bool { return s.Alert != nil }

// clone deep-copies s so that Update never writes into its argument.
func (s State) clone() State {
	c := s
	c.Ref = s.Ref.clone()
	c.Excursion = s.Excursion.clone()
	if s.Alert != nil {
		a := *s.Alert
		c.Alert = &a
	}
	c.Identity.Target = s.Identity.Target.clone()
	c.Identity.Judge = s.Identity.Judge.clone()
	if s.Identity.Check != nil {
		ck := *s.Identity.Check
		ck.Pool = *s.Identity.Check.Pool.clone()
		c.Identity.Check = &ck
	}
	if s.Identity.Last != nil {
		c.Identity.Last = s.Identity.Last.clone()
	}
	return c
}

func (r Reference) clone() Reference {
	c := r
	c.Runs = slices.Clone(r.Runs)
	c.Cases = slices.Clone(r.Cases)
	c.Sum = slices.Clone(r.Sum)
	c.Count = slices.Clone(r.Count)
	c.SumSq = slices.Clone(r.SumSq)
	if r.PerRun != nil {
		// Per-run arrays are never modified in place once stored.
		c.PerRun = slices.Clone(r.PerRun)
	}
	return c
}

func (p *Pool) clone() *Pool {
	if p == nil {
		return nil
	}
	c := *p
	c.Sum = slices.Clone(p.Sum)
	c.Count = slices.Clone(p.Count)
	return &c
}

func (b Baseline) clone() Baseline {
	return Baseline{Distribution: b.Distribution.clone(), Runs: b.Runs}
}

func (d Distribution) clone() Distribution {
	return Distribution{Models: maps.Clone(d.Models), Fingerprints: maps.Clone(d.Fingerprints)}
}

// add pools one run's aligned sums.
func (p *Pool) add(r RunScores) {
	if n := len(r.Sum); n > len(p.Sum) {
		p.Sum = append(p.Sum, make([]float64, n-len(p.Sum))...)
		p.Count = append(p.Count, make([]int, n-len(p.Count))...)
	}
	for i := range r.Sum {
		if r.Count[i] > 0 {
			p.Sum[i] += r.Sum[i]
			p.Count[i] += r.Count[i]
		}
	}
	p.Runs++
}

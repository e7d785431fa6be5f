package drift

import (
	"fmt"
	"maps"
	"slices"
	"strings"
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
	// Excursion pools the runs since the last S = 0 (τ̂ is estimated within
	// it: see changePoint).
	Excursion *Pool `json:"excursion,omitempty"`
	// Growth says whether the growing reference is held (docs/drift.md §6).
	// Its zero value, as in states stored before it existed, is "not held".
	Growth Growth `json:"growth,omitzero"`
	// Alert is the open alert, if any.
	Alert    *Alert        `json:"alert,omitempty"`
	Identity IdentityState `json:"identity"`
	// Behaviour is the behaviour signals' reference and block
	// (behaviour.go).
	Behaviour BehaviourState `json:"behaviour,omitzero"`
	Counters  Counters       `json:"counters"`
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
	Runs []int64 `json:"runs"`
	// At holds when each reference run finished, aligned with Runs (empty
	// in states stored before it was kept: the dates are then unknown).
	At    []time.Time `json:"at,omitempty"`
	Cases []string    `json:"cases"`
	Sum   []float64   `json:"sum"`
	Count []int       `json:"count"`
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

// Growth is the hold on a growing reference (docs/drift.md §6; see
// growReference): a run with S > 0 after it holds growth, and the runs held
// join only once ResumeAfter consecutive consistent runs follow; an alarm
// discards them. Its zero value, as in states stored before it existed,
// is "not held".
type Growth struct {
	// Held is true from the run that held growth until the streak
	// completes.
	Held bool `json:"held,omitempty"`
	// Since is the run that held growth last.
	Since int64 `json:"since,omitempty"`
	// Streak counts consecutive consistent runs since then.
	Streak int `json:"streak,omitempty"`
	// Pending are the held runs that may still join (at most the room
	// left in the reference), oldest first.
	Pending []PendingRun `json:"pending,omitempty"`
}

// PendingRun is a held run's per-case sums, aligned with Reference.Cases.
type PendingRun struct {
	Run    int64     `json:"run"`
	At     time.Time `json:"at,omitzero"`
	Scores RunScores `json:"scores"`
}

// hold keeps a held run while there is room for it in the reference.
func (g *Growth) hold(in RunInput, cur RunScores, room int) {
	if len(g.Pending) < room {
		g.Pending = append(g.Pending, PendingRun{Run: in.RunID, At: in.At, Scores: cur})
	}
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
	// SumW, SumWD and Steps are kept for a CUSUM excursion only (see
	// record), for the change-point estimate: the running sums of 1/SE²
	// and D/SE² over all its runs, and its last ChangePointRuns runs.
	SumW  float64 `json:"sum_w,omitempty"`
	SumWD float64 `json:"sum_wd,omitempty"`
	Steps []Step  `json:"steps,omitempty"`
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
	// Usage is the target's per-case prompt-token counts (usage.go).
	Usage UsageBaseline `json:"usage,omitzero"`
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
	// From and To are the first and last run pooled (0 in states stored
	// before they were kept).
	From int64 `json:"from,omitempty"`
	To   int64 `json:"to,omitempty"`
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
	// Pending runs are never modified in place once stored.
	c.Growth.Pending = slices.Clone(s.Growth.Pending)
	c.Excursion = s.Excursion.clone()
	if s.Alert != nil {
		a := *s.Alert
		c.Alert = &a
	}
	c.Identity.Target = s.Identity.Target.clone()
	c.Identity.Judge = s.Identity.Judge.clone()
	c.Identity.Usage = s.Identity.Usage.clone()
	c.Behaviour = s.Behaviour.clone()
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
	c.At = slices.Clone(r.At)
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
	// Steps are never modified in place once stored.
	c.Steps = slices.Clone(p.Steps)
	return &c
}

func (b Baseline) clone() Baseline {
	return Baseline{Distribution: b.Distribution.clone(), Runs: b.Runs, From: b.From, To: b.To}
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

// RefRun is one run of a reference and when it finished (zero when the
// state predates the dates).
type RefRun struct {
	Run int64     `json:"run"`
	At  time.Time `json:"at,omitzero"`
}

// RefRuns lists the reference's runs with their dates.
func (r Reference) RefRuns() []RefRun {
	out := make([]RefRun, len(r.Runs))
	for i, id := range r.Runs {
		out[i].Run = id
		if i < len(r.At) {
			out[i].At = r.At[i]
		}
	}
	return out
}

// DescribeRuns writes runs for people: ids with consecutive ones joined
// ("runs 1–7, 9"), then the first and last dates in UTC when known
// ("runs 1–7 (2026-12-07 10:00 to 2026-12-07 10:18 UTC)").
func DescribeRuns(runs []RefRun) string {
	if len(runs) == 0 {
		return "no runs"
	}
	var b strings.Builder
	if len(runs) == 1 {
		b.WriteString("run ")
	} else {
		b.WriteString("runs ")
	}
	for i := 0; i < len(runs); {
		j := i
		for j+1 < len(runs) && runs[j+1].Run == runs[j].Run+1 {
			j++
		}
		if i > 0 {
			b.WriteString(", ")
		}
		switch j {
		case i:
			fmt.Fprintf(&b, "%d", runs[i].Run)
		case i + 1:
			fmt.Fprintf(&b, "%d, %d", runs[i].Run, runs[j].Run)
		default:
			fmt.Fprintf(&b, "%d–%d", runs[i].Run, runs[j].Run)
		}
		i = j + 1
	}
	var first, last time.Time
	for _, r := range runs {
		if r.At.IsZero() {
			continue
		}
		if first.IsZero() || r.At.Before(first) {
			first = r.At
		}
		if r.At.After(last) {
			last = r.At
		}
	}
	const layout = "2006-01-02 15:04:05"
	switch {
	case first.IsZero():
	case first.Equal(last):
		fmt.Fprintf(&b, " (%s UTC)", first.UTC().Format(layout))
	default:
		fmt.Fprintf(&b, " (%s to %s UTC)", first.UTC().Format(layout), last.UTC().Format(layout))
	}
	return b.String()
}

package drift

import (
	"fmt"
	"math"
	"slices"
)

// Change-point estimate inside a CUSUM excursion (docs/drift.md §1.5).
//
// The CUSUM's own τ̂ is the first run after the last S = 0. A run of noise
// just before a real change often lifts S above 0 for a run or two, and
// the page then dated the change that early (issue 21: "since run 43" for
// a change at run 45). Within the excursion the change point is estimated
// instead by maximum likelihood: run statistics D_s with known variances
// σ_s² (SE_cur²), mean 0 before τ and an unknown common mean after it; the
// profile log-likelihood ratio of τ is
//
//	L(τ) = (Σ_{s≥τ} D_s/σ_s²)² / (2·Σ_{s≥τ} 1/σ_s²)   (0 when that sum of D is ≥ 0)
//
// and τ̂ maximises it. It is never earlier than the first run after the last
// S = 0. Runs whose L is within ChangePointSlack of the maximum are as
// plausible (a likelihood interval, about 95 % for one parameter), and the
// message says "around run τ̂ (runs a–b)" when there is more than one.

const (
	// ChangePointRuns is how many of an excursion's latest runs keep their
	// statistic and their own per-case sums, so that the evidence can start
	// at a later τ̂: the candidates are the excursion's first run and its
	// last ChangePointRuns runs.
	ChangePointRuns = 12
	// ChangePointSlack is the drop of the profile log-likelihood that still
	// counts as plausible (χ²₁ 95 % / 2).
	ChangePointSlack = 1.92
)

// Step is one recent run of an excursion: its statistic, SE_cur and its
// own per-case sums.
type Step struct {
	Run    int64     `json:"run"`
	D      float64   `json:"d"`
	SE     float64   `json:"se"`
	Scores RunScores `json:"scores"`
}

// record adds one run to an excursion: its sums (as add does), the
// running sums of the likelihood, and the run itself among the recent
// ones.
func (p *Pool) record(run int64, d, se float64, cur RunScores) {
	if se > 0 && !math.IsNaN(d) {
		w := 1 / (se * se)
		p.SumW += w
		p.SumWD += w * d
	}
	step := Step{Run: run, D: d, SE: se, Scores: RunScores{Sum: slices.Clone(cur.Sum), Count: slices.Clone(cur.Count)}}
	if len(p.Steps) == ChangePointRuns {
		p.Steps = slices.Delete(slices.Clone(p.Steps), 0, 1)
	}
	p.Steps = append(p.Steps, step)
	p.add(cur)
}

// ChangePoint is the estimated change point of an excursion: Run is τ̂,
// Low and High bound the runs as plausible.
type ChangePoint struct {
	Run, Low, High int64
	index          int // position of τ̂ among the recent steps; -1: the excursion's first run
}

// Uncertain reports whether more than one run is plausible.
func (c ChangePoint) Uncertain() bool { return c.Low != c.High }

// Text says where the change began, for messages: "since run 45" or
// "around run 45 (runs 43–46)"; "at this run" when it is run.
func (c ChangePoint) Text(run int64) string {
	switch {
	case c.Uncertain() && c.Run == run:
		return fmt.Sprintf("around this run (runs %d–%d)", c.Low, c.High)
	case c.Uncertain():
		return fmt.Sprintf("around run %d (runs %d–%d)", c.Run, c.Low, c.High)
	case c.Run == run:
		return "at this run"
	}
	return fmt.Sprintf("since run %d", c.Run)
}

func profile(sw, swd float64) float64 {
	if sw > 0 && swd < 0 {
		return swd * swd / (2 * sw)
	}
	return 0
}

// changePoint estimates τ̂ in an excursion (nil or without steps: its first
// run, certain).
func (p *Pool) changePoint() ChangePoint {
	if p == nil {
		return ChangePoint{}
	}
	cp := ChangePoint{Run: p.FirstRun, Low: p.FirstRun, High: p.FirstRun, index: -1}
	n := len(p.Steps)
	if n == 0 {
		return cp
	}
	// Candidates: the first run (from the running sums) and each recent
	// run (from suffix sums of the recent steps).
	type cand struct {
		run   int64
		index int
		ll    float64
	}
	cands := []cand{{p.FirstRun, -1, profile(p.SumW, p.SumWD)}}
	var sw, swd float64
	suffix := make([]cand, 0, n)
	for j := n - 1; j >= 0; j-- {
		s := p.Steps[j]
		if s.SE > 0 && !math.IsNaN(s.D) {
			w := 1 / (s.SE * s.SE)
			sw += w
			swd += w * s.D
		}
		if s.Run != p.FirstRun {
			suffix = append(suffix, cand{s.Run, j, profile(sw, swd)})
		}
	}
	slices.Reverse(suffix)
	cands = append(cands, suffix...)
	best := 0
	for i, c := range cands {
		if c.ll > cands[best].ll {
			best = i
		}
	}
	cp.Run, cp.index = cands[best].run, cands[best].index
	cp.Low, cp.High = cp.Run, cp.Run
	for _, c := range cands {
		if cands[best].ll-c.ll <= ChangePointSlack {
			cp.Low, cp.High = min(cp.Low, c.run), max(cp.High, c.run)
		}
	}
	return cp
}

// since returns the excursion pooled from its estimated change point on.
func (p *Pool) since(cp ChangePoint) *Pool {
	if cp.index < 0 {
		return p.clone()
	}
	out := &Pool{FirstRun: cp.Run, FirstSeq: p.FirstSeq + p.Runs - (len(p.Steps) - cp.index)}
	for _, s := range p.Steps[cp.index:] {
		out.add(s.Scores)
	}
	return out
}

package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"

	"github.com/evald/evald/drift"
)

// Bar 11: behaviour changed, mean unchanged (issue 21; docs/drift.md
// §1.9). The generator's runs get answer shapes from a second random
// stream (so the pass outcomes, and every other bar's numbers, are those
// of the same seed without shapes): per case a typical length and 1–4
// phrasings of its pass and of its fail answer, a 5 % refusal share among
// failing answers, and a latency with run-level and per-answer noise.
//
// Scenario S10, "cases move both ways, mean unchanged": at t0 a share of
// the cases (Move) starts answering greedily: each such case is fixed,
// once, at pass with its pass probability p_i and at fail otherwise (then
// rebalanced so that the fixed passes equal the moved cases' expected
// passes: the mean does not move), and its phrasing is fixed too.

// shaper adds shapes to the runs of one replicate and applies S10's move.
type shaper struct {
	rng   *rand.Rand
	index map[string]int
	base  []float64 // log typical length per case
	nvar  []int     // phrasings per case and outcome
	fixed []int8    // +1 fixed at pass, −1 at fail, 0 not moved
	t0    int
}

func newShaper(g *Generator, seed uint64, move float64, t0 int) *shaper {
	s := &shaper{rng: rand.New(rand.NewPCG(seed, 0x5ba9e)), index: map[string]int{}, t0: t0}
	for i, id := range g.CaseIDs() {
		s.index[id] = i
		s.base = append(s.base, math.Log(60)+0.5*s.rng.NormFloat64())
		s.nvar = append(s.nvar, 1+s.rng.IntN(4))
		var f int8
		if move > 0 && s.rng.Float64() < move {
			f = -1
			if s.rng.Float64() < g.pi[i] {
				f = 1
			}
		}
		s.fixed = append(s.fixed, f)
	}
	// Mean unchanged in this replicate, not only in expectation: flip
	// moved cases at random until the fixed passes equal the moved cases'
	// expected passes (rounded), so that the suite's mean does not move
	// and any page on it would be false.
	var moved []int
	want := 0.0
	have := 0
	for i, f := range s.fixed {
		if f != 0 {
			moved = append(moved, i)
			want += g.pi[i]
			if f > 0 {
				have++
			}
		}
	}
	for target := int(math.Round(want)); have != target && len(moved) > 0; {
		i := moved[s.rng.IntN(len(moved))]
		switch {
		case have < target && s.fixed[i] < 0:
			s.fixed[i], have = 1, have+1
		case have > target && s.fixed[i] > 0:
			s.fixed[i], have = -1, have-1
		}
	}
	return s
}

// apply gives run t its shapes (and S10's move from t0 on).
func (s *shaper) apply(in *drift.RunInput, t int) {
	moved := s.t0 > 0 && t >= s.t0
	in.Shapes = make(map[string][]drift.SampleShape, len(in.Cases))
	runLat := math.Log(800) + 0.15*s.rng.NormFloat64()
	for id, xs := range in.Cases {
		i := s.index[id]
		greedy := moved && s.fixed[i] != 0
		shapes := make([]drift.SampleShape, len(xs))
		for j := range xs {
			if greedy {
				xs[j] = float64(max(s.fixed[i], 0))
			}
			pass := xs[j] >= 0.5
			v := s.rng.IntN(s.nvar[i])
			if greedy {
				v = 0
			}
			h := uint64(i+1)<<16 | uint64(v+1)
			if pass {
				h |= 1 << 8
			}
			shapes[j] = drift.SampleShape{
				PromptTokens: 50,
				Chars:        int(math.Exp(s.base[i] + 0.3*s.rng.NormFloat64())),
				Answer:       h,
				Refusal:      !pass && s.rng.Float64() < 0.05,
				LatencyMS:    math.Exp(runLat + 0.3*s.rng.NormFloat64()),
			}
		}
		in.Shapes[id] = shapes
	}
}

// behaviourResult is one replicate of bar 11.
type behaviourResult struct {
	Runs        int
	Notices     int            // behaviour notices over the replicate
	Signals     map[string]int // notices naming each signal
	FirstAfter  int            // first notice at or after t0 (0: none)
	PreT0       int            // notices before t0
	PagesAfter  int            // CUSUM pages at or after t0
	CasesSignal bool           // the first notice after t0 named the cases
}

func runBehaviourReplicate(sc Scenario, seed uint64, move float64, cfg drift.Config) behaviourResult {
	g := NewGenerator(sc, seed)
	sh := newShaper(g, seed, move, sc.T0)
	var st drift.State
	res := behaviourResult{Signals: map[string]int{}}
	for t := 1; t <= sc.T; t++ {
		in := g.Next()
		sh.apply(&in, t)
		var v drift.Verdict
		st, v = drift.Update(cfg, st, in)
		res.Runs = t
		after := sc.T0 > 0 && t >= sc.T0
		if v.Page && after {
			res.PagesAfter++
		}
		b := v.Behaviour
		if b == nil || !b.Changed {
			continue
		}
		res.Notices++
		for _, s := range b.Signals {
			if s.Moved {
				res.Signals[s.Name]++
			}
		}
		switch {
		case !after:
			res.PreT0++
		case res.FirstAfter == 0:
			res.FirstAfter = t
			res.CasesSignal = b.Signals[0].Moved
		}
	}
	return res
}

func runBehaviourCell(sc Scenario, scenarioNumber, r int, move float64, cfg drift.Config) []behaviourResult {
	out := make([]behaviourResult, r)
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				out[i] = runBehaviourReplicate(sc, uint64(1000*scenarioNumber+i), move, cfg)
			}
		})
	}
	for i := range r {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// behaviourReps is bar 11's replicates per cell: a quarter of the plan's
// (each run costs the five signals on top of the CUSUM), at least 4.
func (b *bench) behaviourReps(sc Scenario) int {
	return max(b.reps(sc)/4, 4)
}

// bar11: the behaviour signals keep the CUSUM's false-page budget on every
// S0 cell (notices per 8 760 runs ≤ 1) and catch S10 (a notice within 24
// runs of t0 in ≥ 90 % of replicates) without a page on the mean.
func (b *bench) bar11() {
	totalNotices, totalRuns := 0, 0
	signals := map[string]int{}
	for _, base := range b.grid() {
		sc := base
		sc.ID, sc.T = "S0", 2000
		if !b.plan.Full {
			sc.T = 600
		}
		r := b.behaviourReps(sc)
		res := runBehaviourCell(sc, 0, r, 0, b.cfg)
		notices, runs, anyN := 0, 0, 0
		for _, x := range res {
			notices += x.Notices
			runs += x.Runs
			if x.Notices > 0 {
				anyN++
			}
			for k, v := range x.Signals {
				signals[k] += v
			}
		}
		totalNotices += notices
		totalRuns += runs
		rate := float64(notices) / float64(runs) * 8760
		target, pass := "≤ 1.000", rate <= 1
		if !b.plan.Full {
			// A few thousand runs expect well under one notice at the
			// budget: the CI subset only fails a count the budget makes
			// unlikely (Poisson, 1 %).
			target, pass = "count not above the budget's (Poisson p > 0.01)", poissonAtLeast(notices, float64(runs)/8760) > 0.01
		}
		b.add(Row{Bar: 11, Scenario: "S0", Cell: cellName(sc), Metric: fmt.Sprintf("behaviour notices per 8 760 runs (%d notices in %d runs, R=%d; P(any in %d runs) = %s)", notices, runs, r, sc.T, f3(float64(anyN)/float64(r))),
			Observed: f3(rate), Theory: "≤ 1 (Bonferroni)", Target: target, Pass: pass})
		b.logf("S0+shapes %s: notices=%d runs=%d", cellName(sc), notices, runs)
	}
	rate := float64(totalNotices) / float64(totalRuns) * 8760
	target, pass := "≤ 1.000", rate <= 1
	if !b.plan.Full {
		target, pass = "count not above the budget's (Poisson p > 0.01)", poissonAtLeast(totalNotices, float64(totalRuns)/8760) > 0.01
	}
	b.add(Row{Bar: 11, Scenario: "S0", Cell: "all S0 cells pooled", Metric: fmt.Sprintf("behaviour notices per 8 760 runs (%d in %d runs)", totalNotices, totalRuns),
		Observed: f3(rate), Target: target, Pass: pass})
	b.add(Row{Bar: 11, Scenario: "S0", Cell: "all S0 cells pooled", Metric: "notices naming each signal (false)",
		Observed: signalCounts(signals), Target: "—", Pass: true, Info: true})

	cells := []Scenario{{N: 50, K: 1, P: 0.7, Rho: 0.7}, {N: 48, K: 2, P: 0.5, Rho: 0.3}, {N: 200, K: 1, P: 0.7, Rho: 0}}
	if b.plan.Full {
		cells = append(cells, Scenario{N: 50, K: 1, P: 0.7, Rho: 0}, Scenario{N: 200, K: 1, P: 0.9, Rho: 0.7}, Scenario{N: 50, K: 3, P: 0.7, Rho: 0.7})
	}
	const move = 0.375 // 18 of 48 cases, as in issue 21
	for _, base := range cells {
		sc := base
		sc.ID, sc.T, sc.T0 = "S10", 148, 100
		r := b.reps(sc)
		res := runBehaviourCell(sc, 10, r, move, b.cfg)
		det, pages, casesNamed, pre := 0, 0, 0, 0
		delay := 0.0
		sig := map[string]int{}
		for _, x := range res {
			pre += x.PreT0
			if x.PagesAfter > 0 {
				pages++
			}
			if x.FirstAfter > 0 && x.FirstAfter < sc.T0+24 {
				det++
				delay += float64(x.FirstAfter - sc.T0 + 1)
				if x.CasesSignal {
					casesNamed++
				}
			}
			for k, v := range x.Signals {
				sig[k] += v
			}
		}
		p24 := float64(det) / float64(r)
		cell := fmt.Sprintf("%s move %.1f%% of cases", cellName(sc), 100*move)
		tol := 0.90 - slackAt(0.9, r)
		// At ρ = 0.7 most cases already sit near 0 % or 100 %, so fixing
		// them moves little: reported, not gated.
		weak := sc.Rho >= 0.7
		b.add(Row{Bar: 11, Scenario: "S10", Cell: cell, Metric: fmt.Sprintf("P(behaviour notice within 24 runs of t0 = %d), R=%d", sc.T0, r),
			Observed: f3(p24), Target: "≥ " + f3(tol), Pass: p24 >= tol, Info: weak})
		md := math.NaN()
		if det > 0 {
			md = delay / float64(det)
		}
		b.add(Row{Bar: 11, Scenario: "S10", Cell: cell, Metric: "mean delay (runs, detected replicates); share naming the cases signal",
			Observed: fmt.Sprintf("%.1f; %s", md, f3(float64(casesNamed)/math.Max(1, float64(det)))), Target: "—", Pass: true, Info: true})
		b.add(Row{Bar: 11, Scenario: "S10", Cell: cell, Metric: "P(CUSUM page after t0): the mean did not move",
			Observed: f3(float64(pages) / float64(r)), Target: "≤ 0.060", Pass: float64(pages)/float64(r) <= 0.06+slackAt(0.06, r)})
		b.add(Row{Bar: 11, Scenario: "S10", Cell: cell, Metric: "notices naming each signal",
			Observed: signalCounts(sig), Target: "—", Pass: true, Info: true})
		b.logf("S10 %s: P24=%.3f delay=%.1f pages=%d pre=%d", cell, p24, md, pages, pre)
	}
}

func signalCounts(m map[string]int) string {
	var parts []string
	for _, s := range []string{drift.SignalCases, drift.SignalLength, drift.SignalDistinct, drift.SignalRefusal, drift.SignalLatency} {
		parts = append(parts, fmt.Sprintf("%s %d", s, m[s]))
	}
	return strings.Join(parts, ", ")
}

// poissonAtLeast is P(X ≥ k) for X ~ Poisson(lambda).
func poissonAtLeast(k int, lambda float64) float64 {
	if k <= 0 {
		return 1
	}
	p, term := 0.0, math.Exp(-lambda)
	for i := range k {
		p += term
		term *= lambda / float64(i+1)
	}
	return math.Max(0, 1-p)
}

package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/evald/evald/drift"
)

// Scenario parameterises the generator (docs/drift.md benchmark §1–2).
type Scenario struct {
	ID         string  // "S0".."S8"
	N          int     // cases
	K          int     // samples per case per run
	P          float64 // mean pass rate
	Rho        float64 // intra-case correlation
	SigmaRun   float64 // run-level noise, logit scale
	Continuous bool    // Beta(10q, 10(1−q)) scores instead of 0/1
	T          int     // runs (1..T)
	T0         int     // change run (0: none)
	// Drop is the fall of the suite mean from T0 on (step), or the final
	// fall of a linear ramp over Ramp runs when Ramp > 0.
	Drop float64
	Ramp int
	// ErrorEvery > 0 gives every ErrorEvery-th run an error rate ErrorRate.
	ErrorEvery int
	ErrorRate  float64
	// Fingerprint switches the fingerprints to 90 % fp_C / 10 % fp_A at T0.
	Fingerprint bool
	// SuiteChange bumps suite_version at T0 (our change).
	SuiteChange bool
}

// dropAt is drop(t).
func (s Scenario) dropAt(t int) float64 {
	if s.T0 == 0 || t < s.T0 || s.Drop == 0 {
		return 0
	}
	if s.Ramp > 0 {
		return s.Drop * math.Min(1, float64(t-s.T0)/float64(s.Ramp))
	}
	return s.Drop
}

// Generator produces the runs of one replicate. It is a pure function of
// the scenario and the seed: math/rand/v2 PCG seeded with (seed, 0x5eed),
// case difficulties drawn first, then each run in order.
type Generator struct {
	sc    Scenario
	rng   *rand.Rand
	pi    []float64 // case pass probabilities
	ids   []string
	t     int
	q     []float64
	store []float64
}

// NewGenerator draws the case difficulties of one replicate.
func NewGenerator(sc Scenario, seed uint64) *Generator {
	g := &Generator{sc: sc, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
	g.pi = make([]float64, sc.N)
	g.ids = make([]string, sc.N)
	for i := range g.pi {
		g.ids[i] = fmt.Sprintf("case-%04d", i)
		if sc.Rho == 0 {
			g.pi[i] = sc.P
		} else {
			c := 1/sc.Rho - 1
			g.pi[i] = betaSample(g.rng, sc.P*c, (1-sc.P)*c)
		}
	}
	g.q = make([]float64, sc.N)
	return g
}

// CaseIDs returns the case ids in index order.
func (g *Generator) CaseIDs() []string { return g.ids }

// Next returns run t = 1, 2, ... as the daemon would hand it to drift.
func (g *Generator) Next() drift.RunInput {
	g.t++
	t, sc := g.t, g.sc
	drop := sc.dropAt(t)
	u := 0.0
	if sc.SigmaRun > 0 {
		u = sc.SigmaRun * g.rng.NormFloat64()
	}
	for i, p := range g.pi {
		q := p * (1 - drop/sc.P)
		q = math.Min(math.Max(q, 1e-6), 1-1e-6)
		if u != 0 {
			q = 1 / (1 + math.Exp(-(math.Log(q/(1-q)) + u)))
		}
		g.q[i] = q
	}
	errRate := 0.0
	if sc.ErrorEvery > 0 && t%sc.ErrorEvery == 0 {
		errRate = sc.ErrorRate
	}
	// One backing array per run: the detector may keep nothing of it, but
	// the caller may keep the input.
	g.store = make([]float64, 0, sc.N*sc.K)
	cases := make(map[string][]float64, sc.N)
	fpA, fpB, fpC, valid := 0, 0, 0, 0
	after := sc.Fingerprint && t >= sc.T0
	for i, q := range g.q {
		start := len(g.store)
		for range sc.K {
			if errRate > 0 && g.rng.Float64() < errRate {
				continue
			}
			var x float64
			if sc.Continuous {
				x = betaSample(g.rng, 10*q, 10*(1-q))
			} else if g.rng.Float64() < q {
				x = 1
			}
			g.store = append(g.store, x)
			valid++
			// Fingerprint of this response.
			main := g.rng.Float64() < 0.9
			switch {
			case !after && main:
				fpA++
			case !after:
				fpB++
			case main:
				fpC++
			default:
				fpA++
			}
		}
		if len(g.store) > start {
			cases[g.ids[i]] = g.store[start:len(g.store):len(g.store)]
		}
	}
	fps := map[string]int{}
	for k, v := range map[string]int{"fp_A": fpA, "fp_B": fpB, "fp_C": fpC} {
		if v > 0 {
			fps[k] = v
		}
	}
	suite := "suite-v1"
	if sc.SuiteChange && t >= sc.T0 {
		suite = "suite-v2"
	}
	return drift.RunInput{
		RunID:         int64(t),
		SuiteVersion:  suite,
		TargetVersion: "target-v1",
		Completed:     true,
		Cases:         cases,
		ExpectedCases: sc.N,
		Models:        map[string]int{"sim-model-1": valid},
		Fingerprints:  fps,
	}
}

// betaSample draws Beta(a, b) through log-gamma variates, so that tiny
// shape parameters (rho = 0.7 gives b ≈ 0.04) neither underflow nor NaN.
func betaSample(r *rand.Rand, a, b float64) float64 {
	la, lb := logGamma(r, a), logGamma(r, b)
	return 1 / (1 + math.Exp(lb-la))
}

// logGamma returns the log of a Gamma(a, 1) variate (Marsaglia–Tsang; for
// a < 1 the boost G(a) = G(a+1)·U^(1/a), in logs).
func logGamma(r *rand.Rand, a float64) float64 {
	if a < 1 {
		u := r.Float64()
		for u == 0 {
			u = r.Float64()
		}
		return logGamma(r, a+1) + math.Log(u)/a
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return math.Log(d) + math.Log(v)
		}
	}
}

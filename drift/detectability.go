package drift

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// What a (suite, target) pair can see (docs/drift.md "Under-powered
// suites"). Before the pair has a reference of B_min runs its run-to-run
// noise is assumed: a mean pass rate of AssumedPassRate with intra-case
// correlation AssumedRho (case pass probabilities Beta-distributed, the
// model of DRIFT.md §3 "typical of temperature > 0 evals"), so that the
// within-case variance of a sample is p(1−p)(1−ρ) = 0.048. From B_min
// reference runs on, the reference's own per-case pass rates and its φ are
// used instead.
const (
	AssumedPassRate = 0.8
	AssumedRho      = 0.7
	// PowerHorizon is the runs within which a drop should page, and
	// PowerLevel the probability it should page with.
	PowerHorizon = 24
	PowerLevel   = 0.8
	// powerReps is the replicates of the Gaussian-level model; a fixed
	// seed and common random numbers across drops keep the answer
	// deterministic and monotone in the drop.
	powerReps = 1000
	powerCap  = 200
)

// Detectability is what the detector can catch on a (suite, target): the
// smallest drop that pages within PowerHorizon runs with probability
// PowerLevel, and the expected delay at d_min.
type Detectability struct {
	Cases   int `json:"cases"`
	Repeats int `json:"repeats"`
	// Basis says where the run-to-run noise comes from: "assumed" (no
	// reference yet: pass rate AssumedPassRate, ρ = 0) or "reference".
	Basis string `json:"basis"`
	// RefRuns is the reference's runs when Basis is "reference".
	RefRuns int `json:"ref_runs,omitempty"`
	// SERun is the standard error of one run's change D under no change
	// (run-level noise φ included).
	SERun float64 `json:"se_run"`
	Phi   float64 `json:"phi"`
	// ARL0 is the false-alarm budget in runs the detector is tuned to.
	ARL0 float64 `json:"arl0"`
	// MinDrop is the smallest drop caught within PowerHorizon runs with
	// probability PowerLevel (1 when even a total collapse would not be).
	MinDrop float64 `json:"min_drop_24_runs_80pct"`
	// MinEffect is drift.min_effect; Delay the expected runs to a page
	// when the drop is exactly MinEffect (capped at 200), P24 the
	// probability of a page within PowerHorizon runs.
	MinEffect float64 `json:"min_effect"`
	Delay     float64 `json:"delay_at_min_effect"`
	P24       float64 `json:"p24_at_min_effect"`
	// UnderPowered is true when MinEffect is below MinDrop; Warning then
	// names the fixes.
	UnderPowered bool   `json:"under_powered"`
	Warning      string `json:"warning,omitempty"`
}

// AssumedSERun is the null standard error of one run's D before runs exist:
// N cases × k repeats with within-case variance p(1−p)(1−ρ) at
// AssumedPassRate and AssumedRho (continuous scores: Beta(10q, 10(1−q))
// samples, a variance 11 times smaller).
func AssumedSERun(cases, repeats int, binary bool) float64 {
	v := AssumedPassRate * (1 - AssumedPassRate) * (1 - AssumedRho)
	if !binary {
		v /= 11
	}
	return math.Sqrt(v / float64(max(cases, 1)*max(repeats, 1)))
}

// SERun estimates the null standard error of one run's D of k samples per
// case from the reference: √(Σ v_i / k)/N with v_i the unbiased
// within-case variance of case i over its reference samples, times √φ, and
// floored at 1/(2N) as SE_tot is (docs/drift.md §2.1). ok is false below
// bMin reference runs.
func (r Reference) SERun(k, bMin int, binary bool) (se float64, ok bool) {
	if len(r.Runs) < bMin || len(r.Cases) == 0 || k < 1 {
		return 0, false
	}
	var v float64
	n := 0
	for i := range r.Cases {
		c := float64(r.Count[i])
		if c == 0 {
			continue
		}
		n++
		if c < 2 {
			continue
		}
		m := r.Sum[i] / c
		sq := r.Sum[i] // x² = x for 0/1 scores
		if !binary && len(r.SumSq) > i {
			sq = r.SumSq[i]
		}
		v += math.Max(0, (sq-c*m*m)/(c-1))
	}
	if n == 0 {
		return 0, false
	}
	se = math.Sqrt(v/float64(k)) / float64(n) * math.Sqrt(math.Max(1, r.Phi))
	return math.Max(se, 1/(2*float64(n))), true
}

// Assess returns the detectability of a suite of cases × repeats under cfg,
// from the pair's detector state when its reference has B_min runs, else
// from the assumption of AssumedSERun.
func Assess(cfg Config, cases, repeats int, st *State) Detectability {
	cfg = cfg.WithDefaults()
	d := Detectability{Cases: cases, Repeats: repeats, Basis: "assumed", Phi: 1, ARL0: cfg.ARL0, MinEffect: cfg.MinEffect}
	d.SERun = AssumedSERun(cases, repeats, cfg.Binary)
	if st != nil {
		if se, ok := st.Ref.SERun(repeats, cfg.BMin, cfg.Binary); ok {
			d.Basis, d.RefRuns, d.SERun, d.Phi = "reference", len(st.Ref.Runs), se, math.Max(1, st.Ref.Phi)
		}
	}
	d.P24, d.Delay = powerAt(cfg, d.SERun, cfg.MinEffect, powerCap)
	d.MinDrop = minDrop(cfg, d.SERun)
	if d.P24 < PowerLevel {
		d.UnderPowered = true
		d.Warning = d.warning(needScale(cfg, d.SERun), catchableEffect(cfg, d.SERun))
	}
	return d
}

// needScale is the factor by which N·k must grow (D's standard error falls
// as 1/√(N·k)) for d_min to page within PowerHorizon runs with
// PowerLevel.
func needScale(cfg Config, seRun float64) float64 {
	lo, hi := 1.0, 2.0
	for {
		if p, _ := powerAt(cfg, seRun/math.Sqrt(hi), cfg.MinEffect, PowerHorizon); p >= PowerLevel || hi > 1e6 {
			break
		}
		lo, hi = hi, 2*hi
	}
	for hi/lo > 1.02 {
		mid := math.Sqrt(lo * hi)
		if p, _ := powerAt(cfg, seRun/math.Sqrt(mid), cfg.MinEffect, PowerHorizon); p >= PowerLevel {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// catchableEffect is the smallest d_min that, set as drift.min_effect,
// pages a drop of itself within PowerHorizon runs with PowerLevel.
func catchableEffect(cfg Config, seRun float64) float64 {
	at := func(e float64) bool {
		c := cfg
		c.MinEffect = e
		p, _ := powerAt(c, seRun, e, PowerHorizon)
		return p >= PowerLevel
	}
	if !at(1) {
		return 1
	}
	lo, hi := 0.0, 1.0
	for hi-lo > 0.001 {
		if mid := (lo + hi) / 2; at(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// warning names the fixes: f is needScale, effect catchableEffect.
func (d Detectability) warning(f, effect float64) string {
	cases := int(math.Ceil(f * float64(max(d.Cases, 1))))
	repeats := int(math.Ceil(f * float64(max(d.Repeats, 1))))
	return fmt.Sprintf("under-powered: drift.min_effect %.1f pp would page within %d runs only %.0f%% of the time (expected delay %s); "+
		"%d runs catch a drop of %.1f pp with %.0f%% power. Fixes: more cases (about %d), repeats: %d, or drift.min_effect: %.2f",
		100*d.MinEffect, PowerHorizon, 100*d.P24, delayText(d.Delay), PowerHorizon, 100*d.MinDrop, 100*PowerLevel,
		cases, repeats, math.Ceil(100*effect)/100)
}

// Summary is the detector's reach in one line: the smallest drop paged
// within PowerHorizon runs with PowerLevel, the expected delay at d_min, and
// where the noise estimate comes from.
func (d Detectability) Summary() string {
	basis := fmt.Sprintf("noise assumed (pass rate %.1f, ρ = %.1f) until the reference has %d runs", AssumedPassRate, AssumedRho, DefaultBMin)
	if d.Basis == "reference" {
		basis = fmt.Sprintf("noise measured on the reference's %d runs", d.RefRuns)
	}
	return fmt.Sprintf("catches a drop of %.1f pp within %d runs (%.0f%% power); at min_effect %.1f pp the expected delay is %s (%s)",
		100*d.MinDrop, PowerHorizon, 100*PowerLevel, 100*d.MinEffect, delayText(d.Delay), basis)
}

func delayText(x float64) string {
	if x >= powerCap {
		return fmt.Sprintf("over %d runs", powerCap)
	}
	return fmt.Sprintf("%.1f runs", x)
}

// powerAt runs the Gaussian-level model of the detector (the oracle O of
// bench/drift with a full reference of B_max runs and the pre-change
// noise): D_t ~ N(−drop − e, SE_run²), e ~ N(0, SE_run²/B_max) the
// reference's error, fed to the CUSUM and the single-run alarm with the
// detector's own weights. It returns P(page within PowerHorizon runs) and
// the mean delay, capped at 200 runs.
func powerAt(cfg Config, seRun, drop float64, limit int) (p24, delay float64) {
	h := math.Log(cfg.ARL0)
	seBase := seRun / math.Sqrt(float64(cfg.BMax))
	seTot := math.Hypot(seRun, seBase)
	rng := rand.New(rand.NewPCG(0x5eed, 24))
	hits, sum := 0, 0
	for range powerReps {
		e := seBase * rng.NormFloat64()
		s, dl, paged := 0.0, limit, false
		for t := 1; t <= limit; t++ {
			x := -drop - e + seRun*rng.NormFloat64()
			s, _ = LLRStep(s, x, seRun, seBase, cfg.MinEffect, cfg.ZGuard)
			if s >= h || NormalCDF((x+cfg.MinEffect)/seTot) < 1/cfg.ARL0 {
				dl, paged = t, true
				break
			}
		}
		if paged && dl <= PowerHorizon {
			hits++
		}
		sum += dl
	}
	return float64(hits) / powerReps, float64(sum) / powerReps
}

// minDrop bisects for the smallest drop with P(page within PowerHorizon
// runs) ≥ PowerLevel (1 when no drop up to 1 reaches it).
func minDrop(cfg Config, seRun float64) float64 {
	if p, _ := powerAt(cfg, seRun, 1, PowerHorizon); p < PowerLevel {
		return 1
	}
	lo, hi := 0.0, 1.0
	for hi-lo > 0.0005 {
		mid := (lo + hi) / 2
		if p, _ := powerAt(cfg, seRun, mid, PowerHorizon); p >= PowerLevel {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

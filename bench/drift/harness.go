package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/evald/evald/drift"
)

// delayCap caps detection delays, as Table B does.
const delayCap = 200

// Options of one replicate.
type repOptions struct {
	cfg drift.Config
	// stopAfter ends the replicate this many runs after T0 (0: run to T).
	stopAfter int
	// stopOnDetect ends the replicate at the first page at or after T0.
	stopOnDetect bool
	// collectP keeps the per-run one-sided p-values of runs ≥ pFrom.
	collectP bool
	pFrom    int
	// roundTrip serialises the state through JSON every run (restart test).
	roundTrip bool
}

// alarm is one page.
type alarm struct {
	Run         int64
	Kind        string
	Attribution string
}

// repResult is what the harness records per replicate (benchmark §3).
type repResult struct {
	Pages       []alarm
	FirstAfter  int64 // first page at or after T0 (0: none)
	PreT0Pages  int   // pages before T0 (false alarms)
	Runs        int   // runs driven
	PhiLast     float64
	IdentityRun int64 // first run with an identity change (0: none)
	CheckReject bool  // the known-change-point check said "behaviour changed"
	CheckNoChg  bool  // ... or concluded "no change"
	NewSegRun   int64 // first run with Kind new_segment
	Gate        *drift.Comparison
	PostT0Pages int // pages at or after T0
	PVals       []float64
	AlertAtT0   bool // an alert (false alarm) was still open when T0 arrived
	// RefPostT0 is set when, at the first page at or after T0, the
	// reference the page was measured against held a run from T0 on
	// (docs/drift.md §6: it must not).
	RefPostT0 bool
}

// runReplicate drives drift.Update over one generated replicate.
func runReplicate(sc Scenario, seed uint64, o repOptions) repResult {
	g := NewGenerator(sc, seed)
	var st drift.State
	var res repResult
	last := sc.T
	if o.stopAfter > 0 && sc.T0 > 0 {
		last = min(last, sc.T0+o.stopAfter-1)
	}
	for t := 1; t <= last; t++ {
		in := g.Next()
		if sc.T0 > 0 && t == sc.T0 && st.AlertOpen() {
			res.AlertAtT0 = true
		}
		var v drift.Verdict
		st, v = drift.Update(o.cfg, st, in)
		if o.roundTrip {
			st = jsonRoundTrip(st)
		}
		res.Runs = t
		res.PhiLast = v.PhiMeasured
		if v.Page {
			res.Pages = append(res.Pages, alarm{Run: in.RunID, Kind: v.Kind, Attribution: v.Attribution})
			if sc.T0 > 0 && t >= sc.T0 {
				res.PostT0Pages++
				if res.FirstAfter == 0 {
					res.FirstAfter = int64(t)
					for _, r := range st.Ref.Runs {
						res.RefPostT0 = res.RefPostT0 || r >= int64(sc.T0)
					}
					if e := v.Evidence; e != nil {
						for _, r := range e.Reference {
							res.RefPostT0 = res.RefPostT0 || r.Run >= int64(sc.T0)
						}
					}
				}
			} else {
				res.PreT0Pages++
			}
		}
		if v.Identity != nil && res.IdentityRun == 0 {
			res.IdentityRun = v.Identity.Run
		}
		if v.Check != nil {
			switch v.Check.Outcome {
			case drift.CheckBehaviourChanged:
				res.CheckReject = true
			case drift.CheckNoChange:
				res.CheckNoChg = true
			}
		}
		if v.Kind == drift.KindNewSegment && res.NewSegRun == 0 {
			res.NewSegRun = in.RunID
			res.Gate = v.Gate
		}
		if o.collectP && t >= o.pFrom && v.RefRuns > 0 {
			res.PVals = append(res.PVals, v.P)
		}
		if o.stopOnDetect && res.FirstAfter != 0 {
			break
		}
	}
	return res
}

// runCell runs R replicates in parallel; replicate r uses seed
// 1000·scenario + r.
func runCell(sc Scenario, scenarioNumber, r int, o repOptions) []repResult {
	out := make([]repResult, r)
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				out[i] = runReplicate(sc, uint64(1000*scenarioNumber+i), o)
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

// rollingFirstAlarm runs the rolling-baseline variant of the detector used
// by bar 6: at run t the reference is the 20 runs t−24..t−5 ("the 20 runs
// before t − 4"), otherwise the same statistic and CUSUM (φ = 1, no hold).
// It returns the first alarm at or after T0 (0: none by T).
func rollingFirstAlarm(sc Scenario, seed uint64, cfg drift.Config) int {
	cfg = cfg.WithDefaults()
	const window, gap = 20, 4
	g := NewGenerator(sc, seed)
	ids := g.CaseIDs()
	ring := make([]drift.RunScores, 0, window+gap+1)
	h := math.Log(cfg.ARL0)
	s := 0.0
	for t := 1; t <= sc.T; t++ {
		in := g.Next()
		cur := drift.RunScores{Sum: make([]float64, len(ids)), Count: make([]int, len(ids))}
		for i, id := range ids {
			for _, x := range in.Cases[id] {
				cur.Sum[i] += x
				cur.Count[i]++
			}
		}
		if len(ring) == window+gap {
			ref := drift.RunScores{Sum: make([]float64, len(ids)), Count: make([]int, len(ids))}
			for _, r := range ring[:window] {
				for i := range ids {
					ref.Sum[i] += r.Sum[i]
					ref.Count[i] += r.Count[i]
				}
			}
			rs := drift.PairedRun(ref, cur, !sc.Continuous, 1)
			s, _ = drift.LLRStep(s, rs.D, rs.SECur, rs.SEBase, cfg.MinEffect, cfg.ZGuard)
			if s >= h && t >= sc.T0 {
				return t
			}
			ring = ring[1:]
		}
		ring = append(ring, cur)
	}
	return 0
}

// seRunTheory is the per-run sampling SE of the suite mean (one run, no
// reference): within-case variance E[q(1−q)] = p(1−p)(1−ρ), divided by 11
// for Beta(10q, 10(1−q)) scores, over k·N samples.
func seRunTheory(sc Scenario) float64 {
	v := sc.P * (1 - sc.P) * (1 - sc.Rho)
	if sc.Continuous {
		v /= 11
	}
	return math.Sqrt(v / float64(sc.K*sc.N))
}

// ksUniform returns the Kolmogorov–Smirnov distance of p from Uniform(0,1).
func ksUniform(p []float64) float64 {
	s := slices.Clone(p)
	slices.Sort(s)
	n := float64(len(s))
	d := 0.0
	for i, x := range s {
		d = math.Max(d, math.Max(float64(i+1)/n-x, x-float64(i)/n))
	}
	return d
}

func cellName(sc Scenario) string {
	name := fmt.Sprintf("N=%d p=%g ρ=%.1f k=%d", sc.N, sc.P, sc.Rho, sc.K)
	if sc.Drop > 0 {
		name += fmt.Sprintf(" d=%.0fpp", 100*sc.Drop)
	}
	if sc.Continuous {
		name += " cont"
	}
	if sc.SigmaRun > 0 {
		name += fmt.Sprintf(" σ_run=%.2f", sc.SigmaRun)
	}
	return name
}

// postChangeSE is the per-run sampling SE of the suite mean after a
// multiplicative drop d (docs/drift.md benchmark §5): case i passes with
// c·p_i, c = 1 − d/p, so the within-case variance is c·p − c²·E[p_i²] with
// E[p_i²] = p² + ρp(1−p); divided by 11 for Beta(10q, 10(1−q)) scores.
func postChangeSE(sc Scenario, d float64) float64 {
	c := 1 - d/sc.P
	v := c*sc.P - c*c*(sc.P*sc.P+sc.Rho*sc.P*(1-sc.P))
	if sc.Continuous {
		v /= 11
	}
	return math.Sqrt(math.Max(v, 0) / float64(sc.K*sc.N))
}

// oracle is O of docs/drift.md benchmark §5: the Gaussian-level CUSUM of
// §3.2 with the null SE known (it weights the increments: SE_cur = SE_run,
// SE_base = SE_run/√B, B = B_max) and the run differences drawn with the
// post-change variance, D ~ N(−d − e_ref, SE_post²), e_ref ~ N(0, SE_run²/B).
// It returns P(alarm within 24 runs) and the mean delay capped at 200.
func oracle(sc Scenario, d float64, cfg drift.Config, reps int, seed uint64) (p24, delay float64) {
	o := oracleRow(sc, d, cfg, reps, seed)
	return o.p24, o.delay
}

// oracleStats are O's detection probabilities and mean delay.
type oracleStats struct{ p1, p4, p24, delay float64 }

func oracleRow(sc Scenario, d float64, cfg drift.Config, reps int, seed uint64) oracleStats {
	cfg = cfg.WithDefaults()
	h := math.Log(cfg.ARL0)
	rng := newRand(seed)
	seRun, sePost := seRunTheory(sc), postChangeSE(sc, d)
	seBase := seRun / math.Sqrt(float64(cfg.BMax))
	var o oracleStats
	for range reps {
		e := seBase * rng.NormFloat64()
		s, dl := 0.0, delayCap
		for t := 1; t <= delayCap; t++ {
			s, _ = drift.LLRStep(s, -d+sePost*rng.NormFloat64()-e, seRun, seBase, cfg.MinEffect, cfg.ZGuard)
			if s >= h {
				dl = t
				break
			}
		}
		for _, c := range []struct {
			max int
			p   *float64
		}{{1, &o.p1}, {4, &o.p4}, {24, &o.p24}} {
			if dl <= c.max {
				*c.p++
			}
		}
		o.delay += float64(dl)
	}
	n := float64(reps)
	o.p1, o.p4, o.p24, o.delay = o.p1/n, o.p4/n, o.p24/n, o.delay/n
	return o
}

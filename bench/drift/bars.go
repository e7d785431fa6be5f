package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/evald/evald/drift"
)

// Row is one line of the results table: one bar checked on one cell.
type Row struct {
	Bar      int
	Scenario string
	Cell     string
	Metric   string
	Observed string
	Theory   string
	Target   string
	Pass     bool
	// Info rows document a diagnostic and never fail the benchmark.
	Info bool
}

// Plan says which cells to run and with how many replicates.
type Plan struct {
	Full  bool // the whole grid of the spec; otherwise the CI subset
	R     int  // replicates per cell
	R1000 int  // replicates for N = 1000 cells
	// Log receives progress lines (nil: none).
	Log io.Writer
	// Bars restricts the run to these bars (empty: all); bar 1 runs with
	// bar 9 (they share S0) and bar 3 adds bar 1's rows for runs before t0.
	Bars []int
}

// FullPlan is the grid of docs/drift.md with r replicates (r1000 for the
// N = 1000 cells, which the spec allows to lower to 50).
func FullPlan(r, r1000 int) Plan { return Plan{Full: true, R: r, R1000: r1000} }

// QuickPlan is the CI subset: a few cells, few replicates.
func QuickPlan() Plan { return Plan{R: 16, R1000: 8} }

// bench accumulates rows.
type bench struct {
	plan Plan
	cfg  drift.Config
	rows []Row
}

// slackAt widens a tolerance around the proportion p0 for fewer than 200
// replicates: 2.5 Monte Carlo SE at r replicates beyond those at R = 200
// (the spec's tolerances are ~2.5 MC SE at R = 200).
func slackAt(p0 float64, r int) float64 {
	p0 = math.Min(math.Max(p0, 0.02), 0.98)
	sd := math.Sqrt(p0 * (1 - p0))
	return math.Max(0, 2.5*sd*(1/math.Sqrt(float64(r))-1/math.Sqrt(200)))
}

func (b *bench) reps(sc Scenario) int {
	if sc.N >= 1000 {
		return b.plan.R1000
	}
	return b.plan.R
}

func (b *bench) logf(format string, args ...any) {
	if b.plan.Log != nil {
		fmt.Fprintf(b.plan.Log, format+"\n", args...)
	}
}

func (b *bench) add(r Row) { b.rows = append(b.rows, r) }

// Run executes the plan and returns the rows.
func Run(plan Plan) []Row {
	b := &bench{plan: plan, cfg: drift.Config{Binary: true}}
	steps := []struct {
		bars []int
		f    func()
	}{{[]int{1, 9}, b.bar1and9}, {[]int{1}, b.bar1S6}, {[]int{2}, b.bar2}, {[]int{3}, b.bar3}, {[]int{4}, b.bar4},
		{[]int{5}, b.bar5}, {[]int{6}, b.bar6}, {[]int{7}, b.bar7}, {[]int{8}, b.bar8}, {[]int{10}, b.bar10}, {[]int{11}, b.bar11}}
	for _, st := range steps {
		if len(plan.Bars) > 0 && !slices.ContainsFunc(st.bars, func(x int) bool { return slices.Contains(plan.Bars, x) }) {
			continue
		}
		f := st.f
		start := time.Now()
		f()
		b.logf("  (%s)", time.Since(start).Round(time.Millisecond))
	}
	slices.SortStableFunc(b.rows, func(x, y Row) int { return x.Bar - y.Bar })
	return b.rows
}

// grid returns the S0/S1 cells: N × p × ρ with k = 1, plus N = 50, k = 3.
func (b *bench) grid() []Scenario {
	var out []Scenario
	if !b.plan.Full {
		return []Scenario{{N: 200, K: 1, P: 0.9, Rho: 0.7}, {N: 50, K: 1, P: 0.9, Rho: 0.7}}
	}
	for _, n := range []int{50, 200, 1000} {
		for _, p := range []float64{0.7, 0.9} {
			for _, rho := range []float64{0, 0.7} {
				out = append(out, Scenario{N: n, K: 1, P: p, Rho: rho})
			}
		}
	}
	for _, p := range []float64{0.7, 0.9} {
		for _, rho := range []float64{0, 0.7} {
			out = append(out, Scenario{N: 50, K: 3, P: p, Rho: rho})
		}
	}
	return out
}

type faStats struct {
	anyFrac  float64 // replicates with ≥ 1 page
	pages    int
	runs     int
	meanPhi  float64
	pvals    []float64
	repCount int
}

func summarizeFA(res []repResult) faStats {
	var s faStats
	for _, r := range res {
		if len(r.Pages) > 0 {
			s.anyFrac++
		}
		s.pages += len(r.Pages)
		s.runs += r.Runs
		s.meanPhi += r.PhiLast
		s.pvals = append(s.pvals, r.PVals...)
	}
	s.repCount = len(res)
	s.anyFrac /= float64(len(res))
	s.meanPhi /= float64(len(res))
	return s
}

// gaussFA is the false-alarm probability of the Gaussian-level detector
// with a reference of B runs (Table C's model) over t runs.
func gaussFA(seRun float64, cfg drift.Config, t, reps int, seed uint64) float64 {
	cfg = cfg.WithDefaults()
	h := math.Log(cfg.ARL0)
	rng := newRand(seed)
	seBase := seRun / math.Sqrt(float64(cfg.BMax))
	n := 0
	for range reps {
		e := seBase * rng.NormFloat64()
		s := 0.0
		for range t {
			s, _ = drift.LLRStep(s, seRun*rng.NormFloat64()-e, seRun, seBase, cfg.MinEffect, cfg.ZGuard)
			if s >= h {
				n++
				break
			}
		}
	}
	return float64(n) / float64(reps)
}

func (b *bench) theoryReps() int {
	if b.plan.Full {
		return 4000
	}
	return 500
}

// faLimit is bar 1's limit on P(any alarm in 2 000 runs) for a cell: 0.06,
// or 0.15 where δ = d_min/SE_run < 1 (DRIFT.md §5).
func (b *bench) faLimit(sc Scenario) float64 {
	if b.cfg.WithDefaults().MinEffect/seRunTheory(sc) < 1 {
		return 0.15
	}
	return 0.06
}

// pagesPerBudget is pages per 8 760 runs, counted with the hold/resolve
// rule of §2.5 (the detector restarts after each resolve).
func pagesPerBudget(s faStats) float64 { return float64(s.pages) / float64(s.runs) * 8760 }

// bar1and9: false alarms under S0 and calibration of the per-run p.
func (b *bench) bar1and9() {
	const T = 2000
	totalPages, totalRuns := 0, 0
	var allP []float64
	for _, base := range b.grid() {
		sc := base
		sc.ID, sc.T = "S0", T
		if !b.plan.Full {
			sc.T = 600
		}
		r := b.reps(sc)
		collect := sc.N == 200
		res := runCell(sc, 0, r, repOptions{cfg: b.cfg, collectP: collect, pFrom: b.cfg.WithDefaults().BMax + 1})
		s := summarizeFA(res)
		totalPages += s.pages
		totalRuns += s.runs
		th := gaussFA(seRunTheory(sc), b.cfg, sc.T, b.theoryReps(), 77)
		lim := b.faLimit(sc)
		tol := lim + slackAt(lim, r)
		b.add(Row{Bar: 1, Scenario: "S0", Cell: cellName(sc), Metric: fmt.Sprintf("P(any alarm in %d runs), R=%d", sc.T, r),
			Observed: f3(s.anyFrac), Theory: f3(th) + " (Gaussian)", Target: "≤ " + f3(tol), Pass: s.anyFrac <= tol})
		rate := pagesPerBudget(s)
		b.add(Row{Bar: 1, Scenario: "S0", Cell: cellName(sc), Metric: "pages per 8 760 runs (hold/resolve, restart after each resolve)",
			Observed: f3(rate), Target: "≤ 1.000", Pass: rate <= 1})
		b.logf("S0 %s: any=%.3f pages=%d phi=%.2f", cellName(sc), s.anyFrac, s.pages, s.meanPhi)
		if collect {
			ks := ksUniform(s.pvals)
			allP = append(allP, s.pvals...)
			tol := 0.05 + slackAt(0.5, r)/4
			b.add(Row{Bar: 9, Scenario: "S0", Cell: cellName(sc), Metric: fmt.Sprintf("KS distance of per-run p (runs with B = B_max, %d values)", len(s.pvals)),
				Observed: f3(ks), Theory: "0", Target: "≤ " + f3(tol), Pass: ks <= tol})
		}
	}
	rate := float64(totalPages) / float64(totalRuns) * 8760
	tol := 0.30 + slackAt(0.3, b.plan.R)
	b.add(Row{Bar: 1, Scenario: "S0", Cell: "all S0 cells pooled", Metric: "pages per 8 760 runs",
		Observed: f3(rate), Target: "≤ " + f3(tol), Pass: rate <= tol})
	if len(allP) > 0 {
		ks := ksUniform(allP)
		tol := 0.03 + slackAt(0.5, b.plan.R)/4
		b.add(Row{Bar: 9, Scenario: "S0", Cell: "N = 200 cells pooled", Metric: fmt.Sprintf("KS distance of per-run p (%d values)", len(allP)),
			Observed: f3(ks), Theory: "0", Target: "≤ " + f3(tol), Pass: ks <= tol})
	}
}

// bar1S6: error bursts.
func (b *bench) bar1S6() {
	for _, n := range []int{200, 50} {
		sc := Scenario{ID: "S6", N: n, K: 1, P: 0.9, Rho: 0.7, T: 2000, ErrorEvery: 50, ErrorRate: 0.30}
		if !b.plan.Full {
			if n == 200 {
				continue
			}
			sc.T = 600
		}
		r := b.reps(sc)
		s := summarizeFA(runCell(sc, 6, r, repOptions{cfg: b.cfg}))
		lim := b.faLimit(sc)
		tol := lim + slackAt(lim, r)
		b.add(Row{Bar: 1, Scenario: "S6", Cell: cellName(sc) + " errors 30% every 50th run", Metric: fmt.Sprintf("P(any alarm in %d runs), R=%d", sc.T, r),
			Observed: f3(s.anyFrac), Target: "≤ " + f3(tol), Pass: s.anyFrac <= tol})
		b.logf("S6 %s: any=%.3f", cellName(sc), s.anyFrac)
	}
}

// bar2: run-level noise (DRIFT.md §5, bar 2), N = 200, p = 0.9, ρ = 0.7,
// R = 400: (a) σ_run = 0.15: false alarms ≤ 0.10 and mean φ̂ in [1.0, 1.4];
// (b) σ_run = 0.5: mean φ̂ in [1.9, 2.8], false alarms ≤ 0.20 with φ
// applied, and with φ forced to 1 ≥ 0.60 and ≥ 3× the rate with φ.
func (b *bench) bar2() {
	r := 2 * b.plan.R
	sigmas := []float64{0.15, 0.5}
	if !b.plan.Full {
		// The CI subset checks (a) only: (b) needs 400 replicates of
		// 2 000 runs to say anything, and the full run reports it.
		sigmas = sigmas[:1]
	}
	for _, sigma := range sigmas {
		sc := Scenario{ID: "S7", N: 200, K: 1, P: 0.9, Rho: 0.7, SigmaRun: sigma, T: 2000}
		if !b.plan.Full {
			sc.T = 500
		}
		s := summarizeFA(runCell(sc, 7, r, repOptions{cfg: b.cfg}))
		name := cellName(sc)
		th := fmt.Sprintf("%.2f (true dispersion)", phiTheory(sc))
		if sigma < 0.5 {
			tol := 0.10 + slackAt(0.10, r)
			b.add(Row{Bar: 2, Scenario: "S7", Cell: name, Metric: fmt.Sprintf("P(any alarm in %d runs), R=%d", sc.T, r),
				Observed: f3(s.anyFrac), Target: "≤ " + f3(tol), Pass: s.anyFrac <= tol})
			b.add(Row{Bar: 2, Scenario: "S7", Cell: name, Metric: "mean φ̂ (measured)", Observed: fmt.Sprintf("%.2f", s.meanPhi),
				Theory: th, Target: "in [1.00, 1.40]", Pass: s.meanPhi >= 1 && s.meanPhi <= 1.4})
			b.logf("S7 %s: any=%.3f phi=%.2f", name, s.anyFrac, s.meanPhi)
			continue
		}
		one := b.cfg
		one.FixedPhi = 1
		s1 := summarizeFA(runCell(sc, 7, r, repOptions{cfg: one}))
		tol := 0.20 + slackAt(0.20, r)
		b.add(Row{Bar: 2, Scenario: "S7", Cell: name, Metric: "mean φ̂ (measured)", Observed: fmt.Sprintf("%.2f", s.meanPhi),
			Theory: th, Target: "in [1.90, 2.80]", Pass: s.meanPhi >= 1.9 && s.meanPhi <= 2.8})
		b.add(Row{Bar: 2, Scenario: "S7", Cell: name, Metric: fmt.Sprintf("P(any alarm in %d runs), φ applied, R=%d", sc.T, r),
			Observed: f3(s.anyFrac), Target: "≤ " + f3(tol), Pass: s.anyFrac <= tol})
		lo := 0.60 - slackAt(0.60, r)
		b.add(Row{Bar: 2, Scenario: "S7", Cell: name, Metric: "P(any alarm), φ forced to 1",
			Observed: f3(s1.anyFrac), Target: fmt.Sprintf("≥ %s and ≥ 3 × %s", f3(lo), f3(s.anyFrac)),
			Pass: s1.anyFrac >= lo && s1.anyFrac >= 3*s.anyFrac})
		b.logf("S7 %s: any=%.3f phi=%.2f | phi=1 any=%.3f", name, s.anyFrac, s.meanPhi, s1.anyFrac)
	}
}

// phiTheory is E[Z²] for logit run noise: the suite mean moves by about
// σ_run·E[q(1−q)], against a run SE of √(E[q(1−q)]/(kN)) (ρ enters both).
func phiTheory(sc Scenario) float64 {
	w := sc.P * (1 - sc.P) * (1 - sc.Rho)
	run := sc.SigmaRun * w
	se := math.Sqrt(w / float64(sc.K*sc.N))
	return 1 + run*run/(se*se)
}

type detStats struct {
	p1, p4, p24, delay float64
	preFA              float64
}

func summarizeDetection(sc Scenario, res []repResult) detStats {
	var s detStats
	for _, r := range res {
		d := delayCap
		if r.FirstAfter > 0 {
			d = min(int(r.FirstAfter)-sc.T0+1, delayCap)
		}
		if d <= 1 {
			s.p1++
		}
		if d <= 4 {
			s.p4++
		}
		if d <= 24 {
			s.p24++
		}
		s.delay += float64(d)
		if r.PreT0Pages > 0 {
			s.preFA++
		}
	}
	n := float64(len(res))
	s.p1, s.p4, s.p24, s.delay, s.preFA = s.p1/n, s.p4/n, s.p24/n, s.delay/n, s.preFA/n
	return s
}

// delayBound is bar 3's limit on the mean delay against the oracle O:
// 1.4·O + 1 runs, or 1.25·O + 1 where O > 60 (DRIFT.md §5).
func delayBound(o float64) float64 {
	if o > 60 {
		return 1.25*o + 1
	}
	return 1.4*o + 1
}

func (b *bench) detectionRows(bar int, id string, sc Scenario, cfg drift.Config, scenarioNumber int) {
	r := b.reps(sc)
	res := runCell(sc, scenarioNumber, r, repOptions{cfg: cfg, stopOnDetect: true})
	s := summarizeDetection(sc, res)
	op24, od := oracle(sc, sc.Drop, cfg, b.theoryReps(), 99)
	h := math.Log(cfg.WithDefaults().ARL0)
	delta := sc.Drop / seRunTheory(sc)
	lorden := h / (delta * delta / 2)
	name := cellName(sc)
	p24Min := op24 - 0.15 - slackAt(op24, r)
	delayMax := delayBound(od) * (1 + slackAt(0.5, r))
	b.add(Row{Bar: bar, Scenario: id, Cell: name, Metric: fmt.Sprintf("P(alarm within 24 runs of t0), R=%d", r),
		Observed: f3(s.p24), Theory: f3(op24) + " (O)", Target: "≥ " + f3(p24Min), Pass: s.p24 >= p24Min})
	b.add(Row{Bar: bar, Scenario: id, Cell: name, Metric: "mean delay (runs, cap 200)",
		Observed: fmt.Sprintf("%.2f", s.delay), Theory: fmt.Sprintf("%.2f (O)", od),
		Target: fmt.Sprintf("≤ %.2f", delayMax), Pass: s.delay <= delayMax})
	lo := math.Max(1, 0.8*lorden)
	b.add(Row{Bar: bar, Scenario: id, Cell: name, Metric: "mean delay ≥ max(1, 0.8 × Lorden)",
		Observed: fmt.Sprintf("%.2f", s.delay), Theory: fmt.Sprintf("Lorden %.2f", lorden),
		Target: fmt.Sprintf("≥ %.2f", lo), Pass: s.delay >= lo})
	lim := b.faLimit(sc)
	tol := lim + slackAt(lim, r)
	b.add(Row{Bar: 1, Scenario: id, Cell: name, Metric: fmt.Sprintf("P(any alarm before t0 = %d)", sc.T0),
		Observed: f3(s.preFA), Target: "≤ " + f3(tol), Pass: s.preFA <= tol})
	b.logf("%s %s: P24=%.3f delay=%.2f (O %.3f %.2f) preFA=%.3f", id, name, s.p24, s.delay, op24, od, s.preFA)
}

// bar3: step drops.
func (b *bench) bar3() {
	drops := []float64{0.05, 0.10}
	for _, base := range b.grid() {
		for _, d := range drops {
			if !b.plan.Full && (base.N != 200 || d != 0.05) {
				continue
			}
			sc := base
			sc.ID, sc.T0, sc.T, sc.Drop = "S1", 200, 200+delayCap-1, d
			b.detectionRows(3, "S1", sc, b.cfg, 1)
		}
	}
}

// bar4: fingerprint change only.
func (b *bench) bar4() {
	sc := Scenario{ID: "S2", N: 200, K: 1, P: 0.9, Rho: 0.7, T: 600, T0: 200, Fingerprint: true}
	if !b.plan.Full {
		sc.T = 260
	}
	r := b.reps(sc)
	res := runCell(sc, 2, r, repOptions{cfg: b.cfg})
	var noPage, recorded, rejected float64
	for _, x := range res {
		if len(x.Pages) == 0 {
			noPage++
		}
		if x.IdentityRun == int64(sc.T0) {
			recorded++
		}
		if x.CheckReject {
			rejected++
		}
	}
	n := float64(r)
	name := cellName(sc) + " fp switch at 200"
	sl := slackAt(0.03, r)
	b.add(Row{Bar: 4, Scenario: "S2", Cell: name, Metric: fmt.Sprintf("replicates with zero pages in %d runs, R=%d", sc.T, r),
		Observed: f3(noPage / n), Target: "≥ " + f3(0.97-sl), Pass: noPage/n >= 0.97-sl})
	b.add(Row{Bar: 4, Scenario: "S2", Cell: name, Metric: "identity change recorded at t0",
		Observed: f3(recorded / n), Target: "= 1.000", Pass: recorded == n})
	b.add(Row{Bar: 4, Scenario: "S2", Cell: name, Metric: "identity check says behaviour changed",
		Observed: f3(rejected / n), Theory: "≤ 0.010 (α)", Target: "≤ " + f3(0.03+sl), Pass: rejected/n <= 0.03+sl})
	b.logf("S2: noPage=%.3f recorded=%.3f rejected=%.3f", noPage/n, recorded/n, rejected/n)
}

// bar5: fingerprint change with a drop (DRIFT.md §5: as §4, plus N = 50,
// p = 0.9, ρ = 0.7, d = 10 pp detected within 6 runs in ≥ 0.93).
func (b *bench) bar5() {
	for _, c := range []struct {
		n   int
		min float64
	}{{200, 0.95}, {50, 0.93}} {
		sc := Scenario{ID: "S3", N: c.n, K: 1, P: 0.9, Rho: 0.7, T: 600, T0: 200, Fingerprint: true, Drop: 0.10}
		r := b.reps(sc)
		res := runCell(sc, 3, r, repOptions{cfg: b.cfg, stopAfter: 30})
		want := fmt.Sprintf("provider (identity changed at run %d)", sc.T0)
		var detected, attributed float64
		for _, x := range res {
			for _, p := range x.Pages {
				if p.Run >= int64(sc.T0) && p.Run < int64(sc.T0+6) {
					detected++
					if p.Attribution == want {
						attributed++
					}
					break
				}
			}
		}
		n := float64(r)
		sl := slackAt(1-c.min, r)
		name := cellName(sc) + " fp switch at 200"
		b.add(Row{Bar: 5, Scenario: "S3", Cell: name, Metric: fmt.Sprintf("alarm or identity-check rejection within 6 runs of t0, R=%d", r),
			Observed: f3(detected / n), Target: "≥ " + f3(c.min-sl), Pass: detected/n >= c.min-sl})
		frac := 0.0
		if detected > 0 {
			frac = attributed / detected
		}
		b.add(Row{Bar: 5, Scenario: "S3", Cell: name, Metric: "attribution \"" + want + "\" among detected",
			Observed: f3(frac), Target: "≥ " + f3(0.95-slackAt(0.05, r)), Pass: frac >= 0.95-slackAt(0.05, r)})
		b.logf("S3 %s: detected=%.3f attributed=%.3f", name, detected/n, frac)
	}
}

// bar6: gradual drift, anchored against rolling reference (DRIFT.md §5:
// median first alarm ≤ t0 + 40 at N = 200 and ≤ t0 + 55 at N = 50, p = 0.9,
// ρ = 0.7; beats the rolling-baseline variant).
func (b *bench) bar6() {
	for _, c := range []struct{ n, within int }{{200, 40}, {50, 55}} {
		sc := Scenario{ID: "S4", N: c.n, K: 1, P: 0.9, Rho: 0.7, T: 600, T0: 200, Drop: 0.10, Ramp: 96}
		if !b.plan.Full {
			if c.n == 50 {
				continue
			}
			sc.T = 400
		}
		r := b.reps(sc)
		res := runCell(sc, 4, r, repOptions{cfg: b.cfg, stopOnDetect: true})
		anchored := make([]float64, r)
		for i, x := range res {
			anchored[i] = float64(sc.T + 1) // none: beyond the horizon
			if x.FirstAfter > 0 {
				anchored[i] = float64(x.FirstAfter)
			}
		}
		rolling := make([]float64, r)
		var wg syncGroup
		for i := range r {
			wg.run(func() {
				a := rollingFirstAlarm(sc, uint64(1000*4+i), b.cfg)
				if a == 0 {
					a = sc.T + 1
				}
				rolling[i] = float64(a)
			})
		}
		wg.wait()
		ma, mr := median(anchored), median(rolling)
		name := cellName(sc) + " ramp 96 runs"
		b.add(Row{Bar: 6, Scenario: "S4", Cell: name, Metric: fmt.Sprintf("median first alarm (anchored), R=%d", r),
			Observed: fmt.Sprintf("%.0f", ma), Theory: "drop = d_min at 248", Target: fmt.Sprintf("≤ %d", sc.T0+c.within), Pass: ma <= float64(sc.T0+c.within)})
		roll := fmt.Sprintf("%.0f", mr)
		if mr > float64(sc.T) {
			roll = fmt.Sprintf("none by %d", sc.T)
		}
		b.add(Row{Bar: 6, Scenario: "S4", Cell: name, Metric: "median first alarm, rolling reference (20 runs before t−4)",
			Observed: roll, Target: fmt.Sprintf("> anchored (%.0f)", ma), Pass: mr > ma})
		b.logf("S4 %s: anchored median=%.0f rolling median=%.0f", name, ma, mr)
	}
}

// bar7: our own change (suite version) with a drop.
func (b *bench) bar7() {
	sc := Scenario{ID: "S5", N: 200, K: 1, P: 0.9, Rho: 0.7, T: 600, T0: 200, SuiteChange: true, Drop: 0.10}
	if !b.plan.Full {
		sc.T = 260
	}
	r := b.reps(sc)
	res := runCell(sc, 5, r, repOptions{cfg: b.cfg})
	var quiet, seg, gate float64
	for _, x := range res {
		if x.PostT0Pages == 0 {
			quiet++
		}
		if x.NewSegRun == int64(sc.T0) {
			seg++
		}
		if g := x.Gate; g != nil && g.PTwoSided < 0.01 && g.Delta < 0 {
			gate++
		}
	}
	n := float64(r)
	name := cellName(sc) + " suite_version bump at 200"
	b.add(Row{Bar: 7, Scenario: "S5", Cell: name, Metric: fmt.Sprintf("replicates with no drift alarm from t0 on, R=%d", r),
		Observed: f3(quiet / n), Target: "= 1.000", Pass: quiet == n})
	b.add(Row{Bar: 7, Scenario: "S5", Cell: name, Metric: "new segment starts at t0",
		Observed: f3(seg / n), Target: "= 1.000", Pass: seg == n})
	b.add(Row{Bar: 7, Scenario: "S5", Cell: name, Metric: "gate (two-sided paired CMH) reports the drop, p < 0.01",
		Observed: f3(gate / n), Target: "≥ " + f3(0.95-slackAt(0.05, r)), Pass: gate/n >= 0.95-slackAt(0.05, r)})
	b.logf("S5: quiet=%.3f seg=%.3f gate=%.3f", quiet/n, seg/n, gate/n)
}

// bar8: continuous scores, bars 1 and 3 against O, on the S1 cell and on
// N = 50, p = 0.7, ρ = 0 (DRIFT.md §5).
func (b *bench) bar8() {
	cfg := drift.Config{Binary: false}
	for _, base := range []Scenario{{N: 200, P: 0.9, Rho: 0.7}, {N: 50, P: 0.7, Rho: 0}} {
		sc := base
		sc.ID, sc.K, sc.T, sc.Continuous = "S8", 1, 2000, true
		if !b.plan.Full {
			if sc.N == 50 {
				continue
			}
			sc.T = 500
		}
		r := b.reps(sc)
		s := summarizeFA(runCell(sc, 8, r, repOptions{cfg: cfg}))
		lim := b.faLimit(sc)
		tol := lim + slackAt(lim, r)
		th := gaussFA(seRunTheory(sc), cfg, sc.T, b.theoryReps(), 78)
		b.add(Row{Bar: 8, Scenario: "S8 (S0)", Cell: cellName(sc), Metric: fmt.Sprintf("P(any alarm in %d runs), R=%d", sc.T, r),
			Observed: f3(s.anyFrac), Theory: f3(th) + " (Gaussian)", Target: "≤ " + f3(tol), Pass: s.anyFrac <= tol})
		rate := pagesPerBudget(s)
		b.add(Row{Bar: 8, Scenario: "S8 (S0)", Cell: cellName(sc), Metric: "pages per 8 760 runs",
			Observed: f3(rate), Target: "≤ 1.000", Pass: rate <= 1})
		b.logf("S8 S0 %s: any=%.3f", cellName(sc), s.anyFrac)
		for _, d := range []float64{0.05, 0.10} {
			if !b.plan.Full && d != 0.05 {
				continue
			}
			c := sc
			c.T0, c.T, c.Drop = 200, 200+delayCap-1, d
			n := len(b.rows)
			b.detectionRows(8, "S8 (S1)", c, cfg, 8)
			for i := n; i < len(b.rows); i++ {
				if b.rows[i].Bar == 1 {
					b.rows[i].Bar = 8
				}
			}
		}
	}
}

// bar10: a change during warm-up (S9, docs/drift.md §6): S1's step while
// the reference still grows. Detection within 2 runs of t0 for d = 0.80
// and 0.40, within the S1 delay bound of §5 bar 3 for d = 0.10; after
// detection the reference holds no run from t ≥ t0; false alarms as in
// bar 1 (runs before t0, and the same suites with no change).
func (b *bench) bar10() {
	type cell struct {
		n   int
		rho float64
	}
	cells := []cell{{24, 0}, {24, 0.7}, {200, 0}, {200, 0.7}}
	t0s := []int{2, 5, 10}
	drops := []float64{0.80, 0.40, 0.10}
	if !b.plan.Full {
		cells, t0s, drops = []cell{{200, 0.7}}, []int{5}, []float64{0.40, 0.10}
	}
	for _, c := range cells {
		base := Scenario{ID: "S9", N: c.n, K: 2, P: 0.85, Rho: c.rho}
		for _, t0 := range t0s {
			for _, d := range drops {
				sc := base
				sc.T0, sc.T, sc.Drop = t0, t0+delayCap-1, d
				r := b.reps(sc)
				res := runCell(sc, 9, r, repOptions{cfg: b.cfg, stopOnDetect: true})
				s := summarizeDetection(sc, res)
				var within2, dirty float64
				for _, x := range res {
					if x.FirstAfter > 0 && int(x.FirstAfter)-sc.T0+1 <= 2 {
						within2++
					}
					if x.RefPostT0 {
						dirty++
					}
				}
				n := float64(r)
				name := cellName(sc) + fmt.Sprintf(" t0=%d", t0)
				if d >= 0.4 {
					tol := 0.95 - slackAt(0.05, r)
					b.add(Row{Bar: 10, Scenario: "S9", Cell: name, Metric: fmt.Sprintf("P(alarm within 2 runs of t0), R=%d", r),
						Observed: f3(within2 / n), Target: "≥ " + f3(tol), Pass: within2/n >= tol})
				} else {
					op24, od := oracle(sc, d, b.cfg, b.theoryReps(), 97)
					delayMax := delayBound(od)
					b.add(Row{Bar: 10, Scenario: "S9", Cell: name, Metric: fmt.Sprintf("P(alarm within 24 runs of t0), R=%d", r),
						Observed: f3(s.p24), Theory: f3(op24) + " (O, B = 20)", Target: "≥ " + f3(op24-0.15), Pass: s.p24 >= op24-0.15})
					b.add(Row{Bar: 10, Scenario: "S9", Cell: name, Metric: "mean delay (runs, cap 200)",
						Observed: fmt.Sprintf("%.2f", s.delay), Theory: fmt.Sprintf("%.2f (O, B = 20)", od),
						Target: fmt.Sprintf("≤ %.2f", delayMax), Pass: s.delay <= delayMax})
				}
				b.add(Row{Bar: 10, Scenario: "S9", Cell: name, Metric: "pages whose reference holds a run from t0 on",
					Observed: f3(dirty / n), Target: "= 0.000", Pass: dirty == 0})
				tol := 0.06 + slackAt(0.06, r)
				b.add(Row{Bar: 10, Scenario: "S9", Cell: name, Metric: fmt.Sprintf("P(any alarm before t0 = %d)", t0),
					Observed: f3(s.preFA), Target: "≤ " + f3(tol), Pass: s.preFA <= tol})
				b.logf("S9 %s: within2=%.3f P24=%.3f delay=%.2f dirty=%.3f preFA=%.3f", name, within2/n, s.p24, s.delay, dirty/n, s.preFA)
			}
		}
		// The same suite with no change: the growth rule and the
		// single-run alarm must not add false alarms (bar 1's limits).
		sc := base
		sc.T = 2000
		if !b.plan.Full {
			sc.T = 500
		}
		r := b.reps(sc)
		fa := summarizeFA(runCell(sc, 9, r, repOptions{cfg: b.cfg}))
		lim := 0.06
		if delta := b.cfg.WithDefaults().MinEffect / seRunTheory(sc); delta < 1 {
			lim = 0.15 // bar 1's limit for cells with δ < 1
		}
		tol := lim + slackAt(lim, r)
		b.add(Row{Bar: 10, Scenario: "S9 (no change)", Cell: cellName(sc), Metric: fmt.Sprintf("P(any alarm in %d runs), R=%d", sc.T, r),
			Observed: f3(fa.anyFrac), Target: "≤ " + f3(tol), Pass: fa.anyFrac <= tol})
		b.logf("S9 no change %s: any=%.3f", cellName(sc), fa.anyFrac)
	}
}

func f3(x float64) string { return fmt.Sprintf("%.3f", x) }

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

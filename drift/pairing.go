package drift

import (
	"math"
	"slices"

	"github.com/evald/evald/scoring"
)

// Paired, case-clustered statistics on per-case aggregates (docs/drift.md
// §2.1–2.3). Everything here works on arrays aligned by case index: sum[i]
// is the sum of case i's valid scores and count[i] how many there are. A
// case takes part when it has at least one sample on both sides.

// MaxListedCases caps the case lists of a [Comparison]; the counts are
// always complete.
const MaxListedCases = 50

// Test names reported in [Comparison.Test].
const (
	TestMcNemarMidP = "mcnemar-exact-midp" // one sample per case each side, b+c < 30
	TestMcNemar     = "mcnemar"            // one sample per case each side, asymptotic
	TestCMHExact    = "cmh-exact-midp"     // stratified exact conditional, V < 25
	TestCMH         = "cmh"                // stratified asymptotic
	TestPairedT     = "paired-t"           // continuous scores: t on d_i, N−1 df
)

// Comparison is a paired comparison of a current set of scores with a
// reference set on the same cases.
type Comparison struct {
	Test    string `json:"test"`
	N       int    `json:"n"`       // cases with samples on both sides
	Dropped int    `json:"dropped"` // cases with samples on one side only
	// Reference and Current are the means over the paired cases of the case
	// means (pass rates for binary scores).
	Reference float64 `json:"reference"`
	Current   float64 `json:"current"`
	// Delta = Current − Reference = mean of d_i; negative is worse.
	Delta float64 `json:"delta"`
	// SE is the case-clustered SE of Delta, floored at 1/(2N).
	SE float64 `json:"se"`
	// CILow and CIHigh bound the 95 % interval of Delta from the same
	// inference as PTwoSided and PDrop (agreeingInterval): the paired t
	// interval for continuous scores, the test-based interval of CMH or
	// McNemar for 0/1 scores; clipped to [−1, 1]. It is about these cases
	// (CIScope).
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// Z is the test statistic (CMH/McNemar z, or t for paired-t).
	Z float64 `json:"z"`
	// PTwoSided tests "any change"; PDrop tests "current is worse".
	PTwoSided float64 `json:"p_two_sided"`
	PDrop     float64 `json:"p_drop"`
	// PassToFail lists cases that passed (mean ≥ 0.5) in the reference and
	// fail now, FailToPass the reverse; at most MaxListedCases each, in case
	// order, with the full counts alongside.
	PassToFail  []string `json:"pass_to_fail,omitempty"`
	FailToPass  []string `json:"fail_to_pass,omitempty"`
	NPassToFail int      `json:"n_pass_to_fail"`
	NFailToPass int      `json:"n_fail_to_pass"`
}

// Worse reports whether the comparison shows a significant drop at
// two-sided level alpha (the `evald run` gate).
func (c Comparison) Worse(alpha float64) bool { return c.Delta < 0 && c.PTwoSided < alpha }

// Compare is the two-sided paired gate comparison of cur against ref (case
// id → valid sample scores): CMH with cases as strata for binary scores
// (exact mid-p when V < 25; McNemar when every case has one sample on each
// side, exact mid-p when b+c < 30), the paired t on d_i otherwise. It is
// what `evald run` shows against a baseline and what a new segment shows
// against the previous one.
func Compare(ref, cur map[string][]float64, binary bool) Comparison {
	ids := make([]string, 0, len(ref)+len(cur))
	for id := range ref {
		ids = append(ids, id)
	}
	for id := range cur {
		if _, ok := ref[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return compareAgg(ids, aggregateSq(ref, ids), aggregateSq(cur, ids), binary, nil)
}

// aggregate sums each case's finite scores, aligned with ids.
func aggregate(m map[string][]float64, ids []string) (sum []float64, count []int) {
	sum = make([]float64, len(ids))
	count = make([]int, len(ids))
	for i, id := range ids {
		sum[i], count[i] = sumValid(m[id])
	}
	return sum, count
}

// aggregateSq also returns the sums of squares (continuous scores).
func aggregateSq(m map[string][]float64, ids []string) RunScores {
	r := RunScores{Sum: make([]float64, len(ids)), SumSq: make([]float64, len(ids)), Count: make([]int, len(ids))}
	for i, id := range ids {
		for _, x := range m[id] {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			r.Sum[i] += x
			r.SumSq[i] += x * x
			r.Count[i]++
		}
	}
	return r
}

func sumValid(xs []float64) (float64, int) {
	s, n := 0.0, 0
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		s += x
		n++
	}
	return s, n
}

// at returns v[i], or zero past the end (arrays of older runs are shorter
// when cases were appended later).
func at[T int | float64](v []T, i int) T {
	if i < len(v) {
		return v[i]
	}
	return 0
}

// sq returns the sum of squares of case i (the sum for 0/1 scores).
func (r RunScores) sq(i int) float64 {
	if r.SumSq == nil {
		return at(r.Sum, i)
	}
	return at(r.SumSq, i)
}

// sampleVar is the unbiased variance of n samples from their sums.
func sampleVar(sum, sq float64, n int) (float64, bool) {
	if n < 2 {
		return 0, false
	}
	fn := float64(n)
	return math.Max(0, (sq-sum*sum/fn)/(fn-1)), true
}

// maxZ bounds the calibrated z so that a p-value of 0 stays finite.
const maxZ = 30

// pairStats are the per-run statistics of §2.1 plus the per-run p-value.
type pairStats struct {
	N, Dropped int
	// D is the mean paired difference; SETot Miller's clustered SE
	// (floored), used for intervals and the continuous p-value.
	D, SETot float64
	// DStat is the run statistic the CUSUM consumes and SECur (× √φ) and
	// SEBase the split of its standard error under "no change".
	DStat, SECur, SEBase float64
	F                    float64
	RefMean, CurMean     float64
	Z, PDrop, PTwo       float64
	Test                 string
	passToFail, failTo   []int
}

// pairedStats computes the statistics of one comparison over the cases in
// sel (all cases when sel is nil):
//
//   - D = mean d_i and Miller's case-clustered SE_tot = sd(d_i)/√N, floored
//     at 1/(2N) (docs/drift.md §2.1), for intervals and the paired t;
//   - the one-sided p of a drop: CMH/McNemar (mid-p where exact) for 0/1
//     scores, the paired t otherwise;
//   - the statistic of the alarm: the standard error of D under "no
//     change", Σ σ_i²(1/k_i + 1/n_i)/N² with σ_i² the within-case variance
//     of case i pooled over reference and current samples (for 0/1 scores
//     this is exactly the CMH variance), split into SE_cur (1/k_i, inflated
//     by √φ) and SE_base (1/n_i); and DStat, which is D for
//     continuous scores and Φ⁻¹(p)·SE_null for 0/1 scores, i.e. D
//     re-expressed through the run's exact conditional p-value so that
//     the skew and discreteness of small binary suites do not leak into
//     the Gaussian CUSUM.
//
// The package documentation ("Deviations") says why the alarm does not
// use sd(d_i).
func pairedStats(ref, cur RunScores, binary bool, phi float64, sel []int, flips bool) pairStats {
	var ps pairStats
	n := max(len(ref.Sum), len(cur.Sum))
	var sumD, sumRef, sumCur, sumNb, sumK, vCur, vBase float64
	var d []float64
	visit := func(i int) {
		rn, cn := at(ref.Count, i), at(cur.Count, i)
		switch {
		case rn > 0 && cn > 0:
		case rn > 0 || cn > 0:
			ps.Dropped++
			return
		default:
			return
		}
		rs, cs := at(ref.Sum, i), at(cur.Sum, i)
		y := rs / float64(rn)
		x := cs / float64(cn)
		ps.N++
		d = append(d, x-y)
		sumD += x - y
		sumRef += y
		sumCur += x
		sumNb += float64(rn)
		sumK += float64(cn)
		v, _ := sampleVar(rs+cs, ref.sq(i)+cur.sq(i), rn+cn)
		vCur += v / float64(cn)
		vBase += v / float64(rn)
		if flips {
			if refPassed, curPassed := scoring.CasePasses(y), scoring.CasePasses(x); refPassed && !curPassed {
				ps.passToFail = append(ps.passToFail, i)
			} else if !refPassed && curPassed {
				ps.failTo = append(ps.failTo, i)
			}
		}
	}
	if sel != nil {
		for _, i := range sel {
			visit(i)
		}
	} else {
		for i := range n {
			visit(i)
		}
	}
	if ps.N == 0 {
		ps.PDrop, ps.PTwo = 0.5, 1
		return ps
	}
	fn := float64(ps.N)
	ps.D = sumD / fn
	ps.RefMean, ps.CurMean = sumRef/fn, sumCur/fn
	ss := 0.0
	for _, x := range d {
		ss += (x - ps.D) * (x - ps.D)
	}
	if ps.N > 1 {
		ps.SETot = math.Sqrt(ss / (fn * (fn - 1)))
	}
	floor := 1 / (2 * fn)
	ps.SETot = math.Max(ps.SETot, floor)
	nbar, kbar := sumNb/fn, sumK/fn
	ps.F = nbar / (nbar + kbar)
	seCur, seBase := math.Sqrt(vCur)/fn, math.Sqrt(vBase)/fn
	seNull := math.Hypot(seCur, seBase)
	if seNull < floor {
		// A deterministic suite: split the floor by f.
		seCur, seBase, seNull = floor*math.Sqrt(ps.F), floor*math.Sqrt(1-ps.F), floor
	}
	if binary {
		ps.binaryTest(ref, cur, sel, n)
		z := math.Max(-maxZ, math.Min(maxZ, NormalQuantile(ps.PDrop)))
		ps.DStat = z * seNull
	} else {
		ps.Test = TestPairedT
		ps.Z = ps.D / ps.SETot
		if ps.N > 1 {
			ps.PDrop = StudentTCDF(ps.Z, fn-1)
			ps.PTwo = math.Min(1, 2*StudentTCDF(-math.Abs(ps.Z), fn-1))
		} else {
			ps.PDrop, ps.PTwo = 0.5, 1
		}
		ps.DStat = ps.D
	}
	// Run-level noise is in the reference runs as much as in this one, so
	// φ inflates both parts (DRIFT.md §5).
	ps.SECur = seCur * math.Sqrt(math.Max(1, phi))
	ps.SEBase = seBase * math.Sqrt(math.Max(1, phi))
	return ps
}

// binaryTest picks McNemar or CMH, exact or asymptotic (§1.5, §2.2).
func (ps *pairStats) binaryTest(ref, cur RunScores, sel []int, n int) {
	var r CMHResult
	allOne := true
	b, c := 0, 0
	stratum := func(i int) (Stratum, bool) {
		rn, cn := at(ref.Count, i), at(cur.Count, i)
		if rn == 0 || cn == 0 {
			return Stratum{}, false
		}
		rp := min(max(int(math.Round(at(ref.Sum, i))), 0), rn)
		cp := min(max(int(math.Round(at(cur.Sum, i))), 0), cn)
		return Stratum{CurPass: cp, CurFail: cn - cp, RefPass: rp, RefFail: rn - rp}, true
	}
	visit := func(f func(Stratum)) {
		if sel != nil {
			for _, i := range sel {
				if s, ok := stratum(i); ok {
					f(s)
				}
			}
			return
		}
		for i := range n {
			if s, ok := stratum(i); ok {
				f(s)
			}
		}
	}
	visit(func(s Stratum) {
		t, e, v, _ := cmhTerm(s)
		r.T += t
		r.E += e
		r.V += v
		if s.CurPass+s.CurFail != 1 || s.RefPass+s.RefFail != 1 {
			allOne = false
		} else if s.RefPass == 1 && s.CurPass == 0 {
			b++
		} else if s.RefPass == 0 && s.CurPass == 1 {
			c++
		}
	})
	r.finish()
	ps.Z = r.Z
	switch {
	case allOne && b+c < 30:
		m := McNemar(b, c)
		ps.Test, ps.PDrop, ps.PTwo = TestMcNemarMidP, m.PMidPDrop, m.PMidP
	case allOne:
		ps.Test, ps.PDrop, ps.PTwo = TestMcNemar, r.PDrop, r.PTwoSided
	case r.V > 0 && r.V < 25:
		var cv cmhConv
		visit(cv.size)
		visit(cv.add)
		ps.Test = TestCMHExact
		ps.PDrop, ps.PTwo = cv.midP()
	default:
		ps.Test, ps.PDrop, ps.PTwo = TestCMH, r.PDrop, r.PTwoSided
	}
}

// compareAgg builds a Comparison over aligned aggregates; sel restricts it
// to a subset of case indices (nil: all).
func compareAgg(ids []string, ref, cur RunScores, binary bool, sel []int) Comparison {
	ps := pairedStats(ref, cur, binary, 1, sel, true)
	c := Comparison{
		Test: ps.Test, N: ps.N, Dropped: ps.Dropped,
		Reference: ps.RefMean, Current: ps.CurMean, Delta: ps.D, SE: ps.SETot,
		Z: ps.Z, PTwoSided: ps.PTwo, PDrop: ps.PDrop,
		NPassToFail: len(ps.passToFail), NFailToPass: len(ps.failTo),
	}
	// The interval comes from the same inference as the p-values beside it
	// (agreeingInterval), clipped to [−1, 1].
	c.CILow, c.CIHigh = agreeingInterval(ps.D, ps.SETot, ps.N, ps.Test, ps.PTwo, ps.PDrop)
	if ps.N == 0 {
		c.Test = ""
	}
	for _, i := range ps.passToFail[:min(len(ps.passToFail), MaxListedCases)] {
		c.PassToFail = append(c.PassToFail, ids[i])
	}
	for _, i := range ps.failTo[:min(len(ps.failTo), MaxListedCases)] {
		c.FailToPass = append(c.FailToPass, ids[i])
	}
	return c
}

// RunStats are the per-run statistics of docs/drift.md §2.1 for one run
// against a reference, as the detector computes them.
type RunStats struct {
	N, Dropped int
	// D is the mean paired difference, SETot its case-clustered SE
	// (floored at 1/(2N)), F = n/(n+k). DStat is the statistic the CUSUM
	// consumes and SECur/SEBase split its standard error under "no change"
	// into this run's part (inflated by √φ) and the reference's (see
	// pairedStats).
	D, SETot, DStat, SECur, SEBase, F float64
	// Z and PDrop are the one-sided test of a drop named by Test.
	Z, PDrop float64
	Test     string
}

// PairedRun computes the per-run statistics of cur against ref (arrays
// aligned by case) with over-dispersion phi. The detector uses the same
// code; it is exported for benchmarks and dashboards.
func PairedRun(ref, cur RunScores, binary bool, phi float64) RunStats {
	ps := pairedStats(ref, cur, binary, phi, nil, false)
	return RunStats{N: ps.N, Dropped: ps.Dropped, D: ps.D, SETot: ps.SETot, DStat: ps.DStat, SECur: ps.SECur,
		SEBase: ps.SEBase, F: ps.F, Z: ps.Z, PDrop: ps.PDrop, Test: ps.Test}
}

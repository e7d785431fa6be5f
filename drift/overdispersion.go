package drift

import "math"

// minRunsForPhi is the reference size from which φ is measured (§2.4).
const minRunsForPhi = 5

// Overdispersion returns φ = max(1, mean_j Z_j²) over the reference runs,
// where Z_j compares run j with the other B−1 runs (leave-one-out) with
// the detector's own run statistic: Z_j = DStat_j/SE_null,j (see
// pairedStats). With pure sampling noise E[Z_j²] ≈ 1; φ > 2 means the
// provider adds run-level noise. It is 1 when B < 5 or when the per-run
// sums are gone (frozen reference: the stored Phi applies).
//
// Z_j does not use sd(d_i) of run j: with 0/1 scores a run that happens to
// pass more also has a smaller sd(d_i), which couples D_j with its SE and
// inflates Z_j² (φ ≈ 2 at N = 50, p = 0.9 with no run-level noise at all).
func (r *Reference) Overdispersion(binary bool) float64 {
	b := len(r.PerRun)
	if b < minRunsForPhi {
		return 1
	}
	n := len(r.Cases)
	rest := RunScores{Sum: make([]float64, n), Count: make([]int, n)}
	if r.SumSq != nil {
		rest.SumSq = make([]float64, n)
	}
	total := 0.0
	for _, run := range r.PerRun {
		for i := range n {
			rest.Sum[i] = r.Sum[i] - at(run.Sum, i)
			rest.Count[i] = r.Count[i] - at(run.Count, i)
			if rest.SumSq != nil {
				rest.SumSq[i] = r.SumSq[i] - at(run.SumSq, i)
			}
		}
		ps := pairedStats(rest, run, binary, 1, nil, false)
		if ps.N < 2 {
			continue
		}
		z := ps.DStat / math.Hypot(ps.SECur, ps.SEBase) // φ = 1 here
		total += z * z
	}
	return math.Max(1, total/float64(b))
}

package drift

import "math"

// minRunsForPhi is the reference size from which φ is measured (§2.4).
const minRunsForPhi = 5

// Overdispersion returns φ = max(1, mean_j Z_j²) over the reference runs,
// where Z_j = D_j/SE_j compares run j with the other B−1 runs
// (leave-one-out). With pure sampling noise E[Z_j²] ≈ 1; φ > 2 means the
// provider adds run-level noise. It is 1 when B < 5 or once the reference
// is frozen without its per-run sums (the stored Phi then applies).
//
// SE_j is the standard error of D_j under "no change" computed from the
// within-case variances of the other runs, not sd(d_i) of run j itself:
// with 0/1 scores a run that happens to pass more also has a smaller
// sd(d_i), which couples D_j and its SE and inflates Z_j² (φ ≈ 2 at N = 50,
// p = 0.9 with no run-level noise at all).
func (r *Reference) Overdispersion() float64 {
	b := len(r.PerRun)
	if b < minRunsForPhi {
		return 1
	}
	total := 0.0
	for _, run := range r.PerRun {
		var ns nullSE
		sumD, n := 0.0, 0
		for i := range r.Cases {
			c := at(run.Count, i)
			if c == 0 {
				continue
			}
			rest := r.Count[i] - c
			if rest <= 0 {
				continue
			}
			s := at(run.Sum, i)
			restSum := r.Sum[i] - s
			restSq := restSum
			if r.SumSq != nil {
				restSq = at(r.SumSq, i) - run.sq(i)
			}
			sumD += s/float64(c) - restSum/float64(rest)
			n++
			v, ok := sampleVar(restSum, restSq, rest)
			ns.add(v, ok, c, rest)
		}
		if n < 2 {
			continue
		}
		seCur, seBase, ok := ns.result()
		se := math.Max(math.Hypot(seCur, seBase), 1/(2*float64(n)))
		if !ok {
			continue
		}
		z := sumD / float64(n) / se
		total += z * z
	}
	return math.Max(1, total/float64(b))
}

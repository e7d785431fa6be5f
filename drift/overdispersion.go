package drift

import "math"

// minRunsForPhi is the reference size from which φ is measured (§2.4).
const minRunsForPhi = 5

// Overdispersion returns φ ≥ 1 measured on the reference runs alone
// (docs/drift.md §2.4 and §6): each reference run j is compared with the
// other reference runs (leave-one-out) with the detector's own run
// statistic, Z_j = DStat_j/SE_null,j, and with pure sampling noise
// E[Z_j²] ≈ 1; φ > 2 means the provider adds run-level noise. The current
// run never enters it. It is 1 when B < 5 or when the per-run sums are gone
// (frozen reference: the stored Phi applies).
//
// The estimate is trimmed so that one outlying run cannot carry it: the
// run with the largest Z_j² is set aside entirely (it leaves the other
// runs' leave-one-out references too, which it would otherwise shift), φ
// is the mean Z_j² of the remaining B−1 runs against each other, divided
// by its expectation under pure sampling noise (trimmedPhiMean) so that it
// stays unbiased. A run 45 pp below seven others thus moves φ̂ by nothing,
// where the plain mean rose to 6.5 (the incident of §6).
//
// Z_j does not use sd(d_i) of run j: with 0/1 scores a run that happens to
// pass more also has a smaller sd(d_i), which couples D_j with its SE and
// inflates Z_j² (φ ≈ 2 at N = 50, p = 0.9 with no run-level noise at all).
func (r *Reference) Overdispersion(binary bool) float64 {
	b := len(r.PerRun)
	if b < minRunsForPhi {
		return 1
	}
	z2 := r.looZ2(binary, -1)
	worst := 0
	for j, z := range z2 {
		if z > z2[worst] {
			worst = j
		}
	}
	total, n := 0.0, 0
	for j, z := range r.looZ2(binary, worst) {
		if j != worst && !math.IsNaN(z) {
			total += z
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return math.Max(1, total/float64(n)/trimmedPhiMean(b))
}

// looZ2 returns Z_j² of every reference run j against the reference
// without run j and without run skip (−1: none); NaN where fewer than two
// cases pair.
func (r *Reference) looZ2(binary bool, skip int) []float64 {
	n := len(r.Cases)
	base := RunScores{Sum: make([]float64, n), Count: make([]int, n)}
	if r.SumSq != nil {
		base.SumSq = make([]float64, n)
	}
	for i := range n {
		base.Sum[i], base.Count[i] = r.Sum[i], r.Count[i]
		if base.SumSq != nil {
			base.SumSq[i] = r.SumSq[i]
		}
		if skip >= 0 {
			run := r.PerRun[skip]
			base.Sum[i] -= at(run.Sum, i)
			base.Count[i] -= at(run.Count, i)
			if base.SumSq != nil {
				base.SumSq[i] -= at(run.SumSq, i)
			}
		}
	}
	rest := RunScores{Sum: make([]float64, n), Count: make([]int, n)}
	if r.SumSq != nil {
		rest.SumSq = make([]float64, n)
	}
	out := make([]float64, len(r.PerRun))
	for j, run := range r.PerRun {
		if j == skip {
			out[j] = math.NaN()
			continue
		}
		for i := range n {
			rest.Sum[i] = base.Sum[i] - at(run.Sum, i)
			rest.Count[i] = base.Count[i] - at(run.Count, i)
			if rest.SumSq != nil {
				rest.SumSq[i] = base.SumSq[i] - at(run.SumSq, i)
			}
		}
		ps := pairedStats(rest, run, binary, 1, nil, false)
		if ps.N < 2 {
			out[j] = math.NaN()
			continue
		}
		z := ps.DStat / math.Hypot(ps.SECur, ps.SEBase) // φ = 1 here
		out[j] = z * z
	}
	return out
}

// trimmedPhiMean is E[φ̂ before the floor at 1] under pure sampling noise
// for a reference of b runs: the expected sample variance of b − 1 of b
// standard normals once the one farthest from the mean of all b is set
// aside. Monte Carlo, 400 000 replicates per b (standard error ≤ 0.001;
// TestTrimmedPhiMean re-checks a few); past the table the deficit shrinks
// like ln(b)/b.
func trimmedPhiMean(b int) float64 {
	switch {
	case b < minRunsForPhi:
		return 1
	case b-minRunsForPhi < len(trimmedPhiMeans):
		return trimmedPhiMeans[b-minRunsForPhi]
	}
	last := len(trimmedPhiMeans) - 1 + minRunsForPhi
	deficit := 1 - trimmedPhiMeans[len(trimmedPhiMeans)-1]
	return 1 - deficit*float64(last)/float64(b)*math.Log(float64(b))/math.Log(float64(last))
}

// trimmedPhiMeans[i] is trimmedPhiMean(5 + i).
var trimmedPhiMeans = [...]float64{
	0.4582, 0.5218, 0.5668, 0.6045, 0.6337, 0.6575, 0.6779, 0.6957, 0.7120, 0.7257,
	0.7374, 0.7487, 0.7582, 0.7682, 0.7765, 0.7838, 0.7902, 0.7973, 0.8028, 0.8094,
	0.8137, 0.8190, 0.8244, 0.8278, 0.8317, 0.8358, 0.8397, 0.8436, 0.8463, 0.8496,
	0.8528, 0.8558, 0.8589, 0.8617, 0.8642, 0.8662, 0.8683, 0.8707, 0.8733, 0.8743,
	0.8769, 0.8788, 0.8810, 0.8827, 0.8843, 0.8860, 0.8874, 0.8894, 0.8910, 0.8922,
	0.8940, 0.8952, 0.8959, 0.8975, 0.8988, 0.9000, 0.9014, 0.9026, 0.9035, 0.9046,
	0.9058, 0.9067, 0.9083, 0.9091, 0.9097, 0.9107, 0.9116, 0.9126, 0.9135, 0.9144,
	0.9153, 0.9156, 0.9169, 0.9175, 0.9185, 0.9190, 0.9198, 0.9208, 0.9214, 0.9218,
	0.9230, 0.9236, 0.9245, 0.9247, 0.9254, 0.9260, 0.9269, 0.9268, 0.9278, 0.9283,
	0.9291, 0.9295, 0.9299, 0.9303, 0.9311, 0.9313,
}

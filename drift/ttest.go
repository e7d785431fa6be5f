package drift

import "math"

// PairedResult is the paired, case-clustered comparison of mean scores
// (Miller 2024): d_i = mean(current_i) − mean(reference_i), the case is the
// cluster, and the t statistic has N−1 degrees of freedom.
type PairedResult struct {
	D        []float64 // per-case differences, in input order
	N        int
	Mean     float64 // mean of D
	SE       float64 // sd(D, ddof=1)/√N, without the 1/(2N) floor
	T        float64 // Mean/SE (0 when SE is 0)
	DF       int
	PDropT   float64 // one-sided p of a drop from Student t (N−1 df)
	PDropZ   float64 // the same from the normal
	Lo, Hi   float64 // 95 % t interval Mean ∓ t₀.₉₇₅·SE
	PTwoT    float64 // two-sided p from Student t
	Quantile float64 // t₀.₉₇₅ with N−1 df
}

// PairedT compares per-case sample lists; current[i] and reference[i]
// belong to the same case. Cases with no sample on either side are skipped.
func PairedT(current, reference [][]float64) PairedResult {
	var d []float64
	for i := range current {
		if i >= len(reference) || len(current[i]) == 0 || len(reference[i]) == 0 {
			continue
		}
		d = append(d, mean(current[i])-mean(reference[i]))
	}
	return pairedFromDiffs(d)
}

func pairedFromDiffs(d []float64) PairedResult {
	r := PairedResult{D: d, N: len(d), DF: len(d) - 1}
	if r.N == 0 {
		r.PDropT, r.PDropZ, r.PTwoT = 0.5, 0.5, 1
		return r
	}
	r.Mean = mean(d)
	if r.N < 2 {
		r.PDropT, r.PDropZ, r.PTwoT = 0.5, 0.5, 1
		r.Lo, r.Hi = r.Mean, r.Mean
		return r
	}
	ss := 0.0
	for _, x := range d {
		ss += (x - r.Mean) * (x - r.Mean)
	}
	r.SE = math.Sqrt(ss/float64(r.N-1)) / math.Sqrt(float64(r.N))
	r.tTest(r.SE)
	return r
}

// tTest fills the test and interval fields from a standard error.
func (r *PairedResult) tTest(se float64) {
	df := float64(r.DF)
	r.Quantile = StudentTQuantile(0.975, df)
	if se <= 0 {
		r.PDropT, r.PDropZ, r.PTwoT = 0.5, 0.5, 1
		if r.Mean < 0 {
			r.PDropT, r.PDropZ, r.PTwoT = 0, 0, 0
		} else if r.Mean > 0 {
			r.PDropT, r.PDropZ, r.PTwoT = 1, 1, 0
		}
		r.Lo, r.Hi = r.Mean, r.Mean
		return
	}
	r.T = r.Mean / se
	r.PDropT = StudentTCDF(r.T, df)
	r.PDropZ = NormalCDF(r.T)
	r.PTwoT = math.Min(1, 2*StudentTCDF(-math.Abs(r.T), df))
	r.Lo = r.Mean - r.Quantile*se
	r.Hi = r.Mean + r.Quantile*se
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

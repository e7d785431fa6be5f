package drift

import "math"

// McNemarPowerResult is the unconditional power of the one-sided McNemar
// test of a drop in one comparison (one run against one reference run).
type McNemarPowerResult struct {
	Exact  float64 // exact conditional test
	MidP   float64 // its mid-p version
	Normal float64 // Connor's (1987) normal approximation
}

// McNemarPower returns the power of the one-sided test at level alpha for
// N cases when a case passes in the reference and fails now with
// probability p10 and the reverse with probability p01 (docs/drift.md §2.7):
// M ~ Bin(N, ψ) discordant pairs, ψ = p10+p01; given m, b ~ Bin(m, p10/ψ);
// reject when P(X ≥ b | X ~ Bin(m, ½)) ≤ alpha (mid-p: P(X>b)+½P(X=b) ≤ alpha).
func McNemarPower(n int, p10, p01, alpha float64) McNemarPowerResult {
	psi := p10 + p01
	var r McNemarPowerResult
	if psi <= 0 {
		return r
	}
	pi := p10 / psi
	for m := 1; m <= n; m++ {
		wm := binomPMF(m, n, psi)
		if wm == 0 {
			continue
		}
		half := binomHalfPMF(m)
		cExact, cMid := m+1, m+1
		upper := 0.0 // P(X ≥ b), b descending
		for b := m; b >= 0; b-- {
			upper += half[b]
			if upper <= alpha {
				cExact = b
			}
			if upper-half[b]/2 <= alpha {
				cMid = b
			}
		}
		r.Exact += wm * binomUpper(cExact, m, pi)
		r.MidP += wm * binomUpper(cMid, m, pi)
	}
	d := p10 - p01
	z := NormalQuantile(1 - alpha)
	r.Normal = NormalCDF((d*math.Sqrt(float64(n)) - z*math.Sqrt(psi)) / math.Sqrt(psi-d*d))
	return r
}

// binomUpper returns P(X ≥ c) for X ~ Bin(m, p).
func binomUpper(c, m int, p float64) float64 {
	switch {
	case c <= 0:
		return 1
	case c > m:
		return 0
	}
	return incBeta(float64(c), float64(m-c+1), p, 1-p)
}

// SampleSize returns the cases needed by a one-look paired test of a drop d
// at one-sided level alpha with power 1−beta when Var(d_i) = omega2:
// N ≥ (z_{1−α} + z_{1−β})²·ω²/d² (Miller §power).
func SampleSize(d, omega2, alpha, beta float64) int {
	z := NormalQuantile(1-alpha) + NormalQuantile(1-beta)
	return int(math.Ceil(z * z * omega2 / (d * d)))
}

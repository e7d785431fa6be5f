package drift

import "math"

// McNemarResult holds the p-values of McNemar's test for one sample per
// case on each side. B counts cases that passed in the reference and fail
// now, C the reverse. Under no change X ~ Binomial(B+C, 1/2).
type McNemarResult struct {
	B, C int
	// PExact is the exact conditional two-sided p: min(1, 2·P(X ≤ min(b,c))).
	PExact float64
	// PMidP is the mid-p two-sided p: min(1, 2·P(X ≤ min(b,c)) − P(X = min(b,c))).
	PMidP float64
	// PExactDrop is the exact one-sided p for a drop: P(X ≥ b).
	PExactDrop float64
	// PMidPDrop is the mid-p one-sided p for a drop: P(X > b) + P(X = b)/2.
	PMidPDrop float64
	// Chi2 is (b−c)²/(b+c) and PChi2 its χ²₁ tail.
	Chi2, PChi2 float64
	// Chi2Yates is (|b−c|−1)²/(b+c) and PChi2Yates its χ²₁ tail.
	Chi2Yates, PChi2Yates float64
}

// McNemar computes McNemar's test. With b+c = 0 every p-value is 1.
func McNemar(b, c int) McNemarResult {
	r := McNemarResult{B: b, C: c}
	n := b + c
	if n == 0 {
		r.PExact, r.PMidP, r.PExactDrop, r.PMidPDrop, r.PChi2, r.PChi2Yates = 1, 1, 1, 1, 1, 1
		return r
	}
	pmf := binomHalfPMF(n)
	m := min(b, c)
	low := sumRange(pmf, 0, m)
	r.PExact = math.Min(1, 2*low)
	r.PMidP = math.Min(1, 2*low-pmf[m])
	r.PExactDrop = sumRange(pmf, b, n)
	r.PMidPDrop = sumRange(pmf, b+1, n) + 0.5*pmf[b]
	diff := float64(b - c)
	r.Chi2 = diff * diff / float64(n)
	r.PChi2 = chi2SF1(r.Chi2)
	y := math.Abs(diff) - 1
	r.Chi2Yates = y * y / float64(n)
	r.PChi2Yates = chi2SF1(r.Chi2Yates)
	return r
}

// PairedWald is the paired (Wald) difference of two proportions measured on
// the same cases, current minus reference: n11 both pass, n10 reference
// pass & current fail, n01 reference fail & current pass, n00 both fail.
// The 95 % interval has no continuity correction.
func PairedWald(n11, n10, n01, n00 int) (diff, se, lo, hi float64) {
	n := float64(n11 + n10 + n01 + n00)
	if n == 0 {
		return 0, 0, 0, 0
	}
	d := float64(n01 - n10)
	diff = d / n
	se = math.Sqrt(math.Max(0, float64(n10+n01)-d*d/n)) / n
	z := NormalQuantile(0.975)
	return diff, se, diff - z*se, diff + z*se
}

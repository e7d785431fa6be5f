package drift

import "math"

// CIScope says what the intervals evald prints next to a p-value are
// about: the change on this suite's fixed cases (the question evald pages
// on), not on a population of cases the suite samples from.
const CIScope = "on these cases"

// agreeingInterval returns the 95 % interval of a paired change d that
// comes from the same inference as the test's p-values, so that the
// two-sided p is below 0.05 exactly when the interval excludes 0, and the
// one-sided p of a drop is below 0.025 exactly when its upper bound is
// below 0 (docs/drift.md §2.1, "evidence that agrees with itself").
//
//   - Paired t (continuous scores): d ± t₀.₉₇₅,N−1·SE, the interval the t
//     test inverts.
//   - CMH and McNemar, asymptotic or exact mid-p (0/1 scores): the
//     test-based interval (Miettinen 1976): the test's two-sided p read as
//     a normal deviate z = Φ⁻¹(1 − p/2) gives the standard error the test
//     implies, |d|/z, and the interval d·(1 ± 1.96/z). Before, the
//     interval came from sd(d_i) over cases with t on N − 1 df while the
//     p-value came from CMH over samples: two questions, and a page could
//     read "CI −50 pp to +10 pp, p = 0.0002".
//
// When the test's direction and the sign of d disagree (possible only
// when cases have different numbers of samples, as CMH weights them) or d
// is 0, the test says nothing about d's side: the interval is d ± the
// larger of the test-implied and the clustered SE, widened to hold 0.
// Intervals are clipped to [−1, 1], where a change of scores in [0, 1]
// lies.
func agreeingInterval(d, seTot float64, n int, test string, pTwo, pDrop float64) (lo, hi float64) {
	clip := func(lo, hi float64) (float64, float64) { return math.Max(-1, lo), math.Min(1, hi) }
	if n < 2 {
		return d, d
	}
	if test == TestPairedT {
		q := StudentTQuantile(0.975, float64(n-1))
		return clip(d-q*seTot, d+q*seTot)
	}
	const z975 = 1.959963984540054
	// The direction the test itself points to.
	down := pDrop < 0.5
	agree := d < 0 && down || d > 0 && !down
	// −Φ⁻¹(p/2), not Φ⁻¹(1 − p/2): the latter is +Inf once p < 1e-16.
	z := -NormalQuantile(math.Max(pTwo, 1e-300) / 2)
	if !agree || !(z > 0) {
		w := z975 * seTot
		lo, hi = d-w, d+w
		return clip(math.Min(lo, 0), math.Max(hi, 0))
	}
	w := z975 * math.Abs(d) / z
	return clip(d-w, d+w)
}

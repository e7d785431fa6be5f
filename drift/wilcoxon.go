package drift

import (
	"math"
	"slices"
)

// Wilcoxon signed-rank options, as scipy.stats.wilcoxon names them.
const (
	ZeroWilcox = "wilcox" // drop zero differences before ranking (evald's default)
	ZeroPratt  = "pratt"  // rank zeros, then discard their ranks

	AltTwoSided = "two-sided"
	AltLess     = "less"    // current lower than reference: the regression direction
	AltGreater  = "greater" // current higher

	MethodAuto   = "auto"   // exact when there are no zeros, no ties and n ≤ 50
	MethodExact  = "exact"  // exact null law of R+ (no zeros or ties allowed)
	MethodApprox = "approx" // normal approximation, tie-corrected, no continuity correction
)

// WilcoxonResult is a Wilcoxon signed-rank test on paired differences.
type WilcoxonResult struct {
	// Statistic is min(R+, R−) for the two-sided test and R+ otherwise.
	Statistic float64
	P         float64
	Method    string // the method used (exact or approx)
	N         int    // differences ranked (after dropping zeros for wilcox)
}

// Wilcoxon runs the signed-rank test on d (current minus reference per
// case) with scipy 1.10's conventions: correction=False, average ranks
// for ties, and an exact method that is only valid without zeros or ties.
// A robustness view, not the alerting statistic (see docs/drift.md §2.3).
func Wilcoxon(d []float64, zeroMethod, alternative, method string) WilcoxonResult {
	nZero, ties := 0, false
	for _, x := range d {
		if x == 0 {
			nZero++
		}
	}
	abs := make([]float64, 0, len(d))
	for _, x := range d {
		abs = append(abs, math.Abs(x))
	}
	sorted := slices.Clone(abs)
	slices.Sort(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] && sorted[i] != 0 {
			ties = true
		}
	}
	if method == "" || method == MethodAuto {
		method = MethodApprox
		if len(d) <= 50 && nZero == 0 && !ties {
			method = MethodExact
		}
	}
	if nZero > 0 && method == MethodExact {
		method = MethodApprox
	}
	work := d
	if zeroMethod != ZeroPratt {
		work = make([]float64, 0, len(d))
		for _, x := range d {
			if x != 0 {
				work = append(work, x)
			}
		}
	}
	count := len(work)
	res := WilcoxonResult{Method: method, N: count}
	if count == 0 {
		res.P = 1
		return res
	}
	a := make([]float64, count)
	for i, x := range work {
		a[i] = math.Abs(x)
	}
	r := averageRanks(a)
	var rPlus, rMinus float64
	for i, x := range work {
		switch {
		case x > 0:
			rPlus += r[i]
		case x < 0:
			rMinus += r[i]
		}
	}
	if alternative == AltTwoSided {
		res.Statistic = math.Min(rPlus, rMinus)
	} else {
		res.Statistic = rPlus
	}
	if method == MethodExact {
		pmf := signedRankPMF(count)
		k := int(rPlus)
		switch alternative {
		case AltTwoSided:
			if k == (len(pmf)-1)/2 {
				res.P = 1
			} else {
				res.P = 2 * math.Min(sumRange(pmf, 0, k), sumRange(pmf, k, len(pmf)-1))
			}
		case AltGreater:
			res.P = sumRange(pmf, k, len(pmf)-1)
		default:
			res.P = sumRange(pmf, 0, k)
		}
		res.P = math.Min(1, math.Max(0, res.P))
		return res
	}
	n := float64(count)
	mn := n * (n + 1) * 0.25
	se := n * (n + 1) * (2*n + 1)
	nonzero := r
	if zeroMethod == ZeroPratt {
		z := float64(nZero)
		mn -= z * (z + 1) * 0.25
		se -= z * (z + 1) * (2*z + 1)
		nonzero = nonzero[:0:0]
		for i, x := range work {
			if x != 0 {
				nonzero = append(nonzero, r[i])
			}
		}
	}
	se -= 0.5 * tieTerm(nonzero)
	se = math.Sqrt(se / 24)
	zs := (res.Statistic - mn) / se
	switch alternative {
	case AltTwoSided:
		res.P = 2 * NormalSF(math.Abs(zs))
	case AltGreater:
		res.P = NormalSF(zs)
	default:
		res.P = NormalCDF(zs)
	}
	return res
}

// averageRanks returns 1-based ranks with ties sharing their average rank.
func averageRanks(a []float64) []float64 {
	idx := make([]int, len(a))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		switch {
		case a[i] < a[j]:
			return -1
		case a[i] > a[j]:
			return 1
		}
		return 0
	})
	r := make([]float64, len(a))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && a[idx[j+1]] == a[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

// tieTerm returns Σ t(t²−1) over groups of equal values.
func tieTerm(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	total := 0.0
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[i] {
			j++
		}
		if t := float64(j - i + 1); t > 1 {
			total += t * (t*t - 1)
		}
		i = j + 1
	}
	return total
}

// signedRankPMF returns P(R+ = r), r = 0..n(n+1)/2, under no change.
func signedRankPMF(n int) []float64 {
	top := n * (n + 1) / 2
	cnt := make([]float64, top+1) // subset counts are exact in float64 for n ≤ 50
	cnt[0] = 1
	for k := 1; k <= n; k++ {
		for s := k * (k + 1) / 2; s >= k; s-- {
			cnt[s] += cnt[s-k]
		}
	}
	scale := math.Ldexp(1, -n)
	for i := range cnt {
		cnt[i] *= scale
	}
	return cnt
}

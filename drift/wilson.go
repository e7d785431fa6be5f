package drift

import "math"

// Wilson returns the Wilson score interval for x passes out of n at level
// 1−alpha (the dashboard's pass-rate error bars). n = 0 gives [0, 1].
func Wilson(x, n int, alpha float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	z := NormalQuantile(1 - alpha/2)
	fn := float64(n)
	p := float64(x) / fn
	z2 := z * z
	den := 1 + z2/fn
	center := (p + z2/(2*fn)) / den
	half := z / den * math.Sqrt(p*(1-p)/fn+z2/(4*fn*fn))
	return math.Max(0, center-half), math.Min(1, center+half)
}

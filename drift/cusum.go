package drift

import "math"

// LLRIncrement is the CUSUM increment g_t of docs/drift.md §2.5: the
// log-likelihood ratio of "mean −dMin" against "mean 0" for the run
// difference d, after the baseline guard z_g·SE_base is taken off the drop:
//
//	g = (dMin/seCur²)·max(0, −d − zGuard·seBase) − dMin²/(2·seCur²)
func LLRIncrement(d, seCur, seBase, dMin, zGuard float64) float64 {
	v := seCur * seCur
	drop := math.Max(0, -d-zGuard*seBase)
	return dMin/v*drop - dMin*dMin/(2*v)
}

// LLRStep returns S_t = max(0, S_{t−1} + g_t) and g_t.
func LLRStep(s, d, seCur, seBase, dMin, zGuard float64) (next, g float64) {
	g = LLRIncrement(d, seCur, seBase, dMin, zGuard)
	return math.Max(0, s+g), g
}

// LLRCUSUM runs the evald CUSUM over a series (no reset after an alarm)
// and returns S, the increments and the 0-based indices where S ≥ h.
func LLRCUSUM(d, seCur, seBase []float64, dMin, zGuard, h float64) (s, g []float64, alarms []int) {
	cur := 0.0
	for t := range d {
		var gt float64
		cur, gt = LLRStep(cur, d[t], seCur[t], seBase[t], dMin, zGuard)
		s = append(s, cur)
		g = append(g, gt)
		if cur >= h {
			alarms = append(alarms, t)
		}
	}
	return s, g, alarms
}

// TabularCUSUMLower is the textbook lower tabular CUSUM (Montgomery):
// S_t = max(0, S_{t−1} + (target − x_t) − k), alarm at every t with S_t > h.
// It is here for comparison and tests; evald alarms with [LLRStep].
func TabularCUSUMLower(x []float64, target, k, h float64) (s []float64, alarms []int) {
	cur := 0.0
	for t, v := range x {
		cur = math.Max(0, cur+(target-v)-k)
		s = append(s, cur)
		if cur > h {
			alarms = append(alarms, t)
		}
	}
	return s, alarms
}

package drift

import (
	"math"
	"slices"
)

// BH returns Benjamini–Hochberg adjusted p-values (q-values) in input
// order: q_(i) = min over j ≥ i of min(1, m·p_(j)/j). Reject where q ≤ 0.05.
// Use it where many decisions are made at once (per-tag drill-downs, the
// identity verdicts of all suites on one target), never across time.
func BH(p []float64) []float64 {
	m := len(p)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] < p[b]:
			return -1
		case p[a] > p[b]:
			return 1
		}
		return 0
	})
	q := make([]float64, m)
	running := math.Inf(1)
	for r := m - 1; r >= 0; r-- {
		i := idx[r]
		v := p[i] * float64(m) / float64(r+1)
		running = math.Min(running, v)
		q[i] = math.Min(1, running)
	}
	return q
}

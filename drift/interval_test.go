package drift

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestIntervalAgreesWithP is the property test of "evidence that agrees
// with itself": over generated runs, for every test evald reports (CMH and
// McNemar, asymptotic and exact mid-p, for 0/1 scores; the paired t for
// continuous ones), the two-sided p is below 0.05 exactly when the 95 %
// interval excludes 0, and the one-sided p of a drop is below 0.025 exactly
// when the interval lies below 0.
func TestIntervalAgreesWithP(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	seen := map[string]int{}
	for i := range 4000 {
		binary := i%4 != 3
		n := 2 + rng.IntN(60)
		if i%3 == 0 {
			n = 60 + rng.IntN(240) // asymptotic CMH and McNemar
		}
		k := 1 + rng.IntN(3)
		refRuns := 1 + rng.IntN(8)
		if rng.IntN(3) == 0 {
			k, refRuns = 1, 1 // McNemar's case
		}
		drop := 0.4 * rng.Float64() * float64(rng.IntN(2))
		ref, cur := map[string][]float64{}, map[string][]float64{}
		for c := range n {
			p := rng.Float64()
			if rng.IntN(2) == 0 {
				p = 0.7 + 0.3*rng.Float64()
			}
			id := fmt.Sprintf("c%02d", c)
			for range k * refRuns {
				ref[id] = append(ref[id], sample(rng, p, binary))
			}
			for range k {
				cur[id] = append(cur[id], sample(rng, max(0, p-drop), binary))
			}
		}
		c := Compare(ref, cur, binary)
		if c.N < 2 {
			continue
		}
		seen[c.Test]++
		excludes := c.CILow > 0 || c.CIHigh < 0
		if got, want := excludes, c.PTwoSided < 0.05; got != want {
			t.Fatalf("%s, N = %d: two-sided p = %.4g but the 95%% CI is %.4f to %.4f (Δ = %.4f)", c.Test, c.N, c.PTwoSided, c.CILow, c.CIHigh, c.Delta)
		}
		if got, want := c.CIHigh < 0, c.PDrop < 0.025; got != want {
			t.Fatalf("%s, N = %d: one-sided p of a drop = %.4g but the 95%% CI is %.4f to %.4f (Δ = %.4f)", c.Test, c.N, c.PDrop, c.CILow, c.CIHigh, c.Delta)
		}
		if c.CILow > c.Delta || c.CIHigh < c.Delta {
			t.Fatalf("%s: interval %.4f to %.4f does not hold Δ = %.4f", c.Test, c.CILow, c.CIHigh, c.Delta)
		}
	}
	for _, test := range []string{TestMcNemarMidP, TestMcNemar, TestCMHExact, TestCMH, TestPairedT} {
		if seen[test] < 20 {
			t.Errorf("only %d generated runs used %s; the property needs each test exercised", seen[test], test)
		}
	}
	t.Logf("tests exercised: %v", seen)
}

func sample(rng *rand.Rand, p float64, binary bool) float64 {
	if !binary {
		return min(1, max(0, p+0.2*rng.NormFloat64()))
	}
	if rng.Float64() < p {
		return 1
	}
	return 0
}

package drift

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchRuns builds a 20-run reference of n cases × k samples and one more
// run to compare, for 0/1 or continuous scores.
func benchRuns(b *testing.B, cfg Config, n, k int) (State, RunInput) {
	binary := cfg.Binary
	b.Helper()
	rng := rand.New(rand.NewPCG(42, 0x5eed))
	p := make([]float64, n)
	ids := make([]string, n)
	for i := range p {
		p[i] = 0.5 + 0.5*rng.Float64()
		ids[i] = fmt.Sprintf("case-%05d", i)
	}
	mk := func(id int64) RunInput {
		cases := make(map[string][]float64, n)
		for i, q := range p {
			xs := make([]float64, k)
			for j := range xs {
				if binary {
					if rng.Float64() < q {
						xs[j] = 1
					}
				} else {
					xs[j] = q * rng.Float64()
				}
			}
			cases[ids[i]] = xs
		}
		return RunInput{RunID: id, SuiteVersion: "s", TargetVersion: "t", Completed: true, Cases: cases,
			ExpectedCases: n, Models: map[string]int{"m": n * k}, Fingerprints: map[string]int{"fp_A": n * k}}
	}
	var st State
	for i := range DefaultBMax {
		st, _ = Update(cfg, st, mk(int64(i+1)))
	}
	return st, mk(DefaultBMax + 1)
}

// BenchmarkUpdate: one run of 2 000 cases × 5 samples against a frozen
// 20-run reference (goal: well under 20 ms).
func BenchmarkUpdate(b *testing.B) {
	for _, binary := range []bool{true, false} {
		name := "binary"
		if !binary {
			name = "continuous"
		}
		b.Run(name, func(b *testing.B) {
			cfg := Config{Binary: binary}
			st, in := benchRuns(b, cfg, 2000, 5)
			if !st.Ref.Frozen {
				b.Fatal("reference not frozen")
			}
			b.ReportAllocs()
			for b.Loop() {
				Update(cfg, st, in)
			}
		})
	}
}

// BenchmarkUpdateGrowing: the same run while the reference still grows
// (per-run sums kept, φ recomputed leave-one-out on every added run).
func BenchmarkUpdateGrowing(b *testing.B) {
	cfg := Config{Binary: true, BMax: 40}
	st, in := benchRuns(b, cfg, 2000, 5)
	if st.Ref.Frozen || len(st.Ref.PerRun) != DefaultBMax {
		b.Fatal("reference should still grow")
	}
	b.ReportAllocs()
	for b.Loop() {
		Update(cfg, st, in)
	}
}

package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/evald/evald/drift"
	"github.com/google/go-cmp/cmp"
)

// TestQuickSubset runs the CI subset of the benchmark against the real
// detector and asserts every bar, with tolerances widened for the small
// number of replicates.
func TestQuickSubset(t *testing.T) {
	rows := Run(QuickPlan())
	bars := map[int]bool{}
	for _, r := range rows {
		bars[r.Bar] = true
		line := r.Scenario + " " + r.Cell + ": " + r.Metric + " = " + r.Observed + ", want " + r.Target
		switch {
		case r.Pass:
		case r.Info:
			t.Logf("diagnostic (not a bar): %s", line)
		default:
			t.Errorf("bar %d fails: %s", r.Bar, line)
		}
	}
	for bar := 1; bar <= 11; bar++ {
		if !bars[bar] {
			t.Errorf("bar %d not checked by the quick subset", bar)
		}
	}
	var b strings.Builder
	if err := WriteMarkdown(&b, rows, QuickPlan(), 0, "go test ./bench/drift/"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "## Bar 9") {
		t.Error("markdown lacks the bar 9 section")
	}
}

// TestGeneratorIsPure: a replicate is a pure function of scenario and seed.
func TestGeneratorIsPure(t *testing.T) {
	sc := Scenario{N: 30, K: 2, P: 0.9, Rho: 0.7, SigmaRun: 0.1, T: 5, T0: 3, Drop: 0.1, Fingerprint: true}
	runs := func(seed uint64) string {
		g := NewGenerator(sc, seed)
		var out []drift.RunInput
		for range sc.T {
			out = append(out, g.Next())
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if a, b := runs(7), runs(7); a != b {
		t.Error("same seed, different runs")
	}
	if a, b := runs(7), runs(8); a == b {
		t.Error("different seeds, same runs")
	}
}

// TestGeneratorMoments: case difficulties have mean p, and a drop lowers
// the suite mean by exactly d (multiplicative drop).
func TestGeneratorMoments(t *testing.T) {
	for _, tc := range []struct {
		name string
		sc   Scenario
	}{
		{"binary rho 0.7", Scenario{N: 4000, K: 1, P: 0.9, Rho: 0.7, T: 2, T0: 2, Drop: 0.1}},
		{"continuous rho 0", Scenario{N: 4000, K: 1, P: 0.7, Continuous: true, T: 2, T0: 2, Drop: 0.1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewGenerator(tc.sc, 1)
			var means []float64
			for range tc.sc.T {
				in := g.Next()
				s := 0.0
				for _, xs := range in.Cases {
					s += xs[0]
				}
				means = append(means, s/float64(len(in.Cases)))
			}
			if got, want := means[0], tc.sc.P; math.Abs(got-want) > 0.02 {
				t.Errorf("mean before the drop = %.3f, want %.3f", got, want)
			}
			if got, want := means[1], tc.sc.P-tc.sc.Drop; math.Abs(got-want) > 0.02 {
				t.Errorf("mean after the drop = %.3f, want %.3f", got, want)
			}
		})
	}
}

// TestRestartContinues: storing the state as JSON after every run (as the
// daemon does in SQLite) changes nothing, through an identity change and
// an alarm.
func TestRestartContinues(t *testing.T) {
	sc := Scenario{ID: "S3", N: 100, K: 1, P: 0.9, Rho: 0.7, T: 240, T0: 200, Fingerprint: true, Drop: 0.1}
	cfg := drift.Config{Binary: true}
	a := runReplicate(sc, 3000, repOptions{cfg: cfg})
	b := runReplicate(sc, 3000, repOptions{cfg: cfg, roundTrip: true})
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("replicate differs after JSON round trips (-direct +restarted):\n%s", diff)
	}
	if len(a.Pages) == 0 {
		t.Error("no page in the restart scenario; it tests nothing")
	}
}

// TestOracleReproducesSection5: O gives the values DRIFT.md §5 publishes
// (k = 3, N = 50, p = 0.9, ρ = 0: 8.29 runs at 5 pp; Table B's N = 50,
// p = 0.9, ρ = 0, d = 5 pp: 27.85 runs, P24 0.609).
func TestOracleReproducesSection5(t *testing.T) {
	cfg := drift.Config{Binary: true}
	for _, tc := range []struct {
		sc         Scenario
		d, delay   float64
		p24, delta float64
	}{
		{Scenario{N: 50, K: 3, P: 0.9}, 0.05, 8.29, -1, 0.6},
		{Scenario{N: 50, K: 1, P: 0.9}, 0.05, 27.85, 0.609, 1.5},
		{Scenario{N: 50, K: 1, P: 0.7, Continuous: true}, 0.05, 5.24, -1, 0.4},
	} {
		o := oracleRow(tc.sc, tc.d, cfg, 4000, 5)
		if math.Abs(o.delay-tc.delay) > tc.delta || tc.p24 >= 0 && math.Abs(o.p24-tc.p24) > 0.03 {
			t.Errorf("O(%s, d = %g) = delay %.2f, P24 %.3f; §5 says %.2f, %.3f", cellName(tc.sc), tc.d, o.delay, o.p24, tc.delay, tc.p24)
		}
	}
}

package drift

import (
	"strings"
	"testing"
	"time"
)

// TestAssessUnderPowered: a 20-case suite with min_effect 0.02 on an hourly
// schedule cannot see its d_min within 24 runs, and the warning names the
// three fixes; a 200-case suite at the default 5 pp can.
func TestAssessUnderPowered(t *testing.T) {
	hourly := ARL0For(time.Hour, Year)
	small := Assess(Config{Binary: true, MinEffect: 0.02, ARL0: hourly}, 20, 1, nil)
	if !small.UnderPowered || small.Basis != "assumed" || small.P24 >= PowerLevel || small.MinDrop <= 0.02 {
		t.Fatalf("20 cases, min_effect 0.02: %+v; want under-powered on the assumed noise", small)
	}
	for _, fix := range []string{"more cases (about ", "repeats: ", "drift.min_effect: "} {
		if !strings.Contains(small.Warning, fix) {
			t.Errorf("warning %q does not name the fix %q", small.Warning, fix)
		}
	}
	// The fixes it names are enough: the suggested repeats see d_min.
	big := Assess(Config{Binary: true, ARL0: hourly}, 200, 1, nil)
	if big.UnderPowered || big.Warning != "" || big.P24 < PowerLevel || big.MinDrop > DefaultMinEffect {
		t.Errorf("200 cases at 5 pp: %+v; want no warning", big)
	}
	// Deterministic: the same question gives the same answer.
	if again := Assess(Config{Binary: true, MinEffect: 0.02, ARL0: hourly}, 20, 1, nil); again != small {
		t.Errorf("Assess is not deterministic: %+v then %+v", small, again)
	}
	// A smaller d_min or more noise never makes a suite easier to watch.
	if s2 := Assess(Config{Binary: true, MinEffect: 0.02, ARL0: hourly}, 20, 4, nil); s2.MinDrop >= small.MinDrop {
		t.Errorf("4 repeats catch %.3f, 1 repeat %.3f; want a smaller drop with more samples", s2.MinDrop, small.MinDrop)
	}
}

// TestAssessFromReference: once the reference has B_min runs its own
// per-case noise replaces the assumption; a suite whose cases always pass
// or always fail is far quieter than the assumed one.
func TestAssessFromReference(t *testing.T) {
	cfg := Config{Binary: true, MinEffect: 0.02, ARL0: ARL0For(time.Hour, Year)}
	var st State
	for r := range 5 {
		cases := map[string][]float64{}
		for i := range 20 {
			x := 1.0
			if i%5 == 0 {
				x = 0
			}
			cases[string(rune('a'+i))] = []float64{x}
		}
		st, _ = Update(cfg, st, RunInput{RunID: int64(r + 1), Completed: true, SuiteVersion: "s", TargetVersion: "t", Cases: cases})
	}
	d := Assess(cfg, 20, 1, &st)
	if d.Basis != "reference" || d.RefRuns != len(st.Ref.Runs) || d.RefRuns < DefaultBMin {
		t.Fatalf("basis %q over %d runs, want the reference's %d", d.Basis, d.RefRuns, len(st.Ref.Runs))
	}
	if a := Assess(cfg, 20, 1, nil); d.SERun >= a.SERun || d.MinDrop >= a.MinDrop {
		t.Errorf("reference SE %.4f (drop %.3f) against assumed %.4f (%.3f); want the quiet reference to see smaller drops", d.SERun, d.MinDrop, a.SERun, a.MinDrop)
	}
	// Below B_min the assumption stands.
	var young State
	young.Ref = st.Ref
	young.Ref.Runs = young.Ref.Runs[:2]
	if d := Assess(cfg, 20, 1, &young); d.Basis != "assumed" {
		t.Errorf("basis with 2 reference runs = %q, want assumed", d.Basis)
	}
}

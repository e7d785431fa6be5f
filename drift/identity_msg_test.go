package drift

import (
	"strings"
	"testing"
)

// TestIdentityReasonSaysWhatItComparesWith: the first change is measured
// against the identity baseline, a later one against the fingerprint
// adopted at the first change, and each reason names those runs (issue 21:
// the second read "the baseline's").
func TestIdentityReasonSaysWhatItComparesWith(t *testing.T) {
	sim := newSuiteSim(5, 100, 1)
	var st State
	var reasons []string
	for run := 1; run <= 45; run++ {
		switch run {
		case 26:
			sim.fps = map[string]int{"fp_C": 100}
		case 40:
			sim.fps = map[string]int{"fp_D": 100}
		}
		var v Verdict
		st, v = Update(binCfg, st, sim.next())
		if v.Identity != nil {
			reasons = append(reasons, v.Identity.Changes[0].Reason)
		}
	}
	if len(reasons) != 2 {
		t.Fatalf("identity changes = %q, want two", reasons)
	}
	if want := "0% of those of runs 1–20 (the identity baseline)"; !strings.Contains(reasons[0], want) {
		t.Errorf("first reason = %q, want it to contain %q", reasons[0], want)
	}
	if want := "0% of those of runs 26–39 (the identity adopted at run 26)"; !strings.Contains(reasons[1], want) {
		t.Errorf("second reason = %q, want it to contain %q", reasons[1], want)
	}
}

package drift

import (
	"fmt"
	"strings"
	"testing"
)

// withTokens gives every valid sample of in the prompt tokens tok(case).
func withTokens(in RunInput, tok func(i int) int) RunInput {
	in.Shapes = map[string][]SampleShape{}
	for id, xs := range in.Cases {
		var i int
		fmt.Sscanf(id, "c%03d", &i)
		for range xs {
			in.Shapes[id] = append(in.Shapes[id], SampleShape{PromptTokens: tok(i)})
		}
	}
	return in
}

// TestUsageSignature: the prompt tokens reported for identical requests are
// an identity. A change in most cases is an identity change with the token
// reason, which starts the known-change-point check and, with behaviour
// unchanged, ends as information; a change in a minority of cases is not.
func TestUsageSignature(t *testing.T) {
	for _, tc := range []struct {
		name    string
		changed int // cases of 100 whose count changes at run 26
		want    bool
	}{{"most cases", 100, true}, {"half", 50, true}, {"a minority", 30, false}} {
		t.Run(tc.name, func(t *testing.T) {
			sim := newSuiteSim(9, 100, 1)
			var st State
			var change *Verdict
			var last Verdict
			for run := 1; run <= 32; run++ {
				in := withTokens(sim.next(), func(i int) int {
					if run >= 26 && i < tc.changed {
						return 31 + i%3
					}
					return 57 + i%3
				})
				var v Verdict
				st, v = Update(binCfg, st, in)
				if v.Page {
					t.Fatalf("run %d paged: %s", run, v.Message)
				}
				if v.Identity != nil && change == nil {
					change = &v
				}
				if v.Check != nil && v.Check.Outcome != CheckRunning {
					last = v
				}
			}
			if !tc.want {
				if change != nil {
					t.Errorf("identity change at run %d (%s), want none", change.RunID, change.Identity.Changes[0].Reason)
				}
				return
			}
			if change == nil || change.RunID != 26 {
				t.Fatalf("identity change %+v, want one at run 26", change)
			}
			reason := change.Identity.Changes[0].Reason
			if want := "prompt tokens for identical requests changed (58 → 32)"; !strings.HasPrefix(reason, want) {
				t.Errorf("reason = %q, want it to start %q", reason, want)
			}
			if !strings.Contains(reason, fmt.Sprintf("in %d of 100 cases, against runs 1–20 (the identity baseline)", tc.changed)) {
				t.Errorf("reason = %q, want the cases and the runs compared with", reason)
			}
			if change.Kind != KindIdentityChanged || !strings.Contains(change.Message, "checking behaviour over the next 6 runs") {
				t.Errorf("verdict %q: %q, want the known-change-point check to start", change.Kind, change.Message)
			}
			if last.RunID != 31 || last.Check.Outcome != CheckNoChange || last.Kind != KindIdentityChanged {
				t.Errorf("check concluded at run %d: %+v (%s), want no behaviour change at run 31, the 6th look", last.RunID, last.Check, last.Kind)
			}
		})
	}
}

// TestUsageSignatureAttributesADrop: a drop that comes with the token
// change pages as the provider's, naming the run of the change.
func TestUsageSignatureAttributesADrop(t *testing.T) {
	sim := newSuiteSim(4, 200, 1)
	var st State
	for run := 1; run <= 32; run++ {
		if run == 26 {
			sim.drop = 0.12
		}
		in := withTokens(sim.next(), func(int) int {
			if run >= 26 {
				return 31
			}
			return 57
		})
		var v Verdict
		st, v = Update(binCfg, st, in)
		if v.Page {
			if v.Kind != KindProviderChanged || v.Attribution != "provider (identity changed at run 26)" {
				t.Errorf("page at run %d: %q, %q; want the provider, identity changed at run 26", run, v.Kind, v.Attribution)
			}
			return
		}
	}
	t.Fatal("no page after a 12 pp drop with the token change")
}

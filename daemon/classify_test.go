package daemon

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/store"
)

func TestClassify(t *testing.T) {
	bar := 0.8
	suite := &evals.Suite{
		Cases:      []evals.Case{{ID: "a"}, {ID: "b"}, {ID: "c"}},
		Thresholds: evals.Thresholds{PassRate: &bar},
	}
	completed := func(passRate float64) runner.Summary {
		return runner.Summary{Outcome: runner.Completed, ValidCases: 3, PassRate: passRate}
	}
	regressed := &GateVerdict{Decision: DecisionRegressed}
	unchanged := &GateVerdict{Decision: DecisionUnchanged}
	noComparison := &GateVerdict{Decision: DecisionNoComparison, Message: "no case has answers on both sides: nothing to compare"}
	tests := []struct {
		name       string
		in         classifyInput
		status     store.Status
		errText    string
		thresholds int
		failed     []string
	}{
		{name: "passed", in: classifyInput{Summary: completed(0.9)}, status: store.StatusPassed},
		{name: "below the bar", in: classifyInput{Summary: completed(0.5)}, status: store.StatusFailed, thresholds: 1},
		{name: "nothing valid fails every bar", in: classifyInput{Summary: runner.Summary{Outcome: runner.Completed}}, status: store.StatusFailed, thresholds: 1},
		{name: "errored checks no threshold", in: classifyInput{Summary: runner.Summary{Outcome: runner.Errored}}, status: store.StatusErrored},
		{name: "interrupted", in: classifyInput{Summary: runner.Summary{Outcome: runner.Interrupted}}, status: store.StatusInterrupted},
		{name: "failed cases in suite order", in: classifyInput{Summary: completed(0.9),
			Cases: []CaseFailure{{Passed: 1, Samples: 2}, {Passed: 2, Samples: 2}, {Passed: 0, Samples: 1}}},
			status: store.StatusPassed, failed: []string{"a", "c"}},
		{name: "a case without valid samples is not failed", in: classifyInput{Summary: completed(0.9),
			Cases: []CaseFailure{{}, {}, {}}}, status: store.StatusPassed},
		{name: "gate regressed", in: classifyInput{Summary: completed(0.9), Gate: &gateDecision{Verdict: regressed}}, status: store.StatusRegressed},
		{name: "gate regressed on a failed candidate", in: classifyInput{Summary: completed(0.5), Gate: &gateDecision{Verdict: regressed}}, status: store.StatusRegressed, thresholds: 1},
		{name: "gate unchanged", in: classifyInput{Summary: completed(0.9), Gate: &gateDecision{Verdict: unchanged}}, status: store.StatusPassed},
		{name: "untrustworthy comparison", in: classifyInput{Summary: completed(0.9), Gate: &gateDecision{Verdict: noComparison, Untrustworthy: true}},
			status: store.StatusErrored, errText: noComparison.Message},
		{name: "an errored candidate keeps its status", in: classifyInput{Summary: runner.Summary{Outcome: runner.Errored},
			Gate: &gateDecision{Verdict: noComparison, Untrustworthy: true}}, status: store.StatusErrored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Suite = suite
			c := classify(tt.in)
			if got, want := c.Status, tt.status; got != want {
				t.Errorf("classify().Status = %q, want %q", got, want)
			}
			if got, want := c.ErrorText, tt.errText; got != want {
				t.Errorf("classify().ErrorText = %q, want %q", got, want)
			}
			if got, want := len(c.ThresholdFailures), tt.thresholds; got != want {
				t.Errorf("len(classify().ThresholdFailures) = %d, want %d", got, want)
			}
			var failed []string
			for _, f := range c.FailedCases {
				failed = append(failed, f.ID)
			}
			if diff := cmp.Diff(tt.failed, failed); diff != "" {
				t.Errorf("classify() failed cases (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.FailedCases, c.Detail.FailedCases); diff != "" {
				t.Errorf("classify() detail's failed cases differ (-result +detail):\n%s", diff)
			}
			if tt.in.Gate != nil && c.Detail.Gate != tt.in.Gate.Verdict {
				t.Errorf("classify().Detail.Gate = %p, want the gate verdict %p", c.Detail.Gate, tt.in.Gate.Verdict)
			}
		})
	}
}

func TestClassifyDetail(t *testing.T) {
	suite := &evals.Suite{Cases: []evals.Case{{ID: "a"}}}
	gov := ThresholdCheck{}
	gov.Signed.Hash = "h1"
	c := classify(classifyInput{
		Suite:     suite,
		Summary:   runner.Summary{Outcome: runner.Completed, ValidCases: 1, Models: map[string]int{"m": 2}, ErrorsByClass: map[string]int{"timeout": 1}},
		Gov:       gov,
		Candidate: true,
		Role:      RoleCandidate,
		Judge:     &JudgeDetail{Target: "judge"},
	})
	want := Detail{
		Models: map[string]int{"m": 2}, ErrorsByClass: map[string]int{"timeout": 1}, WhyMissing: "timeout 1", ValidCases: 1,
		SignoffHash: "h1", Candidate: true, GateRole: RoleCandidate, Judge: &JudgeDetail{Target: "judge"},
	}
	if diff := cmp.Diff(want, c.Detail); diff != "" {
		t.Errorf("classify().Detail (-want +got):\n%s", diff)
	}
}

package daemon

import (
	"context"
	"strings"
	"testing"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/testfiles"
)

// TestRunLogLines: a production run's lines carry no empty role, and its
// end says the drift verdict; a candidate's say its role.
func TestRunLogLines(t *testing.T) {
	logs := &testfiles.Logs{}
	h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 2)}, []string{"prod"}, ""),
		func(string) *fakeProvider { return &fakeProvider{} },
		func(o *Options) { o.Logger = logs.Logger() })
	if _, err := h.d.Evaluate(context.Background(), Request{Suite: "faq", Target: "prod", Trigger: TriggerSchedule}); err != nil {
		t.Fatal(err)
	}
	started, finished := logs.Line("run started"), logs.Line("run finished")
	if started == "" || strings.Contains(started, "role=") {
		t.Errorf("run started = %q, want a line without an empty role", started)
	}
	if !strings.Contains(finished, "verdict=warming_up") || strings.Contains(finished, "role=") {
		t.Errorf("run finished = %q, want verdict=warming_up and no role", finished)
	}

	logs = &testfiles.Logs{}
	h.d.log = logs.Logger()
	if _, err := h.d.Gate(context.Background(), GateRequest{Suite: "faq", Target: "prod", Model: "m-2"}); err != nil {
		t.Fatal(err)
	}
	started, finished = logs.Line("run started"), logs.Line("run finished")
	if !strings.Contains(started, "role=candidate") || !strings.Contains(finished, "role=candidate") || strings.Contains(finished, "verdict=") {
		t.Errorf("candidate's lines = %q, %q; want role=candidate, and no drift verdict", started, finished)
	}
}

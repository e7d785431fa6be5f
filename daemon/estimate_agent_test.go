package daemon

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/store"
)

// TestEstimateAgentSuite: an agent suite's estimate counts one request per
// turn with the tools and the turns' messages, says it is a lower bound,
// and gives the most requests max_tool_steps allows; the run that follows
// sends at least the estimate and at most that bound.
func TestEstimateAgentSuite(t *testing.T) {
	var broken atomic.Bool
	var requests atomic.Int64
	srv := samplingAgentServer(t, &broken, &requests)
	suite := loadAgentVersion(t, "1.0", "")
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	proj := signtest.Project(t, &configs.Project{
		Config: &configs.Config{
			Targets: []configs.Target{{Name: "prod", BaseURL: srv.URL + "/v1", Model: "m-1", Concurrency: 1, Timeout: 10 * time.Second, Retries: 1}},
			Suites:  []configs.SuiteRef{{File: "agent.yaml", Targets: []string{"prod"}}},
		},
		Suites: []*evals.Suite{suite},
	})
	d, err := New(Options{Project: proj, Store: st, Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	e, err := d.Estimate(ctx, GateRequest{Suite: "agent", Target: "prod"}, false)
	if err != nil {
		t.Fatal(err)
	}
	// One case of two turns, one repeat, max_tool_steps 5 by default.
	if !e.LowerBound || e.Requests != 2 || e.MaxRequests != 2*(evals.DefaultMaxToolSteps+1) || e.MaxCostUSD != 0 {
		t.Errorf("estimate lower_bound %v, requests %d, max_requests %d, max_cost %v; want true, 2, %d, 0",
			e.LowerBound, e.Requests, e.MaxRequests, e.MaxCostUSD, 2*(evals.DefaultMaxToolSteps+1))
	}
	if plain := 2 * EstimateTokens(suite.Cases[0].Messages); e.PromptTokens <= int64(plain)+40 {
		t.Errorf("estimate prompt tokens %d: the tools and turn messages are not counted (the case's messages alone: %d)", e.PromptTokens, plain)
	}
	_, err = d.Evaluate(ctx, Request{Suite: "agent", Target: "prod", Trigger: TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	if sent := int(requests.Load()); sent < e.Requests || sent > e.MaxRequests {
		t.Errorf("the run sent %d requests; the estimate said at least %d, at most %d", sent, e.Requests, e.MaxRequests)
	}
}

package daemon

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/sim"
	"github.com/evald/evald/store"
)

// TestServeSaysWhyAgainstHostileEndpoints: the daemon runs suites against
// endpoints that answer with negative token counts, 50 MB bodies and 401s;
// it stays up, each run is stored errored with the reason, and the next
// trigger still runs.
func TestServeSaysWhyAgainstHostileEndpoints(t *testing.T) {
	modes := map[string]string{
		"neg":  sim.HostileNegativeTokens,
		"huge": sim.HostileHugeBody,
		"auth": sim.HostileUnauthorized,
	}
	want := map[string]string{
		"neg":  "bad_response 2: usage.prompt_tokens is -99999999: a token count cannot be negative",
		"huge": "bad_response 2: too_large",
		"auth": "client_error 2: HTTP 401: Incorrect API key provided",
	}
	cfg := &configs.Config{}
	var suites []*evals.Suite
	for name, mode := range modes {
		h := sim.New(sim.Options{Hostile: mode, HostileBytes: 50 << 20})
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		cfg.Targets = append(cfg.Targets, configs.Target{Name: name, BaseURL: srv.URL + "/v1", Model: "m", Concurrency: 2, Timeout: 10 * time.Second, Retries: 1})
		s := testSuite("s-"+name, 2)
		suites = append(suites, s)
		cfg.Suites = append(cfg.Suites, configs.SuiteRef{File: s.Name + ".yaml", Targets: []string{name}})
	}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	done := make(chan *Result, 10)
	d, err := New(Options{Project: &configs.Project{Config: cfg, Suites: suites}, Store: st, Registry: prometheus.NewRegistry(),
		OnRun: func(r *Result) { done <- r }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		for name := range modes {
			if err := d.Trigger("s-"+name, name, TriggerManual); err != nil {
				t.Fatalf("round %d: Trigger(%s): %v", round, name, err)
			}
		}
		for range modes {
			res := <-done
			name := res.Run.Target
			var detail Detail
			if err := json.Unmarshal([]byte(res.Run.Detail), &detail); err != nil {
				t.Fatalf("%s: detail: %v", name, err)
			}
			if res.Run.Status != store.StatusErrored || !strings.Contains(detail.WhyMissing, want[name]) {
				t.Errorf("%s: run %s, why %q; want errored saying %q", name, res.Run.Status, detail.WhyMissing, want[name])
			}
			if res.Run.PromptTokens < 0 || res.Run.CostUSD < 0 {
				t.Errorf("%s: tokens %d, cost %g: a provider made them negative", name, res.Run.PromptTokens, res.Run.CostUSD)
			}
		}
		// OnRun fires inside the run, before its pair is released: wait
		// for the launched runs to end, so the next round's triggers do
		// not find them in flight.
		d.runs.Wait()
	}
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

package runner

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/evald/evald/sim"
)

// An Anthropic target runs against evald sim's /v1/messages, through the
// SDK, with no network: every case answered, tokens and model kept.
func TestAnthropicAgainstSim(t *testing.T) {
	srv := httptest.NewServer(sim.New(sim.Options{WrongRate: -1, Model: "claude-sim"}))
	t.Cleanup(srv.Close)
	tg := anthropicTarget(t, srv.URL+"/v1", "any-key", nil)
	sum, samples := collect(t, context.Background(), testSuite(3, 2), tg, fast)
	if sum.Outcome != Completed || sum.Errors != 0 || len(samples) != 6 {
		t.Fatalf("outcome %v, errors %d, samples %d; want completed, 0, 6", sum.Outcome, sum.Errors, len(samples))
	}
	for _, s := range samples {
		if s.Model != "claude-sim" || s.PromptTokens <= 0 || s.CompletionTokens <= 0 || s.FinishReason != "end_turn" {
			t.Errorf("sample = model %q tokens %d/%d stop %q, want the sim's model, usage and end_turn", s.Model, s.PromptTokens, s.CompletionTokens, s.FinishReason)
		}
	}
	if sum.CostUSD <= 0 {
		t.Errorf("cost = %v, want > 0", sum.CostUSD)
	}
}

package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/store"
)

// What the server writes, a client reads back as the same rows.
func TestRoundTrip(t *testing.T) {
	rate := 0.75
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	run := store.Run{ID: 7, Suite: "faq", Target: "prod", Trigger: "schedule", Status: "passed", Role: store.RoleCandidate, StartedAt: at, FinishedAt: at.Add(time.Minute),
		PassRate: &rate, MeanScore: &rate, SuiteVersion: "sv", PromptVersion: "pv", TargetVersion: "tv", Verdict: "ok",
		Cases: 4, Samples: 8, Errors: 1, CostUSD: 0.5, DurationMS: 60000, Detail: `{"models":{"m":8}}`}
	smp := store.Sample{RunID: 7, CaseID: "c1", Repeat: 1, Output: "<b>hi</b>", FinishReason: "stop", LatencyMS: 12.5,
		PromptTokens: 10, CompletionTokens: 3, Model: "m", Fingerprint: "fp", ErrorClass: "", Attempts: 1, Pass: true, Score: 1,
		Results:    []store.AssertionResult{{Type: "llm-rubric", Pass: true, Score: 0.9, Weight: 1, Reason: "ok", Turn: 2}},
		JudgeModel: "j", JudgeFingerprint: "fp_j", JudgePromptTokens: 100, JudgeCompletionTokens: 20, JudgeCostUSD: 0.01,
		Turns: `[{"user":"Where is A1?","output":"shipped","calls":[{"name":"lookup_order","args":{"order_id":"A1"},"result":{"status":"shipped"}}]},{"user":"Thanks","output":"bye"}]`}
	b, err := json.Marshal(RunWithSamples{Run: FromRun(run), Samples: []Sample{FromSample(smp)}})
	if err != nil {
		t.Fatal(err)
	}
	var back RunWithSamples
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	want := run
	want.Samples = 0 // in GET /api/runs/{id} the list takes the count's place
	if diff := cmp.Diff(want, back.Run.Store()); diff != "" {
		t.Errorf("run after the round trip (-sent +read):\n%s", diff)
	}
	if len(back.Samples) != 1 {
		t.Fatalf("samples = %d, want 1 (the list wins over the run's count)", len(back.Samples))
	}
	if diff := cmp.Diff(smp, back.Samples[0].Store(7)); diff != "" {
		t.Errorf("sample after the round trip (-sent +read):\n%s", diff)
	}
}

// GET /api/runs carries the sample count.
func TestRunKeepsItsCount(t *testing.T) {
	b, _ := json.Marshal(FromRun(store.Run{ID: 1, Samples: 8}))
	var back Run
	if err := json.Unmarshal(b, &back); err != nil || back.Store().Samples != 8 {
		t.Errorf("samples after the round trip = %d (%v), want 8", back.Store().Samples, err)
	}
}

// A detail that is not JSON is left out, not sent broken.
func TestFromRunDropsBadDetail(t *testing.T) {
	if got := FromRun(store.Run{Detail: "{not json"}).Detail; got != nil {
		t.Errorf("Detail = %s, want none", got)
	}
}

// A server older than run roles sends none; its detail says which runs were
// a CI gate's.
func TestLegacyRole(t *testing.T) {
	for _, tt := range []struct {
		detail string
		want   store.Role
	}{
		{``, store.RoleProduction},
		{`{"models":{"m":8}}`, store.RoleProduction},
		{`{"candidate":true,"gate_role":"candidate"}`, store.RoleCandidate},
		{`{"gate_role":"side_by_side_baseline"}`, store.RoleReference},
	} {
		r := Run{RunID: 1, Suite: "faq", Target: "prod", Status: "passed", Detail: json.RawMessage(tt.detail)}
		if got := r.Store().Role; got != tt.want {
			t.Errorf("Run{detail %s, no role}.Store().Role = %q, want %q", tt.detail, got, tt.want)
		}
	}
	r := Run{RunID: 1, Suite: "faq", Target: "prod", Status: "passed", Role: "reference", Detail: json.RawMessage(`{"candidate":true}`)}
	if got, want := r.Store().Role, store.RoleReference; got != want {
		t.Errorf("Run{role reference}.Store().Role = %q, want %q (the role field wins)", got, want)
	}
}

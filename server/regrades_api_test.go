package server

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/evald/evald/store"
)

func TestAPIRegrades(t *testing.T) {
	s, st := newServer(t, &fakeDaemon{})
	ctx := context.Background()
	at := time.Date(2026, 11, 28, 11, 30, 0, 0, time.FixedZone("CET", 3600))
	for _, g := range []store.Regrade{
		{Suite: "faq", Target: "prod", RunID: 1, JudgeTarget: "grader", JudgeVersion: "v2", At: at, Status: "disagree",
			Graded: 4, Compared: 3, PassToFail: 2, FailToPass: 1, PromptTokens: 900, CompletionTokens: 40, CostUSD: 0.25},
		{Suite: "orders", Target: "prod", RunID: 5, JudgeTarget: "grader", JudgeVersion: "v2", At: at.Add(time.Minute), Status: "agree",
			Graded: 2, Compared: 2},
		{Suite: "faq", Target: "prod", RunID: 1, JudgeTarget: "grader", JudgeVersion: "v3", At: at.Add(time.Hour), Status: "interrupted",
			Graded: 1, CostUSD: math.Inf(1)},
	} {
		if _, err := st.SaveRegrade(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	code, body := get(t, s, "/api/regrades?suite=faq")
	var out []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("GET /api/regrades?suite=faq = %d %s", code, body)
	}
	if len(out) != 2 {
		t.Fatalf("faq's regrades = %v, want 2", out)
	}
	// Newest first; an infinite cost was stored as unknown and reads 0.
	if out[0]["status"] != "interrupted" || out[0]["judge_version"] != "v3" || out[0]["cost_usd"] != 0.0 {
		t.Errorf("newest = %v, want the interrupted one by v3 costing 0", out[0])
	}
	want := map[string]any{"suite": "faq", "target": "prod", "run_id": 1.0, "judge_target": "grader", "judge_version": "v2",
		"at": "2026-11-28T10:30:00Z", "status": "disagree", "graded": 4.0, "compared": 3.0, "pass_to_fail": 2.0,
		"fail_to_pass": 1.0, "prompt_tokens": 900.0, "completion_tokens": 40.0, "cost_usd": 0.25}
	for k, v := range want {
		if out[1][k] != v {
			t.Errorf("oldest faq regrade: %s = %v, want %v", k, out[1][k], v)
		}
	}
	for _, bad := range []string{"0", "10001", "ten"} {
		if code, _ := get(t, s, "/api/regrades?limit="+bad); code != 400 {
			t.Errorf("limit=%s = %d, want 400", bad, code)
		}
	}
	if code, body := get(t, s, "/api/regrades"); code != 200 || json.Unmarshal([]byte(body), &out) != nil || len(out) != 3 {
		t.Errorf("all regrades = %d, %d rows, want 3", code, len(out))
	}
	if code, body := get(t, s, "/api/regrades?limit=1"); code != 200 || json.Unmarshal([]byte(body), &out) != nil ||
		len(out) != 1 || out[0]["judge_version"] != "v3" {
		t.Errorf("limit=1 = %d %s, want the newest only", code, body)
	}
	if code, body := get(t, s, "/api/regrades?suite=billing"); code != 200 || body != "[]\n" {
		t.Errorf("no regrades = %d %q, want an empty list", code, body)
	}
}

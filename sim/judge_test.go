package sim_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/sim"
)

// gradingRequest is an llm-rubric style grading request for output i: its
// output holds two of the rubric's three keywords, so the judge passes it.
func gradingRequest(i int) string {
	return fmt.Sprintf("<Output>Refunds for order%d take 30 days.</Output>\n<Rubric>mentions refunds for order%d</Rubric>", i, i)
}

type verdict struct {
	Pass  bool    `json:"pass"`
	Score float64 `json:"score"`
}

// TestJudgeDrift: after JudgeDriftAfter grading replies the judge reports
// another model and fingerprint and fails a share of the verdicts it passed,
// always the same ones, while ordinary answers keep the model's identity.
func TestJudgeDrift(t *testing.T) {
	const n = 300
	s := sim.New(sim.Options{JudgeDriftAfter: n, Seed: 4})
	type round struct {
		failed       map[int]bool
		models       map[string]int
		fingerprints map[string]int
	}
	play := func() round {
		r := round{failed: map[int]bool{}, models: map[string]int{}, fingerprints: map[string]int{}}
		for i := range n {
			resp := ask(t, s, chatRequest("You grade answers.", gradingRequest(i)))
			var v verdict
			if err := json.Unmarshal([]byte(resp.Choices[0].Message.Content), &v); err != nil {
				t.Fatalf("grading reply %q: %v", resp.Choices[0].Message.Content, err)
			}
			if !v.Pass {
				r.failed[i] = true
				if v.Score > 0.25 {
					t.Errorf("failed verdict %d has score %v, want at most 0.25", i, v.Score)
				}
			}
			r.models[resp.Model]++
			r.fingerprints[resp.SystemFingerprint]++
		}
		return r
	}

	before := play()
	if !s.JudgeDrifted() {
		t.Fatalf("JudgeDrifted() = false after %d grading replies, want true", n)
	}
	// Ordinary answers keep the model's identity after the judge's update.
	if resp := ask(t, s, chatRequest(faq, "How long is the return window?")); resp.Model != "sim-1" || s.Drifted() {
		t.Errorf("answer after the judge's update from model %q (Drifted %v), want sim-1, not drifted", resp.Model, s.Drifted())
	}
	after := play()
	again := play()

	if len(before.failed) != 0 {
		t.Errorf("judge failed %d verdicts before its update, want 0", len(before.failed))
	}
	if before.models["sim-1"] != n {
		t.Errorf("models before the judge's update = %v, want all sim-1", before.models)
	}
	if diff := cmp.Diff(map[string]int{"sim-1-judge-update": n}, after.models); diff != "" {
		t.Errorf("models after the judge's update (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"fp_sim_judge": n}, after.fingerprints); diff != "" {
		t.Errorf("fingerprints after the judge's update (-want +got):\n%s", diff)
	}
	// 30 % of the passes fail; bounds are 4 binomial standard errors.
	if share := float64(len(after.failed)) / n; share < 0.19 || share > 0.41 {
		t.Errorf("share of verdicts failed after the update = %.3f, want ~0.3", share)
	}
	if diff := cmp.Diff(after.failed, again.failed); diff != "" {
		t.Errorf("the updated judge failed other requests the second time (-first +second):\n%s", diff)
	}
}

// TestJudgeDriftOff: without JudgeDriftAfter the judge never changes.
func TestJudgeDriftOff(t *testing.T) {
	s := sim.New(sim.Options{Seed: 4})
	for i := range 50 {
		resp := ask(t, s, chatRequest("You grade answers.", gradingRequest(i)))
		var v verdict
		if err := json.Unmarshal([]byte(resp.Choices[0].Message.Content), &v); err != nil || !v.Pass || resp.Model != "sim-1" {
			t.Fatalf("grading reply %d = %q from %q (%v), want a pass from sim-1", i, resp.Choices[0].Message.Content, resp.Model, err)
		}
	}
	if s.JudgeDrifted() {
		t.Error("JudgeDrifted() = true without JudgeDriftAfter")
	}
}

// TestUpdateJudge: UpdateJudge updates the judge at once, without
// JudgeDriftAfter, and leaves ordinary answers alone.
func TestUpdateJudge(t *testing.T) {
	s := sim.New(sim.Options{Model: "sim-judge-1", Seed: 4})
	grade := func() string {
		t.Helper()
		resp := ask(t, s, chatRequest("You grade answers.", gradingRequest(1)))
		return resp.Model + " " + resp.SystemFingerprint
	}
	if got := grade(); strings.HasSuffix(got, "fp_sim_judge") || s.JudgeDrifted() {
		t.Fatalf("before UpdateJudge: grading reply from %q, JudgeDrifted %v; want the judge as it was", got, s.JudgeDrifted())
	}
	s.UpdateJudge()
	if !s.JudgeDrifted() {
		t.Error("JudgeDrifted() = false after UpdateJudge")
	}
	for range 3 {
		if got, want := grade(), "sim-judge-1-judge-update fp_sim_judge"; got != want {
			t.Errorf("grading reply after UpdateJudge from %q, want %q", got, want)
		}
	}
	if resp := ask(t, s, chatRequest(faq, "How long is the return window?")); resp.Model != "sim-judge-1" {
		t.Errorf("answer after UpdateJudge from model %q, want sim-judge-1", resp.Model)
	}
}

package runner

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/evald/evald/configs"
)

// TestRunPairInterleaves: with one request at a time, the two arms'
// requests for a case go back to back, the first arm alternating, repeat
// after repeat; each arm gets its own summary and samples.
func TestRunPairInterleaves(t *testing.T) {
	var mu sync.Mutex
	var order []string
	srv := fakeOpenAI(t, func(n int, w http.ResponseWriter, r *http.Request, req chatReq) {
		mu.Lock()
		order = append(order, req.Model+":"+req.Messages[1].Content)
		mu.Unlock()
		answer := "yes"
		if req.Model == "cand" && req.Messages[1].Content == "q1" {
			answer = "no"
		}
		fmt.Fprint(w, completion(answer, req.Model, "fp", "stop"))
	})
	gate := NewGate(1, 0)
	prod := target(t, srv.URL, func(c *configs.Target) { c.Model = "prod" })
	cand := target(t, srv.URL, func(c *configs.Target) { c.Model = "cand" })
	prod.Gate, cand.Gate = gate, gate
	var got [2][]Sample
	a := Arm{Suite: testSuite(3, 2), Target: prod, Emit: func(s Sample, _ bool) { got[0] = append(got[0], s) }}
	b := Arm{Suite: testSuite(3, 2), Target: cand, Emit: func(s Sample, _ bool) { got[1] = append(got[1], s) }}
	sa, sb, err := RunPair(context.Background(), a, b, fast)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"prod:q0", "cand:q0", "cand:q1", "prod:q1", "prod:q2", "cand:q2", // repeat 0
		"cand:q0", "prod:q0", "prod:q1", "cand:q1", "cand:q2", "prod:q2", // repeat 1
	}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("request order\n got %v\nwant %v", order, want)
	}
	if sa.Outcome != Completed || sb.Outcome != Completed || sa.Samples != 6 || sb.Samples != 6 || len(got[0]) != 6 || len(got[1]) != 6 {
		t.Fatalf("summaries %+v / %+v with %d / %d samples, want 6 each, completed", sa, sb, len(got[0]), len(got[1]))
	}
	if sa.PassRate != 1 || sb.PassRate != 2.0/3 {
		t.Errorf("pass rates %v / %v, want 1 / 0.667 (each arm its own)", sa.PassRate, sb.PassRate)
	}
	for _, s := range got[1] {
		if s.Model != "cand" {
			t.Errorf("candidate arm got a sample of %q", s.Model)
		}
	}
}

// TestRunPairErrorBudgetPerArm: an arm whose endpoint fails ends errored
// while the other completes.
func TestRunPairErrorBudgetPerArm(t *testing.T) {
	srv := fakeOpenAI(t, func(n int, w http.ResponseWriter, r *http.Request, req chatReq) {
		if req.Model == "cand" {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, completion("yes", req.Model, "fp", "stop"))
	})
	prod := target(t, srv.URL, func(c *configs.Target) { c.Model = "prod" })
	cand := target(t, srv.URL, func(c *configs.Target) { c.Model = "cand" })
	cand.Gate = prod.Gate
	nop := func(Sample, bool) {}
	sa, sb, err := RunPair(context.Background(), Arm{testSuite(4, 1), prod, nop}, Arm{testSuite(4, 1), cand, nop}, fast)
	if err != nil {
		t.Fatal(err)
	}
	if sa.Outcome != Completed || sb.Outcome != Errored || sb.Errors != 4 || sa.Errors != 0 {
		t.Errorf("outcomes %s (%d errors) / %s (%d errors), want completed / errored", sa.Outcome, sa.Errors, sb.Outcome, sb.Errors)
	}
}

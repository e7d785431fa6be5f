package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLastCompleted(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ids := seedRuns(t, s, []Run{
		{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: t0},
		{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: t0.Add(time.Minute)},
		{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: t0.Add(2 * time.Minute)},
		{Suite: "faq", Target: "prod", Trigger: "ci", StartedAt: t0.Add(3 * time.Minute), Role: RoleCandidate, Detail: `{"candidate":true,"gate_role":"candidate"}`},
		{Suite: "faq", Target: "staging", Trigger: "schedule", StartedAt: t0.Add(4 * time.Minute)},
		{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: t0.Add(5 * time.Minute)},
		{Suite: "faq", Target: "prod", Trigger: "manual", StartedAt: t0.Add(6 * time.Minute)},
	})
	for i, status := range map[int]Status{0: StatusPassed, 1: StatusRegressed, 2: StatusErrored, 3: StatusPassed, 4: StatusPassed, 5: StatusInterrupted} {
		if err := s.FinishRun(ctx, Run{ID: ids[i], Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	// Run 6 is still running: neither it, the errored or interrupted runs,
	// the candidate nor the other target's run completed the pair.
	for _, tc := range []struct {
		limit int
		want  []int64
	}{{1, []int64{ids[1]}}, {5, []int64{ids[1], ids[0]}}, {0, []int64{ids[1]}}} {
		runs, err := s.LastCompleted(ctx, "faq", "prod", tc.limit)
		if err != nil {
			t.Fatalf("LastCompleted(limit %d) = %v", tc.limit, err)
		}
		got := []int64{}
		for _, r := range runs {
			got = append(got, r.ID)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("LastCompleted(limit %d) ids (-want +got):\n%s", tc.limit, diff)
		}
	}
}

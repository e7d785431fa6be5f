package store

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRegrades(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	if list, err := s.Regrades(ctx, RegradeFilter{}); err != nil || len(list) != 0 {
		t.Fatalf("Regrades(none) = %v, %v, want none", list, err)
	}
	saved := []Regrade{
		{Suite: "faq", Target: "prod", RunID: 7, JudgeTarget: "grader", JudgeVersion: "v1", At: t0, Status: "agree",
			Graded: 10, Compared: 10, PromptTokens: 1200, CompletionTokens: 80, CostUSD: 0.042},
		{Suite: "orders", Target: "prod", RunID: 3, JudgeTarget: "grader", JudgeVersion: "v1", At: t0.Add(time.Minute), Status: "errored",
			Graded: 2, Compared: 1},
		// A NaN cost is stored as unknown and reads back as 0.
		{Suite: "faq", Target: "staging", RunID: 9, JudgeTarget: "grader-2", JudgeVersion: "v2", At: t0.Add(time.Hour), Status: "disagree",
			Graded: 10, Compared: 9, PassToFail: 2, FailToPass: 1, PromptTokens: 1300, CompletionTokens: 90, CostUSD: math.NaN()},
		{Suite: "faq", Target: "prod", RunID: 7, JudgeTarget: "grader-2", JudgeVersion: "v2", At: t0.Add(2 * time.Hour), Status: "disagree",
			Graded: 10, Compared: 10, PassToFail: 1, PromptTokens: 1250, CompletionTokens: 85, CostUSD: 0.05},
	}
	for i := range saved {
		id, err := s.SaveRegrade(ctx, saved[i])
		if err != nil {
			t.Fatalf("SaveRegrade: %v", err)
		}
		saved[i].ID = id
	}
	saved[2].CostUSD = 0
	byID := func(rs ...Regrade) []int64 {
		var ids []int64
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		return ids
	}

	faq, err := s.Regrades(ctx, RegradeFilter{Suite: "faq"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Regrade{saved[3], saved[2], saved[0]}, faq); diff != "" {
		t.Errorf("Regrades(faq), newest first, NaN cost as 0 (-want +got):\n%s", diff)
	}
	all, err := s.Regrades(ctx, RegradeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := byID(all...), byID(saved[3], saved[2], saved[1], saved[0]); !cmp.Equal(got, want) {
		t.Errorf("Regrades(every suite) = ids %v, want %v", got, want)
	}
	if two, _ := s.Regrades(ctx, RegradeFilter{Suite: "", Limit: 2}); !cmp.Equal(byID(two...), byID(saved[3], saved[2])) {
		t.Errorf("Regrades(limit 2) = ids %v, want the newest two", byID(two...))
	}
	if none, err := s.Regrades(ctx, RegradeFilter{Suite: "billing"}); err != nil || len(none) != 0 {
		t.Errorf("Regrades(billing) = %v, %v, want none", none, err)
	}

	// One run's: run 7 of faq, not run 3 of orders nor run 9.
	ofRun, err := s.Regrades(ctx, RegradeFilter{Suite: "faq", RunID: 7})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Regrade{saved[3], saved[0]}, ofRun); diff != "" {
		t.Errorf("Regrades(faq, run 7) (-want +got):\n%s", diff)
	}
	if one, _ := s.Regrades(ctx, RegradeFilter{Suite: "faq", RunID: 7, Limit: 1}); !cmp.Equal(byID(one...), byID(saved[3])) {
		t.Errorf("Regrades(faq, run 7, limit 1) = ids %v, want the newest", byID(one...))
	}
	if other, _ := s.Regrades(ctx, RegradeFilter{Suite: "orders", RunID: 7}); len(other) != 0 {
		t.Errorf("Regrades(orders, run 7) = %d rows, want none: run 7's regrades are faq's", len(other))
	}
}

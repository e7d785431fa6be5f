package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestEachRun: EachRun pages through more runs than one page holds, in
// either order, with a limit, a time window and fn's error.
func TestEachRun(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const n = 2*eachRunPage + 37
	var runs []Run
	for i := range n {
		target := "prod"
		if i%3 == 0 {
			target = "staging"
		}
		at := t0.Add(time.Duration(i) * time.Hour)
		runs = append(runs, Run{Suite: "faq", Target: target, Trigger: "schedule", Status: StatusPassed, StartedAt: at, FinishedAt: at.Add(time.Minute)})
	}
	if err := s.ImportRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	all, err := s.Runs(ctx, RunFilter{Limit: 10 * n})
	if err != nil {
		t.Fatal(err)
	}
	var allIDs, prodIDs []int64 // newest first
	for _, r := range all {
		allIDs = append(allIDs, r.ID)
		if r.Target == "prod" {
			prodIDs = append(prodIDs, r.ID)
		}
	}
	reversed := func(ids []int64) []int64 { out := slices.Clone(ids); slices.Reverse(out); return out }
	// window is the runs started at hours [from, to), oldest first.
	window := func(from, to int) []int64 { return reversed(allIDs)[from:to] }
	for _, tc := range []struct {
		name  string
		f     RunFilter
		order Order
		want  []int64
	}{
		{"all newest first", RunFilter{}, NewestFirst, allIDs},
		{"all oldest first", RunFilter{}, OldestFirst, reversed(allIDs)},
		{"target newest first", RunFilter{Target: "prod"}, NewestFirst, prodIDs},
		{"newest 700 newest first", RunFilter{Limit: 700}, NewestFirst, allIDs[:700]},
		{"newest 700 oldest first", RunFilter{Limit: 700}, OldestFirst, reversed(allIDs[:700])},
		{"newest 600 of a target oldest first", RunFilter{Target: "prod", Limit: 600}, OldestFirst, reversed(prodIDs[:600])},
		{"a limit past the end", RunFilter{Limit: 5 * n}, OldestFirst, reversed(allIDs)},
		{"before", RunFilter{BeforeID: allIDs[10], Limit: 3}, NewestFirst, allIDs[11:14]},
		{"since and until", RunFilter{Since: t0.Add(100 * time.Hour), Until: t0.Add(700 * time.Hour)}, OldestFirst, window(100, 700)},
		{"until only, newest 5", RunFilter{Until: t0.Add(50 * time.Hour), Limit: 5}, OldestFirst, window(45, 50)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := []int64{}
			if err := s.EachRun(ctx, tc.f, tc.order, func(r Run) error { got = append(got, r.ID); return nil }); err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				tc.want = []int64{}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("EachRun(%+v, %v) IDs (-want +got):\n%s", tc.f, tc.order, diff)
			}
		})
	}

	stop := errors.New("stop")
	seen := 0
	err = s.EachRun(ctx, RunFilter{}, NewestFirst, func(Run) error {
		if seen++; seen == eachRunPage+1 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || seen != eachRunPage+1 {
		t.Errorf("EachRun with fn failing at run %d = %v after %d runs, want fn's error at once", eachRunPage+1, err, seen)
	}
}

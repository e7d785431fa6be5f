package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// makeSamples returns n samples of case caseIndex, repeats 0..n-1, each with
// results assertion results. Odd repeats were graded by a judge.
func makeSamples(caseIndex, n, results int) []Sample {
	out := make([]Sample, n)
	for i := range out {
		sm := Sample{
			CaseID: fmt.Sprintf("case-%d", caseIndex), CaseIndex: caseIndex, Repeat: i,
			Output:       fmt.Sprintf("You have 30 days to return an item. (%d/%d)", caseIndex, i),
			FinishReason: "stop", LatencyMS: 123.456, PromptTokens: 40, CompletionTokens: 12,
			Model: "gpt-4o-mini-2024-07-18", Fingerprint: "fp_abc", Attempts: 1, Pass: i%2 == 0, Score: 0.75,
		}
		if i%2 == 1 {
			sm.JudgeModel, sm.JudgeFingerprint = "gpt-4o-2024-08-06", "fp_judge"
			sm.JudgePromptTokens, sm.JudgeCompletionTokens, sm.JudgeCostUSD = 310, 25, 0.0010250
		}
		turns := caseIndex%2 == 1 // an agent case: its turns and each result's turn
		if turns {
			sm.Turns = `[{"user":"Where is A1?","output":"shipped","calls":[{"name":"lookup_order","args":{"order_id":"A1"},"result":{"status":"shipped"}}]}]`
		}
		for j := range results {
			r := AssertionResult{
				Type: fmt.Sprintf("contains-%d", j), Pass: j%2 == 0, Score: float64(j%2) / 2, Weight: 1, Reason: fmt.Sprintf("reason %d", j),
			}
			if turns {
				r.Turn = j%2 + 1
			}
			sm.Results = append(sm.Results, r)
		}
		out[i] = sm
	}
	return out
}

func withRunID(runID int64, samples []Sample) []Sample {
	out := make([]Sample, len(samples))
	for i, sm := range samples {
		sm.RunID = runID
		out[i] = sm
	}
	return out
}

func newRun(t testing.TB, s *Store) int64 {
	t.Helper()
	id, err := s.CreateRun(context.Background(), Run{Suite: "faq", Target: "prod", Trigger: "manual"})
	if err != nil {
		t.Fatalf("CreateRun = %v", err)
	}
	return id
}

func TestSamplesRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	for _, tc := range []struct {
		name       string
		perStmt    int // rows per INSERT; 0: the production sizes
		batches    [][]Sample
		wantSorted []Sample
	}{
		{
			name:    "one batch",
			batches: [][]Sample{makeSamples(0, 3, 2)},
		},
		{
			name: "errored sample without results",
			batches: [][]Sample{{{
				CaseID: "c", ErrorClass: "timeout", ErrorText: "context deadline exceeded", Attempts: 5,
			}}},
		},
		{
			name:    "more than one statement, with a remainder",
			batches: [][]Sample{makeSamples(0, 3*sampleRowsPerInsert+5, 3)},
		},
		{
			name:    "row at a time",
			perStmt: 1,
			batches: [][]Sample{makeSamples(0, 7, 2)},
		},
		{
			name:    "a sample with more results than a statement holds",
			batches: [][]Sample{makeSamples(0, 2, resultRowsPerInsert+3)},
		},
		{
			name:    "agent samples keep their turns and each result's turn",
			batches: [][]Sample{makeSamples(1, 2, 3)},
		},
		{
			name: "batches out of case order come back sorted",
			batches: [][]Sample{
				append(makeSamples(2, 2, 1), makeSamples(0, 1, 1)...),
				makeSamples(1, 2, 1),
				makeSamples(0, 1, 1), // a second (case 0, repeat 0): kept, after the first
			},
			wantSorted: concat(makeSamples(0, 1, 1), makeSamples(0, 1, 1), makeSamples(1, 2, 1), makeSamples(2, 2, 1)),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := newRun(t, s)
			for _, b := range tc.batches {
				var err error
				if tc.perStmt > 0 {
					err = s.addSamples(ctx, id, b, tc.perStmt, tc.perStmt)
				} else {
					err = s.AddSamples(ctx, id, b)
				}
				if err != nil {
					t.Fatalf("AddSamples = %v", err)
				}
			}
			want := tc.wantSorted
			if want == nil {
				want = concat(tc.batches...)
			}
			got, err := s.Samples(ctx, id)
			if err != nil {
				t.Fatalf("Samples(%d) = %v", id, err)
			}
			if diff := cmp.Diff(withRunID(id, want), got); diff != "" {
				t.Errorf("Samples(%d) mismatch (-want +got):\n%s", id, diff)
			}
		})
	}
}

func concat(batches ...[]Sample) []Sample {
	var out []Sample
	for _, b := range batches {
		out = append(out, b...)
	}
	return out
}

func TestSamplesNonFinite(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	id := newRun(t, s)
	in := []Sample{{
		CaseID: "c", LatencyMS: math.Inf(1), Score: math.NaN(), ErrorClass: "http_500", JudgeCostUSD: math.NaN(),
		Results: []AssertionResult{{Type: "similar", Score: math.NaN(), Weight: math.Inf(-1)}},
	}}
	if err := s.AddSamples(ctx, id, in); err != nil {
		t.Fatalf("AddSamples = %v", err)
	}
	got, err := s.Samples(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []Sample{{RunID: id, CaseID: "c", ErrorClass: "http_500", Results: []AssertionResult{{Type: "similar"}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Samples mismatch, non-finite floats read back as 0 (-want +got):\n%s", diff)
	}
}

func TestAddSamplesRefused(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	t.Run("missing run", func(t *testing.T) {
		if err := s.AddSamples(ctx, 9999, makeSamples(0, 1, 1)); !errors.Is(err, ErrNotFound) {
			t.Errorf("AddSamples(missing run) = %v, want ErrNotFound", err)
		}
	})

	t.Run("finished run", func(t *testing.T) {
		id := newRun(t, s)
		if err := s.FinishRun(ctx, Run{ID: id, Status: "passed"}); err != nil {
			t.Fatal(err)
		}
		err := s.AddSamples(ctx, id, makeSamples(0, 1, 1))
		if err == nil || !strings.Contains(err.Error(), "not running") {
			t.Errorf("AddSamples(finished run) = %v, want an error saying it is not running", err)
		}
		if !errors.Is(err, ErrNotRunning) {
			t.Errorf("AddSamples(finished run) = %v, want it to wrap ErrNotRunning", err)
		}
		got, err := s.Samples(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Errorf("Samples of the finished run = %d, want 0", len(got))
		}
	})

	t.Run("empty batch", func(t *testing.T) {
		if err := s.AddSamples(ctx, newRun(t, s), nil); err != nil {
			t.Errorf("AddSamples(nil) = %v, want nil", err)
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		id := newRun(t, s)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.AddSamples(cctx, id, makeSamples(0, 10, 2)); !errors.Is(err, context.Canceled) {
			t.Errorf("AddSamples(cancelled) = %v, want context.Canceled", err)
		}
		got, err := s.Samples(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Errorf("Samples after a cancelled AddSamples = %d, want 0", len(got))
		}
	})
}

// TestConcurrentReadersWhileWriting: readers on the pool see whole batches
// while the writer appends, and nothing races.
func TestConcurrentReadersWhileWriting(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	id := newRun(t, s)
	const (
		batches   = 40
		batchSize = 25
		readers   = 4
	)

	done := make(chan struct{})
	firstBatch := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, readers+1)

	wg.Go(func() {
		defer close(done)
		for b := range batches {
			if err := s.AddSamples(ctx, id, makeSamples(b, batchSize, 2)); err != nil {
				errs <- fmt.Errorf("batch %d: %w", b, err)
				return
			}
			if b == 0 {
				close(firstBatch)
			}
		}
	})
	for range readers {
		wg.Go(func() {
			<-firstBatch
			for reads := 0; ; reads++ {
				finished := false
				select {
				case <-done:
					finished = true // one last read after the writer is done
				default:
				}
				got, err := s.Samples(ctx, id)
				if err != nil {
					errs <- err
					return
				}
				if len(got)%batchSize != 0 || len(got) == 0 {
					errs <- fmt.Errorf("read %d samples, want a positive multiple of %d (whole batches)", len(got), batchSize)
					return
				}
				for _, sm := range got {
					if len(sm.Results) != 2 {
						errs <- fmt.Errorf("sample %s/%d has %d results, want 2", sm.CaseID, sm.Repeat, len(sm.Results))
						return
					}
				}
				if _, err := s.Runs(ctx, RunFilter{Suite: "faq"}); err != nil {
					errs <- err
					return
				}
				if finished {
					if len(got) != batches*batchSize {
						errs <- fmt.Errorf("last read got %d samples, want %d", len(got), batches*batchSize)
					}
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

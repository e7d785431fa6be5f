package daemon

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/store"
)

// TestPanicInARunIsStoredAndTheDaemonGoesOn: a provider that panics ends
// its run as errored with the panic's first line, counted in a metric;
// the next run of the same pair is scheduled and passes.
func TestPanicInARunIsStoredAndTheDaemonGoesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		answer := func([]evals.Message) (string, error) {
			if calls.Add(1) == 1 {
				var m map[string]int
				m["boom"]++ //nolint:staticcheck // SA5000: the panic is what this test needs
			}
			return "yes", nil
		}
		h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 3)}, []string{"prod"}, ""),
			func(string) *fakeProvider { return &fakeProvider{answer: answer} }, nil)
		ctx := context.Background()
		if err := h.d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := h.d.Trigger("faq", "prod", TriggerManual); err != nil {
				t.Fatalf("Trigger: %v", err)
			}
			synctest.Wait()
		}
		if err := h.d.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		runs := h.runs(t, store.RunFilter{})
		if len(runs) != 2 {
			t.Fatalf("%d runs, want 2", len(runs))
		}
		first, second := runs[0], runs[1]
		if first.ID > second.ID {
			first, second = second, first
		}
		if first.Status != store.StatusErrored || first.ErrorText != "panic: assignment to entry in nil map" {
			t.Errorf("first run: %s %q, want errored with the panic's first line", first.Status, first.ErrorText)
		}
		if second.Status != store.StatusPassed {
			t.Errorf("second run: %s, want passed", second.Status)
		}
		if got := testutil.ToFloat64(h.d.metrics.panics.WithLabelValues("faq", "prod")); got != 1 {
			t.Errorf("evald_run_panics_total = %g, want 1", got)
		}
	})
}

// TestPanicInEvaluateIsAnError: evald run gets the panic as an error (exit
// 4), never a crash with a stack trace.
func TestPanicInEvaluateIsAnError(t *testing.T) {
	answer := func([]evals.Message) (string, error) { panic("provider exploded\nsecond line") }
	h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 2)}, []string{"prod"}, ""),
		func(string) *fakeProvider { return &fakeProvider{answer: answer} }, nil)
	_, err := h.d.Evaluate(context.Background(), Request{Suite: "faq", Target: "prod", Trigger: TriggerCI})
	if err == nil || err.Error() != "panic: provider exploded" {
		t.Fatalf("Evaluate = %v, want panic: provider exploded", err)
	}
	runs := h.runs(t, store.RunFilter{})
	if len(runs) != 1 || runs[0].Status != store.StatusErrored || !strings.HasPrefix(runs[0].ErrorText, "panic: provider exploded") {
		t.Errorf("runs = %+v, want one errored run naming the panic", runs)
	}
}

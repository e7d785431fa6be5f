package runner

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
)

// Target is where a run sends its requests, with the limits and policies of
// that endpoint.
type Target struct {
	Name     string
	Provider Provider
	// Gate is shared by every run on this target (see Gates).
	Gate    *Gate
	Timeout time.Duration // per attempt; 0 means 30s
	Retries int           // extra attempts after the first
	Price   configs.Price
}

// Options tune one run.
type Options struct {
	// ErrorBudget is the largest share of samples that may be missing before
	// the run ends errored (default 0.10).
	ErrorBudget float64
	// BackoffBase and BackoffMax bound the jittered exponential backoff
	// between attempts (defaults 500ms and 30s). A Retry-After from the
	// endpoint wins over the computed delay, up to MaxRetryAfter (default 2m).
	BackoffBase   time.Duration
	BackoffMax    time.Duration
	MaxRetryAfter time.Duration
}

func (o Options) withDefaults() Options {
	if o.ErrorBudget <= 0 {
		o.ErrorBudget = 0.10
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 500 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 30 * time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 2 * time.Minute
	}
	return o
}

// Sample is one answer to one case (or the failure to get one), scored.
type Sample struct {
	CaseIndex int
	CaseID    string
	Repeat    int
	Response
	Latency  time.Duration // of the last attempt
	Attempts int
	// ErrClass is "" for a usable answer; otherwise one of the Class*
	// constants. A sample for which Missing(ErrClass) holds is not scored.
	ErrClass string
	ErrText  string
	Results  []scoring.Result
	Pass     bool
	Score    float64
	CostUSD  float64
}

// Valid reports whether the sample counts as behaviour (it was scored).
func (s Sample) Valid() bool { return !Missing(s.ErrClass) }

// Outcome says how a run ended, before any threshold is applied.
type Outcome string

// Outcomes of a run.
const (
	Completed   Outcome = "completed"
	Errored     Outcome = "errored"     // missing samples beyond the error budget
	Interrupted Outcome = "interrupted" // the context ended first
)

// Summary aggregates a run.
type Summary struct {
	Outcome Outcome
	// Cases is the number of cases in the suite; ValidCases those with at
	// least one valid sample.
	Cases, ValidCases int
	// Samples counts the samples attempted; Errors those missing.
	Samples, Errors  int
	ErrorsByClass    map[string]int
	PassRate         float64 // meaningful when ValidCases > 0
	MeanScore        float64
	PromptTokens     int64
	CompletionTokens int64
	CostUSD          float64
	Models           map[string]int
	Fingerprints     map[string]int
	Duration         time.Duration
}

// Run executes suite on target. emit is called once per sample, in the
// caller's goroutine, in completion order; more tells whether further
// samples are already waiting, so a caller can batch writes under load and
// still write each sample as soon as the queue runs dry. Run returns when every sample is
// done or ctx ends (Outcome Interrupted); the error is non-nil only for a
// misuse such as a nil provider.
func Run(ctx context.Context, suite *evals.Suite, t Target, opts Options, emit func(s Sample, more bool)) (Summary, error) {
	if t.Provider == nil || t.Gate == nil {
		return Summary{}, errors.New("runner: target needs a provider and a gate")
	}
	opts = opts.withDefaults()
	if t.Timeout <= 0 {
		t.Timeout = 30 * time.Second
	}
	start := time.Now()
	repeats := max(suite.Repeats, 1)
	total := len(suite.Cases) * repeats

	type job struct{ caseIndex, repeat int }
	jobs := make(chan job)
	// Buffered so workers are not held while the caller writes a batch.
	results := make(chan Sample, max(cap(t.Gate.slots), 1))
	workers := min(cap(t.Gate.slots), total)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				results <- execute(runCtx, suite, j.caseIndex, j.repeat, t, opts)
			}
		})
	}
	go func() {
		defer close(jobs)
		// Repeat-major order: an interrupted run has covered every case
		// once before it covers any twice.
		for r := range repeats {
			for i := range suite.Cases {
				select {
				case jobs <- job{i, r}:
				case <-runCtx.Done():
					return
				}
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	acc := newAccumulator(len(suite.Cases))
	for s := range results {
		if s.ErrClass == ClassCanceled {
			// The run was stopped: not an answer and not an endpoint
			// failure, so it is neither scored nor counted as missing.
			continue
		}
		acc.add(s)
		emit(s, len(results) > 0)
	}
	sum := acc.summary()
	sum.Duration = time.Since(start)
	switch {
	case ctx.Err() != nil:
		sum.Outcome = Interrupted
	case total > 0 && float64(sum.Errors)/float64(total) > opts.ErrorBudget:
		sum.Outcome = Errored
	default:
		sum.Outcome = Completed
	}
	return sum, nil
}

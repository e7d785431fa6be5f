package runner

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
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
	// Judge grades the model-graded assertions (nil: the suite has none, or
	// no judge is configured and such assertions make the sample missing).
	Judge *Judge
}

// DefaultErrorBudget is the share of a run's samples that may be missing
// before it ends errored, unless Options.ErrorBudget says otherwise.
const DefaultErrorBudget = 0.10

// Options tune one run.
type Options struct {
	// ErrorBudget is the largest share of samples that may be missing before
	// the run ends errored (default DefaultErrorBudget).
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
		o.ErrorBudget = DefaultErrorBudget
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
	// FirstPromptTokens is the prompt tokens reported for the case's first
	// request, the one request that is byte-identical every run (later
	// requests of a conversation carry the model's own sampled answers).
	// The usage signature reads it; PromptTokens, the sum over every
	// request, is what the sample cost.
	FirstPromptTokens int
	// ErrClass is "" for a usable answer; otherwise one of the Class*
	// constants. A sample for which Missing(ErrClass) holds is not scored.
	ErrClass string
	ErrText  string
	// ErrStatus is the HTTP status of the failure, 0 when there was none.
	ErrStatus int
	Results   []scoring.Result
	Pass      bool
	Score     float64
	CostUSD   float64
	// The judge's part, when the case has model-graded assertions: the
	// model and fingerprint the judge returned, what grading this sample
	// cost (0 for answers from the grade cache), the requests sent and the
	// cache hits.
	JudgeModel            string
	JudgeFingerprint      string
	JudgePromptTokens     int
	JudgeCompletionTokens int
	JudgeCostUSD          float64
	JudgeCalls            int
	JudgeCacheHits        int
	// Turns is what each turn of an agent suite's case went through (its
	// user message, final text, tool calls and results); nil for cases of
	// other suites.
	Turns []scoring.Turn
}

// Dominant is the key counted most often in a count map such as
// Summary.Models ("" for none; ties go to the smallest key, so the choice
// is repeatable).
func Dominant(m map[string]int) string {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	if len(keys) == 0 || m[keys[0]] <= 0 {
		return ""
	}
	return keys[0]
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
	Samples, Errors int
	ErrorsByClass   map[string]int
	// FirstErrors holds, per error class, the text of the first missing
	// sample of that class: the why of ErrorsByClass.
	FirstErrors map[string]string
	// TimedOut is the suite's timeout when it ran out before every
	// sample was done (the run is then Errored), 0 otherwise.
	TimedOut time.Duration
	// AuthRefused counts the samples the endpoint answered 401 or 403:
	// when it is every sample, the key is wrong, not the endpoint.
	AuthRefused      int
	PassRate         float64 // meaningful when ValidCases > 0
	MeanScore        float64
	PromptTokens     int64
	CompletionTokens int64
	CostUSD          float64
	Models           map[string]int
	Fingerprints     map[string]int
	Duration         time.Duration
	// Judging, counted apart from the tested model: tokens, cost, the
	// judge's returned models and fingerprints (per graded sample), and
	// the answers served from the grade cache.
	JudgePromptTokens     int64
	JudgeCompletionTokens int64
	JudgeCostUSD          float64
	JudgeModels           map[string]int
	JudgeFingerprints     map[string]int
	JudgeCacheHits        int
}

// Run executes suite on target. emit is called once per sample, in the
// caller's goroutine, in completion order; more tells whether further
// samples are already waiting, so a caller can batch writes under load and
// still write each sample as soon as the queue runs dry. Run returns when every sample is
// done or ctx ends (Outcome Interrupted); the error is non-nil only for a
// misuse such as a nil provider, or a *PanicError when executing a sample
// panicked (the run is stopped).
func Run(ctx context.Context, suite *evals.Suite, t Target, opts Options, emit func(s Sample, more bool)) (Summary, error) {
	sums, err := runArms(ctx, []Arm{{Suite: suite, Target: t, Emit: emit}}, opts)
	if err != nil {
		return Summary{}, err
	}
	return sums[0], nil
}

// Arm is one side of a paired run: a suite, where it is sent, and where its
// samples go.
type Arm struct {
	Suite  *evals.Suite
	Target Target
	Emit   func(s Sample, more bool)
}

// RunPair executes two arms interleaved case by case: both arms' requests
// for a case are queued back to back, the arm that goes first alternating
// from one case to the next, so anything that changes on the endpoint
// while the pair runs (provider drift, load, a bad minute) falls on both
// arms alike. Each arm gets its own Summary (its Outcome and error budget
// are its own); emit is called as Run calls it, in the caller's goroutine.
// Arms on the same target name should share one Gate.
func RunPair(ctx context.Context, a, b Arm, opts Options) (Summary, Summary, error) {
	sums, err := runArms(ctx, []Arm{a, b}, opts)
	if err != nil {
		return Summary{}, Summary{}, err
	}
	return sums[0], sums[1], nil
}

// runArms executes the arms' samples on one pool of workers, repeat-major
// (an interrupted run has covered every case once before it covers any
// twice), the arms of one case back to back.
func runArms(ctx context.Context, arms []Arm, opts Options) ([]Summary, error) {
	slots := 0
	var gates []*Gate
	for i := range arms {
		t := &arms[i].Target
		if t.Provider == nil || t.Gate == nil {
			return nil, errors.New("runner: target needs a provider and a gate")
		}
		if j := t.Judge; j != nil && (j.Provider == nil || j.Gate == nil) {
			return nil, errors.New("runner: judge needs a provider and a gate")
		}
		if t.Timeout <= 0 {
			t.Timeout = 30 * time.Second
		}
		if !slices.Contains(gates, t.Gate) {
			gates = append(gates, t.Gate)
			slots += cap(t.Gate.slots)
		}
	}
	opts = opts.withDefaults()
	start := time.Now()
	totals := make([]int, len(arms))
	repeats, cases, total := 0, 0, 0
	for i, a := range arms {
		totals[i] = len(a.Suite.Cases) * max(a.Suite.Repeats, 1)
		total += totals[i]
		repeats = max(repeats, a.Suite.Repeats, 1)
		cases = max(cases, len(a.Suite.Cases))
	}

	type job struct{ arm, caseIndex, repeat int }
	type result struct {
		arm int
		s   Sample
	}
	jobs := make(chan job)
	// Buffered so workers are not held while the caller writes a batch.
	results := make(chan result, max(slots, 1))
	workers := min(slots, total)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A suite's timeout bounds the whole run (its arms alike): past it the
	// run stops, and Retry-After waits that would end beyond it are not
	// made (tooLong).
	var timeout time.Duration
	for _, a := range arms {
		if t := a.Suite.Timeout; t > 0 && (timeout == 0 || t < timeout) {
			timeout = t
		}
	}
	if timeout > 0 {
		var stop context.CancelFunc
		runCtx, stop = context.WithTimeout(runCtx, timeout)
		defer stop()
	}

	var wg sync.WaitGroup
	var panicked atomic.Pointer[PanicError]
	for range workers {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					// The first panic stops the run; Run returns it.
					panicked.CompareAndSwap(nil, Recovered(p))
					cancel()
					for range jobs {
					}
				}
			}()
			for j := range jobs {
				a := &arms[j.arm]
				results <- result{j.arm, execute(runCtx, a.Suite, j.caseIndex, j.repeat, a.Target, opts)}
			}
		})
	}
	go func() {
		defer close(jobs)
		turn := 0
		for r := range repeats {
			for i := range cases {
				for k := range arms {
					// With two arms the first one alternates: a b, b a, a b ...
					ai := (k + turn) % len(arms)
					a := arms[ai].Suite
					if i >= len(a.Cases) || r >= max(a.Repeats, 1) {
						continue
					}
					select {
					case jobs <- job{ai, i, r}:
					case <-runCtx.Done():
						return
					}
				}
				turn++
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	accs := make([]*accumulator, len(arms))
	for i, a := range arms {
		accs[i] = newAccumulator(len(a.Suite.Cases))
	}
	for res := range results {
		if res.s.ErrClass == ClassCanceled {
			// The run was stopped: not an answer and not an endpoint
			// failure, so it is neither scored nor counted as missing.
			continue
		}
		accs[res.arm].add(res.s)
		if p := emit(arms[res.arm].Emit, res.s, len(results) > 0); p != nil {
			panicked.CompareAndSwap(nil, p)
			cancel()
		}
	}
	if p := panicked.Load(); p != nil {
		return nil, p
	}
	sums := make([]Summary, len(arms))
	for i, acc := range accs {
		sum := acc.summary()
		sum.Duration = time.Since(start)
		switch {
		case ctx.Err() != nil:
			sum.Outcome = Interrupted
		case timeout > 0 && errors.Is(runCtx.Err(), context.DeadlineExceeded) && sum.Samples < totals[i]:
			sum.Outcome, sum.TimedOut = Errored, timeout
		case totals[i] > 0 && float64(sum.Errors)/float64(totals[i]) > opts.ErrorBudget:
			sum.Outcome = Errored
		default:
			sum.Outcome = Completed
		}
		sums[i] = sum
	}
	return sums, nil
}

// emit calls f, returning a panic of f's as a *PanicError, so that the
// results keep being drained and no worker is left blocked.
func emit(f func(Sample, bool), s Sample, more bool) (p *PanicError) {
	defer func() {
		if v := recover(); v != nil {
			p = Recovered(v)
		}
	}()
	f(s, more)
	return nil
}

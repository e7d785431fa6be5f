package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
)

// StoredOutput is an answer kept from an earlier run, to be graded again.
type StoredOutput struct {
	// CaseIndex is the index of the answered case in the cases given to
	// Regrade.
	CaseIndex int
	Repeat    int
	Text      string
	// Refused marks an answer recorded as a policy refusal: it is scored
	// like any answer and keeps its class.
	Refused bool
	// Latency and cost, as recorded, for the latency and cost assertions.
	Latency   time.Duration
	CostUSD   float64
	CostKnown bool
	// Turns is what the sample's turns went through (an agent suite's
	// sample; nil otherwise): each turn's assertions are checked on its
	// own text and tool calls again.
	Turns []scoring.Turn
}

// Regraded is what Regrade did.
type Regraded struct {
	// Samples holds one sample per output, in the order of the outputs.
	// An output the regrade did not reach before its context ended has
	// ErrClass ClassCanceled and no results.
	Samples []Sample
	// Outcome is Interrupted when the context ended first, Errored when
	// the missing grades exceed ErrorBudget, else Completed.
	Outcome Outcome
	// Graded counts the outputs graded (Samples minus the canceled ones);
	// Missing those of them whose grade is missing (judge errors and
	// unreadable replies).
	Graded, Missing int
	// ErrorBudget is the share of missing grades that was allowed.
	ErrorBudget float64
}

// Regrade scores stored outputs again against cases: the deterministic
// assertions are recomputed, and the model-graded ones are sent to j as it
// is configured now, through its gate, timeout and retries, with at most
// as many outputs in flight as the gate has slots. Judge tokens and cost
// are counted on each sample as in a run. It returns when every output is
// graded or ctx ends; the error is non-nil only for a misuse (no judge, an
// output naming no case).
//
// j's grade cache is never used: the cache is keyed by the judge's version
// and the request, and a regrade sends the very requests the run sent, so
// an unchanged judge version would be answered from memory, replaying the
// old grades instead of asking the judge again, which is all a regrade is
// for. New answers are not cached either, so a regrade leaves nothing
// behind for the runs.
func Regrade(ctx context.Context, j *Judge, cases []evals.Case, outputs []StoredOutput, opts Options) (Regraded, error) {
	if j == nil || j.Provider == nil || j.Gate == nil {
		return Regraded{}, errors.New("runner: regrade needs a judge with a provider and a gate")
	}
	for i, o := range outputs {
		if o.CaseIndex < 0 || o.CaseIndex >= len(cases) {
			return Regraded{}, fmt.Errorf("runner: output %d names case %d of %d", i, o.CaseIndex, len(cases))
		}
	}
	judge := *j
	judge.Cache = nil
	opts = opts.withDefaults()
	res := Regraded{Samples: make([]Sample, len(outputs)), ErrorBudget: opts.ErrorBudget}

	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(cap(judge.Gate.slots), len(outputs)) {
		wg.Go(func() {
			for i := range jobs {
				res.Samples[i] = regradeOne(ctx, &judge, &cases[outputs[i].CaseIndex], outputs[i], opts)
			}
		})
	}
	sent := 0
feed:
	for ; sent < len(outputs); sent++ {
		select {
		case jobs <- sent:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	for i := sent; i < len(outputs); i++ {
		o := outputs[i]
		res.Samples[i] = Sample{CaseIndex: o.CaseIndex, CaseID: cases[o.CaseIndex].ID, Repeat: o.Repeat, ErrClass: ClassCanceled, ErrText: "regrade stopped"}
	}

	for _, s := range res.Samples {
		if s.ErrClass == ClassCanceled {
			continue
		}
		res.Graded++
		if !s.Valid() {
			res.Missing++
		}
	}
	switch {
	case ctx.Err() != nil:
		res.Outcome = Interrupted
	case len(outputs) > 0 && float64(res.Missing)/float64(len(outputs)) > opts.ErrorBudget:
		res.Outcome = Errored
	default:
		res.Outcome = Completed
	}
	return res, nil
}

// regradeOne scores one stored output; a grade cut short by ctx leaves the
// sample ClassCanceled.
func regradeOne(ctx context.Context, j *Judge, c *evals.Case, o StoredOutput, opts Options) Sample {
	s := Sample{
		CaseIndex: o.CaseIndex,
		CaseID:    c.ID,
		Repeat:    o.Repeat,
		Response:  Response{Text: o.Text},
		Latency:   o.Latency,
		CostUSD:   o.CostUSD,
	}
	if ctx.Err() != nil {
		s.ErrClass, s.ErrText = ClassCanceled, "regrade stopped"
		return s
	}
	if o.Refused {
		s.ErrClass = ClassRefused
	}
	out := scoring.Output{
		Text:      o.Text,
		Latency:   o.Latency,
		CostUSD:   o.CostUSD,
		CostKnown: o.CostKnown,
		Input:     evals.LastUser(c.Messages),
	}
	if o.Turns != nil {
		s.Turns = o.Turns
		scoreTurns(ctx, &s, c, nil, j, opts)
		return s
	}
	assess(ctx, &s, c, out, j, opts)
	return s
}

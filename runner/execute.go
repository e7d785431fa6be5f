package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/backoff"
	"github.com/evald/evald/scoring"
)

// execute sends one case once, retrying as the target allows, and scores the
// answer. It always returns a Sample; a stopped run yields ClassCanceled.
func execute(ctx context.Context, suite *evals.Suite, caseIndex, repeat int, t Target, opts Options) Sample {
	c := &suite.Cases[caseIndex]
	if agentic(suite, c) {
		return executeAgent(ctx, suite, caseIndex, repeat, t, opts)
	}
	s := Sample{CaseIndex: caseIndex, CaseID: c.ID, Repeat: repeat}
	resp, latency, err := retrying(ctx, t, opts, &s.Attempts, func() (Response, time.Duration, error) { return attemptOnce(ctx, c.Messages, t) })
	s.Latency = latency
	if err == nil || classOf(err) == ClassRefused {
		s.Response = resp
		s.FirstPromptTokens = resp.PromptTokens
		if err != nil {
			s.ErrClass, s.ErrText = ClassRefused, err.Error()
		}
		score(ctx, &s, c, t, opts)
		return s
	}
	if ctx.Err() != nil {
		s.ErrClass, s.ErrText = ClassCanceled, "run stopped"
		return s
	}
	s.ErrClass, s.ErrText = classOf(err), err.Error()
	var ce *CallError
	if errors.As(err, &ce) {
		s.ErrStatus = ce.Status
	}
	return s
}

// tooLong returns ce unchanged when the wait it asks for (Retry-After) fits
// the run, and otherwise ce with the reason evald does not wait: a wait
// longer than Options.MaxRetryAfter, or past the run's deadline, ends the
// sample's retries at once rather than holding the run.
func tooLong(ctx context.Context, ce *CallError, opts Options) error {
	if ce.RetryAfter <= 0 {
		return ce
	}
	why := ""
	if dl, ok := ctx.Deadline(); ok && time.Now().Add(ce.RetryAfter).After(dl) {
		why = fmt.Sprintf("the endpoint asked to wait %s before retrying, past the run's timeout: not retried", ce.RetryAfter.Round(time.Second))
	} else if ce.RetryAfter > opts.MaxRetryAfter {
		why = fmt.Sprintf("the endpoint asked to wait %s before retrying, more than the %s evald waits: not retried", ce.RetryAfter.Round(time.Second), opts.MaxRetryAfter)
	}
	if why == "" {
		return ce
	}
	out := *ce
	out.Err = fmt.Errorf("%w; %s", ce.Err, why)
	return &out
}

func attemptOnce(ctx context.Context, msgs []evals.Message, t Target) (Response, time.Duration, error) {
	release, err := t.Gate.Acquire(ctx)
	if err != nil {
		return Response{}, 0, &CallError{Class: ClassCanceled, Err: err}
	}
	defer release()
	actx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := t.Provider.Complete(actx, msgs)
	latency := time.Since(start)
	if err != nil && ctx.Err() == nil && actx.Err() != nil {
		// Our per-attempt deadline, whatever the provider made of it.
		err = &CallError{Class: ClassTimeout, Err: errors.New("request timed out after " + t.Timeout.String())}
	}
	return resp, latency, err
}

func score(ctx context.Context, s *Sample, c *evals.Case, t Target, opts Options) {
	s.CostUSD = float64(s.PromptTokens)*t.Price.InputPerMTok/1e6 + float64(s.CompletionTokens)*t.Price.OutputPerMTok/1e6
	out := scoring.Output{
		Text:      s.Text,
		Latency:   s.Latency,
		CostUSD:   s.CostUSD,
		CostKnown: t.Price.InputPerMTok > 0 || t.Price.OutputPerMTok > 0,
		Input:     evals.LastUser(c.Messages),
	}
	assess(ctx, s, c, out, t.Judge, opts)
}

// assess runs the case's assertions on out, asking j (which may be nil) for
// the model-graded ones, and sets the sample's results, pass and score.
func assess(ctx context.Context, s *Sample, c *evals.Case, out scoring.Output, j *Judge, opts Options) {
	var jc *judgeCall // made on the first graded assertion
	graded := false
	s.Results = make([]scoring.Result, len(c.Asserts))
	for i, a := range c.Asserts {
		g, ok := a.(scoring.Graded)
		if !ok {
			s.Results[i] = a.Check(out)
			continue
		}
		if !graded && j != nil {
			jc = &judgeCall{j: j, opts: opts}
		}
		graded = true
		s.Results[i] = gradeWith(ctx, jc, g, out)
	}
	s.Pass, s.Score = scoring.SampleScore(s.Results)
	if graded {
		finishGrading(ctx, s, jc)
	}
}

// retryDelay is the wait before retry number attempt+1: the endpoint's
// Retry-After when it sent one, else a capped exponential delay with jitter
// (backoff.Delay).
func retryDelay(attempt int, retryAfter time.Duration, o Options) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, o.MaxRetryAfter) // tooLong has refused longer waits
	}
	return backoff.Delay(o.BackoffBase, o.BackoffMax, attempt, nil)
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

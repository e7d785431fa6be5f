package runner

import (
	"context"
	"errors"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
)

// JudgeProvider is the endpoint behind a judge: chat completions for the
// graded types, embeddings for similar. *OpenAI is one.
type JudgeProvider interface {
	Provider
	Embed(ctx context.Context, texts []string) ([][]float64, Response, error)
}

var _ JudgeProvider = (*OpenAI)(nil)

// Judge is the target that grades the model-graded assertions of a run, with
// its own limits, retries and prices. Its tokens and cost are counted apart
// from the tested model's.
type Judge struct {
	Name string
	// Version is the judge target's version: grades are cached per version.
	Version  string
	Provider JudgeProvider
	// Gate is the judge target's gate (shared with runs on that target).
	Gate    *Gate
	Timeout time.Duration // per attempt; 0 means 30s
	Retries int
	Price   configs.Price
	// Cache, if set, answers a request this judge version has answered
	// before at no cost.
	Cache *GradeCache
}

// Error classes of samples whose grade could not be reached: the answer is
// missing data, like an endpoint failure, never a failed sample.
const (
	// ClassJudgeError: the judge endpoint failed (after its retries).
	ClassJudgeError = "judge_error"
	// ClassJudgeUnparseable: the judge answered something that could not be
	// read as a verdict; the sample's ErrText keeps the raw answer.
	ClassJudgeUnparseable = "judge_unparseable"
)

// judgeCall is the scoring.Judge handed to one sample's graded assertions:
// it goes through the judge's gate, timeout, retries and cache, and adds up
// what the sample's grading cost.
type judgeCall struct {
	j    *Judge
	opts Options

	model, fingerprint string
	promptTokens       int
	completionTokens   int
	calls, cacheHits   int
	failed             bool     // a request failed for good
	keys               []string // cache entries added for this sample
}

var _ scoring.Judge = (*judgeCall)(nil)

func (c *judgeCall) Complete(ctx context.Context, msgs []scoring.JudgeMessage) (scoring.JudgeReply, error) {
	key := cacheKey(c.j.Version, "chat", msgs)
	v, err := c.ask(ctx, key, cacheFamily(c.j.Version, "chat"), func(ctx context.Context) (judged, error) {
		em := make([]evals.Message, len(msgs))
		for i, m := range msgs {
			em[i] = evals.Message{Role: m.Role, Content: m.Content}
		}
		resp, err := c.j.Provider.Complete(ctx, em)
		return judged{resp: resp}, err
	})
	if err != nil {
		return scoring.JudgeReply{}, err
	}
	return reply(v.resp), nil
}

func (c *judgeCall) Embed(ctx context.Context, texts []string) ([][]float64, scoring.JudgeReply, error) {
	key := cacheKey(c.j.Version, "embed", texts)
	v, err := c.ask(ctx, key, cacheFamily(c.j.Version, "embed"), func(ctx context.Context) (judged, error) {
		vecs, resp, err := c.j.Provider.Embed(ctx, texts)
		return judged{resp: resp, vecs: vecs}, err
	})
	if err != nil {
		return nil, scoring.JudgeReply{}, err
	}
	return v.vecs, reply(v.resp), nil
}

func reply(r Response) scoring.JudgeReply {
	return scoring.JudgeReply{Text: r.Text, Model: r.Model, Fingerprint: r.Fingerprint, PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens}
}

// ask answers from the cache, or sends the request with retries and caches
// the answer.
func (c *judgeCall) ask(ctx context.Context, key, family string, send func(context.Context) (judged, error)) (judged, error) {
	v, ok, probe, err := c.j.Cache.get(ctx, key, family)
	if err != nil {
		c.failed = true
		return judged{}, &CallError{Class: ClassCanceled, Err: err}
	}
	if probe {
		defer c.j.Cache.release(family)
	}
	if ok {
		c.cacheHits++
		c.note(v.resp, false)
		return v, nil
	}
	var lastErr error
	for attempt := 0; attempt <= c.j.Retries; attempt++ {
		c.calls++
		v, err := c.once(ctx, send)
		if err == nil {
			c.note(v.resp, true)
			c.j.Cache.put(key, family, v)
			c.keys = append(c.keys, key)
			return v, nil
		}
		lastErr = err
		var ce *CallError
		if ctx.Err() != nil || !errors.As(err, &ce) || !ce.Retryable() || attempt == c.j.Retries {
			break
		}
		if lastErr = tooLong(ctx, ce, c.opts); lastErr != err { //nolint:errorlint // identity: did tooLong keep err as it was?
			break
		}
		if wait(ctx, retryDelay(attempt, ce.RetryAfter, c.opts)) != nil {
			break
		}
	}
	c.failed = true
	return judged{}, lastErr
}

func (c *judgeCall) once(ctx context.Context, send func(context.Context) (judged, error)) (judged, error) {
	release, err := c.j.Gate.Acquire(ctx)
	if err != nil {
		return judged{}, &CallError{Class: ClassCanceled, Err: err}
	}
	defer release()
	timeout := c.j.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := send(actx)
	if err != nil && ctx.Err() == nil && actx.Err() != nil {
		err = &CallError{Class: ClassTimeout, Err: errors.New("judge request timed out after " + timeout.String())}
	}
	return v, err
}

// note records who answered; tokens count only for answers paid for now.
func (c *judgeCall) note(r Response, paid bool) {
	if r.Model != "" {
		c.model = r.Model
	}
	if r.Fingerprint != "" {
		c.fingerprint = r.Fingerprint
	}
	if paid {
		c.promptTokens += r.PromptTokens
		c.completionTokens += r.CompletionTokens
	}
}

// gradeWith scores a graded assertion on the judge, or returns a missing
// result when the run has no judge.
func gradeWith(ctx context.Context, jc *judgeCall, a scoring.Graded, out scoring.Output) scoring.Result {
	if jc == nil {
		r := a.Check(out)
		r.Reason = "no judge target configured for this suite"
		return r
	}
	return a.Grade(ctx, jc, out)
}

// finishGrading records the judge's part on the sample and turns a missing
// grade into a missing sample.
func finishGrading(ctx context.Context, s *Sample, jc *judgeCall) {
	if jc != nil {
		s.JudgeModel, s.JudgeFingerprint = jc.model, jc.fingerprint
		s.JudgePromptTokens, s.JudgeCompletionTokens = jc.promptTokens, jc.completionTokens
		s.JudgeCalls, s.JudgeCacheHits = jc.calls, jc.cacheHits
		s.JudgeCostUSD = float64(jc.promptTokens)*jc.j.Price.InputPerMTok/1e6 + float64(jc.completionTokens)*jc.j.Price.OutputPerMTok/1e6
	}
	for _, r := range s.Results {
		if !r.Missing {
			continue
		}
		switch {
		case ctx.Err() != nil:
			s.ErrClass, s.ErrText = ClassCanceled, "run stopped"
		case jc == nil || jc.failed:
			s.ErrClass, s.ErrText = ClassJudgeError, r.Type+": "+r.Reason
		default:
			s.ErrClass, s.ErrText = ClassJudgeUnparseable, r.Type+": "+r.Reason
		}
		if jc != nil {
			// An answer that gave no grade is not worth keeping.
			jc.j.Cache.forget(jc.keys)
		}
		s.Pass, s.Score = false, 0
		return
	}
}

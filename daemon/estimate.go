package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
)

// Token estimation for `evald run --dry-run` and --budget-usd, without
// calling anything: about four characters a token (the usual rule of thumb
// for English with the GPT tokenizers), plus a few tokens of chat framing
// per message.
const (
	CharsPerToken    = 4
	TokensPerMessage = 4
	// DefaultCompletionTokens is the answer length assumed when the store
	// has no earlier run of the suite on the target and the target sets no
	// max_tokens.
	DefaultCompletionTokens = 256
)

// Completion estimate sources.
const (
	FromHistory   = "history"    // mean answer length of the latest completed production run
	FromMaxTokens = "max_tokens" // the target's max_tokens: an upper bound
	FromDefault   = "default"    // DefaultCompletionTokens
)

// EstimateTokens estimates the prompt tokens of one chat request.
func EstimateTokens(msgs []evals.Message) int {
	n := 0
	for _, m := range msgs {
		n += (utf8.RuneCountInString(m.Content)+CharsPerToken-1)/CharsPerToken + TokensPerMessage
	}
	return n
}

// Estimate is what a run would send and cost.
type Estimate struct {
	Suite  string `json:"suite"`
	Target string `json:"target"`
	// Candidate and SideBySide say what would run: a candidate, and
	// production alongside it.
	Candidate  bool `json:"candidate"`
	SideBySide bool `json:"side_by_side"`
	Cases      int  `json:"cases"`
	Repeats    int  `json:"repeats"`
	// Requests counts the chat requests of every arm.
	Requests     int   `json:"requests"`
	PromptTokens int64 `json:"prompt_tokens"`
	// CachedRequests are the requests a response cache would answer
	// (GateRequest.Cached): they cost nothing and are left out of the
	// token counts and the cost.
	CachedRequests int `json:"cached_requests,omitempty"`
	// CompletionTokens is (Requests - CachedRequests) × CompletionPerRequest.
	CompletionTokens     int64  `json:"completion_tokens"`
	CompletionPerRequest int    `json:"completion_per_request"`
	CompletionSource     string `json:"completion_source"`
	// HistoryRunID is the run the answer length was taken from (FromHistory).
	HistoryRunID int64 `json:"history_run_id,omitempty"`
	// CostUSD prices the estimate; MaxCostUSD prices every answer at the
	// target's max_tokens (0 when it sets none).
	CostUSD    float64 `json:"cost_usd"`
	MaxCostUSD float64 `json:"max_cost_usd"`
	// PerCase lists each case's prompt tokens per request, per arm.
	PerCase []CaseEstimate `json:"per_case"`
	// LowerBound is set when a case goes through the tool loop (an agent
	// suite): Requests counts one request per turn, each with the suite's
	// tools and the turns' user messages so far, but neither the tool
	// round trips nor the earlier answers and tool results a conversation
	// re-sends, which only the run knows. MaxRequests is then the most
	// the run can send (every turn taking max_tool_steps round trips), and
	// MaxCostUSD is 0: no bound on tokens can be given.
	LowerBound  bool `json:"lower_bound,omitempty"`
	MaxRequests int  `json:"max_requests,omitempty"`
	// Judge is the grading of the model-graded assertions, on the judge
	// target and at its price, not counted in the fields above (nil: the
	// suite has none). TotalUSD adds it up.
	Judge *JudgeEstimate `json:"judge,omitempty"`
}

// CaseEstimate is one case of an Estimate.
type CaseEstimate struct {
	ID string `json:"id"`
	// Arm is "candidate", "production" or "" (a production run).
	Arm          string `json:"arm,omitempty"`
	Requests     int    `json:"requests"`
	PromptTokens int    `json:"prompt_tokens"`
}

// Estimate says what a gate request (or, with neither Prompt nor Model nor
// a baseline, a production run) would send and cost. It reads the store
// for the answer length of the latest production run and writes nothing.
func (d *Daemon) Estimate(ctx context.Context, g GateRequest, candidate bool) (Estimate, error) {
	req := Request{Suite: g.Suite, Target: g.Target, Prompt: g.Prompt, Model: g.Model, Candidate: candidate}
	suite, target, err := d.resolve(req)
	if err != nil {
		return Estimate{}, err
	}
	e := Estimate{Suite: suite.Name, Target: target.Name, Candidate: candidate, SideBySide: g.SideBySide,
		Cases: len(suite.Cases), Repeats: max(suite.Repeats, 1)}
	arms := []*evals.Suite{suite}
	armTargets := []configs.Target{target}
	names := []string{""}
	if candidate {
		names[0] = RoleCandidate
	}
	if g.SideBySide {
		prod, prodTarget, err := d.suiteAndTarget(g.Suite, g.Target)
		if err != nil {
			return Estimate{}, err
		}
		arms = append([]*evals.Suite{prod}, arms...)
		armTargets = append([]configs.Target{prodTarget}, armTargets...)
		names = append([]string{"production"}, names...)
	}
	for i, s := range arms {
		for _, c := range s.Cases {
			tok := EstimateTokens(c.Messages)
			if agentCase(s, &c) {
				turns, total := agentTokens(s, &c)
				e.LowerBound = true
				e.MaxRequests += e.Repeats * turns * (s.ToolSteps() + 1)
				e.PerCase = append(e.PerCase, CaseEstimate{ID: c.ID, Arm: names[i], Requests: e.Repeats * turns, PromptTokens: total / turns})
				e.Requests += e.Repeats * turns
				e.PromptTokens += int64(total * e.Repeats)
				continue
			}
			e.MaxRequests += e.Repeats
			e.PerCase = append(e.PerCase, CaseEstimate{ID: c.ID, Arm: names[i], Requests: e.Repeats, PromptTokens: tok})
			e.Requests += e.Repeats
			sent := e.Repeats
			if g.Cached != nil {
				cached := min(max(g.Cached(armTargets[i].Version(), c.Messages, e.Repeats), 0), e.Repeats)
				e.CachedRequests += cached
				sent -= cached
			}
			e.PromptTokens += int64(tok * sent)
		}
	}

	e.CompletionPerRequest, e.CompletionSource = DefaultCompletionTokens, FromDefault
	if mt := target.Params.MaxTokens; mt != nil && *mt > 0 {
		e.CompletionPerRequest, e.CompletionSource = *mt, FromMaxTokens
	}
	run, err := d.latestProduction(ctx, g.Suite, g.Target)
	switch {
	case errors.Is(err, ErrNoBaseline):
	case err != nil:
		return Estimate{}, fmt.Errorf("read the latest run for its answer length: %w", err)
	default:
		if answered := run.Samples - run.Errors; answered > 0 && run.CompletionTokens > 0 {
			e.CompletionPerRequest = int((run.CompletionTokens + int64(answered) - 1) / int64(answered))
			e.CompletionSource, e.HistoryRunID = FromHistory, run.ID
		}
	}
	e.CompletionTokens = int64(e.Requests-e.CachedRequests) * int64(e.CompletionPerRequest)
	in, out := target.Price.InputPerMTok/1e6, target.Price.OutputPerMTok/1e6
	e.CostUSD = float64(e.PromptTokens)*in + float64(e.CompletionTokens)*out
	if !e.LowerBound {
		e.MaxRequests = 0
	}
	if mt := target.Params.MaxTokens; mt != nil && *mt > 0 && !e.LowerBound {
		e.MaxCostUSD = float64(e.PromptTokens)*in + float64(e.Requests-e.CachedRequests)*float64(*mt)*out
	}
	jt, graded, err := d.judgeTargetOf(suite, suite.NeedsJudge())
	if err != nil {
		return Estimate{}, err
	}
	if graded {
		e.Judge = estimateJudge(ctx, jt, arms, e.Repeats, e.CompletionPerRequest)
		if e.CachedRequests > 0 {
			// The judge's requests repeat with the cached answers, and
			// are cached with them.
			e.Judge.CostUSD *= float64(e.Requests-e.CachedRequests) / float64(e.Requests)
		}
	}
	return e, nil
}

// agentCase reports whether a case goes through the tool loop, as the
// runner decides it.
func agentCase(s *evals.Suite, c *evals.Case) bool {
	return c.Turns != nil || s.Tools != nil || s.ToolResults != nil
}

// agentTokens counts an agent case's turns and the prompt tokens of one
// request per turn: the case's messages, the suite's tools (as JSON) and
// the turns' user messages so far.
func agentTokens(s *evals.Suite, c *evals.Case) (turns, total int) {
	tools := 0
	if s.Tools != nil {
		if b, err := json.Marshal(s.Tools); err == nil {
			tools = (utf8.RuneCount(b) + CharsPerToken - 1) / CharsPerToken
		}
	}
	base := EstimateTokens(c.Messages) + tools
	if c.Turns == nil {
		return 1, base
	}
	users := 0
	for _, t := range c.Turns {
		users += EstimateTokens([]evals.Message{{Role: "user", Content: t.User}})
		total += base + users
	}
	return max(len(c.Turns), 1), max(total, base)
}

package daemon

import (
	"context"
	"errors"
	"strings"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
)

// DefaultJudgeCompletionTokens is the length assumed for one judge answer:
// the graded types ask for a short JSON verdict or a letter with a sentence
// or two of reasoning, which stays well under this.
const DefaultJudgeCompletionTokens = 100

// JudgeEstimate is what grading a run's model-graded assertions would send
// to the judge target and cost, priced at the judge's rates. It assumes no
// grade comes from the cache (an upper bound when outputs repeat).
type JudgeEstimate struct {
	Target string `json:"target"`
	// Requests counts chat and embedding requests to the judge.
	Requests     int   `json:"requests"`
	PromptTokens int64 `json:"prompt_tokens"`
	// CompletionTokens is the chat requests × CompletionPerRequest
	// (embeddings answer no tokens).
	CompletionTokens     int64   `json:"completion_tokens"`
	CompletionPerRequest int     `json:"completion_per_request"`
	CostUSD              float64 `json:"cost_usd"`
}

// TotalUSD is the estimated cost of the run: the model under test and,
// when the suite has model-graded assertions, its judge.
func (e Estimate) TotalUSD() float64 {
	if e.Judge == nil {
		return e.CostUSD
	}
	return e.CostUSD + e.Judge.CostUSD
}

// estimateJudge estimates the grading of every sample of arms by judge jt.
// The judge prompts are rendered by the assertions themselves, against a
// recording judge that answers nothing, for an output of answerTokens
// tokens (the expected answer length, in CharsPerToken characters a token)
// and each case's question: the recorded prompt, counted like any chat
// request (EstimateTokens), is what one graded sample sends. Each judge
// answer is counted as DefaultJudgeCompletionTokens (or the judge's
// max_tokens when lower); an embedding request (similar) costs only its
// input.
func estimateJudge(ctx context.Context, jt configs.Target, arms []*evals.Suite, repeats, answerTokens int) *JudgeEstimate {
	je := &JudgeEstimate{Target: jt.Name, CompletionPerRequest: DefaultJudgeCompletionTokens}
	if mt := jt.Params.MaxTokens; mt != nil && *mt > 0 && *mt < je.CompletionPerRequest {
		je.CompletionPerRequest = *mt // the judge cannot answer longer
	}
	output := strings.Repeat("x", answerTokens*CharsPerToken)
	chats := 0
	for _, s := range arms {
		for _, c := range s.Cases {
			rec := &recordingJudge{}
			out := scoring.Output{Text: output, Input: lastUser(c.Messages)}
			for _, a := range c.Asserts {
				if g, ok := a.(scoring.Graded); ok {
					g.Grade(ctx, rec, out)
				}
			}
			je.Requests += (rec.chats + rec.embeds) * repeats
			je.PromptTokens += int64(rec.promptTokens * repeats)
			chats += rec.chats * repeats
		}
	}
	je.CompletionTokens = int64(chats) * int64(je.CompletionPerRequest)
	je.CostUSD = float64(je.PromptTokens)*jt.Price.InputPerMTok/1e6 + float64(je.CompletionTokens)*jt.Price.OutputPerMTok/1e6
	return je
}

// recordingJudge is the judge of an estimate: it counts what it is asked
// and answers nothing, so each grade ends at its first request (a grader
// that would ask more than once is counted once).
type recordingJudge struct {
	chats, embeds, promptTokens int
}

var _ scoring.Judge = (*recordingJudge)(nil)

var errEstimateOnly = errors.New("estimate only: nothing is sent")

func (r *recordingJudge) Complete(_ context.Context, msgs []scoring.JudgeMessage) (scoring.JudgeReply, error) {
	m := make([]evals.Message, len(msgs))
	for i, x := range msgs {
		m[i] = evals.Message{Role: x.Role, Content: x.Content}
	}
	r.chats++
	r.promptTokens += EstimateTokens(m)
	return scoring.JudgeReply{}, errEstimateOnly
}

func (r *recordingJudge) Embed(_ context.Context, texts []string) ([][]float64, scoring.JudgeReply, error) {
	r.embeds++
	for _, t := range texts {
		r.promptTokens += (len([]rune(t)) + CharsPerToken - 1) / CharsPerToken
	}
	return nil, scoring.JudgeReply{}, errEstimateOnly
}

// lastUser is the content of the last user message: the question a judge
// is shown.
func lastUser(msgs []evals.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Content
		}
	}
	return ""
}

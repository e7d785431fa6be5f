package daemon

import (
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"

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
	// CompletionTokens is the chat requests (Requests -
	// EmbeddingRequests) × CompletionPerRequest: embeddings answer no
	// tokens.
	CompletionTokens     int64 `json:"completion_tokens"`
	CompletionPerRequest int   `json:"completion_per_request"`
	// EmbeddingRequests and EmbeddingTokens are the embedding part of
	// Requests and PromptTokens (similar, answer-relevance). They are
	// priced at the judge's input rate, as a run counts them: a target has
	// one price, whichever embedding_model it asks for.
	EmbeddingRequests int     `json:"embedding_requests"`
	EmbeddingTokens   int64   `json:"embedding_tokens"`
	CostUSD           float64 `json:"cost_usd"`
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
// The graded assertions run their whole flow against a recording judge
// (recordingJudge), for an output of answerTokens tokens (the expected
// answer length, in CharsPerToken characters a token) and each case's
// question, so that every request a grade would send is counted with the
// prompt it renders: g-eval's steps request and its rating, per criterion;
// answer-relevance's questions request and its embeddings. Chat prompts are
// counted like any chat request (EstimateTokens), embedding inputs as their
// characters alone. Each judge answer is counted as
// DefaultJudgeCompletionTokens (or the judge's max_tokens when lower), and
// the recording judge's answers are that long too where a later request
// carries them (g-eval's steps, answer-relevance's questions).
func estimateJudge(ctx context.Context, jt configs.Target, arms []*evals.Suite, repeats, answerTokens int) *JudgeEstimate {
	je := &JudgeEstimate{Target: jt.Name, CompletionPerRequest: DefaultJudgeCompletionTokens}
	if mt := jt.Params.MaxTokens; mt != nil && *mt > 0 && *mt < je.CompletionPerRequest {
		je.CompletionPerRequest = *mt // the judge cannot answer longer
	}
	output := strings.Repeat("x", answerTokens*CharsPerToken)
	reply := estimateReply(je.CompletionPerRequest * CharsPerToken)
	chats := 0
	for _, s := range arms {
		for _, c := range s.Cases {
			rec := &recordingJudge{reply: reply}
			out := scoring.Output{Text: output, Input: evals.LastUser(c.Messages)}
			for _, a := range c.Asserts {
				if g, ok := a.(scoring.Graded); ok {
					g.Grade(ctx, rec, out)
				}
			}
			je.Requests += (rec.chats + rec.embeds) * repeats
			je.PromptTokens += int64((rec.chatTokens + rec.embedTokens) * repeats)
			je.EmbeddingRequests += rec.embeds * repeats
			je.EmbeddingTokens += int64(rec.embedTokens * repeats)
			chats += rec.chats * repeats
		}
	}
	je.CompletionTokens = int64(chats) * int64(je.CompletionPerRequest)
	je.CostUSD = float64(je.PromptTokens)*jt.Price.InputPerMTok/1e6 + float64(je.CompletionTokens)*jt.Price.OutputPerMTok/1e6
	return je
}

// recordingJudge is the judge of an estimate: it counts what it is asked
// and answers every chat request with the same reply, one that every
// graded type reads as a verdict it can go on from (estimateReply), and
// every embedding request with one usable vector a text, so that each
// grade asks all it would ask of a real judge. Nothing is sent.
type recordingJudge struct {
	reply                   string
	chats, embeds           int
	chatTokens, embedTokens int
}

var _ scoring.Judge = (*recordingJudge)(nil)

func (r *recordingJudge) Complete(_ context.Context, msgs []scoring.JudgeMessage) (scoring.JudgeReply, error) {
	m := make([]evals.Message, len(msgs))
	for i, x := range msgs {
		m[i] = evals.Message{Role: x.Role, Content: x.Content}
	}
	r.chats++
	r.chatTokens += EstimateTokens(m)
	return scoring.JudgeReply{Text: r.reply}, nil
}

func (r *recordingJudge) Embed(_ context.Context, texts []string) ([][]float64, scoring.JudgeReply, error) {
	r.embeds++
	vecs := make([][]float64, len(texts))
	for i, t := range texts {
		r.embedTokens += (utf8.RuneCountInString(t) + CharsPerToken - 1) / CharsPerToken
		vecs[i] = []float64{1}
	}
	return vecs, scoring.JudgeReply{}, nil
}

// estimateSteps and estimateQuestions are how many evaluation steps and
// questions the recording judge answers: what the built-in g-eval-steps
// and answer-relevance prompts ask for (three or four steps, three
// questions).
const (
	estimateSteps     = 4
	estimateQuestions = 3
)

// estimateReply is the recording judge's answer to every chat request: one
// JSON object holding what each graded type reads (llm-rubric's pass and
// score, factuality's category, g-eval's steps and score, answer-
// relevance's questions), then a last line "Y" for model-graded-closedqa.
// Which prompt asked does not matter, so a suite's own judge_prompts are
// estimated alike. The steps and the questions each add up to about chars
// characters, an answer of the assumed verdict length: g-eval's rating
// prompt carries the steps and answer-relevance embeds the questions, so
// the estimate counts them at that length, more than a judge usually
// writes, which keeps it on the high side.
func estimateReply(chars int) string {
	steps := make([]string, estimateSteps)
	for i := range steps {
		steps[i] = strings.Repeat("x", max(chars/estimateSteps, 1))
	}
	questions := make([]string, estimateQuestions)
	for i := range questions {
		questions[i] = strings.Repeat("x", max(chars/estimateQuestions-1, 1)) + "?"
	}
	b, err := json.Marshal(map[string]any{
		"reason": "estimate", "pass": true, "score": 1, "category": "A",
		"steps": steps, "questions": questions,
	})
	if err != nil {
		panic(err) // strings, a bool and an int always encode
	}
	return string(b) + "\nY"
}

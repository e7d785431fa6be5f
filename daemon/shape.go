package daemon

import (
	"hash/fnv"
	"strings"
	"unicode/utf8"

	"github.com/evald/evald/drift"
	"github.com/evald/evald/runner"
)

// caseShapes collects what each case's valid answers looked like, for the
// drift detector's usage signature and behaviour signals.
type caseShapes map[string][]drift.SampleShape

func (c caseShapes) add(s runner.Sample) {
	if !s.Valid() {
		return
	}
	c[s.CaseID] = append(c[s.CaseID], drift.SampleShape{
		// The first request's count: the only request of a conversation
		// that is identical every run (the sum over the tool loop varies
		// with the model's sampled answers and is cost, not identity).
		PromptTokens: s.FirstPromptTokens,
		Chars:        utf8.RuneCountInString(s.Text),
		Answer:       answerHash(s.Text),
		Refusal:      isRefusal(s.Text, s.FinishReason),
		LatencyMS:    float64(s.Latency.Microseconds()) / 1000,
	})
}

// answerHash identifies an answer up to case and spacing, so that the
// distinct-answer share counts different answers, not different
// whitespace. Never 0 (0 means unknown).
func answerHash(text string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(strings.Join(strings.Fields(strings.ToLower(text)), " ")))
	return h.Sum64() | 1
}

// refusalOpenings are how declining answers commonly begin; matched on the
// answer's first 200 characters, lower-cased.
var refusalOpenings = []string{
	"i can't", "i cannot", "i can not", "i won't", "i will not", "i'm sorry", "i am sorry", "sorry, i",
	"i'm unable", "i am unable", "i'm not able", "i am not able", "i don't know", "i do not know",
	"as an ai", "i must decline", "i'm not sure", "i am not sure",
}

// isRefusal reports whether an answer declines: a content filter, or an
// opening that declines. It is a signal for a share that moves, not a
// grade: a suite's own assertions decide pass and fail.
func isRefusal(text, finish string) bool {
	if finish == "content_filter" {
		return true
	}
	head := strings.ToLower(strings.TrimSpace(text))
	if len(head) > 200 {
		head = head[:200]
	}
	head = strings.ReplaceAll(head, "’", "'")
	for _, p := range refusalOpenings {
		if strings.HasPrefix(head, p) {
			return true
		}
	}
	return false
}

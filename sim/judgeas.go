package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// The judge layouts of evald's g-eval, answer-relevance, factuality and
// closed-QA prompts (see grade.go for the list). Like the llm-rubric verdict, every answer here is
// derived from the request alone, so the same request always gets the same
// answer and tests can run end to end against the simulator.

// maxSimKeywords bounds the keywords a generated step list or question uses.
const maxSimKeywords = 12

// otherJudgeReply answers the g-eval, answer-relevance, factuality and
// closed-QA layouts, or returns ok false when the question is none of them.
func otherJudgeReply(question string) (string, bool) {
	if criteria, ok := between(question, "<Criteria>", "</Criteria>"); ok {
		if reply, ok := between(question, "<Reply>", "</Reply>"); ok {
			return gevalRating(criteria, reply), true
		}
		return gevalSteps(criteria), true
	}
	if answer, ok := between(question, "<Answer>", "</Answer>"); ok {
		return relevanceQuestions(answer), true
	}
	if expert, ok := between(question, "[Expert]:", "\n***"); ok {
		if sub, ok := between(question, "[Submission]:", "\n***"); ok {
			return factualityVerdict(expert, sub), true
		}
	}
	if sub, ok := between(question, "[Submission]:", "\n***"); ok {
		if crit, ok := between(question, "[Criterion]:", "\n***"); ok {
			return closedQAVerdict(sub, crit), true
		}
	}
	return "", false
}

// factualityVerdict compares the keyword sets of the expert answer and the
// submission, in the categories of the factuality prompt: C the same, A a
// subset, B a superset, E sharing at least half of the expert's keywords
// otherwise, D less than that.
func factualityVerdict(expert, submission string) string {
	want, have := toSet(keywords(expert)), toSet(keywords(submission))
	shared := 0
	for w := range want {
		if have[w] {
			shared++
		}
	}
	var cat, reason string
	switch {
	case shared == len(want) && shared == len(have):
		cat, reason = "C", "The submission has the same details as the expert answer."
	case shared == len(have):
		cat, reason = "A", "The submission is a subset of the expert answer."
	case shared == len(want):
		cat, reason = "B", "The submission is a superset of the expert answer."
	case 2*shared >= len(want):
		cat, reason = "E", "The answers differ in ways that do not matter for the facts."
	default:
		cat, reason = "D", "The submission disagrees with the expert answer."
	}
	return mustJSON(struct {
		Category string `json:"category"`
		Reason   string `json:"reason"`
	}{cat, reason})
}

// closedQAVerdict answers the closed-QA prompt: a line of reasoning, then
// "Y" when the submission uses at least half of the criterion's keywords,
// else "N", on its own line and repeated, as the prompt asks.
func closedQAVerdict(submission, criterion string) string {
	want := distinct(keywords(criterion))
	have := toSet(keywords(submission))
	found := 0
	for _, w := range want {
		if have[w] {
			found++
		}
	}
	letter := "N"
	if 2*found >= len(want) {
		letter = "Y"
	}
	return fmt.Sprintf("The submission uses %d of the criterion's %d keywords.\n%s\n%s", found, len(want), letter, letter)
}

// gevalSteps writes one step per keyword of the criteria (at most four).
func gevalSteps(criteria string) string {
	kw := distinct(keywords(criteria))
	steps := []string{}
	for _, w := range kw[:min(len(kw), 4)] {
		steps = append(steps, fmt.Sprintf("Check that the text covers %q.", w))
	}
	if len(steps) == 0 {
		steps = append(steps, "Check that the text meets the criteria.")
	}
	return mustJSON(struct {
		Steps []string `json:"steps"`
	}{steps})
}

// gevalRating rates a reply 0..10 by the share of the criteria's keywords
// that it uses, rounded half up.
func gevalRating(criteria, reply string) string {
	want := distinct(keywords(criteria))
	have := toSet(keywords(reply))
	var missing []string
	for _, w := range want {
		if !have[w] {
			missing = append(missing, w)
		}
	}
	score := 10
	if len(want) > 0 {
		score = int(math.Floor(10*float64(len(want)-len(missing))/float64(len(want)) + 0.5))
	}
	reason := "The reply covers every point of the criteria."
	if len(missing) > 0 {
		reason = fmt.Sprintf("The reply does not mention: %s.", strings.Join(missing, ", "))
	}
	return mustJSON(struct {
		Score  int    `json:"score"`
		Reason string `json:"reason"`
	}{score, reason})
}

// relevanceQuestions writes up to three questions from the answer's
// keywords (at most maxSimKeywords): one with all of them, then, when
// there are three or more, one without the first and one without the last.
// Its words other than the keywords are stop words, which the embeddings
// ignore, so a question is as close to the asked one as the answer's
// keywords are.
func relevanceQuestions(answer string) string {
	kw := distinct(keywords(answer))
	kw = kw[:min(len(kw), maxSimKeywords)]
	ask := func(ws []string) string { return "What about " + strings.Join(ws, " ") + "?" }
	qs := []string{}
	if len(kw) > 0 {
		qs = append(qs, ask(kw))
	}
	if len(kw) >= 3 {
		qs = append(qs, ask(kw[1:]), ask(kw[:len(kw)-1]))
	}
	return mustJSON(struct {
		Questions []string `json:"questions"`
	}{qs})
}

// distinct keeps the first occurrence of each word, in order.
func distinct(ws []string) []string {
	seen := map[string]bool{}
	out := ws[:0:0]
	for _, w := range ws {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// mustJSON encodes a value made of strings, ints and slices of strings,
// which always encode.
func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

package sim

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The simulator also acts as a judge. A user message that holds an
// "<Output>…</Output>" and a "<Rubric>…</Rubric>" section (the layout of
// promptfoo's llm-rubric grading prompt) is answered with a JSON verdict
// {"reason", "pass", "score"} derived from the request alone: the score is
// the share of the rubric's keywords that the output uses, and the verdict
// passes at 0.5 or more. The same request always gets the same verdict.
//
// The other layouts it recognises are those of evald's own prompts
// (judgeas.go), tried in this order:
//
//   - "<Criteria>…</Criteria>" with "<Reply>…</Reply>" (g-eval's rating):
//     {"score", "reason"}, the score 0..10 being the share of the criteria's
//     keywords that the reply uses, times 10, rounded.
//   - "<Criteria>…</Criteria>" alone (g-eval's steps): {"steps": [...]},
//     one step per keyword of the criteria, at most four.
//   - "<Answer>…</Answer>" (answer-relevance): {"questions": [...]}, up to
//     three questions made of the answer's keywords.
//   - "[Expert]: …" with "[Submission]: …" (factuality): {"category",
//     "reason"}, the category from comparing the two keyword sets.
//   - "[Submission]: …" with "[Criterion]: …" (model-graded-closedqa): a
//     line of reasoning, then "Y" or "N" twice, Y when the submission uses
//     at least half of the criterion's keywords.

// gradeReply returns the verdict for a grading request, or ok false when
// the question is not one.
func gradeReply(question string) (reply string, ok bool) {
	output, ok1 := between(question, "<Output>", "</Output>")
	rubric, ok2 := between(question, "<Rubric>", "</Rubric>")
	if !ok1 || !ok2 {
		return otherJudgeReply(question)
	}
	want := keywords(rubric)
	have := toSet(keywords(output))
	found, missing := 0, []string{}
	for _, w := range want {
		if have[w] {
			found++
		} else {
			missing = append(missing, w)
		}
	}
	score := 1.0
	if len(want) > 0 {
		score = float64(found) / float64(len(want))
	}
	reason := "The output covers the rubric."
	if len(missing) > 0 {
		reason = fmt.Sprintf("The output does not mention: %s.", strings.Join(missing, ", "))
	}
	b, _ := json.Marshal(struct { // strings, a bool and a float always encode
		Reason string  `json:"reason"`
		Pass   bool    `json:"pass"`
		Score  float64 `json:"score"`
	}{reason, score >= 0.5, score})
	return string(b), true
}

// between returns the text between the first open tag and the next close tag.
func between(s, open, close string) (string, bool) {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return "", false
	}
	in, _, ok := strings.Cut(rest, close)
	return in, ok
}

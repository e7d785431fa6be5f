package scoring

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// answer-relevance measures whether the output answers the question asked,
// as promptfoo does after RAGAS: the judge writes questions that the output
// would be an answer to (prompts/answer-relevance.txt, which shows it the
// output alone), and the score is the mean cosine similarity between the
// embedding of each of them and that of the question. The question is the
// case's last user message, or the value when one is given (so that
// value: "{{query}}" plays the part of promptfoo's query var). It passes at
// the threshold (default 0.7, as in promptfoo); the score is clamped to
// [0,1], and the not- form passes below the threshold.
//
// promptfoo sends the same request three times for one question each;
// evald asks once for three questions, which differ by design and cost one
// cached request. The questions are read from {"questions": [...]}, else
// from the lines of the reply that end in "?". A reply without questions,
// a question with no usable embedding, or no question to compare with is a
// missing grade.
type relevanceGrader struct {
	query  string // "" for the case's input
	min    float64
	prompt JudgePrompt
}

const (
	defaultRelevance = 0.7
	// maxQuestions bounds the questions kept from a judge's answer.
	maxQuestions = 10
)

func compileRelevance(s Spec) (grader, error) {
	g := &relevanceGrader{prompt: s.JudgePrompts.get("answer-relevance")}
	if s.Value != nil {
		q, ok := scalarText(s.Value)
		if !ok || strings.TrimSpace(q) == "" {
			return nil, badValue(s, "want the question to compare with (non-empty text), or no value for the case's last user message")
		}
		g.query = q
	}
	th, err := threshold(s, defaultRelevance, 0, 1, "must be between 0 and 1 (the lowest mean similarity that passes)")
	if err != nil {
		return nil, err
	}
	g.min = th
	return g, nil
}

func (g *relevanceGrader) grade(ctx context.Context, j Judge, out Output) (outcome, string, string) {
	query := g.query
	if query == "" {
		query = out.Input
	}
	if strings.TrimSpace(query) == "" {
		return outcome{}, "", "no question to compare with: the case has no user message (give the question as the value)"
	}
	reply, err := j.Complete(ctx, g.prompt.render("output", out.Text))
	if err != nil {
		return outcome{}, "", "judge failed: " + err.Error()
	}
	questions, ok := readQuestions(reply.Text)
	if !ok {
		return outcome{}, "", unreadable("no questions (neither JSON questions nor lines ending in \"?\")", reply.Text)
	}
	texts := append([]string{query}, questions...)
	vecs, _, err := j.Embed(ctx, texts)
	if err != nil {
		return outcome{}, "", "embedding failed: " + err.Error()
	}
	if len(vecs) != len(texts) {
		return outcome{}, "", fmt.Sprintf("embedding failed: got %d embeddings for %d texts", len(vecs), len(texts))
	}
	var sum float64
	for _, v := range vecs[1:] {
		sim, ok := cosine(vecs[0], v)
		if !ok {
			return outcome{}, "", fmt.Sprintf("embedding failed: unusable vectors (lengths %d and %d, or zero)", len(vecs[0]), len(v))
		}
		sum += sim
	}
	mean := sum / float64(len(questions))
	ok = mean >= g.min
	verb := "reaches"
	if !ok {
		verb = "is below"
	}
	why := fmt.Sprintf("relevance %.3f %s %s; the output answers %s", mean, verb, jsNumber(g.min), quoteList(questions))
	return outcome{ok: ok, score: mean}, why, ""
}

var listMarker = regexp.MustCompile(`(?i)^\s*(?:\d{1,2}[.):]|[-*•]|q\d{1,2}[.):])?\s*`)

// readQuestions reads the judge's questions: {"questions": [...]} first,
// else the lines that end in "?" (list markers and quotes removed). At most
// maxQuestions are kept.
func readQuestions(text string) ([]string, bool) {
	var qs []string
	if obj, found := findJSONObject(text); found {
		if list, ok := obj["questions"].([]any); ok {
			for _, e := range list {
				if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
					qs = append(qs, strings.TrimSpace(s))
				}
			}
		}
	}
	if len(qs) == 0 {
		for line := range strings.SplitSeq(text, "\n") {
			line = strings.Trim(strings.TrimSpace(line), "\"'`*")
			if !strings.HasSuffix(line, "?") {
				continue
			}
			q := strings.Trim(listMarker.ReplaceAllString(line, ""), " \t\"'`*")
			if q != "?" && q != "" {
				qs = append(qs, q)
			}
		}
	}
	return qs[:min(len(qs), maxQuestions)], len(qs) > 0
}

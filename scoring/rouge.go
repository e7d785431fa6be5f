package scoring

import (
	"fmt"
	"strings"
)

// rouge-n is promptfoo's ROUGE-1 recall: the share of the reference's words
// (the value's) that the output also uses, after lower-casing both and
// splitting them into Penn Treebank-style tokens. Like js-rouge, each
// distinct output word counts once, while the reference counts all its
// words: a reference that repeats a word ("the cat and the hat") cannot reach
// 1. It passes when the score is at least the threshold (default 0.75); the
// not- form passes below it and scores 1-score. An empty output scores 0
// (promptfoo raises an error).
//
// Recent js-rouge releases default to an F-score; promptfoo documents
// rouge-n as recall-oriented, and recall is what this computes.
type rougeChecker struct {
	refWords map[string]struct{}
	refCount int
	min      float64
}

const defaultRouge = 0.75

func compileRouge(s Spec) (checker, error) {
	t, ok := scalarText(s.Value)
	if !ok {
		return nil, badValue(s, "want the reference text")
	}
	words := tokenize(strings.ToLower(t))
	if len(words) == 0 {
		return nil, badValue(s, "the reference has no words")
	}
	th, err := threshold(s, defaultRouge, 0, 1, "must be between 0 and 1")
	if err != nil {
		return nil, err
	}
	c := &rougeChecker{refWords: make(map[string]struct{}, len(words)), refCount: len(words), min: th}
	for _, w := range words {
		c.refWords[w] = struct{}{}
	}
	return c, nil
}

func (c *rougeChecker) check(out Output) outcome {
	score := c.score(out.Text)
	return outcome{ok: score >= c.min, score: score}
}

func (c *rougeChecker) score(text string) float64 {
	seen := make(map[string]struct{})
	for _, w := range tokenize(strings.ToLower(text)) {
		if _, ok := c.refWords[w]; ok {
			seen[w] = struct{}{}
		}
	}
	return float64(len(seen)) / float64(c.refCount)
}

func (c *rougeChecker) reason(out Output, o outcome, negated bool) string {
	if negated {
		return fmt.Sprintf("rouge-n score %.2f is not below threshold %s", o.score, jsNumber(c.min)) + got(out)
	}
	if out.Text == "" {
		return fmt.Sprintf("rouge-n score 0 is below threshold %s: empty output", jsNumber(c.min))
	}
	return fmt.Sprintf("rouge-n score %.2f is below threshold %s", o.score, jsNumber(c.min)) + got(out)
}

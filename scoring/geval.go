package scoring

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// g-eval rates the output against criteria (the value) in G-Eval's two
// steps, as promptfoo does: the judge first turns the criteria into a few
// evaluation steps (prompts/g-eval-steps.txt), then follows them to rate
// the output with an integer from 0 to 10 and a reason
// (prompts/g-eval.txt), seeing the question (the last user message) too.
// The score is the rating divided by 10, and passes at the threshold
// (default 0.7, as in promptfoo). The value is the criteria text, or a list
// of criteria graded one by one whose mean score counts (as in promptfoo),
// or a mapping {criteria: TEXT, steps: [TEXT, ...]} that gives the steps
// and saves the first request; fixed steps also make grades more
// repeatable, since a judge may write different steps from one run to the
// next.
//
// The steps are read from {"steps": [...]}, else from a numbered or
// bulleted list; the rating from {"score", "reason"}, else from the text's
// "score: N", "N/10" or "N out of 10" when they all give one number. A
// reply that reads as neither, or a rating outside 0..10, is a missing
// grade with the judge's text kept, never a failure. Unlike promptfoo, a
// threshold of 0 is taken as written (promptfoo replaces it with 0.7).
type gevalGrader struct {
	criteria            []gevalCriterion
	min                 float64
	stepsPrompt, prompt JudgePrompt
}

// gevalCriterion is one criteria text and its steps (nil: ask the judge).
type gevalCriterion struct {
	text  string
	steps []string
}

const (
	defaultGEval = 0.7
	gevalMax     = 10 // the top of the judge's rating scale
	// maxSteps bounds the steps kept from a judge's answer.
	maxSteps = 20
)

func compileGEval(s Spec) (grader, error) {
	const want = "want the criteria (non-empty text), a list of criteria, or {criteria, steps}"
	g := &gevalGrader{stepsPrompt: s.JudgePrompts.get("g-eval-steps"), prompt: s.JudgePrompts.get("g-eval")}
	switch v := s.Value.(type) {
	case map[string]any:
		for k := range v {
			if k != "criteria" && k != "steps" {
				return nil, badValue(s, "unknown key %q; want criteria and optionally steps", k)
			}
		}
		c, ok := scalarText(v["criteria"])
		if !ok || strings.TrimSpace(c) == "" {
			return nil, badValue(s, "criteria: want the criteria (non-empty text)")
		}
		crit := gevalCriterion{text: c}
		if raw, has := v["steps"]; has {
			steps, ok := stringList(raw)
			if !ok {
				return nil, badValue(s, "steps: want a list of evaluation steps (non-empty texts)")
			}
			crit.steps = steps
		}
		g.criteria = []gevalCriterion{crit}
	case []any:
		list, ok := stringList(v)
		if !ok {
			return nil, badValue(s, "%s", want)
		}
		for _, c := range list {
			g.criteria = append(g.criteria, gevalCriterion{text: c})
		}
	default:
		c, ok := scalarText(s.Value)
		if !ok || strings.TrimSpace(c) == "" {
			return nil, badValue(s, "%s", want)
		}
		g.criteria = []gevalCriterion{{text: c}}
	}
	th, err := threshold(s, defaultGEval, 0, 1, "must be between 0 and 1 (the lowest score that passes; the judge's 0 to 10 rating is divided by 10)")
	if err != nil {
		return nil, err
	}
	g.min = th
	return g, nil
}

// stringList reads a non-empty list of non-blank texts (numbers allowed).
func stringList(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		t, ok := scalarText(e)
		if !ok || strings.TrimSpace(t) == "" {
			return nil, false
		}
		out = append(out, t)
	}
	return out, true
}

func (g *gevalGrader) grade(ctx context.Context, j Judge, out Output) (outcome, string, string) {
	var sum float64
	whys := make([]string, 0, len(g.criteria))
	for i, c := range g.criteria {
		rating, reason, missing := g.rate(ctx, j, out, c)
		if missing != "" {
			if len(g.criteria) > 1 {
				missing = fmt.Sprintf("criteria %d: %s", i+1, missing)
			}
			return outcome{}, "", missing
		}
		sum += rating
		why := fmt.Sprintf("rated %s/%d", jsNumber(rating), gevalMax)
		if reason != "" {
			why += ": " + reason
		}
		if len(g.criteria) > 1 {
			why = fmt.Sprintf("criteria %d %s", i+1, why)
		}
		whys = append(whys, why)
	}
	score := sum / float64(len(g.criteria)) / gevalMax
	ok := score >= g.min
	head := fmt.Sprintf("score %s reaches threshold %s", jsNumber(round3(score)), jsNumber(g.min))
	if !ok {
		head = fmt.Sprintf("score %s below threshold %s", jsNumber(round3(score)), jsNumber(g.min))
	}
	return outcome{ok: ok, score: score}, head + "; " + strings.Join(whys, "; "), ""
}

// rate asks for one criterion's steps when it has none, then for the
// rating (0..gevalMax).
func (g *gevalGrader) rate(ctx context.Context, j Judge, out Output, c gevalCriterion) (rating float64, reason, missing string) {
	steps := c.steps
	if steps == nil {
		reply, err := j.Complete(ctx, g.stepsPrompt.render("criteria", c.text))
		if err != nil {
			return 0, "", "judge failed: " + err.Error()
		}
		var ok bool
		if steps, ok = readSteps(reply.Text); !ok {
			return 0, "", unreadable("no evaluation steps (neither JSON steps nor a numbered list)", reply.Text)
		}
	}
	msgs := g.prompt.render("criteria", c.text, "steps", "- "+strings.Join(steps, "\n- "), "input", out.Input, "output", out.Text)
	reply, err := j.Complete(ctx, msgs)
	if err != nil {
		return 0, "", "judge failed: " + err.Error()
	}
	return readRating(reply.Text)
}

var stepLine = regexp.MustCompile(`(?i)^\s*(?:\d{1,2}[.):]|[-*•]|step\s*\d{1,2}\s*[.):])\s+(.+?)\s*$`)

// readSteps reads evaluation steps: {"steps": [...]} first, else the lines
// of a numbered or bulleted list. At most maxSteps are kept.
func readSteps(text string) ([]string, bool) {
	if obj, found := findJSONObject(text); found {
		if list, ok := obj["steps"].([]any); ok {
			var steps []string
			for _, e := range list {
				if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
					steps = append(steps, oneLine(s))
				}
			}
			if len(steps) > 0 {
				return steps[:min(len(steps), maxSteps)], true
			}
		}
	}
	var steps []string
	for line := range strings.SplitSeq(text, "\n") {
		if m := stepLine.FindStringSubmatch(line); m != nil {
			steps = append(steps, oneLine(m[1]))
			if len(steps) == maxSteps {
				break
			}
		}
	}
	return steps, len(steps) > 0
}

var (
	ratingWord  = regexp.MustCompile(`(?i)\b(?:score|rating)\b["*]*\s*(?:is|of|[:=])?\s*["*]*\s*(\d{1,3}(?:\.\d+)?)\b`)
	ratingOutOf = regexp.MustCompile(`(?i)\b(\d{1,3}(?:\.\d+)?)\s*(?:/|out\s+of)\s*10\b`)
)

// readRating reads a g-eval rating: {"score": N, "reason": ...} first
// (N a number or a numeric string), else the numbers the text gives as
// "score: N", "N/10" or "N out of 10" when they all agree. The rating must
// be within 0..gevalMax.
func readRating(text string) (rating float64, reason, missing string) {
	if obj, found := findJSONObject(text); found {
		if n, ok := numberField(obj, "score"); ok {
			if math.IsNaN(n) || n < 0 || n > gevalMax {
				return 0, "", unreadable(fmt.Sprintf("score %s is not within 0 to %d", strconv.FormatFloat(n, 'g', -1, 64), gevalMax), text)
			}
			return n, oneLine(stringField(obj, "reason")), ""
		}
	}
	seen := map[float64]bool{}
	for _, re := range []*regexp.Regexp{ratingWord, ratingOutOf} {
		for _, m := range re.FindAllStringSubmatch(text, maxJSONStarts) {
			if f, err := strconv.ParseFloat(m[1], 64); err == nil {
				seen[f] = true
			}
		}
	}
	if len(seen) != 1 {
		why := "no JSON score and no \"score: N\" or \"N/10\""
		if len(seen) > 1 {
			why = "the text gives several different scores"
		}
		return 0, "", unreadable(why, text)
	}
	for f := range seen {
		if f > gevalMax {
			return 0, "", unreadable(fmt.Sprintf("score %s is not within 0 to %d", jsNumber(f), gevalMax), text)
		}
		rating = f
	}
	return rating, oneLine(text), ""
}

// round3 rounds to three decimals, for reasons.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

package scoring

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
)

// llm-rubric asks the judge whether the output meets a rubric (the value).
// The judge answers {"reason", "pass", "score"} with score in [0,1]
// (prompts/llm-rubric.txt). As in promptfoo, a threshold, when set, must
// also be reached by the score; without "pass" the verdict is score >=
// threshold (0.5 without one), and without "score" the score is 1 or 0 by
// the verdict. A reply with no readable JSON verdict falls back on the words
// PASS or FAIL; anything else, or a score outside [0,1], is a missing grade.
type rubricGrader struct {
	rubric string
	min    *float64
	prompt JudgePrompt
}

func compileRubric(s Spec) (grader, error) {
	rubric, err := rubricText(s)
	if err != nil {
		return nil, err
	}
	g := &rubricGrader{rubric: rubric, prompt: s.JudgePrompts.get("llm-rubric")}
	if s.Threshold != nil {
		t, err := threshold(s, 0, 0, 1, "must be between 0 and 1 (the lowest score that passes)")
		if err != nil {
			return nil, err
		}
		g.min = &t
	}
	return g, nil
}

// rubricText is a non-empty string, or an object or list shown to the judge
// as JSON.
func rubricText(s Spec) (string, error) {
	if t, ok := scalarText(s.Value); ok {
		if t == "" {
			return "", badValue(s, "want the rubric (non-empty text)")
		}
		return t, nil
	}
	switch s.Value.(type) {
	case map[string]any, []any:
		b, err := json.Marshal(s.Value)
		if err == nil && len(b) > 2 {
			return string(b), nil
		}
	}
	return "", badValue(s, "want the rubric (non-empty text)")
}

func (g *rubricGrader) grade(ctx context.Context, j Judge, out Output) (outcome, string, string) {
	reply, err := j.Complete(ctx, g.prompt.render("output", out.Text, "rubric", g.rubric, "input", out.Input))
	if err != nil {
		return outcome{}, "", "judge failed: " + err.Error()
	}
	pass, score, reason, missing := readRubric(reply.Text, g.min)
	if missing != "" {
		return outcome{}, "", missing
	}
	why := reason
	if why == "" {
		why = "the judge found the rubric not met"
	}
	if g.min != nil && score < *g.min {
		why = fmt.Sprintf("score %s below threshold %s: %s", jsNumber(score), jsNumber(*g.min), why)
	}
	return outcome{ok: pass, score: score}, why, ""
}

// readRubric reads a rubric verdict; missing is non-empty when it cannot.
func readRubric(text string, min *float64) (pass bool, score float64, reason, missing string) {
	cut := 0.5
	if min != nil {
		cut = *min
	}
	obj, found := findJSONObject(text)
	if found {
		p, hasPass := boolField(obj, "pass")
		s, hasScore := numberField(obj, "score")
		if hasPass || hasScore {
			if hasScore && (math.IsNaN(s) || s < 0 || s > 1) {
				return false, 0, "", unreadable("score "+fmt.Sprint(s)+" is not in [0,1]", text)
			}
			switch {
			case !hasScore:
				s = 0
				if p {
					s = 1
				}
			case !hasPass:
				p = s >= cut
			}
			if min != nil && s < *min {
				p = false
			}
			return p, s, stringField(obj, "reason"), ""
		}
	}
	if p, ok := passFailWords(text); ok {
		// A bare verdict scores 1 or 0, so any threshold agrees with it.
		if p {
			return true, 1, oneLine(text), ""
		}
		return false, 0, oneLine(text), ""
	}
	return false, 0, "", unreadable("no JSON verdict and no PASS or FAIL", text)
}

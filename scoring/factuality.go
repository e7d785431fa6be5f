package scoring

import (
	"context"
	"regexp"
	"slices"
	"strings"
)

// factuality asks the judge to compare the output with a reference answer
// (the value) using the OpenAI-evals categories (prompts/factuality.txt):
// (A) a consistent subset, (B) a consistent superset, (C) the same details,
// (D) a disagreement, (E) differences that do not matter. Categories A, B, C
// and E pass, as in promptfoo; the value may instead be a mapping
// {reference: TEXT, pass: [A, B, ...]} to choose the passing set. The score
// is 1 or 0. The judge is asked for {"category", "reason"}; a reply without
// it falls back on a lone "(X)" or a last line naming one letter, and
// anything else is a missing grade. model-graded-factuality is the same
// type under promptfoo's other name.
type factualityGrader struct {
	reference string
	pass      []string // letters
	prompt    JudgePrompt
}

var defaultFactualityPass = []string{"A", "B", "C", "E"}

func compileFactuality(s Spec) (grader, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	g := &factualityGrader{pass: defaultFactualityPass, prompt: s.JudgePrompts.get("factuality")}
	switch v := s.Value.(type) {
	case map[string]any:
		for k := range v {
			if k != "reference" && k != "pass" {
				return nil, badValue(s, "unknown key %q; want reference and optionally pass", k)
			}
		}
		ref, ok := scalarText(v["reference"])
		if !ok || ref == "" {
			return nil, badValue(s, "want reference: the expected answer")
		}
		g.reference = ref
		if p, ok := v["pass"]; ok {
			letters, err := textList(Spec{Type: s.Type, Value: p})
			if err != nil {
				return nil, badValue(s, "pass: want a list of categories A to E")
			}
			g.pass = nil
			for _, l := range letters {
				l = strings.ToUpper(strings.Trim(strings.TrimSpace(l), "()"))
				if len(l) != 1 || l[0] < 'A' || l[0] > 'E' {
					return nil, badValue(s, "pass: category %q is not one of A, B, C, D, E", l)
				}
				if !slices.Contains(g.pass, l) {
					g.pass = append(g.pass, l)
				}
			}
		}
	default:
		ref, ok := scalarText(s.Value)
		if !ok || ref == "" {
			return nil, badValue(s, "want the reference answer (non-empty text)")
		}
		g.reference = ref
	}
	return g, nil
}

func (g *factualityGrader) grade(ctx context.Context, j Judge, out Output) (outcome, string, string) {
	reply, err := j.Complete(ctx, g.prompt.render("output", out.Text, "reference", g.reference, "input", out.Input))
	if err != nil {
		return outcome{}, "", "judge failed: " + err.Error()
	}
	cat, reason, ok := readCategory(reply.Text)
	if !ok {
		return outcome{}, "", unreadable("no category A to E", reply.Text)
	}
	pass := slices.Contains(g.pass, cat)
	why := "category (" + cat + ") " + factualityNames[cat]
	if reason != "" {
		why += ": " + reason
	}
	return verdict(pass), why, ""
}

var factualityNames = map[string]string{
	"A": "is a consistent subset of the reference",
	"B": "is a consistent superset of the reference",
	"C": "has the same details as the reference",
	"D": "disagrees with the reference",
	"E": "differs from the reference in ways that do not matter",
}

var (
	categoryLine  = regexp.MustCompile(`(?mi)^\s*(?:\**(?:answer|category)\**\s*[:=]?\s*)?\(?([A-E])\)?[.:]?\**\s*$`)
	categoryParen = regexp.MustCompile(`\(([A-E])\)`)
)

// readCategory reads a factuality verdict: {"category": "X"} (also "(X)"),
// else the last line that names one letter, else a lone "(X)" in the text.
func readCategory(text string) (cat, reason string, ok bool) {
	if obj, found := findJSONObject(text); found {
		if c := strings.ToUpper(strings.Trim(strings.TrimSpace(stringField(obj, "category")), "()")); len(c) == 1 && c[0] >= 'A' && c[0] <= 'E' {
			return c, stringField(obj, "reason"), true
		}
	}
	if m := categoryLine.FindAllStringSubmatch(text, -1); len(m) > 0 {
		return m[len(m)-1][1], "", true
	}
	seen := map[string]bool{}
	for _, m := range categoryParen.FindAllStringSubmatch(text, -1) {
		seen[m[1]] = true
	}
	if len(seen) == 1 {
		for c := range seen {
			return c, "", true
		}
	}
	return "", "", false
}

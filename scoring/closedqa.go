package scoring

import (
	"context"
	"strings"
)

// model-graded-closedqa asks the judge whether the output meets a criterion
// (the value), with OpenAI-evals' closed-QA prompt
// (prompts/model-graded-closedqa.txt): the judge reasons, then prints Y or N
// on a line of its own. The last non-empty line decides (Y or Yes passes, N
// or No fails); promptfoo only checks that the reply ends in "Y", so where it
// reads an unexpected reply as a fail, evald reports a missing grade. The
// score is 1 or 0.
type closedQAGrader struct {
	criterion string
	prompt    JudgePrompt
}

func compileClosedQA(s Spec) (grader, error) {
	if err := noThreshold(s); err != nil {
		return nil, err
	}
	c, err := rubricText(s)
	if err != nil {
		return nil, err
	}
	return &closedQAGrader{criterion: c, prompt: s.JudgePrompts.get("model-graded-closedqa")}, nil
}

func (g *closedQAGrader) grade(ctx context.Context, j Judge, out Output) (outcome, string, string) {
	reply, err := j.Complete(ctx, g.prompt.render("output", out.Text, "rubric", g.criterion, "input", out.Input))
	if err != nil {
		return outcome{}, "", "judge failed: " + err.Error()
	}
	yes, ok := readYesNo(reply.Text)
	if !ok {
		return outcome{}, "", unreadable("no final Y or N line", reply.Text)
	}
	return verdict(yes), "the judge found the criterion not met: " + quote(g.criterion, maxQuoted), ""
}

// readYesNo reads the last non-empty line as Y/Yes or N/No.
func readYesNo(text string) (yes, ok bool) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	last := strings.ToUpper(strings.Trim(lines[len(lines)-1], " \t\r*\"'`.()[]"))
	switch last {
	case "Y", "YES":
		return true, true
	case "N", "NO":
		return false, true
	}
	return false, false
}

package scoring

import (
	"embed"
	"fmt"
	"strings"
)

// The judge's prompts are plain files, embedded at build time, so a user can
// read exactly what the judge is asked. Each file holds a "[system]" section
// and a "[user]" section, each a line of its own; {{output}}, {{input}},
// {{rubric}} and {{reference}} are replaced in one pass (text that the model
// wrote is never expanded again).
//
//go:embed prompts/*.txt
var promptFiles embed.FS

// judgePrompt is a parsed prompt file.
type judgePrompt struct {
	name         string
	system, user string
}

// loadPrompt reads and parses an embedded prompt; a malformed file is a
// build mistake, caught by the package tests.
func loadPrompt(name string) judgePrompt {
	b, err := promptFiles.ReadFile("prompts/" + name + ".txt")
	if err != nil {
		panic(err)
	}
	p, err := parsePrompt(name, string(b))
	if err != nil {
		panic(err)
	}
	return p
}

func parsePrompt(name, text string) (judgePrompt, error) {
	const sys, usr = "[system]\n", "\n[user]\n"
	text = strings.ReplaceAll(text, "\r\n", "\n")
	rest, ok := strings.CutPrefix(text, sys)
	if !ok {
		return judgePrompt{}, fmt.Errorf("prompt %s: must start with a [system] line", name)
	}
	system, user, ok := strings.Cut(rest, usr)
	if !ok {
		return judgePrompt{}, fmt.Errorf("prompt %s: has no [user] line", name)
	}
	return judgePrompt{name: name, system: strings.TrimSpace(system), user: strings.TrimSpace(user)}, nil
}

// render fills the prompt's placeholders: vars holds pairs of name and value.
func (p judgePrompt) render(vars ...string) []JudgeMessage {
	pairs := make([]string, 0, len(vars))
	for i := 0; i+1 < len(vars); i += 2 {
		pairs = append(pairs, "{{"+vars[i]+"}}", vars[i+1])
	}
	r := strings.NewReplacer(pairs...)
	return []JudgeMessage{
		{Role: "system", Content: r.Replace(p.system)},
		{Role: "user", Content: r.Replace(p.user)},
	}
}

// The prompts, parsed once.
var (
	rubricPrompt     = loadPrompt("llm-rubric")
	factualityPrompt = loadPrompt("factuality")
	closedQAPrompt   = loadPrompt("model-graded-closedqa")
)

package evals

import (
	"gopkg.in/yaml.v3"

	"github.com/evald/evald/internal/strictyaml"
	"github.com/evald/evald/scoring"
)

// parseJudgePrompts decodes a suite's judge_prompts: a mapping from the name of
// a built-in judge prompt (scoring.JudgePromptNames) to a file that
// replaces it, its path relative to the suite file (file:// optional).
// Each file is read and checked by scoring.ParseJudgePrompt; its problems
// are reported on the suite's line, naming the file. The result goes into
// every assertion's Spec, so the model-graded ones grade with it and the
// suite version counts the prompts they use.
func (l *loader) parseJudgePrompts(d *decoder, n *yaml.Node) *scoring.JudgePrompts {
	names := scoring.JudgePromptNames()
	f, ok := d.Fields(n, "judge_prompts", "a mapping of judge prompt names to prompt files", names...)
	if !ok {
		return nil
	}
	var ps []scoring.JudgePrompt
	for _, name := range names {
		v := f[name]
		if v == nil {
			continue
		}
		field := strictyaml.Key("judge_prompts", name)
		ref, ok := d.NonEmpty(v, field)
		if !ok {
			continue
		}
		if r, isRef := fileRef(ref); isRef {
			ref = r
		}
		file, err := l.src.resolve(d.File, ref)
		if err != nil {
			d.FailGot(v, field, ErrFile, "%v", err)
			continue
		}
		data, err := l.src.read(file, l.maxBytes)
		if err != nil {
			d.Fail(v, field, ErrFile, "cannot read %s: %s", file, readErr(err))
			continue
		}
		p, err := scoring.ParseJudgePrompt(name, string(data))
		if err != nil {
			d.Fail(v, field, ErrInvalid, "%s: %v", file, err)
			continue
		}
		ps = append(ps, p)
	}
	return scoring.NewJudgePrompts(ps...)
}

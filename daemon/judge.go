package daemon

import (
	"fmt"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/runner"
)

// DefaultJudgeSeed is the seed a judge target is asked for when its config
// sets none.
const DefaultJudgeSeed = 42

// judgeTarget is the configuration a target grades with: its own, with
// temperature 0 and DefaultJudgeSeed when it sets neither (a judge should
// be as repeatable as the endpoint allows), and without response_format and
// tools, which are for answering, not grading. Its Version is the judge
// version that grades are cached and recorded under.
func judgeTarget(t configs.Target) configs.Target {
	p := t.Params
	if p.Temperature == nil {
		zero := 0.0
		p.Temperature = &zero
	}
	if p.Seed == nil {
		seed := DefaultJudgeSeed
		p.Seed = &seed
	}
	p.ResponseFormat, p.Tools = nil, nil
	t.Params = p
	return t
}

// judgeFor returns the judge of a suite: the suite's `judge:` target, else
// the config's. It is nil when the suite has no model-graded assertion.
func (d *Daemon) judgeFor(suite *evals.Suite) (*runner.Judge, error) {
	return d.judgeWhen(suite, suite.NeedsJudge())
}

// judgeWhen returns the judge of suite when need is true, else nil.
func (d *Daemon) judgeWhen(suite *evals.Suite, need bool) (*runner.Judge, error) {
	jt, ok, err := d.judgeTargetOf(suite, need)
	if err != nil || !ok {
		return nil, err
	}
	prov, err := d.judgeProvider(jt)
	if err != nil {
		return nil, err
	}
	return &runner.Judge{
		Name:     jt.Name,
		Version:  jt.Version(),
		Provider: prov,
		Gate:     d.gates.For(jt.Name, jt.Concurrency, jt.RPS),
		Timeout:  jt.Timeout,
		Retries:  jt.Retries,
		Price:    jt.Price,
		Cache:    d.grades,
	}, nil
}

// judgeTargetOf returns the target that grades suite, configured as a judge
// (judgeTarget); ok is false when need is false.
func (d *Daemon) judgeTargetOf(suite *evals.Suite, need bool) (t configs.Target, ok bool, err error) {
	if !need {
		return configs.Target{}, false, nil
	}
	p := d.Project()
	name := suite.Judge
	if name == "" {
		name = p.Config.Judge
	}
	if name == "" {
		return configs.Target{}, false, fmt.Errorf("suite %q has model-graded assertions but %w: set judge: in %s or in the suite", suite.Name, ErrNoJudge, configName(p))
	}
	for _, t := range p.Config.Targets {
		if t.Name == name {
			return judgeTarget(t), true, nil
		}
	}
	return configs.Target{}, false, fmt.Errorf("%w: no judge target named %q in %s", ErrUnknown, name, configName(p))
}

// judgeProvider returns the provider a target grades with, building it on
// first use.
func (d *Daemon) judgeProvider(t configs.Target) (runner.JudgeProvider, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p, ok := d.judges[t.Name]; ok {
		return p, nil
	}
	p, err := d.newProviderLocked(t, "the judge's key")
	if err != nil {
		return nil, err
	}
	jp, ok := p.(runner.JudgeProvider)
	if !ok {
		return nil, fmt.Errorf("judge target %q: its provider cannot grade (no embeddings)", t.Name)
	}
	d.judges[t.Name] = jp
	return jp, nil
}

// judgeDetail is the judge's part of a run, for the run's detail.
func judgeDetail(j *runner.Judge, sum runner.Summary) *JudgeDetail {
	if j == nil {
		return nil
	}
	return &JudgeDetail{
		Target:           j.Name,
		TargetVersion:    j.Version,
		Models:           sum.JudgeModels,
		Fingerprints:     sum.JudgeFingerprints,
		PromptTokens:     sum.JudgePromptTokens,
		CompletionTokens: sum.JudgeCompletionTokens,
		CostUSD:          sum.JudgeCostUSD,
		CacheHits:        sum.JudgeCacheHits,
	}
}

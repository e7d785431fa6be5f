package runner

import "github.com/evald/evald/scoring"

// accumulator folds samples into a Summary as they arrive.
type accumulator struct {
	cases []scoring.CaseTally
	sum   Summary
}

func newAccumulator(cases int) *accumulator {
	return &accumulator{
		cases: make([]scoring.CaseTally, cases),
		sum: Summary{
			Cases:             cases,
			ErrorsByClass:     map[string]int{},
			FirstErrors:       map[string]string{},
			Models:            map[string]int{},
			Fingerprints:      map[string]int{},
			JudgeModels:       map[string]int{},
			JudgeFingerprints: map[string]int{},
		},
	}
}

func (a *accumulator) add(s Sample) {
	a.sum.Samples++
	a.sum.PromptTokens += int64(s.PromptTokens)
	a.sum.CompletionTokens += int64(s.CompletionTokens)
	a.sum.CostUSD += s.CostUSD
	if s.Model != "" {
		a.sum.Models[s.Model]++
	}
	if s.Fingerprint != "" {
		a.sum.Fingerprints[s.Fingerprint]++
	}
	if s.ErrClass != "" {
		a.sum.ErrorsByClass[s.ErrClass]++
		if _, seen := a.sum.FirstErrors[s.ErrClass]; !seen {
			a.sum.FirstErrors[s.ErrClass] = s.ErrText
		}
		if s.ErrClass == ClassClient && (s.ErrStatus == 401 || s.ErrStatus == 403) {
			a.sum.AuthRefused++
		}
	}
	a.sum.JudgePromptTokens += int64(s.JudgePromptTokens)
	a.sum.JudgeCompletionTokens += int64(s.JudgeCompletionTokens)
	a.sum.JudgeCostUSD += s.JudgeCostUSD
	a.sum.JudgeCacheHits += s.JudgeCacheHits
	if s.JudgeModel != "" {
		a.sum.JudgeModels[s.JudgeModel]++
	}
	if s.JudgeFingerprint != "" {
		a.sum.JudgeFingerprints[s.JudgeFingerprint]++
	}
	if !s.Valid() {
		a.sum.Errors++
		return
	}
	t := &a.cases[s.CaseIndex]
	t.Samples++
	if s.Pass {
		t.Passed++
	}
	t.ScoreSum += s.Score
}

func (a *accumulator) summary() Summary {
	s := a.sum
	s.PassRate, s.MeanScore, s.ValidCases = scoring.RunScores(a.cases)
	return s
}

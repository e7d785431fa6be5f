package scoring

import "math"

// The roll-up of assertion results into sample, case and run scores is
// described in the package documentation.

// SampleScore folds one sample's assertion results. The sample passes when
// all of them pass. Its score is the weighted mean of their scores over the
// assertions with a weight above 0; when there are none (no assertions, or
// only weight-0 ones) the score is 1 if the sample passes and 0 otherwise.
func SampleScore(results []Result) (pass bool, score float64) {
	pass = true
	var sum, weights float64
	for _, r := range results {
		if !r.Pass {
			pass = false
		}
		if w := r.Weight; w > 0 && !math.IsInf(w, 1) {
			sum += w * clamp01(r.Score)
			weights += w
		}
	}
	if weights == 0 {
		if pass {
			return true, 1
		}
		return false, 0
	}
	return pass, clamp01(sum / weights)
}

// CaseTally accumulates one case's valid samples over a run.
type CaseTally struct {
	Samples  int     // valid samples judged
	Passed   int     // of which passed
	ScoreSum float64 // sum of their scores
}

// Add counts one valid sample.
func (t *CaseTally) Add(pass bool, score float64) {
	t.Samples++
	if pass {
		t.Passed++
	}
	t.ScoreSum += score
}

// PassRate is the share of the case's valid samples that passed (0 when it
// has none).
func (t CaseTally) PassRate() float64 {
	if t.Samples <= 0 {
		return 0
	}
	return float64(t.Passed) / float64(t.Samples)
}

// CasePasses is the rule by which a case passed over samples whose pass
// share (passed / valid) is share: at least half of them passed. drift
// counts a case's pass -> fail flips by it, and the run page shows it.
func CasePasses(share float64) bool { return share >= 0.5 }

// Passing reports whether the case passed (CasePasses); a case without a
// valid sample did not.
func (t CaseTally) Passing() bool { return t.Samples > 0 && CasePasses(t.PassRate()) }

// MeanScore is the mean score of the case's valid samples (0 when it has
// none).
func (t CaseTally) MeanScore() float64 {
	if t.Samples <= 0 {
		return 0
	}
	return t.ScoreSum / float64(t.Samples)
}

// RunScores returns a run's pass rate and mean score: the means over cases
// of their pass rates and mean scores. Cases with no valid sample are
// skipped; counted is the number of cases that were not. With none counted
// both rates are 0, and the caller should report the run as having no
// score rather than a score of 0.
func RunScores(cases []CaseTally) (passRate, meanScore float64, counted int) {
	for _, c := range cases {
		if c.Samples <= 0 {
			continue
		}
		passRate += c.PassRate()
		meanScore += c.MeanScore()
		counted++
	}
	if counted == 0 {
		return 0, 0, 0
	}
	return passRate / float64(counted), meanScore / float64(counted), counted
}

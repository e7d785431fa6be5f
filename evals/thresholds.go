package evals

import "fmt"

// ThresholdFailure is one governed bar a run did not meet.
type ThresholdFailure struct {
	Metric string  `json:"metric"`
	Want   float64 `json:"threshold"`
	Got    float64 `json:"value"`
}

func (f ThresholdFailure) String() string {
	return fmt.Sprintf("%s %.3f < %.3f", f.Metric, f.Got, f.Want)
}

// Check returns the bars that passRate and meanScore do not meet. When no
// case had a valid sample (valid false) every set bar fails: nothing was
// measured, so nothing can be said to pass.
func (t Thresholds) Check(passRate, meanScore float64, valid bool) []ThresholdFailure {
	var out []ThresholdFailure
	check := func(metric string, want *float64, got float64) {
		if want != nil && (!valid || got < *want) {
			out = append(out, ThresholdFailure{Metric: metric, Want: *want, Got: got})
		}
	}
	check("pass_rate", t.PassRate, passRate)
	check("mean_score", t.MeanScore, meanScore)
	return out
}
